"""Labels: the user's answer to "is this right?" (the whole number, or one digit corrected) and staff review."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from recognizer.models import LABEL_MAX_LENGTH, Prediction


class InvalidLabel(ValueError):
    """A label or a correction refused: `code` for a program (the API's 400), the message for a person."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def label_clean(value: str | int) -> str:
    """The number a label names, as text of 1 to 64 digits 0-9 (surrounding spaces ignored), else InvalidLabel."""
    text = str(value).strip()
    if not (1 <= len(text) <= LABEL_MAX_LENGTH and text.isascii() and text.isdigit()):
        raise InvalidLabel(
            _("A number is written with 1 to %(limit)d digits 0-9, nothing else.") % {"limit": LABEL_MAX_LENGTH},
            code="not_digits",
        )
    return text


def prediction_record_feedback(*, prediction: Prediction, true_digits: str | None) -> Prediction:
    """The user's answer to "is this right?": the number it really is (None takes the answer back)."""
    prediction.true_digits = "" if true_digits is None else label_clean(true_digits)
    prediction.feedback_at = timezone.now() if true_digits is not None else None
    prediction.save(update_fields=["true_digits", "feedback_at"])
    return prediction


def prediction_record_no_digit(*, prediction: Prediction) -> Prediction:
    """The user's answer "right, there is no digit": a confirmed empty reading (true_digits "" with its time)."""
    if prediction.status != Prediction.Status.DONE:
        raise InvalidLabel(_("The answer is not ready yet: say whether it is right once it is."), code="not_done")
    prediction.true_digits = ""
    prediction.feedback_at = timezone.now()
    prediction.save(update_fields=["true_digits", "feedback_at"])
    return prediction


def prediction_correct_digit(*, prediction: Prediction, position: int, digit: int) -> Prediction:
    """The user's answer for one digit of the number read: "the 2nd digit is a 7".

    The rest of the number is taken as read, or as the user already corrected it (a number of the same
    length), so several digits can be corrected one after another. A reading with a flagged piece, or
    none at all, is refused: the user writes the whole number instead (prediction_record_feedback).
    """
    read = prediction.digits
    if prediction.status != Prediction.Status.DONE or not read:
        raise InvalidLabel(_("There is no number read to correct; write the whole number instead."), code="no_number")
    if prediction.flagged:
        raise InvalidLabel(_("Part of this number could not be read; write the whole number instead."), code="flagged")
    if not (0 <= position < len(read)):
        raise InvalidLabel(
            _("There is no digit %(position)d: the number read has %(count)d digits (0 is the first).")
            % {"position": position, "count": len(read)},
            code="position",
        )
    if not (isinstance(digit, int) and 0 <= digit <= 9):
        raise InvalidLabel(_("The digit must be one of 0 to 9."), code="not_digits")
    if read[position] == str(digit):
        # Not a correction: the model read that very digit there. "Yes, it is right" says so.
        raise InvalidLabel(
            _("The model read %(digit)d there already; choose the digit it really is.") % {"digit": digit},
            code="same_digit",
        )
    base = prediction.true_digits if len(prediction.true_digits) == len(read) else read
    corrected = base[:position] + str(digit) + base[position + 1 :]
    return prediction_record_feedback(prediction=prediction, true_digits=corrected)


def prediction_record_review(*, prediction: Prediction, staff_digits: str | None, reviewer) -> Prediction:
    """A staff member's label, the number it really is, kept apart from the user's feedback; it wins.

    None takes the staff label back (the row is unreviewed again); prediction_record_not_a_digit says
    the picture holds no digit.
    """
    if staff_digits is None:
        prediction.staff_digits, prediction.reviewed_by, prediction.reviewed_at = "", None, None
    else:
        prediction.staff_digits = label_clean(staff_digits)
        prediction.reviewed_by = reviewer
        prediction.reviewed_at = timezone.now()
    prediction.save(update_fields=["staff_digits", "reviewed_by", "reviewed_at"])
    return prediction


def prediction_record_not_a_digit(*, prediction: Prediction, reviewer) -> Prediction:
    """Staff say the picture holds no digit (blank, a scribble, a word): an empty staff label, reviewed.

    It wins over the user's answer like any staff label, counts apart on the dashboard, and the export
    never turns it into a training digit.
    """
    prediction.staff_digits = ""
    prediction.reviewed_by = reviewer
    prediction.reviewed_at = timezone.now()
    prediction.save(update_fields=["staff_digits", "reviewed_by", "reviewed_at"])
    return prediction


def predictions_record_review(*, predictions, staff_digits: str | None, reviewer) -> int:
    """The same staff label on every given prediction; returns how many were labelled."""
    staff_digits = None if staff_digits is None else label_clean(staff_digits)
    count = 0
    with transaction.atomic():
        for prediction in predictions:
            prediction_record_review(prediction=prediction, staff_digits=staff_digits, reviewer=reviewer)
            count += 1
    return count


@dataclass(frozen=True)
class ConfirmResult:
    confirmed: int
    skipped: int  # nothing to confirm: no label, and no number read (or one with a flagged piece)


def predictions_confirm(*, predictions, reviewer) -> ConfirmResult:
    """Staff agree with the label a row shows: its best known label, else the number the model read.

    Either way the agreed number is stored as the staff label, so the row counts as reviewed and later
    user feedback cannot override it. A reading with a flagged piece is no number to agree with.
    """
    confirmed = skipped = 0
    with transaction.atomic():
        for prediction in predictions:
            if prediction.labelled_not_a_digit:
                prediction_record_not_a_digit(prediction=prediction, reviewer=reviewer)
                confirmed += 1
                continue
            read = prediction.digits if prediction.status == Prediction.Status.DONE and not prediction.flagged else ""
            agreed = prediction.label or read
            if not agreed:
                skipped += 1
                continue
            prediction_record_review(prediction=prediction, staff_digits=agreed, reviewer=reviewer)
            confirmed += 1
    return ConfirmResult(confirmed=confirmed, skipped=skipped)
