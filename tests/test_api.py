"""The REST API under /api/v1/: each endpoint, each error status, and who may see what.

Real database, real picture bytes; the model runs for real where a test needs an answer
(eager mode: on commit, in this process).
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recognizer import services
from recognizer.models import Prediction
from tests.conftest import database_url_of_the_tests
from tests.images import number_photo, paper_photo
from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db

API = "/api/v1"
CLOSED_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: a broker that is down


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counts live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anonymous():
    return APIClient()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def alice_api(alice):
    return token_client(alice)


@pytest.fixture
def bob_api(bob):
    return token_client(bob)


def picture_file(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def photo(digit: int, name: str | None = None, **options) -> io.BytesIO:
    return picture_file(paper_photo(digit, **options), name or f"{digit}.jpg")


def upload(client, field: str = "image", files=None, query: str = ""):
    return client.post(f"{API}/predictions/{query}", {field: files}, format="multipart")


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"] and isinstance(body["detail"], str)
    if code is not None:
        assert body["code"] == code, body
    return body


def stored_uploads() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "uploads"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


@pytest.fixture
def nothing_saved():
    """Asserts afterwards that a refused request left no row and no file behind."""
    files_before = set(stored_uploads())
    yield
    assert Prediction.objects.count() == 0
    assert set(stored_uploads()) == files_before


# --- Token and authentication ---


def test_a_user_gets_a_token_for_the_right_password_and_it_opens_the_api(anonymous, alice, password):
    response = anonymous.post(f"{API}/auth/token/", {"username": "alice", "password": password}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=alice).key
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anonymous.get(f"{API}/predictions/").status_code == 200


def test_a_wrong_password_gets_400_with_a_message_and_no_token(anonymous, alice):
    response = anonymous.post(f"{API}/auth/token/", {"username": "alice", "password": "guess"}, format="json")

    body = assert_error(response, 400)
    assert "Unable to log in" in body["detail"]
    assert not Token.objects.exists()


def test_no_token_gets_401_not_403(anonymous):
    body = assert_error(anonymous.get(f"{API}/predictions/"), 401, "not_authenticated")
    assert body["detail"] == "Authentication credentials were not provided."


def test_a_bad_token_gets_401(anonymous, alice):
    anonymous.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = anonymous.get(f"{API}/predictions/")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"


def test_the_sites_session_works_for_the_api_too(alice_client, alice):
    finished_prediction(alice, digits="3")
    response = alice_client.get(f"{API}/predictions/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


# --- Uploading ---


def test_one_photo_is_accepted_with_202_as_a_pending_prediction_with_its_urls(alice_api, alice):
    response = upload(alice_api, "image", photo(7, "seven.jpg"))

    assert response.status_code == 202
    [created] = response.json()["predictions"]
    prediction = Prediction.objects.get(user=alice)
    assert created["id"] == prediction.pk
    assert created["status"] == "pending"
    assert created["original_name"] == "seven.jpg"
    assert created["digit"] is None and created["model_input_url"] is None
    assert created["url"] == f"http://testserver{API}/predictions/{prediction.pk}/"
    assert alice_api.get(created["url"]).json()["id"] == prediction.pk
    picture = alice_api.get(created["image_url"])
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/jpeg"
    assert b"".join(picture.streaming_content) == paper_photo(7)


def test_several_photos_in_images_make_one_prediction_each(alice_api, alice):
    response = upload(alice_api, "images", [photo(1), photo(2, image_format="PNG", name="2.png"), photo(3)])

    assert response.status_code == 202
    names = [p["original_name"] for p in response.json()["predictions"]]
    assert names == ["1.jpg", "2.png", "3.jpg"]
    assert Prediction.objects.filter(user=alice, status="pending").count() == 3


@pytest.mark.django_db(transaction=True)
def test_wait_answers_201_with_the_digit_read(alice_api, alice):
    # Eager mode: the model runs when the upload is committed, so the answer is there within the wait.
    response = upload(alice_api, "image", photo(7), query="?wait=10")

    assert response.status_code == 201
    [read] = response.json()["predictions"]
    assert read["status"] == "done"
    assert read["digit"] == 7
    assert read["digits"] == "7"
    [probabilities] = read["probabilities"]
    assert len(probabilities) == 10 and max(range(10), key=probabilities.__getitem__) == 7
    assert read["confidences"] == [pytest.approx(max(probabilities))]
    assert read["confidence"] == pytest.approx(read["confidences"][0])
    assert (read["image_width"], read["image_height"]) == (400, 400)
    [box] = read["boxes"]
    assert 0 <= box[0] < box[2] <= 400 and 0 <= box[1] < box[3] <= 400
    assert read["model_version"] == services.active_classifier().version
    assert read["finished_at"] is not None
    model_input = alice_api.get(read["model_input_url"])
    assert model_input["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(model_input.streaming_content))).size == (28, 28)


@pytest.mark.django_db(transaction=True)
def test_a_photo_of_a_number_is_read_digit_by_digit(alice_api, alice):
    response = upload(alice_api, "image", picture_file(number_photo("4067"), "meter.jpg"), query="?wait=10")

    assert response.status_code == 201
    [read] = response.json()["predictions"]
    assert read["digits"] == "4067"
    assert read["digit"] is None  # several digits: `digits` holds them
    assert len(read["confidences"]) == len(read["probabilities"]) == len(read["boxes"]) == 4
    assert read["confidence"] == pytest.approx(math.prod(read["confidences"]))
    assert all(max(range(10), key=p.__getitem__) == int(d) for p, d in zip(read["probabilities"], "4067", strict=True))
    assert (read["image_width"], read["image_height"]) == (900, 400)
    lefts = [box[0] for box in read["boxes"]]
    assert lefts == sorted(lefts) and all(box[2] <= 900 and box[3] <= 400 for box in read["boxes"])
    strip = alice_api.get(read["model_input_url"])
    assert Image.open(io.BytesIO(b"".join(strip.streaming_content))).size == (4 * 28, 28)


@pytest.mark.parametrize("wait", ["0", "31", "-1", "2.5", "soon"])
def test_a_wait_outside_1_to_30_seconds_is_refused_before_anything_is_saved(alice_api, wait, nothing_saved):
    body = assert_error(upload(alice_api, "image", photo(7), query=f"?wait={wait}"), 400)
    assert body["detail"].startswith("wait: ")
    assert "wait" in body["errors"]


def test_a_text_file_gets_415_naming_the_file(alice_api, nothing_saved):
    body = assert_error(
        upload(alice_api, "image", picture_file(b"my shopping list\n", "notes.txt")), 415, "not_an_image"
    )
    assert "notes.txt" in body["detail"]


def test_a_cut_short_jpeg_gets_415(alice_api, nothing_saved):
    data = paper_photo(5)
    assert_error(upload(alice_api, "image", picture_file(data[: len(data) // 2], "half.jpg")), 415, "corrupt_image")


def test_an_empty_file_gets_400(alice_api, nothing_saved):
    assert_error(upload(alice_api, "image", picture_file(b"", "empty.png")), 400, "empty_file")


def test_one_bad_file_among_good_ones_refuses_them_all(alice_api, nothing_saved):
    files = [photo(1), picture_file(b"%PDF-1.4 not a picture", "scan.pdf"), photo(2)]
    assert_error(upload(alice_api, "images", files), 415, "not_an_image")


@override_settings(UPLOAD_MAX_BYTES=20_000)
def test_a_file_above_the_size_limit_gets_413(alice_api, nothing_saved):
    big = paper_photo(8, size=800, image_format="PNG")
    assert len(big) > 20_000
    body = assert_error(upload(alice_api, "image", picture_file(big, "big.png")), 413, "too_large")
    assert "big.png" in body["detail"]


@override_settings(UPLOAD_MAX_PIXELS=100_000)
def test_a_picture_with_too_many_pixels_gets_413(alice_api, nothing_saved):
    assert_error(upload(alice_api, "image", photo(8, size=400)), 413, "too_many_pixels")


@override_settings(UPLOAD_MAX_FILES=2)
def test_more_files_than_allowed_get_400(alice_api, nothing_saved):
    assert_error(upload(alice_api, "images", [photo(1), photo(2), photo(3)]), 400, "too_many_files")


def test_a_post_without_a_file_gets_400(alice_api, nothing_saved):
    assert_error(alice_api.post(f"{API}/predictions/", {}, format="multipart"), 400, "no_file")


def test_uploading_needs_a_token(anonymous, nothing_saved):
    assert_error(upload(anonymous, "image", photo(7)), 401)


@pytest.fixture
def broker_down():
    """The Celery app pointed at a port where no broker listens, out of eager mode; restored after."""
    from digitsite.celery import app

    def forget_connections():
        # The pools hold connections to the old URL; dropping them makes the next publish use the new one.
        app._pool = None
        app.amqp._producer_pool = None

    previous = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url=CLOSED_BROKER_URL, task_always_eager=False)
    forget_connections()
    yield
    app.conf.update(**previous)
    forget_connections()


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_upload_gets_503_is_kept_pending_and_is_read_once_requeued(
    alice_api, alice, broker_down
):
    response = upload(alice_api, "image", photo(3), query="?wait=5")

    body = assert_error(response, 503, "broker_unavailable")
    assert "as soon as it is back" in body["detail"]
    prediction = Prediction.objects.get(user=alice)
    assert [p["id"] for p in body["predictions"]] == [prediction.pk]
    assert prediction.status == "pending"
    assert prediction.image.storage.exists(prediction.image.name)

    # The broker is back (here: eager mode, the task runs in this process); `manage.py requeue_pending` does this.
    from digitsite.celery import app

    app.conf.update(broker_url="", task_always_eager=True)
    assert services.predictions_requeue_pending() == 1
    prediction.refresh_from_db()
    assert prediction.status == "done"
    assert prediction.digit == 3


# --- Listing ---


def test_the_list_holds_only_the_callers_predictions_newest_first(alice_api, alice, bob):
    now = timezone.now()
    older = finished_prediction(alice, digits="1", created_at=now - timezone.timedelta(hours=2))
    newer = finished_prediction(alice, digits="2", created_at=now - timezone.timedelta(hours=1))
    finished_prediction(bob, digits="3", created_at=now)

    body = alice_api.get(f"{API}/predictions/").json()

    assert body["count"] == 2
    assert [p["id"] for p in body["results"]] == [newer.pk, older.pk]


def test_the_list_comes_in_pages(alice_api, alice):
    for digit in range(5):
        finished_prediction(alice, digits=str(digit))

    first = alice_api.get(f"{API}/predictions/?page_size=2").json()
    last = alice_api.get(f"{API}/predictions/?page_size=2&page=3").json()

    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["next"].endswith("page=2&page_size=2")
    assert len(last["results"]) == 1 and last["next"] is None


@override_settings(API_MAX_PAGE_SIZE=3)
def test_a_page_size_above_the_limit_is_cut_to_the_limit(alice_api, alice):
    for digit in range(5):
        finished_prediction(alice, digits=str(digit))

    assert len(alice_api.get(f"{API}/predictions/?page_size=1000").json()["results"]) == 3


def test_a_page_past_the_end_gets_404(alice_api, alice):
    finished_prediction(alice)
    assert_error(alice_api.get(f"{API}/predictions/?page=9"), 404, "not_found")


def test_the_list_filters_by_digit_status_feedback_and_day(alice_api, alice):
    today = timezone.now()
    last_week = today - timezone.timedelta(days=7)
    seven_right = finished_prediction(alice, digits="7", true_digits="7")
    seven_wrong = finished_prediction(alice, digits="7", true_digits="1")
    four_unmarked = finished_prediction(alice, digits="4", created_at=last_week)
    failed = finished_prediction(alice, status=Prediction.Status.FAILED)

    def ids(query: str) -> set[int]:
        response = alice_api.get(f"{API}/predictions/?{query}")
        assert response.status_code == 200, response.content
        return {p["id"] for p in response.json()["results"]}

    assert ids("digit=7") == {seven_right.pk, seven_wrong.pk}
    assert ids("status=failed") == {failed.pk}
    assert ids("feedback=right") == {seven_right.pk}
    assert ids("feedback=wrong") == {seven_wrong.pk}
    assert ids("feedback=none") == {four_unmarked.pk, failed.pk}
    day = f"{last_week.date():%Y-%m-%d}"
    assert ids(f"created_before={day}") == {four_unmarked.pk}
    assert ids(f"created_after={today.date():%Y-%m-%d}") == {seven_right.pk, seven_wrong.pk, failed.pk}
    assert ids(f"created_after={day}&created_before={day}&digit=4") == {four_unmarked.pk}


def test_the_list_finds_numbers_containing_the_one_asked_or_exactly_it(alice_api, alice):
    meter = finished_prediction(alice, digits="4667", true_digits="4667")
    short = finished_prediction(alice, digits="46")
    flagged = finished_prediction(alice, digits="4?67")
    seven = finished_prediction(alice, digits="7", true_digits="1")

    def ids(query: str) -> set[int]:
        response = alice_api.get(f"{API}/predictions/?{query}")
        assert response.status_code == 200, response.content
        return {p["id"] for p in response.json()["results"]}

    assert ids("number=46") == {meter.pk, short.pk}
    assert ids("number=46&number_exact=true") == {short.pk}
    assert ids("number=67") == {meter.pk, flagged.pk}
    assert ids("number=4%3F67") == {flagged.pk}  # ? stands for the flagged piece
    assert ids("number=7&feedback=right") == {meter.pk}  # a whole number marked right
    assert ids("number=7&feedback=wrong") == {seven.pk}
    assert ids("digit=7") == {seven.pk}  # exactly one digit


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("digit=10", "digit"),
        ("digit=seven", "digit"),
        ("number=46a", "number"),
        ("number=" + "1" * 65, "number"),
        ("number=46&number_exact=maybe", "number_exact"),
        ("status=lost", "status"),
        ("feedback=maybe", "feedback"),
        ("created_after=yesterday", "created_after"),
        ("created_after=2026-02-02&created_before=2026-02-01", "created_before"),
    ],
)
def test_a_bad_filter_value_gets_400_naming_the_field(alice_api, query, field):
    body = assert_error(alice_api.get(f"{API}/predictions/?{query}"), 400)
    assert field in body["errors"]
    assert body["detail"].startswith(f"{field}: ")


# --- One prediction ---


def test_a_finished_prediction_shows_everything_the_model_said(alice_api, alice):
    prediction = finished_prediction(alice, digits="4", confidence=0.91, model_version="1.0.0", true_digits="4")

    body = alice_api.get(f"{API}/predictions/{prediction.pk}/").json()

    assert body["status"] == "done"
    assert body["digit"] == 4 and body["digits"] == "4"
    assert body["confidence"] == pytest.approx(0.91) and body["confidences"] == [pytest.approx(0.91)]
    [probabilities] = body["probabilities"]
    assert len(probabilities) == 10 and probabilities[4] == pytest.approx(0.91)
    assert body["boxes"] == prediction.boxes and len(body["boxes"]) == 1
    assert (body["image_width"], body["image_height"]) == (200, 200)
    assert body["model_version"] == "1.0.0"
    assert body["true_digits"] == "4" and body["true_label"] == 4
    assert body["created_at"] and body["finished_at"]
    assert body["error"] == ""
    assert body["image_url"].endswith(f"/predictions/{prediction.pk}/image/")
    assert body["model_input_url"].endswith(f"/predictions/{prediction.pk}/model-input/")


def test_a_failed_prediction_says_why(alice_api, alice):
    prediction = finished_prediction(alice, status=Prediction.Status.FAILED)
    Prediction.objects.filter(pk=prediction.pk).update(error="The picture holds no readable image data.")

    body = alice_api.get(f"{API}/predictions/{prediction.pk}/").json()

    assert body["status"] == "failed"
    assert body["digit"] is None
    assert body["error"] == "The picture holds no readable image data."


def test_pictures_are_sent_whatever_the_browser_accepts(alice_api, alice):
    prediction = finished_prediction(alice)
    response = alice_api.get(f"{API}/predictions/{prediction.pk}/model-input/", HTTP_ACCEPT="image/avif,image/webp,*/*")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


@pytest.mark.parametrize("prediction_id", ["999999", "0", "abc", "99999999999999999999999"])
def test_an_absent_or_malformed_id_gets_json_404(alice_api, prediction_id):
    assert_error(alice_api.get(f"{API}/predictions/{prediction_id}/"), 404, "not_found")


# --- Feedback and deletion ---


def test_alice_tells_which_digit_it_really_is_and_can_take_it_back(alice_api, alice):
    prediction = finished_prediction(alice, digits="1")
    url = f"{API}/predictions/{prediction.pk}/"

    response = alice_api.patch(url, {"true_label": 7}, format="json")

    assert response.status_code == 200
    assert (response.json()["true_label"], response.json()["true_digits"]) == (7, "7")
    prediction.refresh_from_db()
    assert prediction.true_digits == "7" and prediction.feedback_at is not None
    assert alice_api.get(f"{API}/predictions/?feedback=wrong").json()["count"] == 1

    assert alice_api.patch(url, {"true_label": None}, format="json").json()["true_label"] is None
    prediction.refresh_from_db()
    assert prediction.true_digits == "" and prediction.feedback_at is None


def test_alice_tells_which_number_it_really_is_and_can_take_it_back(alice_api, alice):
    prediction = finished_prediction(alice, digits="4661")
    url = f"{API}/predictions/{prediction.pk}/"

    response = alice_api.patch(url, {"true_digits": "4667"}, format="json")

    assert response.status_code == 200
    assert (response.json()["true_digits"], response.json()["true_label"]) == ("4667", None)
    assert alice_api.get(f"{API}/predictions/?feedback=wrong").json()["count"] == 1
    assert alice_api.patch(url, {"true_digits": "4661", "true_label": None}, format="json").status_code == 400
    assert alice_api.patch(url, {"true_digits": "4661"}, format="json").json()["true_digits"] == "4661"
    assert alice_api.get(f"{API}/predictions/?feedback=right").json()["count"] == 1

    assert alice_api.patch(url, {"true_digits": None}, format="json").json()["true_digits"] == ""
    prediction.refresh_from_db()
    assert prediction.true_digits == "" and prediction.feedback_at is None


def test_true_digits_and_true_label_given_together_must_agree(alice_api, alice):
    prediction = finished_prediction(alice, digits="1")
    url = f"{API}/predictions/{prediction.pk}/"

    error = assert_error(alice_api.patch(url, {"true_digits": "7", "true_label": 1}, format="json"), 400, "disagree")

    assert "true_digits" in error["errors"]
    assert alice_api.patch(url, {"true_digits": "7", "true_label": 7}, format="json").json()["true_digits"] == "7"


@pytest.mark.parametrize(
    "body",
    [
        {"true_label": 10},
        {"true_label": -1},
        {"true_label": "seven"},
        {"true_label": 2.5},
        {"true_digits": "46a7"},
        {"true_digits": "4 667"},
        {"true_digits": ""},
        {"true_digits": "4?67"},
        {"true_digits": "1" * 65},
        {},
    ],
)
def test_feedback_that_is_not_a_number_gets_400_and_changes_nothing(alice_api, alice, body):
    prediction = finished_prediction(alice, digits="1", true_digits="1")

    error = assert_error(alice_api.patch(f"{API}/predictions/{prediction.pk}/", body, format="json"), 400)

    assert set(error["errors"]) <= {"true_label", "true_digits"} and error["errors"]
    prediction.refresh_from_db()
    assert prediction.true_digits == "1"


def test_feedback_waits_for_the_answer(alice_api, alice):
    upload(alice_api, "image", photo(7))
    prediction = Prediction.objects.get(user=alice)

    body = assert_error(alice_api.patch(f"{API}/predictions/{prediction.pk}/", {"true_label": 7}, format="json"), 400)

    assert body["code"] == "not_done"
    prediction.refresh_from_db()
    assert prediction.true_digits == ""


def test_deleting_removes_the_prediction_and_its_files(alice_api, alice, django_capture_on_commit_callbacks):
    prediction = finished_prediction(alice)
    files = [Path(settings.MEDIA_ROOT) / f.name for f in (prediction.image, prediction.model_input)]
    assert all(f.exists() for f in files)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(f"{API}/predictions/{prediction.pk}/")

    assert response.status_code == 204
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert not any(f.exists() for f in files)
    assert_error(alice_api.get(f"{API}/predictions/{prediction.pk}/"), 404)


def test_put_is_not_offered(alice_api, alice):
    prediction = finished_prediction(alice)
    assert_error(alice_api.put(f"{API}/predictions/{prediction.pk}/", {"true_label": 1}, format="json"), 405)


# --- Isolation: bob never sees or touches alice's predictions, and learns nothing from trying ---


@pytest.fixture
def alices_prediction(alice) -> Prediction:
    return finished_prediction(alice, digits="4")


@pytest.mark.parametrize("suffix", ["", "image/", "model-input/"])
def test_bob_gets_the_same_404_for_alices_prediction_as_for_an_absent_one(bob_api, alices_prediction, suffix):
    alices = bob_api.get(f"{API}/predictions/{alices_prediction.pk}/{suffix}")
    absent = bob_api.get(f"{API}/predictions/{alices_prediction.pk + 1000}/{suffix}")

    assert_error(alices, 404, "not_found")
    assert alices.json() == absent.json()


def test_bob_cannot_give_feedback_on_alices_prediction(bob_api, alices_prediction):
    response = bob_api.patch(f"{API}/predictions/{alices_prediction.pk}/", {"true_label": 9}, format="json")

    assert_error(response, 404, "not_found")
    alices_prediction.refresh_from_db()
    assert alices_prediction.true_digits == ""


def test_bob_cannot_delete_alices_prediction(bob_api, alices_prediction, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_api.delete(f"{API}/predictions/{alices_prediction.pk}/")

    assert_error(response, 404, "not_found")
    assert Prediction.objects.filter(pk=alices_prediction.pk).exists()
    assert alices_prediction.image.storage.exists(alices_prediction.image.name)


def test_bobs_list_and_filters_never_show_alices_predictions(bob_api, alices_prediction):
    assert bob_api.get(f"{API}/predictions/").json()["count"] == 0
    assert bob_api.get(f"{API}/predictions/?digit=4").json()["count"] == 0


# --- The model, health, throttling ---


def test_the_model_card_shows_version_training_date_and_accuracies(anonymous):
    card = json.loads(Path(services.active_model_path()).with_suffix(".json").read_text())

    body = anonymous.get(f"{API}/model/").json()

    assert body["version"] == card["version"]
    assert body["trained_at"] == card["trained_at"]
    assert body["test_accuracy"] == card["test_accuracy"]
    assert sorted(body["per_class_accuracy"]) == [str(d) for d in range(10)]


def test_without_a_model_file_the_model_card_is_503(anonymous, tmp_path):
    with override_settings(DIGIT_MODEL_PATH=str(tmp_path / "missing.keras")):
        assert_error(anonymous.get(f"{API}/model/"), 503, "model_unavailable")


@pytest.mark.django_db(transaction=True)  # the other process reads the active model version in the test database
def test_the_model_card_does_not_load_tensorflow_into_the_web_process():
    script = (
        "import sys, django; django.setup();"
        "from django.test import Client;"
        f"response = Client().get('{API}/model/');"
        "assert response.status_code == 200, response.content;"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "digitsite.settings", "DATABASE_URL": database_url_of_the_tests()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "False"


def test_health_is_200_when_database_broker_and_model_are_fine(anonymous):
    response = anonymous.get(f"{API}/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"] == {"ok": True}
    assert body["broker"]["ok"] is True
    card = json.loads(Path(services.active_model_path()).with_suffix(".json").read_text())
    assert body["model"] == {"ok": True, "version": card["version"]}


def test_health_is_503_when_the_broker_is_down(anonymous, broker_down):
    response = anonymous.get(f"{API}/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert body["broker"] == {"ok": False, "mode": "broker"}
    assert body["database"]["ok"] is True


def test_health_is_503_when_the_database_is_down():
    # A web process whose database does not answer (nothing listens on port 1): the health check must
    # still answer, quickly and in JSON, instead of failing with a 500.
    script = (
        "import json, django; django.setup();"
        "from django.test import Client;"
        f"response = Client().get('{API}/health/');"
        "print(response.status_code, json.dumps(response.json()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "digitsite.settings",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:1/digitsite",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] == {"ok": False}
    assert json.loads(body)["ok"] is False


def test_health_is_503_without_a_model_file(anonymous, tmp_path):
    with override_settings(DIGIT_MODEL_PATH=str(tmp_path / "missing.keras")):
        response = anonymous.get(f"{API}/health/")
    assert response.status_code == 503
    assert response.json()["model"] == {"ok": False, "version": None}


def rates(**rates: str) -> dict:
    return {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_a_user_over_the_rate_gets_429_with_retry_after(alice_api, bob_api):
    with override_settings(REST_FRAMEWORK=rates(user="2/minute")):
        assert alice_api.get(f"{API}/predictions/").status_code == 200
        assert alice_api.get(f"{API}/predictions/").status_code == 200
        throttled = alice_api.get(f"{API}/predictions/")
        assert bob_api.get(f"{API}/predictions/").status_code == 200  # the rate is per user

    assert_error(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0


def test_an_anonymous_client_over_the_rate_gets_429(anonymous, alice, password):
    credentials = {"username": "alice", "password": password}
    with override_settings(REST_FRAMEWORK=rates(anon="1/minute")):
        assert anonymous.post(f"{API}/auth/token/", credentials, format="json").status_code == 200
        throttled = anonymous.post(f"{API}/auth/token/", credentials, format="json")
    assert_error(throttled, 429, "throttled")


def test_health_is_never_throttled(anonymous):
    with override_settings(REST_FRAMEWORK=rates(anon="1/minute")):
        statuses = {anonymous.get(f"{API}/health/").status_code for _ in range(3)}
    assert statuses == {200}


# --- Schema and docs ---


def test_the_openapi_schema_lists_every_endpoint(anonymous):
    response = anonymous.get(f"{API}/schema/?format=json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # against the OpenAPI 3 JSON schema; raises on any error
    assert set(schema["paths"]) == {
        f"{API}/auth/token/",
        f"{API}/predictions/",
        f"{API}/predictions/{{id}}/",
        f"{API}/predictions/{{id}}/image/",
        f"{API}/predictions/{{id}}/model-input/",
        f"{API}/model/",
        f"{API}/health/",
    }
    upload_body = schema["paths"][f"{API}/predictions/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload_body["schema"]["$ref"].endswith("/UploadRequest")
    assert schema["components"]["schemas"]["UploadRequest"]["properties"]["image"]["format"] == "binary"
    responses = schema["paths"][f"{API}/predictions/"]["post"]["responses"]
    assert set(responses) >= {"201", "202", "400", "401", "413", "415", "429", "503"}
    # Numbers: per-digit lists, and feedback as the whole number.
    prediction = schema["components"]["schemas"]["Prediction"]["properties"]
    assert prediction["probabilities"]["items"]["type"] == "array"
    assert prediction["probabilities"]["items"]["minItems"] == 10
    assert {"digits", "confidences", "boxes", "image_width", "image_height", "true_digits"} <= set(prediction)
    feedback = schema["paths"][f"{API}/predictions/{{id}}/"]["patch"]["requestBody"]["content"]["application/json"]
    assert set(feedback["schema"]["properties"]) == {"true_digits", "true_label"}
    list_parameters = {p["name"] for p in schema["paths"][f"{API}/predictions/"]["get"]["parameters"]}
    assert {"number", "number_exact", "digit"} <= list_parameters


def test_the_interactive_docs_load_their_assets_from_this_site(anonymous):
    response = anonymous.get(f"{API}/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "jsdelivr" not in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
