"""Predictions from upload to answer: checking and saving uploads, queueing them, reading the number in
the worker, failures, deletion."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from mlcore.preprocessing import ImageError, inspect_upload
from recognizer import finish_notices
from recognizer.models import Prediction
from recognizer.services.model_versions import active_classifier
from recognizer.services.stored_files import stored_files_delete

logger = logging.getLogger(__name__)


class UploadRejected(Exception):
    """An upload refused before anything was saved. `code` maps to an HTTP status in the API."""

    def __init__(self, message: str, *, code: str, file_name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.file_name = file_name
        # Where the file was in the submission (0 first), and every file of it refused (this one first),
        # so a page can mark each bad file and keep the good ones chosen.
        self.file_index: int | None = None
        self.refused_files: list[UploadRejected] = [self]


# A stored upload's extension comes from the format its bytes were read as, never from the name it was sent
# with: a GIF sent as evil.html is stored as .gif (should media/ ever be served directly, it stays a picture).
STORED_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "GIF": ".gif"}


@dataclass(frozen=True)
class CheckedUpload:
    name: str  # as sent: shown to its owner, never used on disk
    data: bytes
    image_format: str

    @property
    def stored_name(self) -> str:
        """What the file is saved as (models.upload_path keeps only the extension, under a random name)."""
        return "upload" + STORED_EXTENSIONS[self.image_format]


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
        # The header only (format, pixels, memory once decoded): pictures are decoded by the workers.
        image_format = inspect_upload(
            data, max_pixels=settings.UPLOAD_MAX_PIXELS, max_decoded_bytes=settings.UPLOAD_MAX_DECODED_BYTES
        )
    except ImageError as error:
        raise UploadRejected(f"{name}: {error}", code=error.code, file_name=name) from None
    return CheckedUpload(name=name, data=data, image_format=image_format)


def uploads_check(*, uploads: list[UploadedFile]) -> list[CheckedUpload]:
    if not uploads:
        raise UploadRejected(_("Choose at least one picture."), code="no_file")
    if len(uploads) > settings.UPLOAD_MAX_FILES:
        raise UploadRejected(
            _("At most %(limit)d pictures at once; you sent %(count)d.")
            % {"limit": settings.UPLOAD_MAX_FILES, "count": len(uploads)},
            code="too_many_files",
        )
    checked, refused = [], []
    for index, upload in enumerate(uploads):
        try:
            checked.append(upload_check(upload=upload))
        except UploadRejected as rejected:
            rejected.file_index = index
            refused.append(rejected)
    if refused:
        refused[0].refused_files = refused
        raise refused[0]
    return checked


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
                now = timezone.now()
                # Counted as queued from the start (queueing follows the commit); a failure clears it.
                prediction = Prediction(
                    user=user, source=source, original_name=upload.name[:255], created_at=now, queued_at=now
                )
                prediction.image.save(upload.stored_name, ContentFile(upload.data), save=False)
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
    transaction commits (the queueing waits for the commit). A prediction that could not be queued is
    marked so (no `queued_at`): the recovery sweep queues it as soon as the broker is back.
    """
    prediction.queued = prediction_enqueue(prediction=prediction)
    if not prediction.queued:
        try:
            Prediction.objects.filter(pk=prediction.pk, status=Prediction.Status.PENDING).update(queued_at=None)
        except DatabaseError:  # then the sweep finds it later, SWEEP_PENDING_AFTER_SECONDS after its creation
            logger.warning("Could not mark prediction %s as not queued", prediction.pk, exc_info=True)


def predictions_requeue_pending(
    *,
    older_than_seconds: int = 0,
    processing_older_than_seconds: int | None = None,
    max_attempts: int | None = None,
) -> int:
    """Queues again the predictions that no worker will read unless queued again. Returns how many it queued.

    - Pending and never queued (the broker was down when they were saved): always.
    - Pending, queued at least `older_than_seconds` ago (their message was lost, e.g. Redis restarted
      without persistence; with 0, every pending prediction).
    - With `processing_older_than_seconds`: started longer ago than any task may run, so the worker reading
      them died (kill -9, a lost machine). They are queued again, unless they were started `max_attempts`
      times already: those are failed, so that a picture that kills its worker cannot do it forever.

    Queueing twice does no harm: a prediction already finished is skipped by the worker. The recovery sweep
    (recognizer/worker_watch.py) and `manage.py requeue_pending` both call this.
    """
    now = timezone.now()
    if processing_older_than_seconds is not None:
        stalled = (
            Prediction.objects.filter(status=Prediction.Status.PROCESSING)
            .annotate(since=Coalesce("started_at", "created_at"))
            .filter(since__lte=now - timezone.timedelta(seconds=processing_older_than_seconds))
            .only("pk", "attempts", "started_at")
        )
        for prediction in stalled:
            if max_attempts is not None and prediction.attempts >= max_attempts:
                prediction_mark_failed(
                    prediction_id=prediction.pk,
                    reason=_("The worker stopped while reading this picture, %(count)d times: it was given up.")
                    % {"count": prediction.attempts},
                )
                continue
            # Back to pending and not queued; unless a worker has started it again in the meantime.
            Prediction.objects.filter(
                pk=prediction.pk, status=Prediction.Status.PROCESSING, started_at=prediction.started_at
            ).update(status=Prediction.Status.PENDING, queued_at=None)
    waiting = Prediction.objects.filter(status=Prediction.Status.PENDING).filter(
        Q(queued_at__isnull=True) | Q(queued_at__lte=now - timezone.timedelta(seconds=older_than_seconds))
    )
    queued = 0
    for prediction in waiting.order_by("created_at").only("pk"):
        if not prediction_enqueue(prediction=prediction):
            break  # the broker is down: the next sweep tries again
        Prediction.objects.filter(pk=prediction.pk, status=Prediction.Status.PENDING).update(queued_at=timezone.now())
        queued += 1
    return queued


def _png_bytes(pixels) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, format="PNG")
    return buffer.getvalue()


def model_input_strip(reading) -> bytes | None:
    """The digits' 28x28 model inputs side by side, left to right, as one PNG 28 high; None with no digit."""
    import numpy as np

    if not reading.readings:
        return None
    return _png_bytes(np.hstack([np.asarray(piece.model_input, dtype=np.uint8) for piece in reading.readings]))


def prediction_run(*, prediction_id: int, classifier=None) -> Prediction | None:
    """Reads the number in a stored upload and saves the answer, digit by digit. Safe to call twice.

    A prediction already finished (or deleted) is left alone, so a redelivered task does no harm.
    A picture that cannot be read marks the prediction failed with the reason; other errors
    propagate so that the task can retry them.
    """
    prediction = Prediction.objects.filter(pk=prediction_id).first()
    if prediction is None or prediction.is_finished:
        return prediction
    started = {
        "status": Prediction.Status.PROCESSING,
        "attempts": prediction.attempts + 1,
        "started_at": timezone.now(),
    }
    Prediction.objects.filter(pk=prediction.pk).update(**started)
    for field, value in started.items():
        setattr(prediction, field, value)
    with prediction.image.open("rb") as stored:
        data = stored.read()
    classifier = classifier or active_classifier()
    try:
        reading = classifier.read_upload(
            data, max_pixels=settings.UPLOAD_MAX_PIXELS, max_decoded_bytes=settings.UPLOAD_MAX_DECODED_BYTES
        )
    except ImageError as error:
        return prediction_mark_failed(prediction_id=prediction.pk, reason=str(error))
    strip = model_input_strip(reading)
    if strip is not None:
        prediction.model_input.save("input.png", ContentFile(strip), save=False)
    width, height = reading.picture_size or (None, None)
    answer = {
        "status": Prediction.Status.DONE,
        "digits": reading.digits,
        "confidence": reading.confidence,
        "confidences": [float(c) for c in reading.confidences],
        "probabilities": [[float(p) for p in row] for row in reading.probabilities],
        "boxes": [[int(v) for v in box] for box in reading.boxes],
        "image_width": width,
        "image_height": height,
        "model_version": classifier.version,
        "preprocess_ms": round(reading.preprocess_ms, 2),
        "inference_ms": round(reading.inference_ms, 2),
        "finished_at": timezone.now(),
        "error": "",
        "model_input": prediction.model_input.name or "",
    }
    # One UPDATE of the answer's columns (not a re-read, then a save of every column): a row deleted while its
    # picture was read stays deleted (save() would insert it again), and nothing else of the row is overwritten.
    if not Prediction.objects.filter(pk=prediction.pk).update(**answer):
        if prediction.model_input:
            prediction.model_input.delete(save=False)
        return None
    for field, value in answer.items():
        setattr(prediction, field, value)
    finish_notices.prediction_finished_publish(prediction_id=prediction.pk)
    return prediction


def prediction_mark_failed(*, prediction_id: int, reason: str) -> Prediction | None:
    updated = (
        Prediction.objects.filter(pk=prediction_id)
        .exclude(status=Prediction.Status.DONE)
        .update(status=Prediction.Status.FAILED, error=reason[:2000], finished_at=timezone.now())
    )
    if not updated:
        return None
    finish_notices.prediction_finished_publish(prediction_id=prediction_id)
    return Prediction.objects.filter(pk=prediction_id).first()


def predictions_delete(*, predictions) -> int:
    """Deletes the predictions and, once the deletion is committed, their files."""
    files = []
    count = 0
    with transaction.atomic():
        for prediction in predictions:
            files += [f for f in (prediction.image, prediction.model_input) if f]
            prediction.delete()
            count += 1
        transaction.on_commit(lambda: stored_files_delete(files=[(f.storage, f.name) for f in files]))
    return count


def prediction_delete(*, prediction: Prediction) -> None:
    predictions_delete(predictions=[prediction])
