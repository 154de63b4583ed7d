"""The site as a person meets it, in headless Chromium (Debian's package): answers that mean what they
say, the review queue's "not a digit" and "skip", the result page's order on a phone and its title, a
batch upload's own page, the staff links, dates in each language's own way, and the upload page on a
touch screen and when the server refuses a file.

Desktop 1366 px without touch, phone 390x844 with touch; English, Tamil and Hindi where the words or the
dates differ. Screenshots are kept in each test's tmp dir (pytest's basetemp; --basetemp=DIR to choose it)
for a person to look at.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from recognizer.models import Prediction
from tests.images import paper_photo
from tests.prediction_rows import finished_prediction
from tests.test_browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER_TIMEOUT_MS = 90_000


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def open_page(browser, live_server, *, user=None, phone: bool = False, language: str = "en"):
    """A page in a fresh browser context: a phone with touch or a desktop, in `language`, logged in as `user`."""
    context = browser.new_context(viewport=PHONE if phone else DESKTOP, has_touch=phone, is_mobile=phone)
    cookies = [{"name": "django_language", "value": language, "url": live_server.url}]
    if user is not None:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        cookies.append({"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url})
    context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


def shot(page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def pressed(page, selector: str) -> list[str]:
    """The texts of the visible elements matching `selector` that show as pressed (aria-pressed="true")."""
    return [
        element.inner_text().strip()
        for element in page.locator(f"{selector}[aria-pressed='true']").all()
        if element.is_visible()
    ]


# ---- 1. Answers that mean what they say


def test_yes_and_no_are_exclusive_and_the_picker_never_offers_the_digit_read(chromium, live_server, alice, shots):
    from playwright.sync_api import expect

    prediction = finished_prediction(alice, digits="46")
    page = open_page(chromium, live_server, user=alice)
    page.goto(f"{live_server.url}/predictions/{prediction.pk}/")

    page.get_by_role("button", name="Yes, it is right").click()
    expect(page.locator(".feedback-given")).to_contain_text("You marked this answer as right.")
    expect(page.locator(".feedback-yes")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("details.feedback-no")).not_to_have_attribute("open", "")
    # Opening "No" after "right": no digit shows as chosen there.
    page.get_by_text("No, it is not").click()
    assert pressed(page, ".digit-choice") == []
    assert page.locator(".position-choice input:checked").count() == 0
    shot(page, shots, "feedback-after-right-desktop")

    # Choosing the second digit (a 6): every digit but 6 is offered.
    page.locator(".position-choice").nth(1).click()
    offered = [button.inner_text() for button in page.locator(".digit-choice").all() if button.is_visible()]
    assert offered == ["0", "1", "2", "3", "4", "5", "7", "8", "9"]
    page.locator(".correct-form").get_by_role("button", name="9", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Noted: it is 49.")
    # Now "No, it is 49" is the answer: the 9 pressed under the second digit, "yes" not pressed.
    expect(page.locator(".feedback-yes")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("details.feedback-no")).to_have_attribute("open", "")
    assert pressed(page, ".digit-choice") == ["9"]
    expect(page.locator(".position-choice input").nth(1)).to_be_checked()
    shot(page, shots, "feedback-after-correction-desktop")
    prediction.refresh_from_db()
    assert prediction.true_digits == "49"

    # A single digit read as 7, marked right: "No" offers every digit but 7, none of them chosen.
    seven = finished_prediction(alice, digits="7")
    page.goto(f"{live_server.url}/predictions/{seven.pk}/")
    page.get_by_role("button", name="Yes, it is right").click()
    expect(page.locator(".feedback-yes")).to_have_attribute("aria-pressed", "true")
    page.get_by_text("No, it is not").click()
    offered = [button.inner_text() for button in page.locator(".digit-choice").all() if button.is_visible()]
    assert offered == ["0", "1", "2", "3", "4", "5", "6", "8", "9"]
    assert pressed(page, ".digit-choice") == []
    shot(page, shots, "feedback-single-digit-after-right-desktop")
    assert page.js_errors == []


def test_a_picture_with_no_digit_found_is_answered_right_there_is_no_digit(chromium, live_server, alice, shots):
    from playwright.sync_api import expect

    blank = finished_prediction(alice, digits="", confidence=None)
    page = open_page(chromium, live_server, user=alice, phone=True)
    page.goto(f"{live_server.url}/predictions/{blank.pk}/")
    expect(page.get_by_role("button", name="Yes, it is right")).to_be_hidden()
    expect(page.locator("details.feedback-no")).not_to_have_attribute("open", "")

    page.get_by_role("button", name="Right, there is no digit").click()

    expect(page.locator(".feedback-given")).to_contain_text("You said there is no digit in this picture.")
    expect(page.locator(".feedback-none")).to_have_attribute("aria-pressed", "true")
    shot(page, shots, "no-digit-confirmed-phone")
    blank.refresh_from_db()
    assert (blank.user_answered, blank.true_digits, blank.is_correct) == (True, "", True)
    page.goto(f"{live_server.url}/predictions/?feedback=right")
    expect(page.locator(".history-item")).to_have_count(1)
    expect(page.locator(".tag-right")).to_have_count(1)
    assert page.js_errors == []


# ---- 2. The review queue: "not a digit" and "skip"


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_staff_mark_a_blank_picture_not_a_digit_and_skip_one_without_labelling_it(
    chromium, live_server, alice, staff, shots, phone
):
    from playwright.sync_api import expect

    blank = finished_prediction(alice, digits="3", confidence=0.2)
    doubtful = finished_prediction(alice, digits="5", confidence=0.3)
    seven = finished_prediction(alice, digits="7", confidence=0.4)
    page = open_page(chromium, live_server, user=staff, phone=phone)
    page.goto(f"{live_server.url}/admin/recognizer/prediction/review/")
    item = page.locator(f"#review-{blank.pk}")
    expect(item).to_have_class(re.compile(r"\bcurrent\b"))

    item.get_by_role("button", name="Not a digit").click()
    expect(item.locator(".review-result")).to_have_text("not a digit")
    expect(page.locator(f"#review-{doubtful.pk}")).to_have_class(re.compile(r"\bcurrent\b"))
    page.locator(f"#review-{doubtful.pk}").get_by_role("button", name="Skip").click()
    expect(page.locator(f"#review-{doubtful.pk} .review-result")).to_have_text("skipped")
    expect(page.locator(f"#review-{seven.pk}")).to_have_class(re.compile(r"\bcurrent\b"))
    shot(page, shots, f"review-queue-{'phone' if phone else 'desktop'}")

    blank.refresh_from_db()
    doubtful.refresh_from_db()
    assert blank.labelled_not_a_digit and blank.reviewed_by == staff
    assert not doubtful.has_label
    # Keys: s skips, n says "not a digit", the highlighted row each time.
    if not phone:
        page.locator("h1").click()  # out of any field
        page.keyboard.press("n")
        expect(page.locator(f"#review-{seven.pk} .review-result")).to_have_text("not a digit")
        seven.refresh_from_db()
        assert seven.labelled_not_a_digit
    page.goto(f"{live_server.url}/admin/recognizer/prediction/dashboard/")
    expect(page.locator(".not-a-digit-count")).to_contain_text("labelled “not a digit”")
    shot(page, shots, f"dashboard-not-a-digit-{'phone' if phone else 'desktop'}")
    assert page.js_errors == []


# ---- 3. The result page: the answer and the question first on a phone; a title that says what it is


@pytest.mark.parametrize("language", ["en", "ta", "hi"])
def test_on_a_phone_the_answer_and_the_question_come_first_and_the_title_says_what_it_is(
    chromium, live_server, alice, shots, language
):
    prediction = finished_prediction(alice, digits="4067")
    prediction.original_name = "meter.jpg"
    prediction.save(update_fields=["original_name"])
    page = open_page(chromium, live_server, user=alice, phone=True, language=language)
    page.goto(f"{live_server.url}/predictions/{prediction.pk}/")

    def top(selector: str) -> float:
        return page.locator(selector).bounding_box()["y"]

    assert top(".answer-card") < top(".feedback-card") < top(".pictures-card") < top(".pieces-card")
    # The question is on the first screen.
    assert top(".feedback-card") < PHONE["height"]
    assert page.title().startswith("4067 · meter.jpg")
    assert page.locator("h1").inner_text() == "meter.jpg"
    assert f"#{prediction.pk}" not in page.title() + page.locator("h1").inner_text()
    shot(page, shots, f"result-phone-{language}")
    page.set_viewport_size(DESKTOP)
    shot(page, shots, f"result-desktop-{language}")
    assert page.js_errors == []


# ---- 4. A batch upload: that upload's answers together


def test_a_batch_upload_leads_to_its_own_answers_not_the_whole_history(chromium, live_server, alice, shots):
    from playwright.sync_api import expect

    earlier = finished_prediction(alice, digits="8")
    page = open_page(chromium, live_server, user=alice, phone=True)
    page.goto(f"{live_server.url}/upload/")
    page.set_input_files(
        "#id_images",
        files=[
            {"name": "two.jpg", "mimeType": "image/jpeg", "buffer": paper_photo(2)},
            {"name": "five.jpg", "mimeType": "image/jpeg", "buffer": paper_photo(5)},
        ],
    )
    page.locator("#upload-submit").click()

    expect(page).to_have_url(re.compile(r".*/predictions/sent/\?ids=\d+&ids=\d+$"), timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("h1")).to_have_text("2 pictures sent")
    expect(page.locator(".history-item")).to_have_count(2)
    for digit in ("2", "5"):
        expect(page.locator(".history-digit", has_text=digit)).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    assert page.locator(f'.history-item[data-id="{earlier.pk}"]').count() == 0
    shot(page, shots, "batch-phone")
    # Nobody else sees them.
    bob = type(alice).objects.create_user("bob", password="x-long-password-1")
    other = open_page(chromium, live_server, user=bob)
    assert other.goto(page.url).status == 404
    assert page.js_errors == []


# ---- 5. Staff see the admin and the dashboard in the header


def test_staff_see_the_admin_and_the_dashboard_in_the_header_and_others_do_not(chromium, live_server, alice, staff):
    from playwright.sync_api import expect

    page = open_page(chromium, live_server, user=staff)
    page.goto(f"{live_server.url}/upload/")
    header = page.locator(".site-header")
    header.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r".*/admin/recognizer/prediction/dashboard/$"))
    page.go_back()
    header.get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r".*/admin/$"))

    page = open_page(chromium, live_server, user=alice)
    page.goto(f"{live_server.url}/upload/")
    expect(page.locator(".site-header").get_by_role("link", name="Dashboard")).to_have_count(0)
    expect(page.locator(".site-header").get_by_role("link", name="Admin")).to_have_count(0)


# ---- 6. Dates in each language's own way

DATES = {
    "en": ("Nov. 25, 2026, 3:43 p.m.", "11/25/2026 3:43 p.m."),
    "ta": ("25 நவம்பர் 2026, 15:43", "25/11/2026 15:43"),
    "hi": ("25 नवंबर 2026, 15:43", "25/11/2026 15:43"),
}


@pytest.mark.parametrize("language", ["en", "ta", "hi"])
def test_dates_are_written_the_way_each_language_writes_them(chromium, live_server, alice, shots, language, settings):
    settings.TIME_ZONE = "UTC"
    created = datetime(2026, 11, 25, 15, 43, tzinfo=ZoneInfo("UTC"))
    one = finished_prediction(alice, digits="3", created_at=created)
    finished_prediction(alice, digits="7", created_at=created)
    long_form, short_form = DATES[language]
    page = open_page(chromium, live_server, user=alice, phone=True, language=language)

    page.goto(f"{live_server.url}/predictions/{one.pk}/")
    assert page.locator(".result-header time").inner_text() == long_form
    shot(page, shots, f"date-result-{language}")
    page.goto(f"{live_server.url}/predictions/")
    assert [time.inner_text() for time in page.locator(".history-meta time").all()] == [short_form] * 2
    shot(page, shots, f"date-history-{language}")
    both = Prediction.objects.filter(user=alice).order_by("id").values_list("pk", flat=True)
    page.goto(f"{live_server.url}/predictions/sent/?ids={both[0]}&ids={both[1]}")
    assert page.locator(".page-header time").inner_text() == long_form
    if language != "en":
        assert "." not in page.locator(".page-header time").inner_text()  # no stray period after the month
    # The staff dashboard's figures per day too.
    staff = type(alice).objects.create_user("sam", password="x-long-password-1", is_staff=True, is_superuser=True)
    finished_prediction(alice, digits="5", true_digits="5", created_at=created)
    page = open_page(chromium, live_server, user=staff, language=language)
    page.goto(f"{live_server.url}/admin/recognizer/prediction/dashboard/")
    day = {"en": "11/25/2026", "ta": "25/11/2026", "hi": "25/11/2026"}[language]
    assert page.locator("details .accuracy-table td").first.text_content() == day


# ---- 7. The upload page on a touch screen, and a file the server refuses


def test_a_touch_screen_is_not_told_to_drop_pictures_and_a_desktop_is(chromium, live_server, alice, shots):
    from playwright.sync_api import expect

    phone = open_page(chromium, live_server, user=alice, phone=True)
    phone.goto(f"{live_server.url}/upload/")
    expect(phone.get_by_text("Tap to choose pictures or take a photo")).to_be_visible()
    expect(phone.get_by_text("Drop pictures here", exact=False)).to_be_hidden()
    shot(phone, shots, "upload-phone")

    desktop = open_page(chromium, live_server, user=alice)
    desktop.goto(f"{live_server.url}/upload/")
    expect(desktop.get_by_text("Drop pictures here, or click to choose them")).to_be_visible()
    expect(desktop.get_by_text("Tap to choose pictures or take a photo")).to_be_hidden()
    shot(desktop, shots, "upload-desktop")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_file_the_server_refuses_is_marked_and_the_good_ones_stay_chosen(chromium, live_server, alice, shots, phone):
    from playwright.sync_api import expect

    page = open_page(chromium, live_server, user=alice, phone=phone)
    page.goto(f"{live_server.url}/upload/")
    # Named and typed as a JPEG, so the page cannot tell; only the server, reading it, can.
    page.set_input_files(
        "#id_images",
        files=[
            {"name": "four.jpg", "mimeType": "image/jpeg", "buffer": paper_photo(4)},
            {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all, just words"},
            {"name": "six.jpg", "mimeType": "image/jpeg", "buffer": paper_photo(6)},
        ],
    )
    page.locator("#upload-submit").click()

    bad = page.locator(".preview-item.is-invalid")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("notes.jpg is not a picture we can read")
    expect(page.locator(".preview-item")).to_have_count(3)  # the good ones are still chosen
    expect(page.locator(".client-error")).to_contain_text("Remove the pictures marked in red")
    expect(page.locator("#upload-submit")).to_be_disabled()
    assert page.evaluate("document.getElementById('id_images').files.length") == 3
    assert Prediction.objects.count() == 0
    expect(page.locator(".drop-zone .for-touch" if phone else ".drop-zone .for-fine-pointer")).to_be_visible()
    shot(page, shots, f"upload-refused-{'phone' if phone else 'desktop'}")

    bad.get_by_role("button").click()
    expect(page.locator(".preview-item")).to_have_count(2)
    expect(page.locator("#upload-submit")).to_be_enabled()
    page.locator("#upload-submit").click()
    expect(page).to_have_url(re.compile(r".*/predictions/sent/\?ids=\d+&ids=\d+$"), timeout=ANSWER_TIMEOUT_MS)
    assert sorted(Prediction.objects.values_list("original_name", flat=True)) == ["four.jpg", "six.jpg"]
    assert page.js_errors == []
