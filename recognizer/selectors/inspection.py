"""Staff inspection: the admin's filters, the misclassification dashboard, the review queue and the export's
choice of predictions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Concat, Length, TruncDate
from django.utils import timezone

from recognizer.models import FLAGGED, STAFF_REVIEWED, USER_ANSWERED, Prediction

# --- Staff inspection: the admin's filters, the misclassification dashboard and the review queue ---
# The admin's list filters and the dashboard both call these, so a dashboard count and the admin list
# its cell links to are the same query.

DIGIT_VALUES = tuple(str(d) for d in range(10))
NO_DIGIT = "none"  # the "digit read" of a prediction that read nothing, and the label of unlabelled ones
NOT_A_DIGIT = "not-a-digit"  # the label of a picture someone said holds no digit (an empty label, confirmed)
LENGTH_WRONG = "length"  # the confusion matrix's column for numbers read with too few or too many pieces


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
    # Needs the `effective_label` annotation: staff review wins over the user's feedback. The whole number
    # must be right; a flagged piece ("?") never equals a label, which holds digits only.
    return Q(status=Prediction.Status.DONE, digits=F("effective_label"))


def with_effective_label(predictions: QuerySet[Prediction]) -> QuerySet[Prediction]:
    """Annotates `effective_label`, the staff label else the user's, NULL when neither (Prediction.label in SQL).

    "" is a known label too: someone said the picture holds no digit (Prediction.labelled_not_a_digit).
    Named apart from the model's read-only `label` property, so annotated rows still load.
    """
    if "effective_label" in predictions.query.annotations:
        return predictions
    return predictions.annotate(
        effective_label=Case(
            When(STAFF_REVIEWED, then=F("staff_digits")),
            When(USER_ANSWERED, then=F("true_digits")),
            default=Value(None),
            output_field=CharField(),
        )
    )


def predictions_with_label() -> QuerySet[Prediction]:
    return with_effective_label(Prediction.objects.all())


def predictions_by_verdict(predictions: QuerySet[Prediction], verdict: str) -> QuerySet[Prediction]:
    """Right or wrong (the whole number) by the best known label (staff wins); unknown while unlabelled or not done."""
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
    """By the best known label: those whose number has the digit "0".."9", NO_DIGIT for the unlabelled,
    NOT_A_DIGIT for those labelled as holding no digit."""
    predictions = with_effective_label(predictions)
    if label == NO_DIGIT:
        return predictions.filter(effective_label__isnull=True)
    if label == NOT_A_DIGIT:
        return predictions.filter(effective_label="")
    return predictions.filter(effective_label__contains=str(int(label)))


def predictions_by_predicted_digit(predictions: QuerySet[Prediction], digit: str) -> QuerySet[Prediction]:
    """By the number read: with the digit "0".."9" in it, FLAGGED for a flagged piece, NO_DIGIT for nothing read."""
    if digit == NO_DIGIT:
        return predictions.filter(digits="")
    if digit == FLAGGED:
        return predictions.filter(digits__contains=FLAGGED)
    return predictions.filter(digits__contains=str(int(digit)))


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


# The confusion matrix's columns: each digit read, a flagged piece, and "the number has the wrong length".
CONFUSION_COLUMNS = (*DIGIT_VALUES, FLAGGED, LENGTH_WRONG)


def confusion_cells(label: str, digits: str) -> list[tuple[int, str]]:
    """Where one labelled number counts in the confusion matrix, one cell per digit of its label.

    Digit by digit (true digit, piece read) when as many pieces were read as the label has digits; else
    which piece is which digit is not known, and each true digit counts in the LENGTH_WRONG column.
    """
    if len(label) != len(digits):
        return [(int(true), LENGTH_WRONG) for true in label]
    return [(int(true), read) for true, read in zip(label, digits, strict=True)]


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of labelled digits by true digit (rows, 0-9) and what was read there (CONFUSION_COLUMNS).

    A number counts once per digit of its label (see confusion_cells); `predictions` and
    `predictions_right` count the numbers themselves, right when the whole number was read right.
    """

    counts: dict[tuple[int, str], int]
    predictions: int = 0
    predictions_right: int = 0
    # Pictures labelled "not a digit" (no digit in them): no cell of the matrix, counted apart. They are
    # among `predictions`, right when the model read nothing either.
    not_a_digit: int = 0
    not_a_digit_right: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def right(self) -> int:
        return sum(n for (label, read), n in self.counts.items() if str(label) == read)

    def count(self, label: int, read: str) -> int:
        return self.counts.get((label, read), 0)

    def rows(self) -> list[tuple[int, list[tuple[str, int]]]]:
        return [(label, [(read, self.count(label, read)) for read in CONFUSION_COLUMNS]) for label in range(10)]


def confusion_matrix(
    *, model_version: str | None = None, created_from: date | None = None, created_to: date | None = None
) -> ConfusionMatrix:
    # The database groups equal (label, reading) pairs; each pair is then spread over its digits here.
    pairs = (
        labelled_done_predictions(model_version=model_version, created_from=created_from, created_to=created_to)
        .order_by()
        .values("effective_label", "digits")
        .annotate(n=Count("id"))
    )
    counts: dict[tuple[int, str], int] = {}
    predictions = predictions_right = not_a_digit = not_a_digit_right = 0
    for pair in pairs:
        label, digits, n = pair["effective_label"], pair["digits"], pair["n"]
        for cell in confusion_cells(label, digits):
            counts[cell] = counts.get(cell, 0) + n
        predictions += n
        predictions_right += n if label == digits else 0
        if label == "":
            not_a_digit += n
            not_a_digit_right += n if digits == "" else 0
    return ConfusionMatrix(
        counts=counts,
        predictions=predictions,
        predictions_right=predictions_right,
        not_a_digit=not_a_digit,
        not_a_digit_right=not_a_digit_right,
    )


def predictions_by_confusion_cell(predictions: QuerySet[Prediction], label: str, read: str) -> QuerySet[Prediction]:
    """The labelled, finished predictions that count in the confusion matrix's cell (true digit `label`, `read`).

    With `read` empty, those of the whole row: every labelled number with that digit. The dashboard links
    each cell here, so the admin list shows exactly the numbers behind the count.
    """
    true_digit = str(int(label))
    predictions = with_effective_label(predictions).filter(
        status=Prediction.Status.DONE, effective_label__contains=true_digit
    )
    if not read:
        return predictions
    predictions = predictions.alias(label_length=Length("effective_label"), read_length=Length("digits"))
    if read == LENGTH_WRONG:
        return predictions.exclude(label_length=F("read_length"))
    candidates = predictions.filter(label_length=F("read_length"), digits__contains=read)
    # Which position holds which pair is worked out here, over the distinct (label, reading) pairs.
    pairs = candidates.order_by().values_list("effective_label", "digits").distinct()
    matching = [
        f"{pair_label}:{digits}"
        for pair_label, digits in pairs
        if (int(true_digit), read) in confusion_cells(pair_label, digits)
    ]
    return candidates.alias(pair=Concat("effective_label", Value(":"), "digits", output_field=CharField())).filter(
        pair__in=matching
    )


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
    """Per model version: the share of labelled numbers read right, whole (every digit, nothing more)."""
    return _accuracy_by(labelled_done_predictions(created_from=created_from, created_to=created_to), "model_version")


def accuracy_by_digit(
    *, model_version: str | None = None, created_from: date | None = None, created_to: date | None = None
) -> list[AccuracyRow]:
    """Per true digit: of the labelled numbers that have it, the share read right (the whole number)."""
    predictions = labelled_done_predictions(
        model_version=model_version, created_from=created_from, created_to=created_to
    )
    counts = {}
    for digit in DIGIT_VALUES:
        has_digit = Q(effective_label__contains=digit)
        counts[f"labelled_{digit}"] = Count("id", filter=has_digit)
        counts[f"right_{digit}"] = Count("id", filter=has_digit & _right_condition())
    totals = predictions.aggregate(**counts)
    return [
        AccuracyRow(key=int(digit), labelled=totals[f"labelled_{digit}"], right=totals[f"right_{digit}"])
        for digit in DIGIT_VALUES
        if totals[f"labelled_{digit}"]
    ]


def accuracy_over_time(
    *, model_version: str | None = None, created_from: date | None = None, created_to: date | None = None
) -> list[AccuracyRow]:
    """Per day (in the current time zone) the prediction was made: the share of numbers read right, whole."""
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
    """Finished predictions nobody labelled yet (not even as "no digit"), the most doubtful first."""
    return (
        Prediction.objects.filter(status=Prediction.Status.DONE)
        .exclude(USER_ANSWERED | STAFF_REVIEWED)
        .select_related("user")
        .order_by(F("confidence").asc(nulls_first=True), "created_at", "id")
    )


def labelled_for_export(*, model_version: str | None = None) -> QuerySet[Prediction]:
    """Labelled, finished predictions that kept the pictures the model saw, oldest first.

    Those labelled "not a digit" are not digits to learn: left out here. labelled_dataset_export still
    leaves out those whose label and reading disagree in length.
    """
    predictions = predictions_with_label().filter(status=Prediction.Status.DONE, effective_label__isnull=False)
    predictions = predictions.exclude(effective_label="")
    predictions = predictions.exclude(model_input="")
    if model_version is not None:
        predictions = predictions.filter(model_version=model_version)
    return predictions.order_by("created_at", "id")
