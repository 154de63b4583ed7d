"""What we store: each uploaded picture and what the model read in it."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# What a flagged piece shows in `digits`: the same as mlcore.reading.FLAGGED (the models do not import mlcore).
FLAGGED = "?"
# A label is a number written with the digits 0-9 only; "" means none.
ONLY_DIGITS = r"^[0-9]*$"
LABEL_MAX_LENGTH = 64

# Who said what a picture shows. A label may be the empty text: with its time set, that is a confirmed
# "there is no digit" (the user's answer to a "no digit found" reading, or staff's "not a digit").
USER_ANSWERED = ~models.Q(true_digits="") | models.Q(feedback_at__isnull=False)
STAFF_REVIEWED = ~models.Q(staff_digits="") | models.Q(reviewed_at__isnull=False)


def upload_path(instance: Prediction, filename: str) -> str:
    # A generated name: the user's file name is never used on disk.
    return f"uploads/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def model_input_path(instance: Prediction, filename: str) -> str:
    return f"model_inputs/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}.png"


class PredictionQuerySet(models.QuerySet):
    def owned_by(self, user) -> PredictionQuerySet:
        return self.filter(user=user)

    def labelled(self) -> PredictionQuerySet:
        return self.filter(USER_ANSWERED | STAFF_REVIEWED)


class Prediction(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Upload")
        DRAWING = "drawing", _("Drawing")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="predictions", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("sent"), db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.UPLOAD)
    image = models.ImageField(_("picture"), upload_to=upload_path, max_length=255)
    original_name = models.CharField(
        _("file name"), max_length=255, blank=True, help_text=_("Shown to the user, never used on disk.")
    )

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True, help_text=_("Why the prediction failed."))

    # The number read, left to right, as text: "?" marks a piece of ink that is not readable as one digit
    # (flagged, never guessed). Empty once done means no digit was found in the picture.
    digits = models.CharField(_("number read"), max_length=64, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True, help_text=_("How sure the whole number is."))
    # Per piece of the number, in the order of `digits`:
    confidences = models.JSONField(
        _("confidence per digit"), default=list, blank=True, help_text=_("The confidence of each digit.")
    )
    probabilities = models.JSONField(
        _("probabilities"),
        default=list,
        blank=True,
        help_text=_("The 10 class probabilities of each digit (a list of 10-lists)."),
    )
    boxes = models.JSONField(
        _("digit boxes"),
        default=list,
        blank=True,
        help_text=_("[left, top, right, bottom] per digit, in the upright picture's pixels."),
    )
    # The upright picture's size in its own pixels, the space `boxes` are in (a page draws them over it).
    image_width = models.PositiveIntegerField(_("picture width"), null=True, blank=True)
    image_height = models.PositiveIntegerField(_("picture height"), null=True, blank=True)
    # What the model saw: the digits' 28x28 inputs side by side, left to right (28 high, 28 per digit wide).
    model_input = models.ImageField(_("model input"), upload_to=model_input_path, blank=True, max_length=255)
    model_version = models.CharField(_("model version"), max_length=64, blank=True, db_index=True)
    preprocess_ms = models.FloatField(_("preprocessing (ms)"), null=True, blank=True)
    inference_ms = models.FloatField(_("model (ms)"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # For the recovery sweep (services.predictions_requeue_pending): when the row was last handed to the broker
    # (empty: it could not be, the broker was down) and when a worker last started reading it.
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)

    # The user's own answer to "is this right?" (the number it really is), and a staff review kept apart
    # from it. "" with no time means nobody said; "" with its time set means "there is no digit".
    true_digits = models.CharField(_("user's answer"), max_length=LABEL_MAX_LENGTH, blank=True)
    feedback_at = models.DateTimeField(_("answered"), null=True, blank=True)
    staff_digits = models.CharField(_("staff label"), max_length=LABEL_MAX_LENGTH, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(true_digits__regex=ONLY_DIGITS), name="true_digits_are_digits"),
            models.CheckConstraint(condition=models.Q(staff_digits__regex=ONLY_DIGITS), name="staff_digits_are_digits"),
        ]

    def __str__(self) -> str:
        return _("Prediction %(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}

    @property
    def digit(self) -> int | None:
        """The single digit read, or None (pending, failed, no digit found, flagged, or several digits)."""
        return int(self.digits) if len(self.digits) == 1 and self.digits.isdigit() else None

    @property
    def flagged(self) -> bool:
        """Whether a piece of the number could not be read as one digit."""
        return FLAGGED in self.digits

    @property
    def user_answered(self) -> bool:
        """Whether the user said what the picture shows: a number, or that there is no digit."""
        return bool(self.true_digits) or self.feedback_at is not None

    @property
    def staff_reviewed(self) -> bool:
        """Whether staff said what the picture shows: a number, or that it is not a digit."""
        return bool(self.staff_digits) or self.reviewed_at is not None

    @property
    def has_label(self) -> bool:
        return self.staff_reviewed or self.user_answered

    @property
    def label(self) -> str:
        """The best known truth, as text: a staff review, else the user's feedback. "" while nobody said,
        and also when the one who said found no digit in it (see has_label and labelled_not_a_digit)."""
        return self.staff_digits if self.staff_reviewed else self.true_digits

    @property
    def labelled_not_a_digit(self) -> bool:
        """The best known truth is that the picture holds no digit (staff's "not a digit", or the user's
        "right, there is no digit"): never a training example, counted apart on the dashboard."""
        return self.has_label and not self.label

    @property
    def true_label(self) -> int | None:
        """The user's answer when it is a single digit, else None (kept for callers of the one-digit days)."""
        return int(self.true_digits) if len(self.true_digits) == 1 else None

    @property
    def is_correct(self) -> bool | None:
        """True or False once labelled and read: the whole number must be right. None while unknown."""
        if not self.has_label or self.status != self.Status.DONE:
            return None
        return self.digits == self.label

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


# The model registry lives in its own module; imported here so that Django finds its models.
from recognizer.registry import ModelVersion, TrainingJob  # noqa: E402, F401
