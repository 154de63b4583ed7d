"""Finished predictions written straight to the database, with real pictures, for the admin and export tests.

No model runs: the admin inspects what the model said, so the tests say it for the model.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from recognizer.models import Prediction
from tests.images import encode, mnist_example, paper_photo

_examples = itertools.count()


def finished_prediction(
    user,
    *,
    digits: str = "7",
    true_label: int | None = None,
    staff_label: int | None = None,
    reviewer=None,
    confidence: float | None = 0.95,
    model_version: str = "cnn-v1",
    status: str = Prediction.Status.DONE,
    created_at: datetime | None = None,
    shown_digit: int | None = None,
) -> Prediction:
    """A prediction as a worker leaves it: the upload, the 28x28 model input and the answer.

    The pictures show `shown_digit` (default: the label, else the digit read), a different MNIST
    test example each call so that no two model inputs are alike.
    """
    shown = shown_digit if shown_digit is not None else (staff_label if staff_label is not None else true_label)
    if shown is None:
        shown = int(digits) if len(digits) == 1 else 0
    pixels = mnist_example(shown, next(_examples) % 50)
    done = status == Prediction.Status.DONE
    probabilities = None
    if done and len(digits) == 1 and confidence is not None:
        rest = (1 - confidence) / 9
        probabilities = [confidence if d == int(digits) else rest for d in range(10)]
    prediction = Prediction(
        user=user,
        created_at=created_at or timezone.now(),
        status=status,
        original_name=f"digit-{shown}.jpg",
        digits=digits if done else "",
        confidence=confidence if done else None,
        probabilities=probabilities,
        model_version=model_version if done else "",
        preprocess_ms=12.5 if done else None,
        inference_ms=3.25 if done else None,
        finished_at=timezone.now(),
        error="" if done else "The picture could not be read.",
        true_label=true_label,
        feedback_at=timezone.now() if true_label is not None else None,
        staff_label=staff_label,
        reviewed_by=reviewer if staff_label is not None else None,
        reviewed_at=timezone.now() if staff_label is not None else None,
    )
    prediction.image.save("photo.jpg", ContentFile(paper_photo(shown, size=200)), save=False)
    if done:
        prediction.model_input.save("input.png", ContentFile(encode(Image.fromarray(pixels, "L"))), save=False)
    prediction.save()
    return prediction


def stored_model_input(prediction: Prediction) -> np.ndarray:
    with prediction.model_input.open("rb") as stored, Image.open(stored) as picture:
        return np.asarray(picture.convert("L"), dtype=np.uint8)
