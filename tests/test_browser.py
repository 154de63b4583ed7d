"""A person in a real browser: headless Chromium (Debian's package) driven by Playwright's sync API.

On a desktop: signs up, uploads a photo, sees the digit on the result page, draws a digit on the canvas
with the mouse and sends it, and sees that answer too. On a phone with a touch screen: drops two
pictures on the upload page, sends both, and draws with a finger, undoing a stroke on the way.
"""

from __future__ import annotations

import base64
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


def open_page(monkeypatch, tmp_path, *, has_touch: bool):
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        require_services(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM refuses to run next to one
    # unless told it is safe (the live server answers from its own thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # A phone-sized screen: the pages must work there.
        context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=has_touch)
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


@pytest.fixture
def browser_page(monkeypatch, tmp_path):
    yield from open_page(monkeypatch, tmp_path, has_touch=False)


@pytest.fixture
def phone_page(monkeypatch, tmp_path):
    yield from open_page(monkeypatch, tmp_path, has_touch=True)


SEVEN = [(0.27, 0.22), (0.75, 0.22), (0.45, 0.82)]


def on_canvas(page, x: float, y: float) -> tuple[float, float]:
    canvas = page.locator("#drawing-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def draw_seven(page) -> None:
    page.mouse.move(*on_canvas(page, *SEVEN[0]))
    page.mouse.down()
    page.mouse.move(*on_canvas(page, *SEVEN[1]), steps=12)
    page.mouse.move(*on_canvas(page, *SEVEN[2]), steps=18)
    page.mouse.up()


def swipe(page, cdp, waypoints: list[tuple[float, float]], steps: int = 15) -> None:
    """One finger on the canvas through the waypoints (fractions of its size): real touch events."""
    points = [on_canvas(page, *waypoints[0])]
    for (x0, y0), (x1, y1) in zip(waypoints, waypoints[1:], strict=False):
        points += [on_canvas(page, x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(1, steps + 1)]
    touch = [{"x": points[0][0], "y": points[0][1]}]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": touch})
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def drop_files(page, selector: str, files: list[tuple[str, bytes]]) -> None:
    """Drops files on an element as a file manager would: a drop event carrying them."""
    payload = [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]
    transfer = page.evaluate_handle(
        """files => {
            const transfer = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], file.name, {type: "image/jpeg"}));
            }
            return transfer;
        }""",
        payload,
    )
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


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


def test_on_a_phone_pictures_are_dropped_and_a_digit_is_drawn_with_a_finger(live_server, phone_page, alice, password):
    from playwright.sync_api import expect

    page = phone_page
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", alice.username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + "/upload/")
    drop_files(page, ".drop-zone", [("two.jpg", paper_photo(2)), ("five.jpg", paper_photo(5))])
    expect(page.locator(".preview-item img")).to_have_count(2)
    page.locator("#upload-submit").click()
    expect(page).to_have_url(re.compile(r".*/predictions/$"))
    expect(page.locator(".history-item")).to_have_count(2)
    for digit in ("2", "5"):
        expect(page.locator(".history-digit", has_text=digit)).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    page.get_by_role("link", name="Draw").first.click()
    cdp = page.context.new_cdp_session(page)
    swipe(page, cdp, [(0.2, 0.9), (0.8, 0.9)])  # a stray stroke along the bottom...
    expect(page.locator("#draw-submit")).to_be_enabled()
    page.locator("#draw-undo").click()  # ...taken back
    expect(page.locator("#draw-submit")).to_be_disabled()
    swipe(page, cdp, SEVEN)
    page.locator("#draw-submit").click()
    expect(page).to_have_url(RESULT_URL)
    expect(page.locator('.big-digit[data-field="digit"]')).to_have_text("7", timeout=ANSWER_TIMEOUT_MS)
    assert sorted(Prediction.objects.filter(user=alice).values_list("source", "digits")) == [
        ("drawing", "7"),
        ("upload", "2"),
        ("upload", "5"),
    ]
