"""What we store: each uploaded picture and what the model read in it."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def upload_path(instance: Prediction, filename: str) -> str:
    # A generated name: the user's file name is never used on disk.
    return f"uploads/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def model_input_path(instance: Prediction, filename: str) -> str:
    return f"model_inputs/{instance.created_at:%Y/%m}/{uuid.uuid4().hex}.png"


class PredictionQuerySet(models.QuerySet):
    def owned_by(self, user) -> PredictionQuerySet:
        return self.filter(user=user)

    def labelled(self) -> PredictionQuerySet:
        return self.filter(models.Q(true_label__isnull=False) | models.Q(staff_label__isnull=False))


class Prediction(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Upload")
        DRAWING = "drawing", _("Drawing")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="predictions")
    created_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.UPLOAD)
    image = models.ImageField(upload_to=upload_path, max_length=255)
    original_name = models.CharField(max_length=255, blank=True, help_text=_("Shown to the user, never used on disk."))

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text=_("Why the prediction failed."))

    # The digits read, as a string: one digit today, several (with a box each) for numbers later.
    # Empty once done means no digit was found in the picture.
    digits = models.CharField(max_length=64, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    probabilities = models.JSONField(null=True, blank=True, help_text=_("The 10 class probabilities."))
    boxes = models.JSONField(default=list, blank=True, help_text=_("[left, top, right, bottom] per digit."))
    model_input = models.ImageField(upload_to=model_input_path, blank=True, max_length=255)
    model_version = models.CharField(max_length=64, blank=True, db_index=True)
    preprocess_ms = models.FloatField(null=True, blank=True)
    inference_ms = models.FloatField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The user's own answer to "is this right?", and a staff review kept apart from it.
    true_label = models.PositiveSmallIntegerField(null=True, blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    staff_label = models.PositiveSmallIntegerField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(true_label__lte=9), name="true_label_is_a_digit"),
            models.CheckConstraint(condition=models.Q(staff_label__lte=9), name="staff_label_is_a_digit"),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.pk} ({self.status})"

    @property
    def digit(self) -> int | None:
        """The single digit read, or None (pending, failed, no digit found, or several digits)."""
        return int(self.digits) if len(self.digits) == 1 else None

    @property
    def label(self) -> int | None:
        """The best known truth: a staff review, else the user's feedback."""
        return self.staff_label if self.staff_label is not None else self.true_label

    @property
    def is_correct(self) -> bool | None:
        """True or False once labelled and read; None while unknown."""
        if self.label is None or self.status != self.Status.DONE:
            return None
        return self.digit == self.label

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
