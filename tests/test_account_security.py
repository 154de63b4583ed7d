"""Abuse of accounts (issue 11): throttles shared by every web process, a client address X-Forwarded-For
cannot fake, failed logins limited per user name and per address, and API tokens that go with the password.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from recognizer.account_forms import lockout_message
from tests.conftest import TEST_CACHE_URL, _redis_available, require_services

pytestmark = pytest.mark.django_db

API = "/api/v1"
ROOT = Path(settings.BASE_DIR)
LOCKED_OUT = "Too many failed logins"


def rates(**rates: str) -> dict:
    return {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def database_url_for_a_process() -> str:
    """The test database, for a process of its own started by a test (it sees only what is committed)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        return f"sqlite:///{database['NAME']}"
    user = f"{database['USER']}@" if database.get("USER") else ""
    return f"postgres://{user}{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"


def settings_in_a_process(**env: str) -> str:
    script = (
        "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "digitsite.settings", "CACHE_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# --- The shared cache ---


def test_cache_url_puts_the_cache_in_redis_and_without_it_each_process_keeps_its_own():
    assert settings_in_a_process(CACHE_URL="redis://127.0.0.1:6379/3") == "django.core.cache.backends.redis.RedisCache"
    assert settings_in_a_process() == "django.core.cache.backends.locmem.LocMemCache"


@pytest.fixture
def shared_redis_cache():
    """The default cache in Redis under a key prefix of this test's own, as another web process would see it."""
    if not _redis_available(TEST_CACHE_URL):
        require_services(f"no Redis at {TEST_CACHE_URL}")
    prefix = f"test-{uuid.uuid4().hex}"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_CACHE_URL,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=caches):
        yield {"CACHE_URL": TEST_CACHE_URL, "CACHE_KEY_PREFIX": prefix}
        from django.core.cache import cache

        cache.delete_many(cache._cache.get_client().keys(f"{prefix}:*"))


def test_the_api_throttle_counts_requests_from_every_web_process_together(shared_redis_cache):
    # Another web process (a process of its own, with the same CACHE_URL) spends the anonymous rate...
    script = (
        "import django; django.setup(); from django.test import Client;"
        f"print(*[Client().get('{API}/model/').status_code == 429 for _ in range(2)])"
    )
    other = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            **shared_redis_cache,
            "DJANGO_SETTINGS_MODULE": "digitsite.settings",
            "DATABASE_URL": database_url_for_a_process(),
            "THROTTLE_ANON": "2/minute",
            "NUM_PROXIES": "0",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.split() == ["False", "False"]
    # ...and this one refuses the same client its third request.
    with override_settings(REST_FRAMEWORK=rates(anon="2/minute")):
        assert APIClient().get(f"{API}/model/").status_code == 429


def test_failed_logins_are_counted_across_web_processes(shared_redis_cache, alice, password):
    with override_settings(LOGIN_FAILURES_PER_USERNAME=3):
        script = (
            "import django; django.setup(); from django.test import Client;"
            "print(*[Client().post('/accounts/login/', {'username': 'alice', 'password': 'guess%d' % n}).status_code"
            " for n in range(3)])"
        )
        other = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={
                **os.environ,
                **shared_redis_cache,
                "DJANGO_SETTINGS_MODULE": "digitsite.settings",
                "DATABASE_URL": database_url_for_a_process(),
                "LOGIN_FAILURES_PER_USERNAME": "3",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert other.returncode == 0, other.stderr
        response = APIClient().post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 200 and LOCKED_OUT in response.content.decode()


# --- X-Forwarded-For ---


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_anonymous_throttle():
    client = APIClient()
    with override_settings(REST_FRAMEWORK=rates(anon="3/minute")):
        throttled = [
            client.get(f"{API}/model/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code == 429 for n in range(1, 6)
        ]
    assert throttled == [False, False, False, True, True]


def test_behind_one_proxy_the_address_it_saw_is_the_client_and_what_came_before_it_is_ignored():
    client = APIClient()
    with override_settings(REST_FRAMEWORK={**rates(anon="2/minute"), "NUM_PROXIES": 1}, NUM_PROXIES=1):
        # The client writes any header it likes; our proxy appends the address it saw (198.51.100.7).
        spoofed = [
            client.get(f"{API}/model/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 198.51.100.7").status_code == 429
            for n in range(1, 5)
        ]
        someone_else = client.get(f"{API}/model/", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 429
    assert spoofed == [False, False, True, True]
    assert not someone_else


# --- Failed logins ---


def wrong_logins(client, url: str, username: str, count: int, **extra) -> None:
    for n in range(count):
        response = client.post(url, {"username": username, "password": f"wrong-guess-{n}"}, **extra)
        assert response.status_code == 200


@override_settings(LOGIN_FAILURES_PER_USERNAME=5, LOGIN_LOCKOUT_SECONDS=1)
def test_after_five_wrong_passwords_even_the_right_one_is_refused_until_the_lockout_ends(client, alice, password):
    wrong_logins(client, reverse("login"), "alice", 5)

    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 200
    assert LOCKED_OUT in response.content.decode() and "Try again in 1 minute" in response.content.decode()
    assert "_auth_user_id" not in client.session

    time.sleep(1.2)  # the lockout ends by itself
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(alice.pk)


@override_settings(LOGIN_FAILURES_PER_USERNAME=3, LOGIN_LOCKOUT_SECONDS=2)
def test_tries_during_a_lockout_neither_test_the_password_nor_make_it_longer(client, alice, password):
    wrong_logins(client, reverse("login"), "alice", 3)
    time.sleep(1)
    wrong_logins(client, reverse("login"), "alice", 3)  # refused unchecked, not counted
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert LOCKED_OUT in response.content.decode()  # still locked out, even with the right password
    time.sleep(1.2)  # 2.2 s after the lockout began: over, whatever was tried during it
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302


@override_settings(LOGIN_FAILURES_PER_USERNAME=3)
def test_the_user_name_is_locked_from_every_address_and_whatever_its_case(alice, password):
    guesser, alice_at_home = APIClient(REMOTE_ADDR="203.0.113.9"), APIClient(REMOTE_ADDR="198.51.100.1")
    wrong_logins(guesser, reverse("login"), "Alice", 1)
    wrong_logins(guesser, reverse("login"), "ALICE", 1)
    wrong_logins(guesser, reverse("login"), "alice", 1)
    response = alice_at_home.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 200 and LOCKED_OUT in response.content.decode()


@override_settings(LOGIN_FAILURES_PER_USERNAME=5, LOGIN_FAILURES_PER_ADDRESS=4)
def test_one_address_guessing_many_names_is_locked_out_but_others_are_not(alice, bob, password):
    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    for n in range(4):
        # A new X-Forwarded-For each time changes nothing (NUM_PROXIES is 0).
        wrong_logins(guesser, reverse("login"), f"user{n}", 1, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = guesser.post(reverse("login"), {"username": "bob", "password": password})
    assert response.status_code == 200 and LOCKED_OUT in response.content.decode()

    # Alice, from another address, is not locked out: her name had no failure.
    alice_client = APIClient(REMOTE_ADDR="198.51.100.1")
    assert alice_client.post(reverse("login"), {"username": "alice", "password": password}).status_code == 302


@override_settings(LOGIN_FAILURES_PER_USERNAME=3)
def test_the_rightful_users_login_forgets_the_failures_before_it(client, alice, password):
    wrong_logins(client, reverse("login"), "alice", 2)
    assert client.post(reverse("login"), {"username": "alice", "password": password}).status_code == 302
    client.post(reverse("logout"))
    wrong_logins(client, reverse("login"), "alice", 2)
    assert client.post(reverse("login"), {"username": "alice", "password": password}).status_code == 302


@override_settings(LOGIN_FAILURES_PER_USERNAME=5)
def test_the_admin_login_is_limited_too(client, staff, password):
    url = reverse("admin:login")
    for n in range(5):
        client.post(url, {"username": "sam", "password": f"wrong-{n}", "next": "/admin/"})
    response = client.post(url, {"username": "sam", "password": password, "next": "/admin/"})
    assert response.status_code == 200
    assert LOCKED_OUT in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURES_PER_USERNAME=5, REST_FRAMEWORK=rates(anon="1000/minute"))
def test_the_api_token_endpoint_is_limited_with_a_429_that_says_how_long(alice, password):
    client = APIClient()
    for n in range(5):
        response = client.post(f"{API}/auth/token/", {"username": "alice", "password": f"wrong-{n}"}, format="json")
    assert response.status_code == 429  # the fifth failure is the one that locks
    response = client.post(f"{API}/auth/token/", {"username": "alice", "password": password}, format="json")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and LOCKED_OUT in body["detail"]
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS
    assert not Token.objects.filter(user=alice).exists()


@override_settings(LOGIN_FAILURES_PER_USERNAME=2)
def test_the_lockout_message_is_in_the_readers_language(client, alice, password):
    client.cookies["django_language"] = "ta"
    wrong_logins(client, reverse("login"), "alice", 2)
    page = client.post(reverse("login"), {"username": "alice", "password": password}).content.decode()
    assert LOCKED_OUT not in page
    with translation.override("ta"):
        tamil = lockout_message(settings.LOGIN_LOCKOUT_SECONDS)
    with translation.override("en"):
        assert tamil != lockout_message(settings.LOGIN_LOCKOUT_SECONDS)
    assert tamil in page


# --- API tokens and passwords ---


def api_status(token: str) -> int:
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}").get(f"{API}/predictions/").status_code


def test_changing_the_password_on_the_site_revokes_the_api_token(alice_client, alice, password):
    token = Token.objects.create(user=alice).key
    assert api_status(token) == 200
    response = alice_client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"},
    )
    assert response.status_code == 302
    assert api_status(token) == 401
    assert not Token.objects.filter(user=alice).exists()


def test_a_password_set_by_staff_in_the_admin_revokes_the_api_token(client, staff, alice, password):
    token = Token.objects.create(user=alice).key
    client.force_login(staff)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"password1": "set-by-the-admin-77", "password2": "set-by-the-admin-77", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert api_status(token) == 401


def test_the_token_stays_when_nothing_but_the_hash_of_the_same_password_changes(alice, password):
    token = Token.objects.create(user=alice).key
    # What Django does at a login when its hasher grew stronger: the same password, hashed anew.
    alice.set_password(password)
    alice.save(update_fields=["password"])
    alice.email = "alice@example.org"
    alice.save()
    assert api_status(token) == 200


def test_bobs_new_password_leaves_alices_token_alone(alice, bob):
    token = Token.objects.create(user=alice).key
    Token.objects.create(user=bob)
    bob.set_password("bobs-new-password-1")
    bob.save()
    assert api_status(token) == 200
    assert not Token.objects.filter(user=bob).exists()


def test_check_deploy_warns_when_the_cache_is_each_processs_own():
    from recognizer.checks import shared_cache_check

    with override_settings(DEBUG=False):
        assert [warning.id for warning in shared_cache_check()] == ["recognizer.W001"]
        redis = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": TEST_CACHE_URL}}
        with override_settings(CACHES=redis):
            assert shared_cache_check() == []
