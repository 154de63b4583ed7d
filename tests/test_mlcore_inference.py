"""The classifier, the model card, the command line, and where TensorFlow is (not) imported."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlcore import inference
from mlcore.data import load_mnist_arrays
from mlcore.inference import read_model_card, shared_classifier
from mlcore.paths import DEFAULT_MODEL_PATH
from mlcore.preprocessing import decode_image
from tests.images import blank_picture, encode, paper_photo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def classifier():
    return shared_classifier(str(DEFAULT_MODEL_PATH))


def test_the_committed_model_card_reports_at_least_99_70_percent_on_mnist_test():
    # Issue 10's floor for MNIST's test set.
    card = read_model_card(DEFAULT_MODEL_PATH)
    assert card["test_accuracy"] >= 0.997
    assert set(card["per_class_accuracy"]) == {str(d) for d in range(10)}
    assert card["data"]["mnist_train_images"] + card["data"]["validation_images"] == 60000


def test_the_committed_model_really_scores_what_its_card_says(classifier):
    test = load_mnist_arrays()[1]
    accuracy = float((classifier.digit_probabilities(test.images).argmax(axis=1) == test.labels).mean())
    assert accuracy >= 0.997
    assert accuracy == pytest.approx(read_model_card(DEFAULT_MODEL_PATH)["test_accuracy"], abs=1e-4)


def test_a_batch_gives_the_same_answers_as_one_by_one(classifier):
    images = load_mnist_arrays()[1].images[:20]
    together = classifier.probabilities(images)
    alone = np.concatenate([classifier.probabilities(image) for image in images])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_photo_is_read_with_its_confidence_and_the_input_the_model_saw(classifier):
    result = classifier.read_upload(paper_photo(7))
    assert result.digit == 7 and result.digits == "7"
    assert 0.5 < result.confidence <= 1.0
    (seven,) = result.readings
    # The ten digit probabilities; what they leave of 1 is the model's doubt that this is one digit.
    assert len(seven.probabilities) == 10 and 0.5 < sum(seven.probabilities) <= 1 + 1e-4
    assert seven.model_input.shape == (28, 28)


def test_a_blank_picture_is_answered_no_digit_not_a_guess(classifier):
    result = classifier.read_upload(blank_picture())
    assert result.digit is None and result.confidence is None
    assert result.digits == "" and not result.found


def test_a_picture_looked_at_again_is_decoded_once(classifier, monkeypatch):
    # A blank page is read as no digit, then looked at again keeping what lies beyond the page: both
    # looks read the same decoded picture (a hard picture took up to six decodings, one per look).
    decoded = []

    def counted(data, **limits):
        decoded.append(len(data))
        return decode_image(data, **limits)

    monkeypatch.setattr(inference, "decode_image", counted)
    upload = blank_picture()
    assert classifier.read_upload(upload).digits == ""
    assert decoded == [len(upload)]
    # Pictures are kept for their further looks only up to a budget for the whole call: beyond it (here 0
    # bytes) each look decodes the picture again rather than holding a batch of big pictures at once.
    decoded.clear()
    monkeypatch.setattr(inference, "KEEP_DECODED_BYTES", 0)
    assert classifier.read_upload(upload).digits == ""
    assert decoded == [len(upload), len(upload)]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlcore", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_predict_json_prints_one_object_per_file(tmp_path):
    seven = tmp_path / "seven.jpg"
    seven.write_bytes(paper_photo(7))
    blank = tmp_path / "blank.png"
    blank.write_bytes(blank_picture())
    broken = tmp_path / "notes.png"
    broken.write_text("not a picture")
    result = run_cli("predict", "--json", str(seven), str(blank), str(broken), str(tmp_path / "missing.png"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(seven), str(blank), str(broken), str(tmp_path / "missing.png")]
    assert lines[0]["digit"] == 7 and lines[0]["error"] is None and len(lines[0]["probabilities"]) == 10
    assert lines[0]["digits"] == "7" and len(lines[0]["boxes"]) == 1 and len(lines[0]["boxes"][0]) == 4
    assert lines[1]["digit"] is None and lines[1]["digits"] == "" and lines[1]["error"] is None
    assert lines[2]["digit"] is None and "not a picture" in lines[2]["error"]
    assert "cannot read" in lines[3]["error"]
    assert result.returncode == 1  # some files had errors


def test_predict_plain_prints_a_line_per_file(tmp_path):
    seven = tmp_path / "seven.jpg"
    seven.write_bytes(paper_photo(7))
    result = run_cli("predict", str(seven))
    assert result.returncode == 0
    assert result.stdout.strip().startswith(f"{seven}: 7 (")


def test_evaluate_json_reports_accuracy_per_class_figures_and_writes_pngs(tmp_path):
    result = run_cli("evaluate", "--json", "--out-dir", str(tmp_path))
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["accuracy"] >= 0.996
    assert len(report["precision"]) == 10 and len(report["recall"]) == 10
    assert sum(map(sum, report["confusion_matrix"])) == 10000
    for name in ("confusion_matrix.png", "worst_mistakes.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")


def test_the_web_process_does_not_import_tensorflow():
    code = (
        "import django, sys; django.setup();"
        "import digitsite.urls, recognizer.services, recognizer.selectors, recognizer.tasks, mlcore.preprocessing;"
        "from django.test import Client; Client().get('/');"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "digitsite.settings"},
    )
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "BMP", "GIF"])
def test_every_accepted_format_gives_the_digit_written(classifier, image_format):
    picture = Image.open(io.BytesIO(paper_photo(4, image_format="PNG")))
    data = encode(picture.convert("P" if image_format == "GIF" else "RGB"), image_format)
    assert classifier.read_upload(data).digit == 4


def test_an_animated_gif_is_read_from_its_first_frame(classifier):
    first, second = (Image.open(io.BytesIO(paper_photo(d, image_format="PNG"))).convert("P") for d in (3, 8))
    animation = io.BytesIO()
    first.save(animation, format="GIF", save_all=True, append_images=[second], duration=500, loop=0)
    assert Image.open(io.BytesIO(animation.getvalue())).n_frames == 2
    assert classifier.read_upload(animation.getvalue()).digit == 3


def test_an_ensemble_averages_the_digits_of_all_its_members_and_not_one_digit_of_the_readers_that_answer_it():
    from mlcore.model import AgreeingDigits

    mnist_reader = np.array([[0.0, 0.0, 0.0, 1.0, 0, 0, 0, 0, 0, 0]])  # no "not one digit" answer
    first_reader = np.array([[0.0, 0.0, 0.0, 0.4, 0, 0, 0, 0, 0.4, 0, 0.2]])
    second_reader = np.array([[0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0, 0.4, 0, 0.6]])
    combined = np.asarray(AgreeingDigits()([mnist_reader, first_reader, second_reader]))[0]
    not_one = (0.2 + 0.6) / 2
    assert combined[10] == pytest.approx(not_one)
    # Each member's digits as shares of its digits (1, 0.5/0.5, 1), averaged, then what "not one" leaves.
    assert combined[3] == pytest.approx((1.0 + 0.5 + 0.0) / 3 * (1 - not_one))
    assert combined[8] == pytest.approx((0.0 + 0.5 + 1.0) / 3 * (1 - not_one))
    assert combined.sum() == pytest.approx(1.0)
