"""What the result page, its status JSON and the history show of a prediction: the number read, and per
digit its box over the picture, its confidence and its bars. Presentation only: no request, no writes."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext

from recognizer.models import Prediction

# How big the reading drawn over each box is, as a share of the picture's longer side.
BOX_LABEL_SHARE = 0.05


def prediction_status(prediction: Prediction) -> dict:
    """What the result page and the history show of a prediction, as the status JSON sends it.

    `pieces` has one entry per character of the number (a digit, or "?" for a piece that could not be
    read), with everything the page draws for it: its box and label over the picture, its confidence,
    its bars and where its 28x28 input sits in the model-input strip.
    """
    done = prediction.status == Prediction.Status.DONE
    digits = prediction.digits if done else ""
    pieces = prediction_pieces(prediction) if done else []
    flagged = [piece["position"] for piece in pieces if piece["flagged"]]
    width, height = prediction.image_width, prediction.image_height
    return {
        "id": prediction.pk,
        "status": prediction.status,
        "status_label": prediction.get_status_display(),
        "finished": prediction.is_finished,
        "digit": prediction.digit,
        "digits": digits,
        "number_found": bool(digits),
        "flagged": bool(flagged),
        "no_digit_found": done and digits == "",
        "confidence": prediction.confidence,
        "confidence_percent": percent(prediction.confidence),
        "confidences": [piece["confidence"] for piece in pieces],
        "probabilities": [piece["probabilities"] for piece in pieces],
        "boxes": [piece["box"] for piece in pieces],
        "image_width": width,
        "image_height": height,
        # The reading's size over the picture, in the picture's pixels (the overlay scales with it).
        "label_size": round(max(width, height) * BOX_LABEL_SHARE, 1) if width and height else None,
        "pieces": pieces,
        # The piece shown first: the first one that could not be read, else the first digit.
        "selected_position": (flagged[0] if flagged else 0) if pieces else None,
        # The digit the "correct one digit" form starts on: the only one there is, else the person chooses.
        # (A number with a piece not read is corrected by typing it whole: the service refuses one digit.)
        "correct_position": 0 if len(pieces) == 1 else None,
        "model_version": prediction.model_version,
        "error": prediction.error if prediction.status == Prediction.Status.FAILED else "",
        "true_digits": prediction.true_digits,
        # The user's own verdict (a staff review is not shown to the user): right, or "there is no digit"
        # confirmed where none was found.
        "is_correct": (prediction.true_digits == digits) if prediction.user_answered and done else None,
        "said_no_digit": done and prediction.user_answered and not prediction.true_digits,
        # The one digit the user corrected (their number has the length read and differs at one place).
        "corrected_position": corrected_position(digits, prediction.true_digits),
        "title": title_for(prediction, digits if done else None),
        "picture_url": reverse("prediction_picture", args=[prediction.pk, "upload"]),
        "model_input_url": reverse("prediction_picture", args=[prediction.pk, "input"])
        if prediction.model_input
        else None,
    }


def corrected_position(read: str, answer: str) -> int | None:
    if not read or len(answer) != len(read):
        return None
    differing = [position for position, (was, now) in enumerate(zip(read, answer, strict=True)) if was != now]
    return differing[0] if len(differing) == 1 else None


def picture_name(prediction: Prediction) -> str:
    """What a person calls the picture: its file name, or "Drawing" for one made on the canvas."""
    if prediction.source == Prediction.Source.DRAWING or not prediction.original_name:
        return str(Prediction.Source(prediction.source).label)
    return prediction.original_name


def title_for(prediction: Prediction, digits: str | None) -> str:
    """The page title of a result: the number read and the picture's name (no database id)."""
    name = picture_name(prediction)
    if digits:
        return gettext("%(number)s · %(name)s") % {"number": digits, "name": name}
    if digits == "" and prediction.status == Prediction.Status.DONE:
        return gettext("No digit · %(name)s") % {"name": name}
    return name


def prediction_pieces(prediction: Prediction) -> list[dict]:
    digits = prediction.digits
    confidences = list(prediction.confidences or [])
    probabilities = list(prediction.probabilities or [])
    if probabilities and not isinstance(probabilities[0], list):
        probabilities = [probabilities]  # a row written before numbers: one digit's 10 probabilities
    boxes = list(prediction.boxes or [])
    if not confidences and len(digits) == 1 and prediction.confidence is not None:
        confidences = [prediction.confidence]
    label_size = (
        max(prediction.image_width, prediction.image_height) * BOX_LABEL_SHARE
        if prediction.image_width and prediction.image_height
        else None
    )
    pieces = []
    for position, text in enumerate(digits):
        confidence = confidences[position] if position < len(confidences) else None
        shares = probabilities[position] if position < len(probabilities) else []
        box = boxes[position] if position < len(boxes) else None
        pieces.append(
            {
                "position": position,
                "text": text,
                "flagged": not text.isdigit(),
                "confidence": confidence,
                "confidence_percent": percent(confidence),
                "probabilities": shares,
                "probability_percents": [percent(p) for p in shares] if len(shares) == 10 else [""] * 10,
                "box": box,
                "outline": box_outline(box, label_size, prediction.image_height) if box and label_size else None,
            }
        )
    return pieces


def box_outline(box: list[int], label_size: float, picture_height: int) -> dict:
    """A box as the overlay draws it (SVG x, y, width, height) and where its reading is written:
    above the box, or below it when the box touches the top of the picture."""
    left, top, right, bottom = box
    above = top - label_size * 0.25
    label_y = above if above - label_size * 0.8 >= 0 else min(bottom + label_size * 0.95, picture_height)
    return {
        "x": left,
        "y": top,
        "width": max(right - left, 1),
        "height": max(bottom - top, 1),
        "label_x": round((left + right) / 2, 1),
        "label_y": round(label_y, 1),
    }


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"
