"""Forgot your password? A link by e-mail (issue 12), in the site's pages, that revokes the API token (issue 11).

The browser test reads the mail from Django's test outbox while the live server sends it, follows the
link in headless Chromium, sets a new password and logs in with it.
SCREENSHOT_DIR=/tmp/shots keeps screenshots of the reset pages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.test_browser import DESKTOP, open_page

LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "a-fresh-start-2026"


def reset_link(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def api_status(token: str) -> int:
    return APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/predictions/").status_code


def live_api_status(base_url: str, token: str) -> int:
    return requests.get(
        f"{base_url}/api/v1/predictions/", headers={"Authorization": f"Token {token}"}, timeout=30
    ).status_code


@pytest.mark.django_db
def test_the_login_page_offers_a_reset(client):
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()


@pytest.mark.django_db
def test_a_reset_mail_goes_to_the_accounts_address_and_its_link_sets_a_new_password(client, alice, password):
    token = Token.objects.create(user=alice).key

    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"] and "alice" in message.body
    link = reset_link(message)

    form = client.get(link, follow=True)  # Django moves the token out of the address into the session
    assert "New password confirmation" in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")

    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD) and not alice.check_password(password)
    assert api_status(token) == 401
    # The link worked once.
    assert "This link does not work" in client.get(link, follow=True).content.decode()


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, alice):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
@override_settings(PASSWORD_RESET_MAILS_PER_EMAIL=3, PASSWORD_RESET_MAILS_PER_ADDRESS=5)
def test_the_reset_form_cannot_flood_an_inbox_nor_be_used_to_spray_mails(client, alice, bob):
    for _ in range(5):
        response = client.post(reverse("password_reset"), {"email": alice.email})
        assert response["Location"] == reverse("password_reset_done")  # the same answer, mail or not
    assert [message.to for message in mail.outbox] == [[alice.email]] * 3

    client.post(reverse("password_reset"), {"email": bob.email})  # the sixth request from this address
    assert [message.to for message in mail.outbox] == [[alice.email]] * 3


@pytest.mark.django_db
@override_settings(LOGIN_FAILURES_PER_USERNAME=2)
def test_a_reset_by_mail_ends_a_lockout_of_the_name(client, alice, password):
    for guess in ("one", "two"):
        client.post(reverse("login"), {"username": "alice", "password": guess})
    assert (
        "Too many failed logins"
        in client.post(reverse("login"), {"username": "alice", "password": password}).content.decode()
    )

    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    form = client.get(reset_link(mail.outbox[0]), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert client.post(reverse("login"), {"username": "alice", "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_the_mail_is_in_the_language_it_was_asked_in(client, alice):
    client.cookies["django_language"] = "hi"
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    (message,) = mail.outbox
    assert "Someone asked" not in message.body and "password" not in message.subject.lower()
    assert reset_link(message)


@pytest.fixture
def desktop_page(monkeypatch, tmp_path):
    for page in open_page(monkeypatch, tmp_path, has_touch=False):
        page.set_viewport_size(DESKTOP)
        yield page


def screenshot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_alice_forgets_her_password_resets_it_by_mail_and_logs_in_with_the_new_one(
    live_server, desktop_page, alice, password
):
    from playwright.sync_api import expect

    page = desktop_page
    token = Token.objects.create(user=alice).key
    assert live_api_status(live_server.url, token) == 200

    page.goto(f"{live_server.url}{reverse('login')}")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("E-mail address").fill("alice@example.com")
    screenshot(page, "reset-form.png")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    (message,) = mail.outbox  # sent by the live server, in this process
    assert message.to == ["alice@example.com"]
    link = LINK.search(message.body)
    assert link and link.group(0).startswith(live_server.url)
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    screenshot(page, "reset-new-password.png")
    page.get_by_role("button", name="Set my new password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    screenshot(page, "reset-complete.png")

    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)  # the old one no longer works
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/upload/$"))
    expect(page.get_by_role("link", name="alice")).to_be_visible()

    assert live_api_status(live_server.url, token) == 401  # the token went with the old password
