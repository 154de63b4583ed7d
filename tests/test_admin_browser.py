"""Staff in a real browser (headless Chromium): the review queue takes a typed number and Enter."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from recognizer.models import Prediction
from tests.prediction_rows import finished_prediction
from tests.test_browser import DESKTOP, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff_page(monkeypatch, tmp_path):
    yield from open_page(monkeypatch, tmp_path, has_touch=False)


def test_staff_type_a_number_and_press_enter_then_take_the_next_as_read(
    staff_page, live_server, staff, password, alice
):
    doubtful = finished_prediction(alice, digits="4?67", confidence=0.2, shown_digits="4667")
    next_one = finished_prediction(alice, digits="39", confidence=0.6)
    page = staff_page
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/recognizer/prediction/review/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    first = page.locator(f"#review-{doubtful.pk}")
    expect(first).to_have_class(re.compile(r"\bcurrent\b"))  # the least confident comes first, highlighted

    for key in "4667":
        page.keyboard.press(key)  # typed anywhere on the page, the digits go to the highlighted row
    assert first.locator('input[name="label"]').input_value() == "4667"
    page.keyboard.press("Enter")

    expect(first.locator(".review-result")).to_have_text("labelled 4667")
    expect(first).to_have_class(re.compile(r"\blabelled\b"))
    second = page.locator(f"#review-{next_one.pk}")
    expect(second).to_have_class(re.compile(r"\bcurrent\b"))  # on to the next one
    second.get_by_role("button", name="As read").click()
    expect(second.locator(".review-result")).to_have_text("labelled 39")

    assert Prediction.objects.get(pk=doubtful.pk).staff_digits == "4667"
    assert Prediction.objects.get(pk=next_one.pk).staff_digits == "39"
