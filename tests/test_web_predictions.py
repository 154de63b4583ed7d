"""Alice sends pictures through the website, watches the answers, tells whether they are right,
and keeps her history tidy. The real model reads every picture (eager mode: no broker)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from mlcore.inference import read_model_card
from mlcore.paths import DEFAULT_MODEL_PATH
from recognizer.models import Prediction
from tests.drawings import drawing_png
from tests.images import blank_picture, paper_photo
from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db

# Each prediction keeps the version of the model that read it: the committed one in these tests.
COMMITTED_MODEL_VERSION = read_model_card(DEFAULT_MODEL_PATH)["version"]


def photo(digit: int, name: str | None = None, index: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or f"digit-{digit}.jpg", paper_photo(digit, index), content_type="image/jpeg")


def upload(client, capture, *files):
    with capture(execute=True):
        return client.post(reverse("upload"), {"images": list(files)})


def status_of(client, prediction: Prediction) -> dict:
    response = client.get(reverse("prediction_status", args=[prediction.pk]))
    assert response.status_code == 200
    return response.json()


def stored_files(prediction: Prediction) -> list[Path]:
    return [Path(settings.MEDIA_ROOT) / f.name for f in (prediction.image, prediction.model_input) if f]


def test_alice_uploads_a_photo_of_a_seven_and_the_status_json_says_seven(
    alice_client, alice, django_capture_on_commit_callbacks
):
    response = upload(alice_client, django_capture_on_commit_callbacks, photo(7))

    prediction = Prediction.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("prediction_detail", args=[prediction.pk])
    status = status_of(alice_client, prediction)
    assert status["status"] == "done" and status["finished"] is True
    assert status["digit"] == 7
    assert status["confidence"] > 0.5
    assert status["digits"] == "7" and len(status["pieces"]) == 1
    assert len(status["probabilities"]) == 1 and len(status["probabilities"][0]) == 10
    assert max(range(10), key=lambda d: status["probabilities"][0][d]) == 7
    assert status["model_version"] == COMMITTED_MODEL_VERSION
    assert prediction.source == Prediction.Source.UPLOAD


def test_the_result_page_shows_the_digit_bars_pictures_and_version(
    alice_client, alice, django_capture_on_commit_callbacks
):
    upload(alice_client, django_capture_on_commit_callbacks, photo(3, name="my three.jpg"))
    prediction = Prediction.objects.get(user=alice)

    page = alice_client.get(reverse("prediction_detail", args=[prediction.pk])).content.decode()

    assert '<p class="big-number" data-number><span class="number-char">3</span></p>' in page
    assert page.count('<g class="digit-box') == 1
    assert page.count('class="probability-row') == 10
    assert "my three.jpg" in page
    assert reverse("prediction_picture", args=[prediction.pk, "upload"]) in page
    assert reverse("prediction_picture", args=[prediction.pk, "input"]) in page
    assert COMMITTED_MODEL_VERSION in page
    assert "Is this right?" in page


def test_the_original_and_the_28x28_model_input_are_served_to_alice(
    alice_client, alice, django_capture_on_commit_callbacks
):
    upload(alice_client, django_capture_on_commit_callbacks, photo(2))
    prediction = Prediction.objects.get(user=alice)

    original = alice_client.get(reverse("prediction_picture", args=[prediction.pk, "upload"]))
    model_input = alice_client.get(reverse("prediction_picture", args=[prediction.pk, "input"]))
    thumbnail = alice_client.get(reverse("prediction_picture", args=[prediction.pk, "upload"]) + "?size=thumb")

    assert original.status_code == 200 and original["Content-Type"] == "image/jpeg"
    assert b"".join(original.streaming_content) == paper_photo(2)
    assert model_input.status_code == 200 and model_input["Content-Type"] == "image/png"
    assert Image.open(BytesIO(b"".join(model_input.streaming_content))).size == (28, 28)
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/png"


def test_a_picture_is_stored_under_a_generated_name_and_not_under_media_urls(
    alice_client, alice, django_capture_on_commit_callbacks
):
    upload(alice_client, django_capture_on_commit_callbacks, photo(5, name="secret-name.jpg"))
    prediction = Prediction.objects.get(user=alice)

    assert "secret-name" not in prediction.image.name
    assert (Path(settings.MEDIA_ROOT) / prediction.image.name).exists()
    assert alice_client.get("/media/" + prediction.image.name).status_code == 404
    assert alice_client.get("/" + prediction.image.name).status_code == 404


def test_several_pictures_at_once_lead_to_that_uploads_answers_together_and_to_nobody_elses(
    alice_client, alice, bob, django_capture_on_commit_callbacks
):
    earlier = upload(alice_client, django_capture_on_commit_callbacks, photo(7))
    response = upload(alice_client, django_capture_on_commit_callbacks, photo(0), photo(4), photo(9))

    assert response.status_code == 302 and response["Location"].startswith(reverse("predictions_sent"))
    predictions = Prediction.objects.filter(user=alice)
    assert sorted(p.digits for p in predictions) == ["0", "4", "7", "9"]
    page = alice_client.get(response["Location"]).content.decode()
    assert "3 pictures sent" in page
    assert page.count('class="history-item"') == 3  # this upload's, not the picture sent before it
    assert earlier["Location"] not in page
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.get(response["Location"]).status_code == 404  # bob sees none of alice's


def test_a_drawn_seven_is_read_as_seven(alice_client, alice, django_capture_on_commit_callbacks):
    drawing = SimpleUploadedFile("drawing.png", drawing_png(7), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("draw"), {"drawing": drawing}, HTTP_ACCEPT="application/json")

    assert response.status_code == 201
    prediction = Prediction.objects.get(user=alice)
    assert response.json()["url"] == reverse("prediction_detail", args=[prediction.pk])
    assert prediction.source == Prediction.Source.DRAWING
    assert status_of(alice_client, prediction)["digit"] == 7


def test_sending_the_draw_form_without_a_drawing_asks_for_one(alice_client, alice):
    response = alice_client.post(reverse("draw"), {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "Draw a number first."
    assert not Prediction.objects.exists()


def test_a_blank_page_says_no_digit_found(alice_client, alice, django_capture_on_commit_callbacks):
    blank = SimpleUploadedFile("blank.png", blank_picture(), content_type="image/png")
    upload(alice_client, django_capture_on_commit_callbacks, blank)
    prediction = Prediction.objects.get(user=alice)

    status = status_of(alice_client, prediction)
    assert status["status"] == "done" and status["no_digit_found"] is True and status["digit"] is None
    page = alice_client.get(reverse("prediction_detail", args=[prediction.pk])).content.decode()
    assert "No digit found in this picture." in page


def test_a_pending_prediction_shows_the_waiting_state_and_the_page_polls(alice_client, alice):
    # The broker is not asked here (no on-commit callbacks run): the picture waits, as it does for a busy worker.
    alice_client.post(reverse("upload"), {"images": [photo(1)]})
    prediction = Prediction.objects.get(user=alice)

    status = status_of(alice_client, prediction)
    assert status["status"] == "pending" and status["finished"] is False and status["digit"] is None
    page = alice_client.get(reverse("prediction_detail", args=[prediction.pk])).content.decode()
    assert reverse("prediction_status", args=[prediction.pk]) in page
    assert "result.js" in page
    assert alice_client.get(reverse("prediction_picture", args=[prediction.pk, "input"])).status_code == 404


def test_alice_says_the_answer_is_right(alice_client, alice, django_capture_on_commit_callbacks):
    upload(alice_client, django_capture_on_commit_callbacks, photo(6))
    prediction = Prediction.objects.get(user=alice)

    response = alice_client.post(reverse("prediction_feedback", args=[prediction.pk]), {"true_digits": "6"})

    assert response.status_code == 302
    prediction.refresh_from_db()
    assert prediction.true_digits == "6" and prediction.feedback_at is not None and prediction.is_correct is True
    assert status_of(alice_client, prediction)["is_correct"] is True
    assert "Marked as right" in alice_client.get(response["Location"]).content.decode()


def test_alice_corrects_a_wrong_answer_and_it_counts_as_a_misclassification(alice_client, alice):
    prediction = finished_prediction(alice, digits="1")

    alice_client.post(reverse("prediction_correct_digit", args=[prediction.pk]), {"position": "0", "digit": "7"})

    prediction.refresh_from_db()
    assert prediction.true_digits == "7" and prediction.is_correct is False
    page = alice_client.get(reverse("prediction_detail", args=[prediction.pk])).content.decode()
    assert "You said it is 7." in page


def test_feedback_must_be_a_number_and_the_answer_must_be_ready(alice_client, alice):
    done = finished_prediction(alice, digits="1")
    pending = finished_prediction(alice, status=Prediction.Status.PENDING)

    assert alice_client.post(reverse("prediction_feedback", args=[done.pk]), {"true_digits": "1a"}).status_code == 400
    assert alice_client.post(reverse("prediction_feedback", args=[pending.pk]), {"true_digits": "3"}).status_code == 400

    done.refresh_from_db()
    pending.refresh_from_db()
    assert done.true_digits == "" and pending.true_digits == ""
    assert alice_client.get(reverse("prediction_feedback", args=[done.pk])).status_code == 405


def history_ids(client, **params) -> list[int]:
    response = client.get(reverse("history"), params)
    assert response.status_code == 200
    return [prediction.pk for prediction, _ in response.context["rows"]]


def test_history_filters_by_digit_feedback_and_date(alice_client, alice):
    now = timezone.now()
    right_three = finished_prediction(alice, digits="3", true_digits="3", created_at=now - timedelta(days=10))
    wrong_three = finished_prediction(alice, digits="3", true_digits="8", created_at=now - timedelta(days=5))
    unmarked_seven = finished_prediction(alice, digits="7", created_at=now)

    assert history_ids(alice_client) == [unmarked_seven.pk, wrong_three.pk, right_three.pk]
    assert history_ids(alice_client, digit="3") == [wrong_three.pk, right_three.pk]
    assert history_ids(alice_client, feedback="right") == [right_three.pk]
    assert history_ids(alice_client, feedback="wrong") == [wrong_three.pk]
    assert history_ids(alice_client, feedback="none") == [unmarked_seven.pk]
    day = timezone.localdate
    assert history_ids(alice_client, created_from=str(day(now - timedelta(days=6)))) == [
        unmarked_seven.pk,
        wrong_three.pk,
    ]
    assert history_ids(alice_client, created_to=str(day(now - timedelta(days=6)))) == [right_three.pk]
    assert history_ids(
        alice_client,
        created_from=str(day(now - timedelta(days=11))),
        created_to=str(day(now - timedelta(days=4))),
        digit="3",
        feedback="wrong",
    ) == [wrong_three.pk]


def test_history_says_when_filters_are_wrong_and_still_shows_the_rest(alice_client, alice):
    seven = finished_prediction(alice, digits="7")
    response = alice_client.get(reverse("history"), {"created_from": "not-a-date", "digit": "7"})
    assert "Enter a valid date." in response.content.decode()
    assert [p.pk for p, _ in response.context["rows"]] == [seven.pk]

    response = alice_client.get(reverse("history"), {"created_from": "2030-01-02", "created_to": "2030-01-01"})
    assert "The first day must not be after the last day." in response.content.decode()


def test_history_shows_a_summary_and_pages(alice_client, alice):
    finished_prediction(alice, digits="3", true_digits="3")
    finished_prediction(alice, digits="3", true_digits="3")
    finished_prediction(alice, digits="3", true_digits="5")
    for _ in range(23):
        finished_prediction(alice, digits="1")

    first = alice_client.get(reverse("history"))
    page = first.content.decode()
    assert "26 pictures" in page
    assert "2 of 3 you checked were right (67%)" in page
    assert len(first.context["rows"]) == 24 and "Page 1 of 2" in page
    assert len(alice_client.get(reverse("history"), {"page": 2}).context["rows"]) == 2
    assert len(alice_client.get(reverse("history"), {"page": 2, "digit": "3"}).context["rows"]) == 3


def test_deleting_one_prediction_removes_its_row_and_files(alice_client, alice, django_capture_on_commit_callbacks):
    upload(alice_client, django_capture_on_commit_callbacks, photo(8))
    prediction = Prediction.objects.get(user=alice)
    files = stored_files(prediction)
    assert len(files) == 2 and all(f.exists() for f in files)

    assert alice_client.get(reverse("prediction_delete", args=[prediction.pk])).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("prediction_delete", args=[prediction.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("history")
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert not any(f.exists() for f in files)


def test_bulk_delete_removes_the_chosen_rows_and_their_files_and_keeps_the_others(
    alice_client, alice, django_capture_on_commit_callbacks
):
    chosen = [finished_prediction(alice, digits="2"), finished_prediction(alice, digits="4")]
    kept = finished_prediction(alice, digits="6")
    chosen_files = [f for p in chosen for f in stored_files(p)]
    assert chosen_files and all(f.exists() for f in chosen_files)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("predictions_bulk_delete"), {"ids": [p.pk for p in chosen], "next": "/predictions/?digit=2"}
        )

    assert response["Location"] == "/predictions/?digit=2"
    assert list(Prediction.objects.filter(user=alice)) == [kept]
    assert not any(f.exists() for f in chosen_files)
    assert all(f.exists() for f in stored_files(kept))
    assert "2 pictures deleted." in alice_client.get(response["Location"]).content.decode()


def test_bulk_delete_with_nothing_chosen_says_so(alice_client, alice):
    kept = finished_prediction(alice)
    response = alice_client.post(reverse("predictions_bulk_delete"), {}, follow=True)
    assert "Select at least one picture." in response.content.decode()
    assert Prediction.objects.filter(pk=kept.pk).exists()


def test_a_failed_prediction_shows_why_on_its_page_and_in_its_json(alice_client, alice):
    failed = finished_prediction(alice, status=Prediction.Status.FAILED)
    status = status_of(alice_client, failed)
    assert status["status"] == "failed" and status["finished"] is True
    assert status["error"] == "The picture could not be read."
    page = alice_client.get(reverse("prediction_detail", args=[failed.pk])).content.decode()
    assert "This picture could not be read." in page and "The picture could not be read." in page


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_picture_is_kept_pending_and_alice_is_told(client, alice):
    from tests.conftest import celery_broker

    client.force_login(alice)
    with celery_broker("redis://127.0.0.1:1/0"):  # nothing listens there
        response = client.post(reverse("upload"), {"images": [photo(7)]}, follow=True)

    prediction = Prediction.objects.get(user=alice)
    assert prediction.status == Prediction.Status.PENDING
    assert "the queue cannot be reached right now" in response.content.decode()
    assert status_of(client, prediction)["finished"] is False
