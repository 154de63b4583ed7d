"""Every write to predictions goes through these functions; views, the API, admin and tasks call them."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from mlcore.preprocessing import ImageError, inspect_upload
from recognizer.models import Prediction

logger = logging.getLogger(__name__)


class UploadRejected(Exception):
    """An upload refused before anything was saved. `code` maps to an HTTP status in the API."""

    def __init__(self, message: str, *, code: str, file_name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.file_name = file_name


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    data: bytes


def upload_check(*, upload: UploadedFile) -> CheckedUpload:
    """The upload's bytes once they are known to be a picture we accept, else UploadRejected."""
    name = upload.name or "upload"
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise UploadRejected(
            _("%(name)s is too large: %(size)s MB, the limit is %(limit)s MB.")
            % {
                "name": name,
                "size": f"{upload.size / 1048576:.1f}",
                "limit": f"{settings.UPLOAD_MAX_BYTES / 1048576:g}",
            },
            code="too_large",
            file_name=name,
        )
    data = upload.read()
    try:
        inspect_upload(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    except ImageError as error:
        raise UploadRejected(f"{name}: {error}", code=error.code, file_name=name) from None
    return CheckedUpload(name=name, data=data)


def uploads_check(*, uploads: list[UploadedFile]) -> list[CheckedUpload]:
    if not uploads:
        raise UploadRejected(_("Choose at least one picture."), code="no_file")
    if len(uploads) > settings.UPLOAD_MAX_FILES:
        raise UploadRejected(
            _("At most %(limit)d pictures at once; you sent %(count)d.")
            % {"limit": settings.UPLOAD_MAX_FILES, "count": len(uploads)},
            code="too_many_files",
        )
    return [upload_check(upload=upload) for upload in uploads]


def predictions_create(
    *, user, uploads: list[UploadedFile], source: str = Prediction.Source.UPLOAD
) -> list[Prediction]:
    """Checks every upload, then saves them all (rows and files) or none, and queues them.

    One bad file refuses the whole submission, so a user never has to work out which half was kept.
    """
    checked = uploads_check(uploads=uploads)
    created: list[Prediction] = []
    try:
        with transaction.atomic():
            for upload in checked:
                prediction = Prediction(
                    user=user, source=source, original_name=upload.name[:255], created_at=timezone.now()
                )
                prediction.image.save(upload.name, ContentFile(upload.data), save=False)
                created.append(prediction)
                prediction.save()
                transaction.on_commit(lambda p=prediction: prediction_enqueue_noting(prediction=p))
    except Exception:
        # The transaction rolled back the rows; remove the files already written.
        for prediction in created:
            prediction.image.delete(save=False)
        raise
    return created


def prediction_create(*, user, upload: UploadedFile, source: str = Prediction.Source.UPLOAD) -> Prediction:
    return predictions_create(user=user, uploads=[upload], source=source)[0]


def prediction_enqueue(*, prediction: Prediction) -> bool:
    """Hands the prediction to a worker. With the broker down it stays pending, to be requeued.

    Returns whether it was queued. In eager mode (no broker) the task runs right here.
    """
    from recognizer.tasks import run_prediction

    try:
        run_prediction.apply_async(args=[prediction.pk], retry=False)
    except Exception:  # kombu raises OperationalError and friends; the row is safe as pending
        logger.warning(
            "Could not queue prediction %s: broker unavailable; it stays pending", prediction.pk, exc_info=True
        )
        return False
    return True


def prediction_enqueue_noting(*, prediction: Prediction) -> None:
    """Queues the prediction and notes on the instance whether that worked (`prediction.queued`).

    The API reads it to answer 503 when the broker is down. The attribute is missing until the
    transaction commits (the queueing waits for the commit).
    """
    prediction.queued = prediction_enqueue(prediction=prediction)


def predictions_requeue_pending(*, older_than_seconds: int = 0) -> int:
    """Queues again every pending prediction (e.g. after the broker was down). Returns how many."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    queued = 0
    for prediction in Prediction.objects.filter(status=Prediction.Status.PENDING, created_at__lte=cutoff).order_by(
        "created_at"
    ):
        queued += prediction_enqueue(prediction=prediction)
    return queued


def _png_bytes(pixels) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, format="PNG")
    return buffer.getvalue()


def prediction_run(*, prediction_id: int, classifier=None) -> Prediction | None:
    """Reads the digit in a stored upload and saves the answer. Safe to call twice.

    A prediction already finished (or deleted) is left alone, so a redelivered task does no harm.
    A picture that cannot be read marks the prediction failed with the reason; other errors
    propagate so that the task can retry them.
    """
    prediction = Prediction.objects.filter(pk=prediction_id).first()
    if prediction is None or prediction.is_finished:
        return prediction
    Prediction.objects.filter(pk=prediction.pk).update(
        status=Prediction.Status.PROCESSING, attempts=prediction.attempts + 1
    )
    with prediction.image.open("rb") as stored:
        data = stored.read()
    classifier = classifier or active_classifier()
    try:
        result = classifier.classify_upload(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    except ImageError as error:
        return prediction_mark_failed(prediction_id=prediction.pk, reason=str(error))
    prediction.refresh_from_db()
    prediction.status = Prediction.Status.DONE
    prediction.digits = "" if result.digit is None else str(result.digit)
    prediction.confidence = result.confidence
    prediction.probabilities = result.probabilities
    prediction.boxes = [list(result.box)] if result.box else []
    prediction.model_version = classifier.version
    prediction.preprocess_ms = round(result.preprocess_ms, 2)
    prediction.inference_ms = round(result.inference_ms, 2)
    prediction.finished_at = timezone.now()
    prediction.error = ""
    if result.model_input is not None:
        prediction.model_input.save("input.png", ContentFile(_png_bytes(result.model_input)), save=False)
    prediction.save()
    return prediction


def active_model_path() -> str:
    from mlcore.paths import DEFAULT_MODEL_PATH

    return str(settings.DIGIT_MODEL_PATH or DEFAULT_MODEL_PATH)


def active_classifier():
    """The process's classifier, loaded on first use (TensorFlow is imported only then)."""
    from mlcore.inference import shared_classifier

    return shared_classifier(active_model_path())


def prediction_mark_failed(*, prediction_id: int, reason: str) -> Prediction | None:
    updated = (
        Prediction.objects.filter(pk=prediction_id)
        .exclude(status=Prediction.Status.DONE)
        .update(status=Prediction.Status.FAILED, error=reason[:2000], finished_at=timezone.now())
    )
    return Prediction.objects.filter(pk=prediction_id).first() if updated else None


def prediction_record_feedback(*, prediction: Prediction, true_label: int | None) -> Prediction:
    """The user's answer to "is this right?": the digit it really is (None clears it)."""
    if true_label is not None and not (0 <= int(true_label) <= 9):
        raise ValueError(_("The true label must be a digit from 0 to 9."))
    prediction.true_label = None if true_label is None else int(true_label)
    prediction.feedback_at = timezone.now() if true_label is not None else None
    prediction.save(update_fields=["true_label", "feedback_at"])
    return prediction


def prediction_record_review(*, prediction: Prediction, staff_label: int | None, reviewer) -> Prediction:
    """A staff member's label, kept apart from the user's feedback; it wins where they differ."""
    if staff_label is not None and not (0 <= int(staff_label) <= 9):
        raise ValueError(_("The label must be a digit from 0 to 9."))
    prediction.staff_label = None if staff_label is None else int(staff_label)
    prediction.reviewed_by = reviewer
    prediction.reviewed_at = timezone.now()
    prediction.save(update_fields=["staff_label", "reviewed_by", "reviewed_at"])
    return prediction


def predictions_delete(*, predictions) -> int:
    """Deletes the predictions and, once the deletion is committed, their files."""
    files = []
    count = 0
    with transaction.atomic():
        for prediction in predictions:
            files += [f for f in (prediction.image, prediction.model_input) if f]
            prediction.delete()
            count += 1
        transaction.on_commit(lambda: [f.storage.delete(f.name) for f in files])
    return count


def prediction_delete(*, prediction: Prediction) -> None:
    predictions_delete(predictions=[prediction])


# --- Staff review and the labelled-data export (admin, dashboard, `manage.py export_labelled`) ---


def predictions_record_review(*, predictions, staff_label: int | None, reviewer) -> int:
    """The same staff label on every given prediction; returns how many were labelled."""
    count = 0
    with transaction.atomic():
        for prediction in predictions:
            prediction_record_review(prediction=prediction, staff_label=staff_label, reviewer=reviewer)
            count += 1
    return count


@dataclass(frozen=True)
class ConfirmResult:
    confirmed: int
    skipped: int  # nothing to confirm: no label and no single digit read


def predictions_confirm(*, predictions, reviewer) -> ConfirmResult:
    """Staff agree with the label a row shows: its best known label, else the digit the model read.

    Either way the agreed digit is stored as the staff label, so the row counts as reviewed and later
    user feedback cannot override it.
    """
    confirmed = skipped = 0
    with transaction.atomic():
        for prediction in predictions:
            agreed = prediction.label if prediction.label is not None else prediction.digit
            if agreed is None:
                skipped += 1
                continue
            prediction_record_review(prediction=prediction, staff_label=agreed, reviewer=reviewer)
            confirmed += 1
    return ConfirmResult(confirmed=confirmed, skipped=skipped)


@dataclass(frozen=True)
class DatasetExport:
    exported: int
    skipped: int  # not finished, not labelled, or without a readable 28x28 model input


def labelled_dataset_export(*, predictions, out) -> DatasetExport:
    """Writes the 28x28 model inputs and labels of the given predictions as an npz file to `out`.

    The layout is MNIST's, which `mlcore.data.load_labelled_npz` reads (so `python -m mlcore train --extra
    FILE.npz` can learn from it): x_train uint8 (N, 28, 28), y_train uint8 (N,), plus prediction_ids (N,)
    and model_versions (N,) to trace each image back. The label is the best known one: staff wins.
    `out` is a path or a binary file object.
    """
    import numpy as np

    images, labels, ids, versions = [], [], [], []
    skipped = 0
    for prediction in predictions:
        if prediction.status != Prediction.Status.DONE or prediction.label is None or not prediction.model_input:
            skipped += 1
            continue
        try:
            with prediction.model_input.open("rb") as stored, Image.open(stored) as picture:
                pixels = np.asarray(picture.convert("L"), dtype=np.uint8)
        except (OSError, ValueError):
            logger.warning("Prediction %s: model input unreadable, left out of the export", prediction.pk)
            skipped += 1
            continue
        if pixels.shape != (28, 28):
            skipped += 1
            continue
        images.append(pixels)
        labels.append(prediction.label)
        ids.append(prediction.pk)
        versions.append(prediction.model_version)
    np.savez_compressed(
        out,
        x_train=np.stack(images) if images else np.zeros((0, 28, 28), dtype=np.uint8),
        y_train=np.asarray(labels, dtype=np.uint8),
        prediction_ids=np.asarray(ids, dtype=np.int64),
        model_versions=np.asarray(versions, dtype=str),
    )
    return DatasetExport(exported=len(images), skipped=skipped)
