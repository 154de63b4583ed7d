"""Waiting for an answer: the worker says when a prediction is finished, and waits are bounded per process.

Through a real HTTP server, a real Redis and a real Celery worker (and PostgreSQL shared with it).
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.db import connection
from django.test import override_settings

from recognizer import finish_notices, selectors
from recognizer.models import Prediction
from tests.conftest import TEST_BROKER_URL, celery_broker
from tests.images import paper_photo
from tests.test_api_integration import warm_up

pytestmark = pytest.mark.integration


@pytest.fixture
def api_session(celery_worker_process, live_server, alice, password):
    api = f"{live_server.url}/api/v1"
    session = requests.Session()
    token = session.post(f"{api}/auth/token/", json={"username": "alice", "password": password}, timeout=10)
    session.headers["Authorization"] = f"Token {token.json()['token']}"
    warm_up(session, api)
    return session, api


def wait_until_read(session: requests.Session, url: str) -> dict:
    deadline = time.monotonic() + 60
    while (prediction := session.get(url, timeout=10).json())["status"] in ("pending", "processing"):
        assert time.monotonic() < deadline, "the worker did not read the picture"
        time.sleep(0.2)
    return prediction


# No fallback read within the wait: only the worker's notice can end it before its 10 s are up.
@override_settings(API_WAIT_FALLBACK_SECONDS=60)
def test_a_waited_upload_comes_back_done_as_soon_as_the_worker_says_so(api_session):
    session, api = api_session

    sent = session.post(
        f"{api}/predictions/?wait=10", files={"image": ("seven.jpg", paper_photo(7), "image/jpeg")}, timeout=30
    )

    assert sent.status_code == 201, sent.text
    [read] = sent.json()["predictions"]
    assert read["status"] == "done" and read["digit"] == 7


@override_settings(API_WAIT_FALLBACK_SECONDS=60)
def test_the_result_page_is_told_when_its_answer_is_ready(api_session, client, alice):
    session, api = api_session
    sent = session.post(f"{api}/predictions/", files={"image": ("two.jpg", paper_photo(2), "image/jpeg")}, timeout=30)
    [pending] = sent.json()["predictions"]
    client.force_login(alice)
    page = requests.Session()
    page.cookies["sessionid"] = client.cookies["sessionid"].value
    status_url = api.removesuffix("/api/v1") + f"/predictions/{pending['id']}/status.json"

    status = page.get(f"{status_url}?wait=15", timeout=30)

    assert status.status_code == 200
    assert status.json()["finished"] is True
    assert status.json()["digits"] == "2"


@override_settings(API_WAITS_PER_PROCESS=1)
def test_over_the_bound_of_waits_an_upload_is_answered_at_once_and_read_later(api_session):
    session, api = api_session
    two_pictures = [
        ("images", ("three.jpg", paper_photo(3), "image/jpeg")),
        ("images", ("five.jpg", paper_photo(5), "image/jpeg")),
    ]

    # Another request of this server process holds the only wait there is.
    with finish_notices.wait_slots().hold() as held:
        assert held
        sent = session.post(f"{api}/predictions/?wait=10", files=two_pictures, timeout=30)

    assert sent.status_code == 202, sent.text
    assert sent.json()["code"] == "wait_busy"
    assert "did not wait" in sent.json()["detail"]
    predictions = sent.json()["predictions"]
    assert [p["status"] for p in predictions] != ["done", "done"]
    assert [wait_until_read(session, p["url"])["digit"] for p in predictions] == [3, 5]


@pytest.mark.django_db(transaction=True)
@override_settings(API_WAIT_FALLBACK_SECONDS=0.2)
def test_an_answer_whose_notice_was_lost_is_still_found_before_the_wait_is_up(alice):
    prediction = Prediction.objects.create(user=alice, image="uploads/lost.png", created_at="2026-11-27T10:00Z")

    def answer_without_notice():
        time.sleep(0.5)
        Prediction.objects.filter(pk=prediction.pk).update(status=Prediction.Status.DONE, digits="4")
        connection.close()

    with celery_broker(TEST_BROKER_URL):
        answering = threading.Thread(target=answer_without_notice)
        answering.start()
        waited = selectors.predictions_wait_finished(prediction_ids=[prediction.pk], timeout_seconds=10)
        answering.join()

    assert [p.digits for p in waited.predictions] == ["4"]
    assert not waited.busy
