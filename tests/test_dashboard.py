"""The misclassification dashboard as staff read it, in English, Tamil and Hindi: the accuracy chart is text
and shapes in the page (drawn by the browser with its own fonts, dates in the reader's language), an empty
dashboard says there is nothing labelled instead of a grid of zeros, and a zero on the diagonal is not green.

The browser test measures each piece of the chart's text as Chromium draws it, and keeps a screenshot of
the chart per language in the test's tmp dir.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.prediction_rows import finished_prediction
from tests.test_browser import DESKTOP
from tests.test_layout_browser import open_context

DASHBOARD = "admin:recognizer_prediction_dashboard"
LANGUAGES = ["en", "ta", "hi"]
# The script each language writes in, as a reader expects to see it in the chart's dates and captions.
SCRIPTS = {"en": re.compile(r"[A-Za-z]"), "ta": re.compile(r"[\u0B80-\u0BFF]"), "hi": re.compile(r"[\u0900-\u097F]")}
SVG_TEXT = re.compile(r"<text[^>]*>([^<]*)</text>")


@pytest.fixture
def labelled_over_days(alice, staff):
    today = timezone.now()
    nine_days_ago = today - timedelta(days=9)
    rows = [
        finished_prediction(alice, digits="4", true_digits="4", created_at=today - timedelta(days=20)),
        finished_prediction(alice, digits="7", true_digits="1", created_at=today - timedelta(days=20)),
        finished_prediction(alice, digits="38", staff_digits="38", reviewer=staff, created_at=nine_days_ago),
        finished_prediction(alice, digits="9", true_digits="4", created_at=today),
        finished_prediction(alice, digits="2", true_digits="2", created_at=today),
    ]
    return rows


def dashboard_in(client, language: str, **query) -> str:
    client.cookies["django_language"] = language
    response = client.get(reverse(DASHBOARD), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_accuracy_chart_is_text_in_the_page_in_the_readers_language(client, staff, labelled_over_days, language):
    client.force_login(staff)
    page = dashboard_in(client, language)
    assert "accuracy.png" not in page and '<img class="accuracy-chart"' not in page
    figure = page[page.index('<figure class="accuracy-chart">') :]
    svg = figure[: figure.index("</svg>")]
    texts = SVG_TEXT.findall(svg)
    assert "100%" in texts and "0%" in texts  # the accuracy axis
    dates = [text for text in texts if not re.fullmatch(r"[0-9%]+", text)]
    # One date under each of the three days that have labels, written in the reader's language.
    assert len(dates) == 3, texts
    assert all(SCRIPTS[language].search(date) for date in dates), dates
    caption = figure[figure.index("<figcaption") : figure.index("</figcaption>")]
    assert SCRIPTS[language].search(re.sub(r"<[^>]+>", "", caption))


@pytest.mark.django_db
def test_a_dashboard_with_nothing_labelled_says_so_instead_of_a_grid_of_zeros(client, staff, alice):
    finished_prediction(alice, digits="5")  # read, but nobody said what it is
    client.force_login(staff)
    page = dashboard_in(client, "en")
    assert "No labelled predictions match these filters yet." in page
    assert "The matrix and the charts appear once predictions have labels" in page
    assert 'class="confusion-matrix"' not in page
    assert 'class="accuracy-chart"' not in page and "0%" not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chart_text_is_drawn_with_real_glyphs_and_a_zero_diagonal_cell_is_not_green(
    chromium,  # noqa: F811
    live_server,
    staff,
    labelled_over_days,
    language,
    tmp_path,
):
    context = open_context(chromium, live_server, language=language, viewport=DESKTOP, user=staff)
    page = context.new_page()
    page.goto(live_server.url + reverse(DASHBOARD))
    chart = page.locator("figure.accuracy-chart")
    chart.screenshot(path=str(tmp_path / f"chart-{language}.png"))
    page.screenshot(path=str(tmp_path / f"dashboard-{language}.png"), full_page=True)

    # Each piece of text is measured as drawn; a character no font has is drawn as the .notdef box, as wide as
    # a character that exists nowhere (U+10FFFD, private use). Real text has a width and is not all boxes.
    measured = page.evaluate(
        """() => {
            const canvas = document.createElement("canvas").getContext("2d");
            const chart = "figure.accuracy-chart text, figure.accuracy-chart figcaption";
            const pieces = [...document.querySelectorAll(chart)];
            return pieces.map(piece => {
                const style = getComputedStyle(piece);
                canvas.font = `${style.fontSize} ${style.fontFamily}`;
                const box = canvas.measureText("\\u{10FFFD}").width;
                const letters = [...piece.textContent.trim()].filter(c => c.codePointAt(0) > 0x7f && c.trim());
                const boxes = letters.filter(c => Math.abs(canvas.measureText(c).width - box) < 0.01).length;
                return {text: piece.textContent.trim(), width: piece.getBoundingClientRect().width,
                        letters: letters.length, boxes};
            });
        }"""
    )
    assert len(measured) >= 8
    for piece in measured:
        assert piece["width"] > 0, piece
        assert piece["letters"] == 0 or piece["boxes"] < piece["letters"], f"drawn as empty boxes: {piece}"

    # The true 1 was read as 7 and never as 1: its diagonal cell holds 0 and is not green; the 2 read right is.
    zero_diagonal = page.locator(".confusion-matrix tbody tr", has=page.locator("th", has_text="1")).locator(
        "td.cell-right"
    )
    assert zero_diagonal.inner_text().strip() == "0"
    background = zero_diagonal.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert background in ("rgba(0, 0, 0, 0)", "transparent"), background
    right_cell = page.locator(".confusion-matrix tbody tr", has=page.locator("th", has_text="2")).locator(
        "td.cell-right"
    )
    assert right_cell.evaluate("cell => getComputedStyle(cell).backgroundColor") not in ("rgba(0, 0, 0, 0)",)
    context.close()
