"""HTTPS in production, set from the environment: HSTS, the redirect to https, the proxy's header, secure cookies.

Each case starts a fresh Python with the environment given (settings are read once, at start), and asks through
Django's test client what the server answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only-production-key-7f3a9c1e5b2d8f4a6c0e9b7d3f1a5c8e2b6d4f0a9c7e"

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client

client = Client()
plain = client.get("/api/v1/predictions/", HTTP_HOST="digits.example.com")
secure = client.get("/api/v1/predictions/", HTTP_HOST="digits.example.com", HTTP_X_FORWARDED_PROTO="https")
health = client.get("/api/v1/health/", HTTP_HOST="digits.example.com")
print(json.dumps({
    "settings": {name: getattr(settings, name, None) for name in (
        "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")},
    "plain": {
        "status": plain.status_code,
        "location": plain.get("Location"),
        "hsts": plain.get("Strict-Transport-Security"),
    },
    "secure": {"status": secure.status_code, "hsts": secure.get("Strict-Transport-Security")},
    "health": {"status": health.status_code},
}))
"""

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "digits.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}
SECURITY_VARIABLES = (*PRODUCTION, "SECURE_COOKIES")


def environment(tmp_path, **variables: str) -> dict:
    env = {name: value for name, value in os.environ.items() if name not in SECURITY_VARIABLES}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "digitsite.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # nothing of the project's touched
        "CELERY_BROKER_URL": "",
        "CACHE_URL": "",
        **variables,
    }


def answers(tmp_path, **variables: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment(tmp_path, **variables),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_in_production_with_the_variables_set_http_is_redirected_and_https_answers_carry_hsts(tmp_path):
    seen = answers(tmp_path, **PRODUCTION)
    assert seen["settings"] == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }
    # Plain http: sent to https, no HSTS (browsers ignore it over http).
    assert seen["plain"]["status"] == 301
    assert seen["plain"]["location"] == "https://digits.example.com/api/v1/predictions/"
    assert seen["plain"]["hsts"] is None
    # https as the proxy says: answered (401: no token), with HSTS.
    assert seen["secure"] == {"status": 401, "hsts": "max-age=31536000; includeSubDomains; preload"}
    # A monitor may still ask for health over plain http.
    assert seen["health"]["status"] != 301


def test_in_production_by_default_cookies_are_secure_and_hsts_lasts_a_year(tmp_path):
    seen = answers(tmp_path, DEBUG="false", SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS="digits.example.com")
    assert seen["settings"]["SESSION_COOKIE_SECURE"] and seen["settings"]["CSRF_COOKIE_SECURE"]
    assert seen["settings"]["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    # No redirect and no proxy header unless asked: `make serve` also runs on plain http.
    assert seen["plain"]["status"] == 401 and seen["settings"]["SECURE_PROXY_SSL_HEADER"] is None
    # Without a proxy named, the client's X-Forwarded-Proto is not believed: no HSTS.
    assert seen["secure"]["hsts"] is None


def test_development_keeps_plain_http(tmp_path):
    seen = answers(tmp_path, DEBUG="true", ALLOWED_HOSTS="digits.example.com")
    assert seen["settings"] == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
    }
    assert seen["plain"]["status"] == 401 and seen["secure"]["hsts"] is None


@pytest.mark.parametrize("variables", [PRODUCTION])
def test_djangos_deployment_check_finds_nothing_left_off(tmp_path, variables):
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=environment(tmp_path, **variables),
        capture_output=True,
        text=True,
        timeout=120,
    )
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if "security.W" in line]
    assert warnings == [], "\n".join(warnings)
