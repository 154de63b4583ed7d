"""The model registry: every version of the reader the product has had, and the jobs that train new ones.

(Models of the recognizer app, imported by recognizer.models; the logic lives in
recognizer.services.model_versions.)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def model_file_path(instance: ModelVersion, filename: str) -> str:
    return f"models/{instance.version}/{filename}"


class ModelVersion(models.Model):
    class State(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    version = models.CharField(_("version"), max_length=64, unique=True)
    # Empty for the model committed with the code (mlcore/models/); trained versions live in the file store.
    file = models.FileField(_("model file"), upload_to=model_file_path, max_length=255, blank=True)
    card = models.JSONField(_("model card"), default=dict, blank=True)
    # {"candidate": scores, "active": scores, "active_version": ..., "refusals": [...]}: see
    # mlcore.retrain.score_model; the two versions scored side by side on the same pictures.
    evaluation = models.JSONField(_("evaluation"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.CANDIDATE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    activated_at = models.DateTimeField(_("last activated"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("activated by"),
    )
    # Promoted although the evaluation refused it: who decided is activated_by, why is here.
    forced_note = models.TextField(_("forced promotion"), blank=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at"]
        constraints = [
            # Exactly one version serves; the database keeps it so even under concurrent promotions.
            models.UniqueConstraint(
                fields=["state"], condition=models.Q(state="active"), name="one_active_model_version"
            )
        ]

    def __str__(self) -> str:
        return self.version

    @property
    def is_committed_default(self) -> bool:
        return not self.file


class TrainingJob(models.Model):
    class Mode(models.TextChoices):
        FINE_TUNE = "fine_tune", _("Fine-tune the active model on the corrections (a few minutes)")
        SCRATCH = "scratch", _("Train from scratch on MNIST and the corrections (long)")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.FINE_TUNE)
    epochs = models.PositiveSmallIntegerField(_("epochs"), default=3)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    # {"epoch", "epochs", "batch", "batches", "loss", "accuracy", "phase"}
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    base_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started from"),
    )
    candidate = models.OneToOneField(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_job",
        verbose_name=_("candidate"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Refreshed while it runs: a running job whose heartbeat stops was killed (see training_jobs_fail_stale).
    heartbeat_at = models.DateTimeField(_("last heard of"), null=True, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    # Small settings for quick runs (tests): see mlcore.retrain.RetrainConfig and ScoreSettings.
    options = models.JSONField(_("options"), default=dict, blank=True)

    class Meta:
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED, self.State.CANCELLED)
