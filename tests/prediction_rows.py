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
from tests.images import encode, mnist_example, number_photo, paper_photo

_examples = itertools.count()


def finished_prediction(
    user,
    *,
    digits: str = "7",
    true_digits: str = "",
    staff_digits: str = "",
    reviewer=None,
    confidence: float | None = 0.95,
    model_version: str = "cnn-v1",
    status: str = Prediction.Status.DONE,
    created_at: datetime | None = None,
    shown_digits: str | None = None,
) -> Prediction:
    """A prediction as a worker leaves it: the upload, the model-input strip and the answer, digit by digit.

    The pictures show `shown_digits` (default: the label when it has as many digits as were read, else the
    digits read, a flagged "?" shown as a 0), a different MNIST test example each time so that no two model
    inputs are alike. `confidence` is the whole number's; each digit gets an equal share of it.
    """
    done = status == Prediction.Status.DONE
    label = staff_digits or true_digits
    shown = shown_digits or (label if label and len(label) == len(digits) else digits).replace("?", "0") or "0"
    pieces = [mnist_example(int(d), next(_examples) % 50) for d in shown]
    read = digits if done else ""
    per_digit = confidence ** (1 / len(read)) if read and confidence is not None else None
    probabilities, confidences, boxes = [], [], []
    for place, character in enumerate(read if per_digit is not None else ""):
        likeliest = 0 if character == "?" else int(character)
        rest = (1 - per_digit) / 9
        probabilities.append([per_digit if d == likeliest else rest for d in range(10)])
        confidences.append(per_digit)
        boxes.append([20 + 60 * place, 40, 70 + 60 * place, 120])
    prediction = Prediction(
        user=user,
        created_at=created_at or timezone.now(),
        status=status,
        original_name=f"number-{shown}.jpg",
        digits=read,
        confidence=confidence if done and read else None,
        confidences=confidences,
        probabilities=probabilities,
        boxes=boxes,
        image_width=200 if done else None,
        image_height=200 if done else None,
        model_version=model_version if done else "",
        preprocess_ms=12.5 if done else None,
        inference_ms=3.25 if done else None,
        finished_at=timezone.now(),
        error="" if done else "The picture could not be read.",
        true_digits=true_digits,
        feedback_at=timezone.now() if true_digits else None,
        staff_digits=staff_digits,
        reviewed_by=reviewer if staff_digits else None,
        reviewed_at=timezone.now() if staff_digits else None,
    )
    photo = paper_photo(int(shown), size=200) if len(shown) == 1 else number_photo(shown, size=(200 * len(shown), 200))
    prediction.image.save("photo.jpg", ContentFile(photo), save=False)
    if done and read:
        strip = np.hstack(pieces[: len(read)]) if len(pieces) >= len(read) else np.hstack(pieces)
        prediction.model_input.save("input.png", ContentFile(encode(Image.fromarray(strip, "L"))), save=False)
    prediction.save()
    return prediction


def stored_model_input(prediction: Prediction) -> np.ndarray:
    with prediction.model_input.open("rb") as stored, Image.open(stored) as picture:
        return np.asarray(picture.convert("L"), dtype=np.uint8)
