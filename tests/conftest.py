"""Shared fixtures: named users, a private media folder, and a real Celery worker process."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
TEST_BROKER_URL = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
# The shared cache's tests use keys of their own there and never flush it.
TEST_CACHE_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/14")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Each pytest run has its own test database and its own broker keys, so that two runs side by side (two
# engineers, or CI beside a developer) never share rows nor take each other's tasks.
RUN_ID = f"run{os.getpid()}"
TEST_BROKER_KEY_PREFIX = f"digitsite-test-{RUN_ID}:"


def pytest_configure(config):
    os.environ.setdefault("MNIST_PATH", str(ROOT.parent / "shared" / "data" / "mnist.npz"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("TEST", {})["NAME"] = f"test_{database['NAME']}_{RUN_ID}"


@pytest.fixture(scope="session", autouse=True)
def private_media_root(tmp_path_factory):
    """Uploads made by tests go to a temporary folder, never to the project's media/."""
    media = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=str(media)):
        yield media


@pytest.fixture(autouse=True)
def fresh_cache():
    """API throttle counts and failed logins live in the cache: no test inherits another's.

    `make test` runs with CACHE_URL unset (the in-memory cache); the tests of the shared Redis cache point a
    cache of their own at TEST_CACHE_URL with a key prefix of their own.
    """
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's language: a request in Tamil or Hindi leaves its language active in the
    thread (LocaleMiddleware activates it and nothing deactivates it), and text stored later would follow it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def chromium(monkeypatch):
    """Headless Chromium (Debian's), for the browser tests that open their own pages."""
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        require_services(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM is safe here (the live server
    # answers from its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            from django.db import connections

            connections.close_all()


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-staple"


@pytest.fixture
def alice(django_user_model, password):
    return django_user_model.objects.create_user("alice", "alice@example.com", password)


@pytest.fixture
def bob(django_user_model, password):
    return django_user_model.objects.create_user("bob", "bob@example.com", password)


@pytest.fixture
def staff(django_user_model, password):
    return django_user_model.objects.create_superuser("sam", "sam@example.com", password)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def require_services(reason: str) -> None:
    """Skips an integration test when PostgreSQL/Redis are missing, except under CI where that is a failure."""
    if IN_CI:
        pytest.fail(f"integration test cannot run under CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def celery_broker(url: str, *, key_prefix: str = TEST_BROKER_KEY_PREFIX):
    """Points this process's Celery app at a broker (out of eager mode) for the block, then back to eager.

    Its messages carry `key_prefix` (a test with workers of its own gives one of its own, so the run's shared
    worker never takes them). Celery caches its connection pools, so they are dropped on both sides.
    """
    from digitsite.celery import app

    previous = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
        "broker_transport_options": app.conf.broker_transport_options,
    }
    app.conf.update(
        broker_url=url,
        task_always_eager=False,
        broker_transport_options={**app.conf.broker_transport_options, "global_keyprefix": key_prefix},
    )
    app._after_fork()  # forgets the cached connection and producer pools
    try:
        yield app
    finally:
        app.conf.update(**previous)
        app._after_fork()


def _redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, private_media_root):
    """A real `celery worker` process on a real Redis, reading and writing the test database.

    Yields the Celery app switched from eager mode to that broker; restores eager mode after.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        require_services("the worker shares the test database: set DATABASE_URL to PostgreSQL (make test does)")
    if not _redis_available(TEST_BROKER_URL):
        require_services(f"no Redis at {TEST_BROKER_URL}")
    import redis

    broker = redis.Redis.from_url(TEST_BROKER_URL)
    for key in broker.scan_iter(f"{TEST_BROKER_KEY_PREFIX}*"):  # nothing left over from an earlier run
        broker.delete(key)
    with celery_worker(queues="inference", log_path=private_media_root.parent / "celery-worker.log"):
        with celery_broker(TEST_BROKER_URL) as app:
            yield app


def database_url_of_the_tests() -> str:
    """The test database's URL, for another process (a worker, a server) to share it."""
    database = settings.DATABASES["default"]
    user = f"{database['USER']}@" if database.get("USER") else ""
    host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
    return f"postgres://{user}{host}:{port}/{database['NAME']}"


@contextlib.contextmanager
def celery_worker(*, queues: str, log_path: Path, env: dict | None = None, concurrency: int = 1):
    """A real `celery worker` process consuming `queues` from the test broker, on the test database.

    Yields the process (its own process group: killing the group takes its children too); stops it after.
    """
    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "digitsite.settings",
        "DATABASE_URL": database_url_of_the_tests(),
        "CELERY_BROKER_URL": TEST_BROKER_URL,
        "CELERY_BROKER_KEY_PREFIX": TEST_BROKER_KEY_PREFIX,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
        # The recovery sweep of a worker shared by many tests would queue other tests' pending rows to itself
        # (a fault test's, on purpose left pending): it runs once as the worker starts, then not again. The
        # fault tests start workers of their own with a short sweep.
        "SWEEP_INTERVAL_SECONDS": "86400",
        **(env or {}),
    }
    log = open(log_path, "w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "digitsite",
            "worker",
            "-Q",
            queues,
            "-n",
            f"{queues}-{RUN_ID}-{time.monotonic_ns()}@%h",
            "-c",
            str(concurrency),
            "-l",
            "info",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while "ready." not in log_path.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
