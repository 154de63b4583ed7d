"""What a user reads of their own predictions: the history and its filters, one prediction, the summary,
the pictures, and the API's wait for answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q, QuerySet
from django.shortcuts import get_object_or_404

from recognizer import finish_notices, pictures
from recognizer.models import USER_ANSWERED, Prediction


class Feedback:
    NONE = "none"
    RIGHT = "right"
    WRONG = "wrong"
    CHOICES = (NONE, RIGHT, WRONG)


def prediction_list(
    *,
    user,
    digit: int | None = None,
    number: str | None = None,
    number_exact: bool = False,
    status: str | None = None,
    feedback: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[Prediction]:
    """The user's own predictions, newest first, narrowed by the given filters.

    `digit`: read as exactly that one digit. `number`: the number read contains it ("46" finds "4667"
    and "46"), or is exactly it with `number_exact`; "?" in it matches a flagged piece.
    """
    predictions = Prediction.objects.owned_by(user).select_related(None)
    if digit is not None:
        predictions = predictions.filter(digits=str(digit))
    if number:
        predictions = predictions.filter(digits=number) if number_exact else predictions.filter(digits__contains=number)
    if status:
        predictions = predictions.filter(status=status)
    if feedback:
        predictions = predictions_by_feedback(predictions, feedback)
    if created_from:
        predictions = predictions.filter(created_at__date__gte=created_from)
    if created_to:
        predictions = predictions.filter(created_at__date__lte=created_to)
    return predictions.order_by("-created_at", "-id")


def predictions_sent_together(*, user, prediction_ids: list[int]) -> QuerySet[Prediction]:
    """The user's predictions among the given ids (one upload's), in the order they were sent.

    Anyone else's id is left out, as if it did not exist.
    """
    return Prediction.objects.owned_by(user).filter(pk__in=prediction_ids).order_by("created_at", "id")


def predictions_by_feedback(predictions: QuerySet[Prediction], feedback: str) -> QuerySet[Prediction]:
    """Filters on the user's own feedback: none given, marked right (the whole number, or "there is no
    digit" where none was found), or marked wrong."""
    if feedback == Feedback.NONE:
        return predictions.exclude(USER_ANSWERED)
    given = predictions.filter(USER_ANSWERED, status=Prediction.Status.DONE)
    right = Q(digits=F("true_digits"))
    if feedback == Feedback.RIGHT:
        return given.filter(right)
    if feedback == Feedback.WRONG:
        return given.exclude(right)
    raise ValueError(f"feedback must be one of {Feedback.CHOICES}")


def prediction_get(*, user, prediction_id: int) -> Prediction:
    """The user's prediction, or Http404: someone else's id looks exactly like an absent one."""
    return get_object_or_404(Prediction.objects.owned_by(user), pk=prediction_id)


def prediction_summary(*, user) -> dict:
    """How many predictions the user has, and the share of those they marked that were right."""
    predictions = Prediction.objects.owned_by(user)
    marked = predictions_by_feedback(predictions, Feedback.RIGHT).count()
    wrong = predictions_by_feedback(predictions, Feedback.WRONG).count()
    counts = predictions.aggregate(total=Count("id"), done=Count("id", filter=Q(status=Prediction.Status.DONE)))
    return {
        "total": counts["total"],
        "done": counts["done"],
        "marked": marked + wrong,
        "marked_right": marked,
        "share_right": (marked / (marked + wrong)) if (marked + wrong) else None,
    }


# --- The website's pictures: served through owner-checked views, never as public media URLs ---


def prediction_picture(*, user, prediction_id: int, kind: str):
    """The user's uploaded picture ("upload") or the 28x28 picture the model saw ("input").

    Http404 for someone else's prediction, an unknown kind, or a file that is not there (yet).
    """
    return pictures.stored_picture(prediction_get(user=user, prediction_id=prediction_id), kind)


# --- ?wait=N (the API's upload, the result page's status): the answers as soon as they are all there ---


@dataclass(frozen=True)
class FinishedWait:
    predictions: list[Prediction]
    # True when the process already had API_WAITS_PER_PROCESS waits going: this one did not wait at all.
    busy: bool = False


def predictions_wait_finished(*, prediction_ids: list[int], timeout_seconds: float) -> FinishedWait:
    """The predictions re-read from the database, in the given order, once all are finished or time is up.

    The worker announces each answer it saves (recognizer/finish_notices.py), so the wait wakes when told,
    not by polling. A prediction deleted meanwhile is left out. With timeout_seconds=0 they are read once;
    so are they when too many requests of this process wait already (`busy`).
    """
    order = {pk: position for position, pk in enumerate(prediction_ids)}
    latest: list[Prediction] = []

    def all_finished() -> bool:
        nonlocal latest
        latest = sorted(Prediction.objects.filter(pk__in=prediction_ids), key=lambda p: order[p.pk])
        return all(p.is_finished for p in latest)

    if timeout_seconds <= 0:
        all_finished()
        return FinishedWait(latest)
    with finish_notices.wait_slots().hold() as waiting:
        if not waiting:
            all_finished()
            return FinishedWait(latest, busy=True)
        finish_notices.wait_until_finished(
            prediction_ids=prediction_ids, timeout_seconds=timeout_seconds, all_finished=all_finished
        )
    return FinishedWait(latest)


def prediction_wait_finished(*, user, prediction_id: int, timeout_seconds: float) -> Prediction:
    """The user's prediction (Http404 as prediction_get), once finished or when time is up (or at once, busy)."""
    prediction = prediction_get(user=user, prediction_id=prediction_id)
    if prediction.is_finished or timeout_seconds <= 0:
        return prediction
    waited = predictions_wait_finished(prediction_ids=[prediction.pk], timeout_seconds=timeout_seconds)
    return waited.predictions[0] if waited.predictions else prediction
