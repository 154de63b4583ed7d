"""Every page fits its screen: on a 390x844 phone no page of the site nor of the staff pages we own is
wider than the viewport, in English, Tamil and Hindi; on a 1366 px desktop the admin's prediction list
shows all its columns without a horizontal scroll.

Measured in headless Chromium (Debian's package). Screenshots of each page are kept in the test's
tmp dir (pytest's basetemp; --basetemp=DIR to choose it) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.prediction_rows import finished_prediction
from tests.test_browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ta", "hi"]
SCRIPTS = {"en": re.compile(r"[A-Za-z]"), "ta": re.compile(r"[\u0B80-\u0BFF]"), "hi": re.compile(r"[\u0900-\u097F]")}


def session_cookie(user, live_server) -> list[dict]:
    """The user's logged-in session, as the browser keeps it (no login form: it is not what is measured)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]


def open_context(browser, live_server, *, language: str, viewport: dict, user=None, touch: bool = False):
    context = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if user is not None:
        cookies += session_cookie(user, live_server)
    context.add_cookies(cookies)
    return context


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def wider_than_phone(context, live_server, urls: list[str], shots: Path, prefix: str) -> dict[str, int]:
    """The pages, among `urls`, wider than the phone's viewport, with their width."""
    page = context.new_page()
    too_wide = {}
    for url in urls:
        response = page.goto(live_server.url + url)
        assert response.status == 200 and page.url == live_server.url + url, (url, response.status, page.url)
        page.wait_for_load_state("load")
        name = url.strip("/").replace("/", "-").replace("?", "-") or "home"
        page.screenshot(path=str(shots / f"{prefix}-{name}.png"), full_page=True)
        width = page_width(page)
        if width > PHONE["width"]:
            too_wide[url] = width
    page.close()
    return too_wide


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_is_wider_than_a_phone(chromium, live_server, alice, staff, language, shots):
    mine = finished_prediction(alice, digits="4067", true_digits="4061", confidence=0.61)
    finished_prediction(alice, digits="3", staff_digits="3", reviewer=staff, confidence=0.98)
    finished_prediction(alice, digits="5?", confidence=0.3)
    finished_prediction(alice, digits="", confidence=None)
    site = [
        reverse("home"),
        reverse("upload"),
        reverse("draw"),
        reverse("history"),
        reverse("prediction_detail", args=[mine.pk]),
        reverse("help"),
    ]
    visitor = [reverse("login"), reverse("signup")]
    staff_pages = [
        reverse("admin:recognizer_prediction_dashboard"),
        reverse("admin:recognizer_prediction_review_queue"),
        reverse("admin:recognizer_prediction_changelist"),
        reverse("admin:recognizer_prediction_change", args=[mine.pk]),
    ]
    too_wide = {}
    for user, urls, prefix in ((alice, site, "site"), (None, visitor, "visitor"), (staff, staff_pages, "staff")):
        context = open_context(chromium, live_server, language=language, viewport=PHONE, user=user, touch=True)
        too_wide |= wider_than_phone(context, live_server, urls, shots, f"{language}-{prefix}")
        context.close()
    assert not too_wide, f"wider than the phone's {PHONE['width']} px ({language}): {too_wide}; see {shots}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_admin_prediction_list_fits_a_desktop_screen(chromium, live_server, alice, staff, language, shots):
    for digits, label in (("4067", "4061"), ("123456789012", ""), ("7", "7"), ("5?", ""), ("", "")):
        finished_prediction(alice, digits=digits, true_digits=label, confidence=0.5 if digits else None)
    context = open_context(chromium, live_server, language=language, viewport=DESKTOP, user=staff)
    page = context.new_page()
    list_url = live_server.url + reverse("admin:recognizer_prediction_changelist")
    page.goto(list_url)
    assert page.url == list_url
    page.screenshot(path=str(shots / f"{language}-prediction-list.png"), full_page=True)

    results = page.locator("#changelist .results")
    overflow = results.evaluate("box => box.scrollWidth - box.clientWidth")
    assert overflow <= 0, f"the list is {overflow} px wider than its box ({language}); see {shots}"
    assert page_width(page) <= DESKTOP["width"]
    # The rows-selected counter, written by Django's script, is in the reader's language too.
    counter = page.locator(".action-counter").inner_text()
    assert "0" in counter and SCRIPTS[language].search(counter), counter
    # The last columns, the ones that used to hide behind the scroll, are on the screen.
    for column in ("column-verdict", "column-model_version", "column-status", "column-sent_at"):
        header = page.locator(f"#result_list th.{column}").bounding_box()
        assert header is not None and header["x"] + header["width"] <= DESKTOP["width"], (column, header)
    context.close()
