"""Telling waiting requests that a prediction has finished, instead of having them poll the database.

The worker publishes the prediction's id on a Redis pub/sub channel (the broker's Redis, under the broker's
key prefix) as soon as its answer is saved. Each web process has one listener thread, subscribed to that
channel on first use, which wakes the requests waiting for that id: `POST /api/v1/predictions/?wait=N` and the
result page's `status.json?wait=N`. A waiting request still re-reads its rows every API_WAIT_FALLBACK_SECONDS,
so a message lost (Redis restarted, the listener reconnecting) costs at most that long, never the whole wait.

Waits hold a web thread, so each process lets at most API_WAITS_PER_PROCESS of them wait at once; a request
over that bound is answered at once, as if its time had run out (202, the client polls the prediction's url).
Without a Redis broker (eager mode, `make run`) nothing is published: the picture is read before the upload
is answered.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator

from django.conf import settings

logger = logging.getLogger(__name__)

CHANNEL = "digitsite:prediction-finished"
# How long a wait gives a listener that is just starting to subscribe, before it reads the rows the slow way.
SUBSCRIBE_GRACE_SECONDS = 0.5
RECONNECT_SECONDS = 1.0


def _celery_app():
    from digitsite.celery import app

    return app


def _broker_client_and_channel():
    """(a Redis client on the broker, the channel's name with the broker's key prefix), or (None, None)."""
    from recognizer.worker_watch import _key, broker_redis

    app = _celery_app()
    client = broker_redis(app)
    return (client, _key(app, CHANNEL)) if client is not None else (None, None)


# --- The worker's side ---

_publisher: tuple[int, str, object, str] | None = None  # (pid, broker url, client, channel)


def _publisher_client():
    """A client kept for the process (and its connection pool), made again after a fork or a broker change."""
    global _publisher
    url = _celery_app().conf.broker_url or ""
    if _publisher is None or _publisher[0] != os.getpid() or _publisher[1] != url:
        client, channel = _broker_client_and_channel()
        _publisher = (os.getpid(), url, client, channel)
    return _publisher[2], _publisher[3]


def prediction_finished_publish(*, prediction_id: int) -> None:
    """Tells the waiting web processes that this prediction is finished (done or failed). Never raises:
    a notice that cannot be sent only makes a waiter find the answer at its next fallback read."""
    import redis

    client, channel = _publisher_client()
    if client is None:
        return
    try:
        client.publish(channel, str(prediction_id))
    except redis.RedisError:
        logger.warning("Could not publish that prediction %s finished", prediction_id, exc_info=True)


# --- The web process's side ---


class FinishedListener(threading.Thread):
    """One subscription per web process; sets the events of the requests waiting for an id that finishes."""

    def __init__(self, *, client, channel: str) -> None:
        super().__init__(name="prediction-finished-listener", daemon=True)
        self.client = client
        self.channel = channel
        self.subscribed = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._waiters: dict[int, set[threading.Event]] = {}

    def watch(self, prediction_ids: list[int]) -> threading.Event:
        event = threading.Event()
        with self._lock:
            for prediction_id in prediction_ids:
                self._waiters.setdefault(prediction_id, set()).add(event)
        return event

    def unwatch(self, prediction_ids: list[int], event: threading.Event) -> None:
        with self._lock:
            for prediction_id in prediction_ids:
                events = self._waiters.get(prediction_id)
                if events is not None:
                    events.discard(event)
                    if not events:
                        del self._waiters[prediction_id]

    def _wake(self, prediction_id: int) -> None:
        with self._lock:
            events = list(self._waiters.get(prediction_id, ()))
        for event in events:
            event.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.subscribed.set()
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=RECONNECT_SECONDS)
                    if message and message["type"] == "message":
                        try:
                            self._wake(int(message["data"]))
                        except ValueError:
                            continue
            except Exception:  # Redis down or restarted: waiters fall back to reading the rows meanwhile
                self.subscribed.clear()
                logger.warning("Prediction notices: the broker's Redis cannot be reached; subscribing again")
                self.stopping.wait(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    pubsub.close()
        self.subscribed.clear()


_listener: FinishedListener | None = None
_listener_key: tuple | None = None
_listener_lock = threading.Lock()


def finished_listener() -> FinishedListener | None:
    """This process's listener, started on first use (after gunicorn's fork, never before); None in eager mode."""
    global _listener, _listener_key
    app = _celery_app()
    key = (os.getpid(), app.conf.broker_url, app.conf.task_always_eager, str(app.conf.broker_transport_options))
    with _listener_lock:
        if _listener is not None and (_listener_key != key or not _listener.is_alive()):
            _listener.stopping.set()  # another broker (tests switch), or a fork: a listener of its own
            _listener = None
        if _listener is None:
            client, channel = _broker_client_and_channel()
            _listener_key = key
            if client is None:
                return None
            _listener = FinishedListener(client=client, channel=channel)
            _listener.start()
        return _listener


# --- The bound on waits ---


class WaitSlots:
    """At most `size` waits at once in this process; one over the bound is told so at once, never queued."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._semaphore = threading.BoundedSemaphore(size) if size > 0 else None

    @contextlib.contextmanager
    def hold(self) -> Iterator[bool]:
        """Yields whether a slot was free (then held for the block)."""
        if self._semaphore is None or not self._semaphore.acquire(blocking=False):
            yield False
            return
        try:
            yield True
        finally:
            self._semaphore.release()


_slots: WaitSlots | None = None
_slots_lock = threading.Lock()


def wait_slots() -> WaitSlots:
    """This process's bound, sized by API_WAITS_PER_PROCESS (made again if the setting changes, as in tests)."""
    global _slots
    with _slots_lock:
        if _slots is None or _slots.size != settings.API_WAITS_PER_PROCESS:
            _slots = WaitSlots(settings.API_WAITS_PER_PROCESS)
        return _slots


def wait_until_finished(*, prediction_ids: list[int], timeout_seconds: float, all_finished) -> bool:
    """Blocks until `all_finished()` (a read of the rows) is true or the time is up; returns its last answer.

    The rows are read once at the start, again each time one of the ids is announced finished, and at least
    every API_WAIT_FALLBACK_SECONDS. Subscribing before the first read means no notice can slip between them.
    """
    deadline = time.monotonic() + timeout_seconds
    listener = finished_listener() if timeout_seconds > 0 else None
    if listener is None:
        return _poll_until_finished(deadline=deadline, all_finished=all_finished)
    event = listener.watch(prediction_ids)
    try:
        listener.subscribed.wait(min(SUBSCRIBE_GRACE_SECONDS, timeout_seconds))
        while True:
            event.clear()
            if all_finished():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event.wait(min(remaining, settings.API_WAIT_FALLBACK_SECONDS))
    finally:
        listener.unwatch(prediction_ids, event)


def _poll_until_finished(*, deadline: float, all_finished) -> bool:
    # No broker to hear from (eager mode: the answers are there already, or a broker that is not Redis).
    while True:
        if all_finished():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(remaining, settings.API_WAIT_FALLBACK_SECONDS))
