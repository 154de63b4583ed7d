"""Reads of predictions: every view, API view and admin page asks here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from recognizer import pictures
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


# --- Staff inspection: the admin's filters, the misclassification dashboard and the review queue ---
# The admin's list filters and the dashboard both call these, so a dashboard count and the admin list
# its cell links to are the same query.

SINGLE_DIGIT = r"^[0-9]$"
NO_DIGIT = "none"  # the predicted "digit" of a prediction that read no single digit, and the label of unlabelled ones


class Verdict:
    RIGHT = "right"
    WRONG = "wrong"
    UNKNOWN = "unknown"
    CHOICES = (RIGHT, WRONG, UNKNOWN)


class ConfidenceBand:
    """Bands of the model's confidence: below 50%, 50% to 90% (both included), above 90%."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CHOICES = (LOW, MEDIUM, HIGH)


def _right_condition() -> Q:
    # Needs the `effective_label` annotation: staff review wins over the user's feedback.
    return Q(status=Prediction.Status.DONE, digits__regex=SINGLE_DIGIT, digits=Cast("effective_label", CharField()))


def with_effective_label(predictions: QuerySet[Prediction]) -> QuerySet[Prediction]:
    """Annotates `effective_label`, the staff label else the user's (Prediction.label in SQL).

    Named apart from the model's read-only `label` property, so annotated rows still load.
    """
    if "effective_label" in predictions.query.annotations:
        return predictions
    return predictions.annotate(effective_label=Coalesce("staff_label", "true_label"))


def predictions_with_label() -> QuerySet[Prediction]:
    return with_effective_label(Prediction.objects.all())


def predictions_by_verdict(predictions: QuerySet[Prediction], verdict: str) -> QuerySet[Prediction]:
    """Right or wrong by the best known label (staff wins); unknown while unlabelled or not done."""
    predictions = with_effective_label(predictions)
    known = Q(status=Prediction.Status.DONE, effective_label__isnull=False)
    if verdict == Verdict.RIGHT:
        return predictions.filter(_right_condition())
    if verdict == Verdict.WRONG:
        return predictions.filter(known).exclude(_right_condition())
    if verdict == Verdict.UNKNOWN:
        return predictions.exclude(known)
    raise ValueError(f"verdict must be one of {Verdict.CHOICES}")


def predictions_by_label(predictions: QuerySet[Prediction], label: str) -> QuerySet[Prediction]:
    """By the best known label, a digit "0".."9", or NO_DIGIT for predictions nobody labelled."""
    predictions = with_effective_label(predictions)
    if label == NO_DIGIT:
        return predictions.filter(effective_label__isnull=True)
    return predictions.filter(effective_label=int(label))


def predictions_by_predicted_digit(predictions: QuerySet[Prediction], digit: str) -> QuerySet[Prediction]:
    """By the digit read, "0".."9", or NO_DIGIT for those that read no single digit (none found, or not done)."""
    if digit == NO_DIGIT:
        return predictions.exclude(digits__regex=SINGLE_DIGIT)
    return predictions.filter(digits=str(int(digit)))


def predictions_by_confidence_band(predictions: QuerySet[Prediction], band: str) -> QuerySet[Prediction]:
    if band == ConfidenceBand.LOW:
        return predictions.filter(confidence__lt=0.5)
    if band == ConfidenceBand.MEDIUM:
        return predictions.filter(confidence__gte=0.5, confidence__lte=0.9)
    if band == ConfidenceBand.HIGH:
        return predictions.filter(confidence__gt=0.9)
    raise ValueError(f"band must be one of {ConfidenceBand.CHOICES}")


def created_range_bounds(created_from: date | None, created_to: date | None) -> tuple[datetime | None, datetime | None]:
    """[start, end) in the current time zone for whole days from `created_from` to `created_to`, both included.

    The dashboard filters with these and passes the same two instants to the admin's date filter, so a
    cell's link lists exactly the predictions it counted.
    """
    zone = timezone.get_current_timezone()
    start = datetime.combine(created_from, time.min, tzinfo=zone) if created_from else None
    end = datetime.combine(created_to + timedelta(days=1), time.min, tzinfo=zone) if created_to else None
    return start, end


def labelled_done_predictions(
    *, model_version: str | None = None, created_from: date | None = None, created_to: date | None = None
) -> QuerySet[Prediction]:
    """What the dashboard counts: finished predictions with a known label, narrowed by version and days."""
    predictions = predictions_with_label().filter(status=Prediction.Status.DONE, effective_label__isnull=False)
    if model_version is not None:
        predictions = predictions.filter(model_version=model_version)
    start, end = created_range_bounds(created_from, created_to)
    if start:
        predictions = predictions.filter(created_at__gte=start)
    if end:
        predictions = predictions.filter(created_at__lt=end)
    return predictions


def _predicted_column():
    return Case(When(digits__regex=SINGLE_DIGIT, then=F("digits")), default=Value(NO_DIGIT), output_field=CharField())


PREDICTED_COLUMNS = tuple(str(d) for d in range(10)) + (NO_DIGIT,)


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of labelled predictions by true label (rows, 0-9) and predicted digit (columns, 0-9 and none)."""

    counts: dict[tuple[int, str], int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def right(self) -> int:
        return sum(n for (label, predicted), n in self.counts.items() if str(label) == predicted)

    def count(self, label: int, predicted: str) -> int:
        return self.counts.get((label, predicted), 0)

    def rows(self) -> list[tuple[int, list[tuple[str, int]]]]:
        return [(label, [(p, self.count(label, p)) for p in PREDICTED_COLUMNS]) for label in range(10)]


def confusion_matrix(
    *, model_version: str | None = None, created_from: date | None = None, created_to: date | None = None
) -> ConfusionMatrix:
    rows = (
        labelled_done_predictions(model_version=model_version, created_from=created_from, created_to=created_to)
        .annotate(predicted=_predicted_column())
        .order_by()
        .values("effective_label", "predicted")
        .annotate(n=Count("id"))
    )
    return ConfusionMatrix(counts={(row["effective_label"], row["predicted"]): row["n"] for row in rows})


@dataclass(frozen=True)
class AccuracyRow:
    key: object  # a model version, a digit or a day
    labelled: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.labelled if self.labelled else None


def _accuracy_by(predictions: QuerySet[Prediction], key: str) -> list[AccuracyRow]:
    rows = (
        predictions.order_by()
        .values(key)
        .annotate(labelled=Count("id"), right=Count("id", filter=_right_condition()))
        .order_by(key)
    )
    return [AccuracyRow(key=row[key], labelled=row["labelled"], right=row["right"]) for row in rows]


def accuracy_by_model_version(*, created_from: date | None = None, created_to: date | None = None) -> list[AccuracyRow]:
    return _accuracy_by(labelled_done_predictions(created_from=created_from, created_to=created_to), "model_version")


def accuracy_by_digit(
    *, model_version: str | None = None, created_from: date | None = None, created_to: date | None = None
) -> list[AccuracyRow]:
    """Per true label: the share of predictions of that digit the model read right."""
    predictions = labelled_done_predictions(
        model_version=model_version, created_from=created_from, created_to=created_to
    )
    return _accuracy_by(predictions, "effective_label")


def accuracy_over_time(
    *, model_version: str | None = None, created_from: date | None = None, created_to: date | None = None
) -> list[AccuracyRow]:
    """Per day (in the current time zone) the prediction was made."""
    predictions = labelled_done_predictions(
        model_version=model_version, created_from=created_from, created_to=created_to
    ).annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
    return _accuracy_by(predictions, "day")


def model_versions() -> list[str]:
    """Every model version that finished a prediction, for the dashboard's choice."""
    return list(
        Prediction.objects.filter(status=Prediction.Status.DONE)
        .order_by("model_version")
        .values_list("model_version", flat=True)
        .distinct()
    )


def review_queue() -> QuerySet[Prediction]:
    """Finished predictions nobody labelled yet, the most doubtful (lowest confidence) first."""
    return (
        Prediction.objects.filter(status=Prediction.Status.DONE, true_label__isnull=True, staff_label__isnull=True)
        .select_related("user")
        .order_by(F("confidence").asc(nulls_first=True), "created_at", "id")
    )


def labelled_for_export(*, model_version: str | None = None) -> QuerySet[Prediction]:
    """Labelled, finished predictions that kept the 28x28 picture the model saw, oldest first."""
    predictions = predictions_with_label().filter(status=Prediction.Status.DONE, effective_label__isnull=False)
    predictions = predictions.exclude(model_input="")
    if model_version is not None:
        predictions = predictions.filter(model_version=model_version)
    return predictions.order_by("created_at", "id")


# --- The website's pictures: served through owner-checked views, never as public media URLs ---


def prediction_picture(*, user, prediction_id: int, kind: str):
    """The user's uploaded picture ("upload") or the 28x28 picture the model saw ("input").

    Http404 for someone else's prediction, an unknown kind, or a file that is not there (yet).
    """
    return pictures.stored_picture(prediction_get(user=user, prediction_id=prediction_id), kind)


# --- The API's ?wait=N: the answers as soon as they are all there, or as they stand when time is up ---


def predictions_wait_finished(
    *, prediction_ids: list[int], timeout_seconds: float, poll_seconds: float = 0.2
) -> list[Prediction]:
    """The predictions re-read from the database, in the given order, once all are finished or time is up.

    The worker writes its answers to the rows, so polling them is all it takes (no result backend).
    A prediction deleted meanwhile is left out. With timeout_seconds=0 they are read once.
    """
    import time

    order = {pk: position for position, pk in enumerate(prediction_ids)}
    deadline = time.monotonic() + timeout_seconds
    while True:
        predictions = sorted(Prediction.objects.filter(pk__in=prediction_ids), key=lambda p: order[p.pk])
        if all(p.is_finished for p in predictions) or time.monotonic() >= deadline:
            return predictions
        time.sleep(poll_seconds)
