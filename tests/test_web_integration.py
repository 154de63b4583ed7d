"""The whole pipeline through the website: a real Redis, a real Celery worker process, the real model.

The page's status JSON is polled the way the result page's script does it, until the worker answers.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recognizer.models import Prediction
from tests.drawings import drawing_png
from tests.images import paper_photo

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ANSWER_WITHIN_SECONDS = 90  # the worker loads TensorFlow and the model before its first answer


def wait_for_answer(client, prediction_id: int) -> dict:
    url = reverse("prediction_status", args=[prediction_id])
    deadline = time.monotonic() + ANSWER_WITHIN_SECONDS
    seen = []
    while time.monotonic() < deadline:
        status = client.get(url).json()
        seen.append(status["status"])
        if status["finished"]:
            return status
        time.sleep(0.5)
    pytest.fail(f"no answer from the worker within {ANSWER_WITHIN_SECONDS} s; statuses seen: {sorted(set(seen))}")


def test_an_uploaded_photo_is_read_by_the_worker_and_the_status_json_shows_the_digit(
    celery_worker_process, client, alice
):
    client.force_login(alice)
    photo = SimpleUploadedFile("four.jpg", paper_photo(4), content_type="image/jpeg")

    response = client.post(reverse("upload"), {"images": [photo]})

    assert response.status_code == 302
    prediction = Prediction.objects.get(user=alice)
    assert response["Location"] == reverse("prediction_detail", args=[prediction.pk])
    status = wait_for_answer(client, prediction.pk)
    assert status["status"] == "done", status["error"]
    assert status["digit"] == 4
    assert status["model_input_url"]
    assert client.get(status["model_input_url"]).status_code == 200


def test_several_uploads_and_a_drawing_are_all_answered_by_the_worker(celery_worker_process, client, alice):
    client.force_login(alice)
    photos = [SimpleUploadedFile(f"{d}.jpg", paper_photo(d), content_type="image/jpeg") for d in (2, 9)]
    client.post(reverse("upload"), {"images": photos})
    drawing = SimpleUploadedFile("drawing.png", drawing_png(7), content_type="image/png")
    drawn = client.post(reverse("draw"), {"drawing": drawing}).json()

    answers = {p.original_name: wait_for_answer(client, p.pk)["digit"] for p in Prediction.objects.filter(user=alice)}

    assert answers == {"2.jpg": 2, "9.jpg": 9, "drawing.png": 7}
    assert Prediction.objects.get(pk=drawn["id"]).source == Prediction.Source.DRAWING
