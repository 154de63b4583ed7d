"""`make serve` as in production: gunicorn with DEBUG off against the test database, static files collected
first; a start without them stops at once saying why; a database that refuses is a 503, never a 500."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests
from django.conf import settings

from tests.conftest import require_services
from tests.processes import database_url, free_port, start, stop, wait_for_port

pytestmark = pytest.mark.integration


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
    admin = ["psql", postgres_test_database.rsplit("/", 1)[0] + "/postgres", "-q", "-c"]
    subprocess.run([*admin, f'DROP DATABASE IF EXISTS "{empty}"'], check=True, capture_output=True)
    subprocess.run([*admin, f'CREATE DATABASE "{empty}"'], check=True, capture_output=True)
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
        subprocess.run([*admin, f'DROP DATABASE IF EXISTS "{empty}"'], capture_output=True)

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


def test_a_database_that_refuses_connections_is_a_json_503_in_the_api_and_a_503_page_on_the_site(tmp_path):
    # The production server with its connection pool, pointed at a port where no database listens.
    static_root = tmp_path / "static"
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "STATIC_ROOT": str(static_root)},
        check=True,
        timeout=120,
    )
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = production_env(static_root=static_root, port=port, database=f"postgres://postgres@127.0.0.1:{free_port()}/x")
    server = start(
        [sys.executable, "-m", "gunicorn", "--config", "digitsite/gunicorn.conf.py"],
        env={**env, "DB_POOL_TIMEOUT": "1", "DB_CONNECT_TIMEOUT": "1"},
        log=log,
    )
    try:
        wait_for_port(port, process=server, timeout=120, log=log)
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
