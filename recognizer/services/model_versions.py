"""The model lifecycle: which version reads uploads, training new ones from the corrections, and
promoting or rolling back, all without restarting anything.

Workers ask `active_classifier()` before every prediction (one indexed query); when staff promote
another version, each worker process loads it, whole, before its next prediction, and keeps the
versions it has loaded (a rollback is then instant). Training runs as a Celery task on its own
`training` queue, never in the web process.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from recognizer.models import Prediction
from recognizer.registry import ModelVersion, TrainingJob
from recognizer.services.export import labelled_digits

logger = logging.getLogger(__name__)

# Every fifth labelled picture (by id) is never trained on: candidates are judged on them.
HOLDOUT_EVERY = 5
MODEL_FILE_NAME = "digit_cnn.keras"


class PromotionRefused(Exception):
    pass


class TrainingRefused(Exception):
    pass


# --- Which version serves ---


def committed_model_path() -> Path:
    from mlcore.paths import DEFAULT_MODEL_PATH

    return Path(settings.DIGIT_MODEL_PATH or DEFAULT_MODEL_PATH)


def active_model_version() -> ModelVersion:
    """The version that reads uploads now. The first time, the model committed with the code becomes it."""
    version = ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE).first()
    return version or model_versions_register_committed()


def model_versions_register_committed() -> ModelVersion:
    """Registers the committed model (mlcore/models/) as the active version when none is active, and keeps
    its row's name in step with the committed card (a deploy can bring a newer committed model)."""
    from mlcore.inference import read_model_card  # a JSON file: no TensorFlow

    path = committed_model_path()
    card = read_model_card(path) if path.with_suffix(".json").is_file() else {}
    name = str(card.get("version") or "committed")
    committed = ModelVersion.objects.filter(file="").first()
    if committed is not None and committed.version != name:
        ModelVersion.objects.filter(pk=committed.pk).update(version=name, card=card)
    active = ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE).first()
    if active is not None:
        return active
    try:
        with transaction.atomic():
            if committed is None:
                return ModelVersion.objects.create(
                    version=name, card=card, state=ModelVersion.State.ACTIVE, activated_at=timezone.now()
                )
            ModelVersion.objects.filter(pk=committed.pk).update(
                state=ModelVersion.State.ACTIVE, activated_at=timezone.now()
            )
    except IntegrityError:  # another process registered it at the same moment
        pass
    return ModelVersion.objects.get(state=ModelVersion.State.ACTIVE)


def model_version_path(version: ModelVersion) -> str:
    """A local path to the version's model file (its card beside it), fetched from the store if need be.

    A store on this machine (MEDIA_ROOT) has the file itself. A bucket (S3_BUCKET) has no paths: each machine
    fetches the two files once into MODEL_CACHE_DIR, under the stored name (a version's files never change).
    """
    if version.is_committed_default:
        return str(committed_model_path())
    try:
        return default_storage.path(version.file.name)
    except NotImplementedError:  # a remote store: keep a local copy per machine
        local = Path(settings.MODEL_CACHE_DIR) / version.file.name
        if not local.is_file():
            local.parent.mkdir(parents=True, exist_ok=True)
            # The card first, the model last: another process of this machine that finds the model file
            # finds its card beside it.
            _fetch_stored_file(_card_name(version.file.name), local.with_suffix(".json"))
            _fetch_stored_file(version.file.name, local)
        return str(local)


def _fetch_stored_file(name: str, target: Path) -> None:
    """Copies a stored file to `target`, which appears only once whole (worker processes of one machine may
    fetch the same version at the same moment: each writes its own partial file)."""
    partial = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False)
    try:
        with partial, default_storage.open(name, "rb") as stored:
            shutil.copyfileobj(stored, partial)
        Path(partial.name).replace(target)
    except BaseException:
        Path(partial.name).unlink(missing_ok=True)
        raise


def _card_name(model_name: str) -> str:
    return str(Path(model_name).with_suffix(".json"))


def active_model_path() -> str:
    """The local file of the version that reads uploads now."""
    return model_version_path(active_model_version())


def active_classifier():
    """The classifier of the active version, loaded (whole) on first use in this process, then kept."""
    from mlcore.inference import shared_classifier

    return shared_classifier(model_version_path(active_model_version()))


# --- Promotion and rollback ---


REFUSAL_MESSAGES = {
    "mnist_test": _lazy(
        "MNIST test accuracy %(candidate)s is below the active version's %(active)s by more than 0.1 point."
    ),
    "user_holdout": _lazy("Held-out user pictures: %(candidate)s read right, the active version reads %(active)s."),
}


def model_version_refusal(version: ModelVersion) -> str | None:
    """Why the version must not be promoted without forcing (in the reader's language), or None."""
    if version.evaluation:
        refusals = version.evaluation.get("refusals") or []
        return (
            " ".join(
                str(REFUSAL_MESSAGES[refusal["score"]])
                % {"candidate": f"{refusal['candidate']:.2%}", "active": f"{refusal['active']:.2%}"}
                for refusal in refusals
            )
            or None
        )
    if version.activated_at is not None:
        return None  # it served before: going back to it is a rollback
    return _("This version has not been evaluated.")


def model_version_promote(*, version: ModelVersion, user, force: bool = False, note: str = "") -> ModelVersion:
    """Makes the version the one that reads uploads. Refused when its evaluation refuses it, unless forced
    with a reason (kept on the version, and logged)."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.state == ModelVersion.State.ACTIVE:
            return version
        refusal = model_version_refusal(version)
        if refusal and not force:
            raise PromotionRefused(refusal)
        if refusal and not note.strip():
            raise PromotionRefused(_("Say why you promote a version its evaluation refused."))
        ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE).update(state=ModelVersion.State.RETIRED)
        version.state = ModelVersion.State.ACTIVE
        version.activated_at = timezone.now()
        version.activated_by = user
        version.forced_note = note.strip() if refusal else ""
        version.save()
    if refusal:
        logger.warning("Model %s promoted by %s despite its evaluation (%s): %s", version, user, refusal, note)
    else:
        logger.info("Model %s promoted by %s", version, user)
    return version


def model_version_rollback(*, user) -> ModelVersion:
    """Puts back the version that served before the active one."""
    active = active_model_version()
    previous = (
        ModelVersion.objects.exclude(pk=active.pk).filter(activated_at__isnull=False).order_by("-activated_at").first()
    )
    if previous is None:
        raise PromotionRefused(_("No earlier version has served: there is nothing to roll back to."))
    logger.info("Model rolled back from %s to %s by %s", active, previous, user)
    return model_version_promote(version=previous, user=user, force=True, note=f"rollback from {active.version}")


# --- Training jobs ---


def training_job_start(*, user, mode: str = TrainingJob.Mode.FINE_TUNE, epochs: int = 3, options=None) -> TrainingJob:
    """Queues a training job on the `training` queue (after the commit, so the worker finds its row)."""
    from recognizer.tasks import train_model_version

    job = TrainingJob.objects.create(
        mode=mode,
        epochs=epochs,
        requested_by=user,
        base_version=active_model_version(),
        options=options if options is not None else settings.TRAINING_DEFAULT_OPTIONS,
    )
    transaction.on_commit(lambda: _send_training(train_model_version, job.pk))
    return job


def _send_training(task, job_id: int) -> None:
    try:
        task.delay(job_id)
    except Exception as error:  # the broker is down: say so on the job instead of leaving it queued forever
        logger.error("Training job %s could not be queued: %s", job_id, error)
        _finish(job_id, TrainingJob.State.FAILED, _("The job could not be queued: the task broker is unreachable."))


def training_job_cancel(*, job: TrainingJob) -> TrainingJob:
    """A queued job never starts; a running one stops at its next progress report (a few seconds)."""
    if job.state == TrainingJob.State.QUEUED:
        _finish(
            job.pk, TrainingJob.State.CANCELLED, _("Cancelled before it started."), only_if=TrainingJob.State.QUEUED
        )
    TrainingJob.objects.filter(pk=job.pk, state=TrainingJob.State.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def training_jobs_fail_stale(*, older_than_seconds: int | None = None) -> int:
    """Marks failed the running jobs not heard of for a while: their worker was killed or crashed.

    The active model is untouched by a training job until someone promotes its candidate, so it keeps
    serving. Returns how many jobs were marked.
    """
    seconds = settings.TRAINING_STALE_SECONDS if older_than_seconds is None else older_than_seconds
    return TrainingJob.objects.filter(
        state=TrainingJob.State.RUNNING, heartbeat_at__lt=timezone.now() - timedelta(seconds=seconds)
    ).update(
        state=TrainingJob.State.FAILED,
        finished_at=timezone.now(),
        reason=_("The training worker stopped during the run (killed or crashed); the active model kept serving."),
    )


def _finish(job_id: int, state: str, reason: str = "", *, only_if: str | None = None, **fields) -> None:
    jobs = TrainingJob.objects.filter(pk=job_id)
    if only_if:
        jobs = jobs.filter(state=only_if)
    jobs.update(state=state, reason=reason[:4000], finished_at=timezone.now(), **fields)


def training_job_run(*, job_id: int) -> TrainingJob | None:
    """Trains, stores and evaluates a candidate version (in the training worker). Safe to call twice:
    only a queued job runs. Any failure is written on the job; the active version is never touched."""
    # The reason stored on the job is written in the site's language, whoever's request ran it eagerly.
    with translation.override(settings.LANGUAGE_CODE):
        return _training_job_run(job_id)


def _training_job_run(job_id: int) -> TrainingJob | None:
    from mlcore.data import DigitSet
    from mlcore.retrain import RetrainConfig, ScoreSettings, TrainingCancelled, promotion_refusals, retrain, score_model

    started = TrainingJob.objects.filter(pk=job_id, state=TrainingJob.State.QUEUED, cancel_requested=False).update(
        state=TrainingJob.State.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    job = TrainingJob.objects.filter(pk=job_id).first()
    if not started:
        return job
    try:
        labelled = labelled_digits(predictions=Prediction.objects.labelled().order_by("pk"))
        images, labels, ids = labelled.images, labelled.labels, labelled.prediction_ids
        held_out = ids % HOLDOUT_EVERY == 0
        if not (~held_out).any():
            raise TrainingRefused(_("There are no labelled pictures to learn from yet."))
        corrections = DigitSet(images[~held_out], labels[~held_out])
        holdout = DigitSet(images[held_out], labels[held_out]) if held_out.any() else None
        base = job.base_version or active_model_version()
        config = RetrainConfig(mode=job.mode, epochs=job.epochs, **job.options.get("retrain", {}))
        config.version = f"{base.version}+ft{job.pk}" if job.mode == TrainingJob.Mode.FINE_TUNE else f"scratch{job.pk}"
        provenance = {
            "correction_predictions": sorted({int(i) for i in ids[~held_out]}),
            "held_out_predictions": sorted({int(i) for i in ids[held_out]}),
        }

        def report(state: dict) -> bool:
            TrainingJob.objects.filter(pk=job_id).update(
                progress={**state, "phase": "training"}, heartbeat_at=timezone.now()
            )
            return not TrainingJob.objects.filter(pk=job_id, cancel_requested=True).exists()

        with tempfile.TemporaryDirectory() as folder:
            out_path = Path(folder) / MODEL_FILE_NAME
            card = retrain(
                base_model_path=model_version_path(base) if job.mode == TrainingJob.Mode.FINE_TUNE else None,
                corrections=corrections,
                out_path=out_path,
                config=config,
                progress=report,
                provenance=provenance,
            )
            TrainingJob.objects.filter(pk=job_id).update(
                progress={**_last_progress(job_id), "phase": "evaluating"}, heartbeat_at=timezone.now()
            )
            score_settings = ScoreSettings(**job.options.get("score", {}))
            active = active_model_version()
            candidate_scores = score_model(out_path, user_holdout=holdout, settings=score_settings)
            active_scores = score_model(model_version_path(active), user_holdout=holdout, settings=score_settings)
            evaluation = {
                "candidate": candidate_scores,
                "active": active_scores,
                "active_version": active.version,
                "score_settings": asdict(score_settings),
                "refusals": promotion_refusals(candidate_scores, active_scores),
            }
            version = ModelVersion(
                version=card["version"], card=card, evaluation=evaluation, created_by=job.requested_by
            )
            with out_path.open("rb") as model_file:
                version.file.save(MODEL_FILE_NAME, File(model_file), save=False)
            # Beside the model under the same name (a folder store would rename a card left by an earlier try).
            default_storage.delete(_card_name(version.file.name))
            default_storage.save(_card_name(version.file.name), ContentFile(out_path.with_suffix(".json").read_bytes()))
            version.save()
        _finish(job_id, TrainingJob.State.SUCCEEDED, candidate=version, heartbeat_at=timezone.now())
    except TrainingCancelled:
        _finish(job_id, TrainingJob.State.CANCELLED, _("Cancelled while training; nothing was kept."))
    except TrainingRefused as refused:
        _finish(job_id, TrainingJob.State.FAILED, str(refused))
    except Exception as error:
        logger.exception("Training job %s failed", job_id)
        _finish(job_id, TrainingJob.State.FAILED, f"{type(error).__name__}: {error}")
    return TrainingJob.objects.get(pk=job_id)


def _last_progress(job_id: int) -> dict:
    return TrainingJob.objects.filter(pk=job_id).values_list("progress", flat=True).first() or {}
