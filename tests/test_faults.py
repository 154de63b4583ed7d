"""Faults, recovered without a person: a worker killed with -9 mid-batch, Redis stopped, the database refusing.

Real processes on 127.0.0.1 only: Celery workers (with their heartbeat and recovery sweep), a redis-server of
the test's own (never the shared one), and a TCP proxy in front of the shared PostgreSQL that the test closes
and opens again (the server itself is never touched). The web side is this process, through the API.

The recovery bounds are shortened for the tests (the sweep every 2 s; processing stalled after 15 s, so the
task time limit is 10 s), and the database outage lasts seconds: what they show does not depend on the
production values, only the waiting does. Each test prints how long recovery took (`pytest -s`); README
"Faults and recovery" has the figures.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recognizer.models import Prediction
from tests.conftest import (
    TEST_BROKER_KEY_PREFIX,
    TEST_BROKER_URL,
    _redis_available,
    celery_broker,
    require_services,
)
from tests.images import paper_photo
from tests.processes import (
    RedisServer,
    TcpProxy,
    database_url,
    start_worker,
    stop,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECOVERY_DEADLINE_SECONDS = 120  # the bound: every upload done (or failed with a reason) within 2 minutes
REDIS_OUTAGE_SECONDS = 20  # the outage, kept whole: the worker must ride it out and reconnect
DATABASE_OUTAGE_SECONDS = 10  # longer than the retries these tests allow (2 + 4 s), so the sweep is needed

FAST_RECOVERY = {
    "WORKER_HEARTBEAT_SECONDS": "1",
    "WORKER_HEARTBEAT_TTL": "3",
    "SWEEP_INTERVAL_SECONDS": "2",
    "SWEEP_PENDING_AFTER_SECONDS": "10",
    "SWEEP_PROCESSING_AFTER_SECONDS": "15",
    "CELERY_TASK_SOFT_TIME_LIMIT": "8",
    "CELERY_TASK_TIME_LIMIT": "10",
    "CELERY_VISIBILITY_TIMEOUT": "30",
}


@pytest.fixture
def postgres(django_db_setup):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        require_services("the workers share the test database: set DATABASE_URL to PostgreSQL (make test does)")


@pytest.fixture
def key_prefix():
    # Keys of this test's own: the session's shared worker (conftest) never takes these tasks.
    return f"{TEST_BROKER_KEY_PREFIX}faults-{time.monotonic_ns()}:"


def worker_env(*, broker_url: str, key_prefix: str, media_root, database: str | None = None, **extra) -> dict:
    return {
        "DATABASE_URL": database or database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BROKER_KEY_PREFIX": key_prefix,
        "MEDIA_ROOT": str(media_root),
        **FAST_RECOVERY,
        **extra,
    }


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def send(client: APIClient, digits: list[int]):
    pictures = [SimpleUploadedFile(f"{digit}.jpg", paper_photo(digit), content_type="image/jpeg") for digit in digits]
    return client.post("/api/v1/predictions/", {"images": pictures}, format="multipart")


def wait_until_finished(ids: list[int], *, deadline_seconds: float = RECOVERY_DEADLINE_SECONDS) -> float:
    """Seconds until every prediction is done or failed; fails the test past the deadline."""
    started = time.monotonic()
    while True:
        unfinished = Prediction.objects.filter(pk__in=ids).exclude(status__in=["done", "failed"]).count()
        if not unfinished:
            return time.monotonic() - started
        if time.monotonic() - started > deadline_seconds:
            statuses = dict(Prediction.objects.filter(pk__in=ids).values_list("pk", "status"))
            pytest.fail(f"{unfinished} prediction(s) unfinished after {deadline_seconds} s: {statuses}")
        time.sleep(0.5)


def warm_up(client: APIClient) -> None:
    """One picture through the worker, so that its model is loaded before the fault."""
    response = send(client, [1])
    assert response.status_code in (201, 202), response.content
    wait_until_finished([response.json()["predictions"][0]["id"]])


def test_a_worker_killed_with_minus_9_mid_batch_loses_nothing_and_every_upload_ends_done(
    postgres, alice, key_prefix, private_media_root, tmp_path
):
    if not _redis_available(TEST_BROKER_URL):
        require_services(f"no Redis at {TEST_BROKER_URL}")
    env = worker_env(broker_url=TEST_BROKER_URL, key_prefix=key_prefix, media_root=private_media_root)
    client = api_for(alice)
    with celery_broker(TEST_BROKER_URL, key_prefix=key_prefix):
        first = start_worker(env=env, log=tmp_path / "worker-1.log", concurrency=2)
        second = None
        try:
            warm_up(client)
            ids = []
            for _ in range(3):  # 60 pictures queued in three uploads
                response = send(client, [d % 10 for d in range(20)])
                assert response.status_code == 202, response.content
                ids += [p["id"] for p in response.json()["predictions"]]
            while Prediction.objects.filter(pk__in=ids, status="done").count() < 3:
                time.sleep(0.05)
            os.killpg(first.pid, signal.SIGKILL)  # the main process and its children, mid-batch
            first.wait(timeout=10)
            killed_at = time.monotonic()
            in_flight = Prediction.objects.filter(pk__in=ids).exclude(status="done").count()
            assert in_flight > 0, "the batch finished before the kill: nothing was in flight"

            with override_settings(WORKER_HEARTBEAT_TTL=3):  # health: no worker consumes now
                deadline = time.monotonic() + 30
                while (health := client.get("/api/v1/health/")).status_code != 503 and time.monotonic() < deadline:
                    time.sleep(0.5)
            assert health.json()["workers"]["ok"] is False

            second = start_worker(env=env, log=tmp_path / "worker-2.log", concurrency=2)  # as a supervisor would
            wait_until_finished(ids, deadline_seconds=RECOVERY_DEADLINE_SECONDS - (time.monotonic() - killed_at))
            recovered = time.monotonic() - killed_at
        finally:
            stop(first)
            if second is not None:
                stop(second)

    assert Prediction.objects.filter(pk__in=ids, status="done").count() == len(ids) == 60
    print(f"\nworker killed -9 with {in_flight} of 60 unfinished: all done {recovered:.1f} s after the kill")


def test_uploads_while_redis_is_down_get_503_stay_pending_and_end_done_once_it_is_back(
    postgres, alice, key_prefix, private_media_root, tmp_path
):
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    env = worker_env(broker_url=redis_server.url, key_prefix=key_prefix, media_root=private_media_root)
    client = api_for(alice)
    worker = None
    try:
        with celery_broker(redis_server.url, key_prefix=key_prefix):
            worker = start_worker(env=env, log=tmp_path / "worker.log")
            warm_up(client)

            redis_server.stop()
            stopped_at = time.monotonic()
            refused = [send(client, [digit]) for digit in (3, 5, 7)]
            health = client.get("/api/v1/health/")
            time.sleep(max(0.0, REDIS_OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
            ids = [response.json()["predictions"][0]["id"] for response in refused]
            assert set(Prediction.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"pending"}

            redis_server.start()  # empty: nothing was kept on disk
            back_at = time.monotonic()
            wait_until_finished(ids)
            recovered = time.monotonic() - back_at
    finally:
        if worker is not None:
            stop(worker)
        redis_server.stop()

    assert [response.status_code for response in refused] == [503, 503, 503]
    assert {response.json()["code"] for response in refused} == {"broker_unavailable"}
    assert health.status_code == 503 and health.json()["broker"]["ok"] is False
    read = dict(Prediction.objects.filter(pk__in=ids).values_list("pk", "digits"))
    assert Prediction.objects.filter(pk__in=ids, status="done").count() == 3
    assert [read[pk] for pk in ids] == ["3", "5", "7"]
    print(
        f"\nRedis down {REDIS_OUTAGE_SECONDS} s: the 3 uploads sent meanwhile done {recovered:.1f} s after its return"
    )


def test_predictions_while_the_database_refuses_end_done_once_it_is_back(
    postgres, alice, key_prefix, private_media_root, tmp_path
):
    if not _redis_available(TEST_BROKER_URL):
        require_services(f"no Redis at {TEST_BROKER_URL}")
    database = settings.DATABASES["default"]
    proxy = TcpProxy(int(database["PORT"] or 5432))
    proxy.accept()
    log = tmp_path / "worker.log"
    # Two retries (2 + 4 s) run out during the outage: the rows are then left to the sweep, as after a long one.
    env = worker_env(
        broker_url=TEST_BROKER_URL,
        key_prefix=key_prefix,
        media_root=private_media_root,
        database=database_url(port=proxy.port),
        PREDICTION_MAX_RETRIES="2",
    )
    client = api_for(alice)
    worker = None
    try:
        with celery_broker(TEST_BROKER_URL, key_prefix=key_prefix):
            worker = start_worker(env=env, log=log)
            warm_up(client)

            proxy.refuse()  # the worker's database connections are cut and new ones refused
            refused_at = time.monotonic()
            response = send(client, [2, 4, 6, 8])  # the web side still reaches the database
            assert response.status_code == 202, response.content
            ids = [p["id"] for p in response.json()["predictions"]]
            time.sleep(max(0.0, DATABASE_OUTAGE_SECONDS - (time.monotonic() - refused_at)))
            assert Prediction.objects.filter(pk__in=ids, status="done").count() == 0

            proxy.accept()
            back_at = time.monotonic()
            wait_until_finished(ids)
            recovered = time.monotonic() - back_at
    finally:
        if worker is not None:
            stop(worker)
        proxy.refuse()

    assert "left to the recovery sweep" in log.read_text(), "the retries ran out while the database refused"
    rows = Prediction.objects.filter(pk__in=ids).order_by("pk")
    assert [(row.status, row.digits) for row in rows] == [("done", "2"), ("done", "4"), ("done", "6"), ("done", "8")]
    print(f"\ndatabase refused {DATABASE_OUTAGE_SECONDS} s: 4 predictions done {recovered:.1f} s after it came back")
