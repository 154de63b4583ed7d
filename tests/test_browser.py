"""A person in a real browser: headless Chromium (Debian's package) driven by Playwright's sync API.

Signs up, uploads a photo, sees the digit on the result page, draws a digit on the canvas with the
mouse and sends it, and sees that answer too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.db import connections

from recognizer.models import Prediction
from tests.conftest import require_services
from tests.images import paper_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ANSWER_TIMEOUT_MS = 90_000
RESULT_URL = re.compile(r".*/predictions/\d+/$")


@pytest.fixture
def browser_page(monkeypatch, tmp_path):
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        require_services(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM refuses to run next to one
    # unless told it is safe (the live server answers from its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # A phone-sized screen: the pages must work there.
        context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=False)
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield page
            assert not errors, f"JavaScript errors on the pages: {errors}"
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise
        finally:
            context.close()
            browser.close()
            # The ORM opened its own connection next to Playwright's event loop; close it, or the test
            # database cannot be dropped at the end of the session.
            connections.close_all()


def draw_seven(page) -> None:
    canvas = page.locator("#drawing-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    page.mouse.move(*at(0.27, 0.22))
    page.mouse.down()
    page.mouse.move(*at(0.75, 0.22), steps=12)
    page.mouse.move(*at(0.45, 0.82), steps=18)
    page.mouse.up()


def test_a_visitor_signs_up_uploads_a_photo_and_draws_a_digit(live_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").first.click()
    page.fill("#id_username", "dora")
    page.fill("#id_password1", "a-long-passphrase-42")
    page.fill("#id_password2", "a-long-passphrase-42")
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(re.compile(r".*/upload/$"))

    # Upload: the preview shows before anything is sent.
    page.set_input_files(
        "#id_images", files=[{"name": "three.jpg", "mimeType": "image/jpeg", "buffer": paper_photo(3)}]
    )
    expect(page.locator(".preview-item img")).to_have_count(1)
    expect(page.locator("#upload-submit")).to_be_enabled()
    page.locator("#upload-submit").click()
    expect(page).to_have_url(RESULT_URL)
    expect(page.locator('.big-digit[data-field="digit"]')).to_have_text("3", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator(".probability-row")).to_have_count(10)
    expect(page.locator("img.model-input")).to_be_visible()

    # Draw: a seven with the mouse, then send it.
    page.get_by_role("link", name="Draw").first.click()
    expect(page.locator("#draw-submit")).to_be_disabled()
    draw_seven(page)
    expect(page.locator("#draw-submit")).to_be_enabled()
    page.locator("#draw-submit").click()
    expect(page).to_have_url(RESULT_URL)
    expect(page.locator('.big-digit[data-field="digit"]')).to_have_text("7", timeout=ANSWER_TIMEOUT_MS)

    # Feedback from the page: "yes, it is right".
    page.get_by_role("button", name="Yes, it is right").click()
    expect(page.locator(".feedback-given")).to_contain_text("You marked this answer as right.")

    sources = sorted(Prediction.objects.filter(user__username="dora").values_list("source", "digits"))
    assert sources == [("drawing", "7"), ("upload", "3")]
