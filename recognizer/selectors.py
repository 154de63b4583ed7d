"""Reads of predictions: every view, API view and admin page asks here."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from recognizer.models import Prediction


class Feedback:
    NONE = "none"
    RIGHT = "right"
    WRONG = "wrong"
    CHOICES = (NONE, RIGHT, WRONG)


def prediction_list(
    *,
    user,
    digit: int | None = None,
    status: str | None = None,
    feedback: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[Prediction]:
    """The user's own predictions, newest first, narrowed by the given filters."""
    predictions = Prediction.objects.owned_by(user).select_related(None)
    if digit is not None:
        predictions = predictions.filter(digits=str(digit))
    if status:
        predictions = predictions.filter(status=status)
    if feedback:
        predictions = predictions_by_feedback(predictions, feedback)
    if created_from:
        predictions = predictions.filter(created_at__date__gte=created_from)
    if created_to:
        predictions = predictions.filter(created_at__date__lte=created_to)
    return predictions.order_by("-created_at", "-id")


def predictions_by_feedback(predictions: QuerySet[Prediction], feedback: str) -> QuerySet[Prediction]:
    """Filters on the user's own feedback: none given, marked right, or marked wrong."""
    if feedback == Feedback.NONE:
        return predictions.filter(true_label__isnull=True)
    given = predictions.filter(true_label__isnull=False, status=Prediction.Status.DONE)
    right = Q(digits__regex=r"^[0-9]$") & Q(digits=models_cast_label("true_label"))
    if feedback == Feedback.RIGHT:
        return given.filter(right)
    if feedback == Feedback.WRONG:
        return given.exclude(right)
    raise ValueError(f"feedback must be one of {Feedback.CHOICES}")


def models_cast_label(field: str):
    from django.db.models import CharField
    from django.db.models.functions import Cast

    return Cast(field, output_field=CharField())


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
