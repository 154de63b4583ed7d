"""A script's whole session with the API, through a real HTTP server, a real Redis and a real Celery worker."""

from __future__ import annotations

import time

import pytest
import requests

from recognizer.models import Prediction
from tests.images import number_photo, paper_photo

pytestmark = pytest.mark.integration

WORKER_START_SECONDS = 120


def warm_up(session: requests.Session, api: str) -> None:
    """Waits until the worker has answered a first picture, then deletes it.

    The worker says "ready" before its process has loaded TensorFlow and the model, which takes longer
    than the 10 seconds the test then waits on a busy machine; after that an answer takes milliseconds.
    """
    first = session.post(f"{api}/predictions/", files={"image": ("one.jpg", paper_photo(1), "image/jpeg")}, timeout=30)
    url = first.json()["predictions"][0]["url"]
    deadline = time.monotonic() + WORKER_START_SECONDS
    while session.get(url, timeout=10).json()["status"] in ("pending", "processing"):
        assert time.monotonic() < deadline, f"the worker did not answer within {WORKER_START_SECONDS} s"
        time.sleep(0.5)
    assert session.delete(url, timeout=10).status_code == 204


def test_a_script_gets_its_digit_in_one_call_then_lists_marks_and_deletes(
    celery_worker_process, live_server, alice, password
):
    api = f"{live_server.url}/api/v1"
    session = requests.Session()

    token = session.post(f"{api}/auth/token/", json={"username": "alice", "password": password}, timeout=10)
    assert token.status_code == 200, token.text
    session.headers["Authorization"] = f"Token {token.json()['token']}"

    warm_up(session, api)
    sent = session.post(
        f"{api}/predictions/?wait=10", files={"image": ("four.jpg", paper_photo(4), "image/jpeg")}, timeout=30
    )

    assert sent.status_code == 201, sent.text
    [read] = sent.json()["predictions"]
    assert read["status"] == "done"
    assert read["digit"] == 4
    assert session.get(read["model_input_url"], timeout=10).headers["Content-Type"] == "image/png"

    listed = session.get(f"{api}/predictions/", timeout=10).json()
    assert [p["id"] for p in listed["results"]] == [read["id"]]

    marked = session.patch(read["url"], json={"true_label": 4}, timeout=10)
    assert marked.status_code == 200
    assert marked.json()["true_label"] == 4 and marked.json()["true_digits"] == "4"
    assert session.get(f"{api}/predictions/?feedback=right", timeout=10).json()["count"] == 1

    stored = Prediction.objects.get(pk=read["id"])
    assert session.delete(read["url"], timeout=10).status_code == 204
    assert session.get(read["url"], timeout=10).status_code == 404
    assert not stored.image.storage.exists(stored.image.name)
    assert not stored.model_input.storage.exists(stored.model_input.name)


def test_a_photo_of_a_number_is_read_by_the_worker_digit_by_digit_and_corrected(
    celery_worker_process, live_server, alice, password
):
    api = f"{live_server.url}/api/v1"
    session = requests.Session()
    token = session.post(f"{api}/auth/token/", json={"username": "alice", "password": password}, timeout=10)
    session.headers["Authorization"] = f"Token {token.json()['token']}"
    warm_up(session, api)

    sent = session.post(
        f"{api}/predictions/?wait=10",
        files={"image": ("meter.jpg", number_photo("2580", size=(900, 400)), "image/jpeg")},
        timeout=30,
    )

    assert sent.status_code == 201, sent.text
    [read] = sent.json()["predictions"]
    assert read["digits"] == "2580" and read["digit"] is None
    assert len(read["boxes"]) == len(read["confidences"]) == len(read["probabilities"]) == 4
    assert (read["image_width"], read["image_height"]) == (900, 400)
    lefts = [box[0] for box in read["boxes"]]
    assert lefts == sorted(lefts)
    stored = Prediction.objects.get(pk=read["id"])
    assert stored.model_version and stored.model_input.name  # written by the worker process

    marked = session.patch(read["url"], json={"true_digits": "2586"}, timeout=10)
    assert marked.status_code == 200 and marked.json()["true_digits"] == "2586"
    assert session.get(f"{api}/predictions/?number=258&feedback=wrong", timeout=10).json()["count"] == 1
