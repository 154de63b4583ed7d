"""A Tamil or Hindi reader sees no English on the site's pages nor on the staff pages we own.

Each page is rendered in English and in ta/hi with the same rows; a piece of text (a text node, or a
title, placeholder, alt, aria-label or button value) that is still the same English in ta/hi is a
string of ours or of Django's left untranslated. What is not language (digits, usernames, file names,
model versions, the site's name) is left out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from recognizer.registry import ModelVersion, TrainingJob
from recognizer.services import model_versions
from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db

LANGUAGES = ["ta", "hi"]
SHOWN_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
# Names, not words: the same in every language.
NOT_LANGUAGE = {"digitsite", "English", "JPEG", "PNG", "WebP", "BMP", "GIF", "MNIST", "npz", "Enter", "CNN"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


class ShownText(HTMLParser):
    """The text a reader sees: text nodes outside script/style, and the attributes a browser shows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: set[str] = set()
        self._hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden_depth += 1
        values = dict(attrs)
        for name in SHOWN_ATTRIBUTES:
            self._add(values.get(name))
        if tag == "input" and values.get("type") in ("submit", "button"):
            self._add(values.get("value"))

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden_depth:
            self._hidden_depth -= 1

    def handle_data(self, data):
        if not self._hidden_depth:
            self._add(data)

    def _add(self, text):
        text = " ".join((text or "").split())
        if text:
            self.pieces.add(text)


def shown_text(html: str) -> set[str]:
    parser = ShownText()
    parser.feed(html)
    return parser.pieces


def english_left(client, url: str, language: str, names: set[str]) -> list[str]:
    """The pieces of text of `url` in `language` that are the same as in English and hold an English word."""
    pages = {}
    for code in ("en", language):
        client.cookies["django_language"] = code
        response = client.get(url)
        # The dashboard asked for dates that cannot be (the end before the start) answers 400 with its form.
        expected = 400 if "created_to=2026-01-01" in url else 200
        assert response.status_code == expected, (url, code, response.status_code)
        pages[code] = shown_text(response.content.decode())
    left = []
    for piece in sorted(pages["en"] & pages[language]):
        without_names = piece
        for name in sorted(names, key=len, reverse=True):
            without_names = without_names.replace(name, " ")
        if set(LATIN_WORD.findall(without_names)) - NOT_LANGUAGE:
            left.append(piece)
    return left


def english_report(left: dict[str, list[str]]) -> str:
    return "English left:\n" + "\n".join(f"{url}:\n  " + "\n  ".join(pieces) for url, pieces in left.items() if pieces)


@pytest.fixture
def rows(alice, staff):
    numbers = [
        finished_prediction(alice, digits="47", true_digits="41", confidence=0.6),
        finished_prediction(alice, digits="3", staff_digits="3", reviewer=staff, confidence=0.98),
        finished_prediction(alice, digits="", confidence=None),
        finished_prediction(alice, digits="5?", confidence=0.3),
    ]
    names = {alice.username, staff.username, "cnn-v1"} | {row.original_name for row in numbers}
    return numbers, names


def site_pages(prediction) -> list[str]:
    return [
        reverse("home"),
        reverse("help"),
        reverse("upload"),
        reverse("draw"),
        reverse("history"),
        reverse("prediction_detail", args=[prediction.pk]),
    ]


def staff_pages(prediction) -> list[str]:
    return [
        reverse("admin:index"),
        reverse("admin:app_list", args=["recognizer"]),
        reverse("admin:recognizer_prediction_changelist"),
        reverse("admin:recognizer_prediction_changelist") + "?verdict=wrong&confidence=low&status__exact=done",
        reverse("admin:recognizer_prediction_change", args=[prediction.pk]),
        reverse("admin:recognizer_prediction_dashboard"),
        reverse("admin:recognizer_prediction_dashboard") + "?created_from=2026-02-01&created_to=2026-01-01",
        reverse("admin:recognizer_prediction_review_queue"),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reader_of_the_site_in_tamil_or_hindi_sees_no_english(client, alice, rows, language):
    numbers, names = rows
    client.force_login(alice)
    left = {url: english_left(client, url, language, names) for url in site_pages(numbers[0])}
    assert not any(left.values()), english_report(left)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_visitor_sees_the_login_and_signup_pages_in_tamil_or_hindi(client, rows, language):
    _numbers, names = rows
    left = {url: english_left(client, url, language, names) for url in (reverse("login"), reverse("signup"))}
    assert not any(left.values()), english_report(left)


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_see_the_admin_pages_we_own_in_tamil_or_hindi(client, staff, rows, language):
    numbers, names = rows
    client.force_login(staff)
    left = {url: english_left(client, url, language, names) for url in staff_pages(numbers[0])}
    assert not any(left.values()), english_report(left)


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_see_the_model_registry_in_tamil_or_hindi(client, staff, rows, language):
    _numbers, names = rows
    active = model_versions.active_model_version()
    refused = ModelVersion.objects.create(
        version="9.9.9",
        file="models/9.9.9/digit_cnn.keras",
        evaluation={
            "candidate": {"mnist_test": {"accuracy": 0.5, "count": 400, "per_digit": [0.5] * 10}},
            "active": {"mnist_test": {"accuracy": 0.99, "count": 400, "per_digit": [0.99] * 10}},
            "active_version": active.version,
            "refusals": [{"score": "mnist_test", "candidate": 0.5, "active": 0.99}],
        },
    )
    TrainingJob.objects.create(
        requested_by=staff,
        base_version=active,
        state=TrainingJob.State.RUNNING,
        progress={"epoch": 1, "epochs": 3, "batch": 20, "batches": 90, "loss": 0.4, "accuracy": 0.9},
    )
    client.force_login(staff)
    pages = [
        reverse("admin:recognizer_modelversion_changelist"),
        reverse("admin:recognizer_promote", args=[refused.pk]),
        reverse("admin:recognizer_trainingjob_changelist"),
        reverse("admin:recognizer_trainingjob_add"),
    ]
    names = names | {active.version, refused.version, "ft"}
    left = {url: english_left(client, url, language, names) for url in pages}
    assert not any(left.values()), english_report(left)
