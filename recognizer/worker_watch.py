"""Each prediction worker's watch: a heartbeat in the broker's Redis, and the recovery sweep.

A thread in the worker's main process (started on `worker_ready`, see tasks.py) beats every
WORKER_HEARTBEAT_SECONDS: it writes the time in a sorted set, one entry per worker, which health reads to
say whether any worker is consuming (an entry older than WORKER_HEARTBEAT_TTL belongs to a dead worker).
Every SWEEP_INTERVAL_SECONDS one worker at a time (whoever takes the turn, a key with that expiry) runs the
sweep, services.predictions_requeue_pending: predictions never queued (the broker was down), queued long ago
and still pending (Redis lost the message), or processing for longer than any task may run (their worker
died) are queued again. So nothing waits for a person after a fault. Cheap: a few Redis commands and, once
per interval among all workers, two indexed queries.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

HEARTBEATS_KEY = "digitsite:worker-heartbeats"
SWEEP_TURN_KEY = "digitsite:sweep-turn"
REDIS_TIMEOUT_SECONDS = 2
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def broker_redis(app):
    """A Redis client on the Celery app's broker, or None when the broker is not Redis (or eager mode)."""
    import redis

    url = app.conf.broker_url or ""
    if app.conf.task_always_eager or not url.startswith(REDIS_SCHEMES):
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)


def _key(app, name: str) -> str:
    # The same prefix as the broker's own keys, so installations (or test runs) sharing a Redis stay apart.
    return (app.conf.broker_transport_options or {}).get("global_keyprefix", "") + name


def heartbeat(*, client, app, worker_name: str) -> None:
    now = time.time()
    key = _key(app, HEARTBEATS_KEY)
    pipe = client.pipeline()
    pipe.zadd(key, {worker_name: now})
    pipe.zremrangebyscore(key, 0, now - 10 * settings.WORKER_HEARTBEAT_TTL)  # long-dead workers
    pipe.expire(key, 10 * settings.WORKER_HEARTBEAT_TTL)
    pipe.execute()


def workers_alive(*, client, app) -> list[str]:
    """The workers that beat within WORKER_HEARTBEAT_TTL. Raises redis errors (the caller says unreachable)."""
    since = time.time() - settings.WORKER_HEARTBEAT_TTL
    return [name.decode() for name in client.zrangebyscore(_key(app, HEARTBEATS_KEY), since, "+inf")]


def forget(*, client, app, worker_name: str) -> None:
    client.zrem(_key(app, HEARTBEATS_KEY), worker_name)


def take_sweep_turn(*, client, app, worker_name: str) -> bool:
    return bool(client.set(_key(app, SWEEP_TURN_KEY), worker_name, nx=True, ex=settings.SWEEP_INTERVAL_SECONDS))


def sweep() -> int:
    from recognizer.services import predictions_requeue_pending
    from recognizer.services.model_versions import training_jobs_fail_stale

    try:
        # A training job whose worker was killed is marked failed (the active model never stopped serving).
        training_jobs_fail_stale()
        return predictions_requeue_pending(
            older_than_seconds=settings.SWEEP_PENDING_AFTER_SECONDS,
            processing_older_than_seconds=settings.SWEEP_PROCESSING_AFTER_SECONDS,
            max_attempts=settings.PREDICTION_MAX_ATTEMPTS,
        )
    finally:
        connection.close()  # this thread's own connection; the next sweep is a while away


class WorkerWatch(threading.Thread):
    def __init__(self, *, app, worker_name: str) -> None:
        super().__init__(name="worker-watch", daemon=True)
        self.app = app
        self.worker_name = worker_name
        self.stopping = threading.Event()

    def run(self) -> None:
        client = broker_redis(self.app)
        if client is None:
            return
        tick = max(1, min(settings.WORKER_HEARTBEAT_SECONDS, settings.SWEEP_INTERVAL_SECONDS))
        while True:
            self.watch_once(client)
            if self.stopping.wait(tick):
                break
        try:
            forget(client=client, app=self.app, worker_name=self.worker_name)  # health knows at once
        except Exception:
            logger.debug("Worker watch: could not remove the heartbeat", exc_info=True)

    def watch_once(self, client) -> None:
        import redis

        try:
            heartbeat(client=client, app=self.app, worker_name=self.worker_name)
            if not take_sweep_turn(client=client, app=self.app, worker_name=self.worker_name):
                return
        except redis.RedisError:  # the broker is down: the worker itself reconnects; we try again next tick
            logger.warning("Worker watch: the broker's Redis cannot be reached")
            return
        try:
            queued = sweep()
        except DatabaseError:
            logger.warning("Recovery sweep: the database cannot be reached; trying again next turn")
            return
        except Exception:  # a bug must not stop the heartbeat
            logger.exception("Recovery sweep failed")
            return
        if queued:
            logger.warning("Recovery sweep: queued %s prediction(s) again", queued)


_watch: WorkerWatch | None = None


def start(*, app, worker_name: str) -> None:
    """Starts the watch in a worker that reads predictions (not in a training-only worker)."""
    global _watch
    consuming = app.amqp.queues.consume_from  # None: every queue
    if consuming is not None and settings.CELERY_TASK_DEFAULT_QUEUE not in consuming:
        return
    _watch = WorkerWatch(app=app, worker_name=worker_name)
    _watch.start()


def stop() -> None:
    if _watch is not None:
        _watch.stopping.set()
        _watch.join(timeout=5)
