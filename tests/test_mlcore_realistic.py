"""The committed model, through our preprocessing, on realistic pictures of MNIST *test* digits.

The seed project resized raw uploads to 28x28 and got about 1 in 8 right on such pictures.
"""

from collections import defaultdict

import pytest

from mlcore.inference import shared_classifier
from mlcore.paths import DEFAULT_MODEL_PATH
from tests.realistic_uploads import KINDS, realistic_uploads

UPLOADS = 1200  # 200 of each kind


@pytest.fixture(scope="module")
def classifier():
    return shared_classifier(str(DEFAULT_MODEL_PATH))


def test_at_least_98_percent_of_realistic_uploads_are_read_right(classifier):
    uploads = realistic_uploads(UPLOADS, seed=2026)
    results = classifier.read_uploads([u.data for u in uploads])
    right = defaultdict(int)
    total = defaultdict(int)
    for upload, result in zip(uploads, results, strict=True):
        total[upload.kind] += 1
        right[upload.kind] += int(getattr(result, "digit", None) == upload.label)
    accuracy = sum(right.values()) / len(uploads)
    per_kind = ", ".join(f"{k} {right[k] / total[k]:.1%}" for k in KINDS)
    print(f"\nRealistic uploads: {accuracy:.2%} of {len(uploads)} right ({per_kind})")
    assert accuracy >= 0.98, per_kind
    # No kind of picture may be left behind by a good average.
    assert all(right[k] / total[k] >= 0.95 for k in KINDS), per_kind


def test_raw_resizing_as_the_seed_project_did_is_far_worse(classifier):
    """The baseline we replace: squash the whole picture to 28x28, no normalisation."""
    import io

    import numpy as np
    from PIL import Image

    uploads = realistic_uploads(300, seed=7)
    raw = np.stack([np.asarray(Image.open(io.BytesIO(u.data)).convert("L").resize((28, 28))) for u in uploads])
    seed_accuracy = float((classifier.digit_probabilities(raw).argmax(axis=1) == [u.label for u in uploads]).mean())
    ours = classifier.read_uploads([u.data for u in uploads])
    our_accuracy = float(np.mean([getattr(r, "digit", None) == u.label for r, u in zip(ours, uploads, strict=True)]))
    print(f"\nRaw resize: {seed_accuracy:.1%}, our preprocessing: {our_accuracy:.1%}")
    assert our_accuracy > seed_accuracy + 0.5
