"""`make serve` as in production: gunicorn with DEBUG off against the test database, static files collected
first; a start without them stops at once saying why; a database that refuses is a 503, never a 500."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from django.conf import settings

from tests.conftest import require_services
from tests.processes import database_url, free_port, start, stop, wait_for_port

# django_db: so that pytest-django creates the test database even when this file runs alone.
pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def production_env(*, static_root, port: int, database: str) -> dict:
    return {
        "DEBUG": "false",
        "SECRET_KEY": "test-only-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "false",  # plain http on 127.0.0.1
        "DATABASE_URL": database,
        "STATIC_ROOT": str(static_root),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_PROCESSES": "1",
        "WEB_THREADS": "2",
        "CELERY_BROKER_URL": "",
    }


@pytest.fixture
def postgres_test_database(django_db_setup):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        require_services("the server shares the test database: set DATABASE_URL to PostgreSQL (make test does)")
    return database_url()


def test_make_serve_collects_static_files_and_serves_pages_and_static_files_with_debug_off(
    postgres_test_database, tmp_path
):
    port = free_port()
    log = tmp_path / "serve.log"
    env = production_env(static_root=tmp_path / "static", port=port, database=postgres_test_database)
    server = start([sys.executable, "manage.py", "serve"], env=env, log=log)  # what `make serve` runs
    try:
        wait_for_port(port, process=server, timeout=120, log=log)
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=30)
        health = requests.get(f"http://127.0.0.1:{port}/api/v1/health/", timeout=30)
        stylesheet = re.search(r'href="(/static/recognizer/site\.[0-9a-f]+\.css)"', home.text)
        css = requests.get(f"http://127.0.0.1:{port}{stylesheet.group(1)}", timeout=30) if stylesheet else None
    finally:
        stop(server)

    assert home.status_code == 200, log.read_text()[-3000:]
    assert stylesheet, "the page names the collected (hashed) stylesheet"
    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
    assert health.status_code == 200 and health.json()["database"] == {"ok": True}
    assert "gunicorn" in log.read_text()


def test_make_serve_refuses_to_start_while_a_migration_is_pending(postgres_test_database, tmp_path):
    # A database with no tables at all: every migration is pending.
    empty = f"test_empty_{settings.DATABASES['default']['NAME']}"[:63]
    server = psycopg.connect(postgres_test_database.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    server.execute(f'DROP DATABASE IF EXISTS "{empty}"')
    server.execute(f'CREATE DATABASE "{empty}"')
    try:
        env = production_env(
            static_root=tmp_path / "static",
            port=free_port(),
            database=postgres_test_database.rsplit("/", 1)[0] + f"/{empty}",
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "serve"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.execute(f'DROP DATABASE IF EXISTS "{empty}"')
        server.close()

    assert result.returncode != 0
    assert "not applied" in result.stderr and "manage.py migrate" in result.stderr, result.stderr[-2000:]
    assert "Starting gunicorn" not in result.stdout


def test_the_server_without_collected_static_files_stops_at_once_saying_why(postgres_test_database, tmp_path):
    # The gunicorn command `make serve` runs, without its collectstatic: before, every page was a silent 500.
    log = tmp_path / "gunicorn.log"
    env = production_env(static_root=tmp_path / "never-collected", port=free_port(), database=postgres_test_database)
    server = start([sys.executable, "-m", "gunicorn", "--config", "digitsite/gunicorn.conf.py"], env=env, log=log)
    try:
        server.wait(timeout=120)
    finally:
        stop(server)

    assert server.returncode != 0
    assert "Static files are not collected" in log.read_text()
    assert "collectstatic" in log.read_text()


def wait_for_boot(log, timeout: float = 120) -> None:
    """gunicorn listens before its worker has loaded Django: wait for the worker to say it booted."""
    deadline = time.monotonic() + timeout
    while "Booting worker" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    static_root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "STATIC_ROOT": str(static_root)},
        check=True,
        timeout=300,
    )
    return static_root


def test_the_web_side_holds_no_more_database_connections_than_its_pool_allows(
    postgres_test_database, collected_static, tmp_path
):
    # One process of 8 threads with a pool of 2: 8 requests at a time share 2 connections (without the pool,
    # each thread kept its own, and runserver's unbounded threads once made PostgreSQL refuse them all).
    port = free_port()
    log = tmp_path / "gunicorn.log"
    application = f"digitsite-pool-test-{port}"
    env = production_env(
        static_root=collected_static, port=port, database=f"{postgres_test_database}?application_name={application}"
    )
    env.update(WEB_THREADS="8", DB_POOL_MAX_SIZE="2", DB_POOL_TIMEOUT="20")
    server = start([sys.executable, "-m", "gunicorn", "--config", "digitsite/gunicorn.conf.py"], env=env, log=log)
    monitor = psycopg.connect(postgres_test_database, autocommit=True)
    try:
        wait_for_port(port, process=server, timeout=120, log=log)
        most_connections = 0
        statuses = []
        with ThreadPoolExecutor(16) as requests_at_once:
            for _round in range(5):
                answers = [
                    requests_at_once.submit(requests.get, f"http://127.0.0.1:{port}/api/v1/health/", timeout=60)
                    for _ in range(32)
                ]
                while not all(answer.done() for answer in answers):
                    (count,) = monitor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application]
                    ).fetchone()
                    most_connections = max(most_connections, count)
                    time.sleep(0.01)
                statuses += [answer.result().status_code for answer in answers]
    finally:
        monitor.close()
        stop(server)

    assert statuses == [200] * 160, log.read_text()[-3000:]
    assert 1 <= most_connections <= 2


def test_a_database_that_refuses_connections_is_a_json_503_in_the_api_and_a_503_page_on_the_site(
    collected_static, tmp_path
):
    # The production server with its connection pool, pointed at a port where nothing listens (1: privileged).
    static_root = collected_static
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = production_env(static_root=static_root, port=port, database="postgres://postgres@127.0.0.1:1/x")
    server = start(
        [sys.executable, "-m", "gunicorn", "--config", "digitsite/gunicorn.conf.py"],
        env={**env, "DB_POOL_TIMEOUT": "1", "DB_CONNECT_TIMEOUT": "1"},
        log=log,
    )
    try:
        wait_for_port(port, process=server, timeout=120, log=log)
        wait_for_boot(log)
        api = requests.get(
            f"http://127.0.0.1:{port}/api/v1/predictions/", headers={"Authorization": "Token 0123abcd"}, timeout=30
        )
        page = requests.get(f"http://127.0.0.1:{port}/predictions/", cookies={"sessionid": "x" * 32}, timeout=30)
    finally:
        stop(server)

    assert api.status_code == 503, api.text[:500]
    assert api.json() == {
        "detail": "The database is unavailable right now. Try again in a moment.",
        "code": "database_unavailable",
    }
    assert int(api.headers["Retry-After"]) > 0
    assert page.status_code == 503
    assert "text/html" in page.headers["Content-Type"]
    assert "cannot reach its database" in page.text
    assert int(page.headers["Retry-After"]) > 0
