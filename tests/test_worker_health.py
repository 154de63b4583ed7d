"""Health says whether a worker is consuming: each worker beats in the broker's Redis (recognizer/worker_watch.py)."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from tests.conftest import TEST_BROKER_URL, _redis_available, celery_broker, require_services

pytestmark = pytest.mark.integration

HEALTH = "/api/v1/health/"


def test_health_says_a_worker_is_consuming_while_one_is(celery_worker_process, transactional_db):
    deadline = time.monotonic() + 30  # the worker beats as soon as it is ready
    while (response := APIClient().get(HEALTH)).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)

    assert response.status_code == 200, response.json()
    assert response.json()["workers"] == {"ok": True, "count": 1}


def test_health_is_503_with_the_reason_when_no_worker_consumes(db):
    if not _redis_available(TEST_BROKER_URL):
        require_services(f"no Redis at {TEST_BROKER_URL}")
    # The broker is up, but no worker uses these keys.
    with celery_broker(TEST_BROKER_URL, key_prefix=f"digitsite-test-no-worker-{time.monotonic_ns()}:"):
        response = APIClient().get(HEALTH)

    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == {"ok": True, "mode": "broker"}
    assert body["workers"]["ok"] is False and body["workers"]["count"] == 0
    assert body["workers"]["reason"].startswith("No worker has reported in the last")
