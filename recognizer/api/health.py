"""What GET /api/v1/health/ reports: can we reach the database and the broker, is a worker consuming, and
is there a model.

Public, so the answers say only ok or not (and, for the workers, how many and a short reason); the details
go to the log.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

from recognizer import services, worker_watch

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: database unreachable")
        return {"ok": False}
    return {"ok": True}


def broker_health() -> dict:
    """The Celery app's broker, as it is configured now. Eager mode (no broker) is fine: tasks run in-process."""
    from digitsite.celery import app

    if app.conf.task_always_eager:
        return {"ok": True, "mode": "eager"}
    url = app.conf.broker_url or ""
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            with app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # any transport's connection error: the answer is simply "unreachable"
        logger.warning("Health check: broker unreachable", exc_info=True)
        return {"ok": False, "mode": "broker"}
    return {"ok": True, "mode": "broker"}


def worker_health() -> dict:
    """Whether a prediction worker is consuming: one has beaten within WORKER_HEARTBEAT_TTL seconds
    (recognizer/worker_watch.py). Eager mode needs none; another broker than Redis cannot be asked."""
    from digitsite.celery import app

    if app.conf.task_always_eager:
        return {"ok": True, "mode": "eager"}
    client = worker_watch.broker_redis(app)
    if client is None:
        return {"ok": True, "mode": "unknown"}
    try:
        alive = worker_watch.workers_alive(client=client, app=app)
    except Exception:  # the broker's own check says why
        logger.warning("Health check: cannot read the workers' heartbeats", exc_info=True)
        return {"ok": False, "count": 0, "reason": "The broker cannot be reached."}
    finally:
        client.close()
    if not alive:
        return {
            "ok": False,
            "count": 0,
            "reason": f"No worker has reported in the last {settings.WORKER_HEARTBEAT_TTL} seconds.",
        }
    return {"ok": True, "count": len(alive)}


def model_health() -> dict:
    from mlcore.inference import read_model_card  # no TensorFlow: the card is a JSON file beside the model

    try:
        path = Path(services.active_model_path())
    except DatabaseError:  # which version is active is recorded in the database; the database check says why
        return {"ok": False, "version": None}
    if not path.is_file():
        return {"ok": False, "version": None}
    return {"ok": True, "version": read_model_card(path).get("version")}


def system_health() -> dict:
    checks = {
        "database": database_health(),
        "broker": broker_health(),
        "workers": worker_health(),
        "model": model_health(),
    }
    return {"ok": all(check["ok"] for check in checks.values()), **checks}
