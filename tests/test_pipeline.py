"""The prediction pipeline's promises: idempotent tasks, failures with reasons, nothing lost when the broker is down."""

import io
import math

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from mlcore.inference import read_model_card
from mlcore.paths import DEFAULT_MODEL_PATH
from recognizer import services
from recognizer.models import Prediction
from recognizer.tasks import retry_countdown, run_prediction
from tests.conftest import celery_broker
from tests.images import blank_picture, number_photo, paper_photo
from tests.prediction_rows import stored_model_input

pytestmark = pytest.mark.django_db

# Each prediction keeps the version of the model that read it: the committed one in these tests.
COMMITTED_MODEL_VERSION = read_model_card(DEFAULT_MODEL_PATH)["version"]


def upload(data: bytes, name: str = "digit.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_an_upload_is_read_once_and_a_redelivered_task_changes_nothing(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        prediction = services.prediction_create(user=alice, upload=upload(paper_photo(4)))
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE and prediction.digit == 4
    assert prediction.model_version == COMMITTED_MODEL_VERSION and prediction.model_input.name
    finished_at, attempts = prediction.finished_at, prediction.attempts

    run_prediction.apply(args=[prediction.pk])  # the same message delivered again
    prediction.refresh_from_db()
    assert (prediction.finished_at, prediction.attempts) == (finished_at, attempts)


def test_a_number_is_stored_digit_by_digit_with_a_model_input_strip(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        prediction = services.prediction_create(user=alice, upload=upload(number_photo("3905"), "meter.jpg"))
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE
    assert prediction.digits == "3905" and prediction.digit is None
    assert len(prediction.boxes) == len(prediction.confidences) == len(prediction.probabilities) == 4
    assert all(len(row) == 10 for row in prediction.probabilities)
    assert prediction.confidence == pytest.approx(math.prod(prediction.confidences))
    assert (prediction.image_width, prediction.image_height) == (900, 400)
    lefts = [box[0] for box in prediction.boxes]
    assert lefts == sorted(lefts)
    strip = stored_model_input(prediction)
    assert strip.shape == (28, 4 * 28)
    assert all(strip[:, 28 * i : 28 * (i + 1)].max() > 128 for i in range(4))  # a digit's ink in every square


def test_the_picture_size_is_the_upright_one_when_the_photo_was_taken_on_its_side(
    alice, django_capture_on_commit_callbacks
):
    # A phone held sideways stores the pixels turned and says so in EXIF (orientation 6: turn 90° clockwise).
    upright = Image.open(io.BytesIO(number_photo("27", size=(300, 600))))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, format="JPEG", exif=exif, quality=90)
    with django_capture_on_commit_callbacks(execute=True):
        prediction = services.prediction_create(user=alice, upload=upload(buffer.getvalue(), "sideways.jpg"))
    prediction.refresh_from_db()
    assert (prediction.image_width, prediction.image_height) == (300, 600)
    assert prediction.digits == "27"
    assert all(0 <= left < right <= 300 and 0 <= top < bottom <= 600 for left, top, right, bottom in prediction.boxes)


def test_a_blank_page_is_done_with_no_digit_found(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        prediction = services.prediction_create(user=alice, upload=upload(blank_picture(), "blank.png"))
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE
    assert prediction.digits == "" and prediction.digit is None and prediction.confidence is None
    assert (prediction.boxes, prediction.probabilities, prediction.confidences) == ([], [], [])
    assert not prediction.model_input


def test_a_stored_file_that_no_longer_decodes_fails_with_its_reason(alice):
    prediction = Prediction.objects.create(user=alice, created_at=timezone.now())
    data = paper_photo(2)
    prediction.image.save("broken.jpg", ContentFile(data[: len(data) // 2]))  # cut off on disk
    run_prediction.apply(args=[prediction.pk])
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.FAILED
    assert "damaged or truncated" in prediction.error


def test_a_task_for_a_deleted_prediction_does_nothing(alice, django_capture_on_commit_callbacks):
    prediction = services.prediction_create(user=alice, upload=upload(paper_photo(1)))  # queued only on commit
    pk = prediction.pk
    services.prediction_delete(prediction=prediction)
    assert run_prediction.apply(args=[pk]).successful()
    assert not Prediction.objects.filter(pk=pk).exists()


def test_with_the_broker_down_an_upload_stays_pending_and_is_picked_up_again(alice, django_capture_on_commit_callbacks):
    nowhere = "redis://127.0.0.1:1/0"  # nothing listens there
    with celery_broker(nowhere), django_capture_on_commit_callbacks(execute=True):
        prediction = services.prediction_create(user=alice, upload=upload(paper_photo(9)))
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.PENDING and prediction.image.storage.exists(prediction.image.name)

    assert services.predictions_requeue_pending() == 1  # the broker is back (eager here)
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE and prediction.digit == 9


def test_a_file_store_fault_is_retried_then_the_prediction_fails_with_the_reason(alice):
    prediction = Prediction.objects.create(user=alice, created_at=timezone.now())
    prediction.image.save("gone.jpg", ContentFile(paper_photo(6)))
    prediction.image.storage.delete(prediction.image.name)  # the file store lost it: an OSError each time
    run_prediction.apply(args=[prediction.pk])
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.FAILED
    retries = settings.PREDICTION_MAX_RETRIES
    assert prediction.attempts == 1 + retries  # the first try and every retry read the file again
    assert prediction.error.startswith(f"Gave up after {retries} retries")
    assert str(prediction.image.storage.location) not in prediction.error  # no server paths shown to the user


def test_retries_outlast_a_database_outage_of_two_minutes():
    waits = [retry_countdown(retry) for retry in range(settings.PREDICTION_MAX_RETRIES)]
    assert waits[:3] == [2, 4, 8]  # a blip costs seconds
    assert sum(waits) >= 120


# --- The recovery sweep (services.predictions_requeue_pending, run by the workers' watch) ---


def stored_prediction(user, *, digit: int, **fields) -> Prediction:
    prediction = Prediction(user=user, created_at=timezone.now() - timezone.timedelta(hours=1), **fields)
    prediction.image.save(f"{digit}.jpg", ContentFile(paper_photo(digit)), save=False)
    prediction.save()
    return prediction


def sweep() -> int:
    return services.predictions_requeue_pending(
        older_than_seconds=300, processing_older_than_seconds=120, max_attempts=settings.PREDICTION_MAX_ATTEMPTS
    )


def test_the_sweep_reads_a_prediction_left_processing_by_a_worker_that_died(alice):
    long_ago = timezone.now() - timezone.timedelta(seconds=600)
    stalled = stored_prediction(alice, digit=7, status=Prediction.Status.PROCESSING, attempts=1, started_at=long_ago)

    assert sweep() == 1  # eager here: the worker's task runs at once
    stalled.refresh_from_db()
    assert stalled.status == Prediction.Status.DONE and stalled.digit == 7


def test_the_sweep_leaves_alone_a_prediction_a_worker_is_reading_now(alice):
    reading = stored_prediction(
        alice, digit=3, status=Prediction.Status.PROCESSING, attempts=1, started_at=timezone.now()
    )
    queued = stored_prediction(alice, digit=5, queued_at=timezone.now())  # waiting its turn in the queue

    assert sweep() == 0
    reading.refresh_from_db()
    queued.refresh_from_db()
    assert reading.status == Prediction.Status.PROCESSING and queued.status == Prediction.Status.PENDING


def test_the_sweep_queues_at_once_a_prediction_that_could_not_be_queued(alice, django_capture_on_commit_callbacks):
    with celery_broker("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):
        prediction = services.prediction_create(user=alice, upload=upload(paper_photo(8)))
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.PENDING and prediction.queued_at is None

    assert sweep() == 1  # although it is only seconds old
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE and prediction.digit == 8


def test_a_picture_that_keeps_killing_its_worker_is_failed_with_the_reason(alice):
    long_ago = timezone.now() - timezone.timedelta(seconds=600)
    attempts = settings.PREDICTION_MAX_ATTEMPTS
    poison = stored_prediction(
        alice, digit=1, status=Prediction.Status.PROCESSING, attempts=attempts, started_at=long_ago
    )

    assert sweep() == 0
    poison.refresh_from_db()
    assert poison.status == Prediction.Status.FAILED
    assert poison.error == f"The worker stopped while reading this picture, {attempts} times: it was given up."
