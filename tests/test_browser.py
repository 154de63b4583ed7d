"""A person in a real browser: headless Chromium (Debian's package) driven by Playwright's sync API.

On a desktop: signs up, uploads a photo, sees the digit on the result page, draws a digit on the canvas
with the mouse and sends it, and sees that answer too. On a phone with a touch screen: drops two
pictures on the upload page, sends both, and draws with a finger, undoing a stroke on the way. With a
real Celery worker: uploads a photo of a number, watches the page fill in the number and a box per
digit when the worker answers, corrects one digit, and finds the correction kept after a reload.

SCREENSHOT_DIR=/tmp/shots keeps screenshots of the result page on a desktop and on a phone.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pytest
from django.db import connections

from recognizer.models import Prediction
from tests.conftest import require_services
from tests.images import number_photo, paper_photo

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


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


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
        context = browser.new_context(viewport=PHONE, has_touch=has_touch)
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


# A digit's strokes in a square as high as the canvas, centred on it (the canvas is wider than high).
SEVEN = [(0.22, 0.2), (0.78, 0.2), (0.42, 0.84)]


def on_canvas(page, x: float, y: float) -> tuple[float, float]:
    canvas = page.locator("#drawing-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    return box["x"] + box["width"] / 2 + (x - 0.5) * box["height"], box["y"] + y * box["height"]


ONE = [(0.5, 0.14), (0.5, 0.86)]


def draw_with_mouse(page, waypoints: list[tuple[float, float]], shift: float = 0.0) -> None:
    """One mouse stroke through the waypoints; `shift` moves it right by that many canvas heights."""
    page.mouse.move(*on_canvas(page, waypoints[0][0] + shift, waypoints[0][1]))
    page.mouse.down()
    for x, y in waypoints[1:]:
        page.mouse.move(*on_canvas(page, x + shift, y), steps=15)
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
    expect(page).to_have_url(RESULT_URL, timeout=ANSWER_TIMEOUT_MS)  # the page goes on once the server answers
    expect(page.locator("[data-number]")).to_have_text("3", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator(".probability-row")).to_have_count(10)
    expect(page.locator(".piece-input")).to_have_count(1)
    expect(page.locator("svg.box-overlay .digit-box")).to_have_count(1)

    # Draw, on a desktop's wide canvas: a number, 71, with the mouse, then send it.
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Draw").first.click()
    canvas = page.locator("#drawing-canvas").bounding_box()
    assert canvas["width"] / canvas["height"] == pytest.approx(3, rel=0.03)
    expect(page.locator("#draw-submit")).to_be_disabled()
    draw_with_mouse(page, SEVEN, shift=-0.5)
    draw_with_mouse(page, ONE, shift=0.45)
    expect(page.locator("#draw-submit")).to_be_enabled()
    screenshot(page, "draw-desktop")
    page.locator("#draw-submit").click()
    expect(page).to_have_url(RESULT_URL)
    expect(page.locator("[data-number]")).to_have_text("71", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("svg.box-overlay .digit-box")).to_have_count(2)

    # Feedback from the page: "yes, it is right".
    page.get_by_role("button", name="Yes, it is right").click()
    expect(page.locator(".feedback-given")).to_contain_text("You marked this answer as right.")

    sources = sorted(Prediction.objects.filter(user__username="dora").values_list("source", "digits"))
    assert sources == [("drawing", "71"), ("upload", "3")]


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
    expect(page).to_have_url(re.compile(r".*/predictions/sent/\?ids=\d+&ids=\d+$"), timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator(".history-item")).to_have_count(2)
    for digit in ("2", "5"):
        expect(page.locator(".history-digit", has_text=digit)).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    screenshot(page, "history-phone")

    page.get_by_role("link", name="Draw").first.click()
    canvas = page.locator("#drawing-canvas").bounding_box()
    assert canvas["width"] / canvas["height"] == pytest.approx(2, rel=0.03)
    assert canvas["width"] > 0.9 * PHONE["width"]  # the whole width of the phone's screen
    cdp = page.context.new_cdp_session(page)
    swipe(page, cdp, [(0.2, 0.9), (0.8, 0.9)])  # a stray stroke along the bottom...
    expect(page.locator("#draw-submit")).to_be_enabled()
    page.locator("#draw-undo").click()  # ...taken back
    expect(page.locator("#draw-submit")).to_be_disabled()
    swipe(page, cdp, SEVEN)
    screenshot(page, "draw-phone")
    page.locator("#draw-submit").click()
    expect(page).to_have_url(RESULT_URL)
    expect(page.locator("[data-number]")).to_have_text("7", timeout=ANSWER_TIMEOUT_MS)
    assert sorted(Prediction.objects.filter(user=alice).values_list("source", "digits")) == [
        ("drawing", "7"),
        ("upload", "2"),
        ("upload", "5"),
    ]


def log_in(page, live_server, user, password) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in").click()


def screenshot(page, name: str) -> None:
    """Keeps a picture of the whole page under SCREENSHOT_DIR, when it is set, for a person to look at."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def boxes_inside_picture(page) -> list[tuple[float, float, float, float]]:
    """Each digit's box as drawn on the screen, as fractions of the picture shown (left, top, right, bottom)."""
    picture = page.locator(".original-picture").bounding_box()
    fractions = []
    for rect in page.locator("svg.box-overlay .digit-box rect").all():
        box = rect.bounding_box()
        fractions.append(
            (
                (box["x"] - picture["x"]) / picture["width"],
                (box["y"] - picture["y"]) / picture["height"],
                (box["x"] + box["width"] - picture["x"]) / picture["width"],
                (box["y"] + box["height"] - picture["y"]) / picture["height"],
            )
        )
    return fractions


NUMBER = "4067"


def test_a_photo_of_a_number_is_read_by_the_worker_boxed_and_one_digit_is_corrected(
    celery_worker_process, live_server, phone_page, alice, password
):
    from playwright.sync_api import expect

    page = phone_page
    log_in(page, live_server, alice, password)
    page.goto(live_server.url + "/upload/")
    photo = number_photo(NUMBER)
    page.set_input_files("#id_images", files=[{"name": "meter.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.locator("#upload-submit").click()
    expect(page).to_have_url(RESULT_URL, timeout=ANSWER_TIMEOUT_MS)  # the page goes on once the server answers

    # The worker answers while the page is open: the page fills in the number, a box over each digit
    # on the picture, a card per digit and the feedback forms, without a reload.
    expect(page.locator("[data-number]")).to_have_text(NUMBER, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator(".waiting")).to_be_hidden()
    expect(page.locator("svg.box-overlay .digit-box")).to_have_count(len(NUMBER))
    expect(page.locator("svg.box-overlay text")).to_have_text(list(NUMBER))
    expect(page.locator(".piece")).to_have_count(len(NUMBER))
    expect(page.locator(".piece-text")).to_have_text(list(NUMBER))
    boxes = boxes_inside_picture(page)
    assert all(0 <= left < right <= 1 and 0 <= top < bottom <= 1 for left, top, right, bottom in boxes), boxes
    assert [box[0] for box in boxes] == sorted(box[0] for box in boxes)  # left to right, as the number reads
    expect(page.get_by_role("button", name="Yes, it is right")).to_be_visible()

    # Choosing a digit's card shows its probabilities and draws its box stronger.
    page.locator(".piece").nth(2).click()
    expect(page.locator(".piece").nth(2)).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".bars-title")).to_contain_text(f"digit 3 of {len(NUMBER)}")
    expect(page.locator(".digit-box-chosen")).to_have_count(1)
    expect(page.locator(".probability-row-chosen .probability-digit")).to_have_text(NUMBER[2])
    page.wait_for_timeout(600)  # the bars' change of width is animated
    screenshot(page, "result-phone")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "result-desktop")
    assert all(0 <= left < right <= 1 for left, _, right, _ in boxes_inside_picture(page))
    page.set_viewport_size(PHONE)

    # "No": the second digit is really a 9. Choose it, then pick 9.
    page.get_by_text("No, it is not").click()
    page.locator(".position-choice").nth(1).click()
    page.locator(".correct-form").get_by_role("button", name="9", exact=True).click()
    corrected = NUMBER[0] + "9" + NUMBER[2:]
    expect(page.locator(".messages")).to_contain_text(f"Noted: it is {corrected}.")
    page.reload()
    expect(page.locator(".feedback-given")).to_contain_text(f"You said it is {corrected}.")
    expect(page.locator("[data-number]")).to_have_text(NUMBER)  # what the model read stays as it was
    screenshot(page, "result-phone-corrected")
    prediction = Prediction.objects.get(user=alice)
    assert (prediction.digits, prediction.true_digits) == (NUMBER, corrected)
