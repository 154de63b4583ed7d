"""Alice's pictures of numbers on the website: the number read, a box and a card per digit, and her
corrections (the whole number typed, or one digit fixed), with clear messages when what she sends is wrong.

The rows are written as a worker leaves them (no model runs here): the model's answers are given.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from recognizer.models import Prediction
from tests.images import encode, mnist_example

pytestmark = pytest.mark.django_db

_examples = itertools.count()
DIGIT_WIDTH = 60  # each digit's width in the row's picture; the boxes are in its pixels


def number_row(
    user,
    digits: str = "4667",
    *,
    true_digits: str = "",
    status: str = Prediction.Status.DONE,
    created_at=None,
) -> Prediction:
    """A finished prediction of a number: a picture of MNIST digits side by side, a box, a confidence
    and 10 probabilities per piece, and the strip of 28x28 model inputs ("?" pieces show a 0)."""
    done = status == Prediction.Status.DONE
    shown = [int(c) if c.isdigit() else 0 for c in digits] or [1]
    inputs = [mnist_example(d, next(_examples) % 40) for d in shown]
    picture = np.full((100, DIGIT_WIDTH * len(inputs) + 40), 235, dtype=np.uint8)
    for i, pixels in enumerate(inputs):
        big = np.asarray(Image.fromarray(pixels).resize((56, 56)))
        picture[22:78, 20 + i * DIGIT_WIDTH : 76 + i * DIGIT_WIDTH] -= (big * 0.8).astype(np.uint8)
    confidences = [0.4 if c == "?" else 0.9 + 0.01 * (i % 5) for i, c in enumerate(digits)]
    probabilities = []
    for c, confidence in zip(digits, confidences, strict=True):
        likeliest = int(c) if c.isdigit() else 5
        probabilities.append([confidence if d == likeliest else (1 - confidence) / 12 for d in range(10)])
    prediction = Prediction(
        user=user,
        created_at=created_at or timezone.now(),
        status=status,
        original_name=f"number-{digits}.jpg",
        digits=digits if done else "",
        confidence=float(np.prod(confidences)) if done and digits else None,
        confidences=confidences if done else [],
        probabilities=probabilities if done else [],
        boxes=[[20 + i * DIGIT_WIDTH, 22, 76 + i * DIGIT_WIDTH, 78] for i in range(len(digits))] if done else [],
        image_width=picture.shape[1],
        image_height=picture.shape[0],
        model_version="2.0.0" if done else "",
        finished_at=timezone.now() if done else None,
        true_digits=true_digits,
        feedback_at=timezone.now() if true_digits else None,
    )
    prediction.image.save("number.jpg", ContentFile(encode(Image.fromarray(picture, "L"), "JPEG")), save=False)
    if done and digits:
        strip = Image.fromarray(np.hstack(inputs), "L")
        prediction.model_input.save("input.png", ContentFile(encode(strip)), save=False)
    prediction.save()
    return prediction


def result_page(client, prediction: Prediction) -> str:
    response = client.get(reverse("prediction_detail", args=[prediction.pk]))
    assert response.status_code == 200
    return response.content.decode()


def status_of(client, prediction: Prediction) -> dict:
    return client.get(reverse("prediction_status", args=[prediction.pk])).json()


def feedback(client, prediction: Prediction, typed: str, **extra):
    return client.post(reverse("prediction_feedback", args=[prediction.pk]), {"true_digits": typed}, **extra)


def correct(client, prediction: Prediction, **fields):
    return client.post(reverse("prediction_correct_digit", args=[prediction.pk]), fields)


def test_the_status_json_has_the_number_and_each_digits_box_card_and_bars(alice_client, alice):
    prediction = number_row(alice, "4667")

    status = status_of(alice_client, prediction)

    assert status["digits"] == "4667" and status["digit"] is None and status["number_found"] is True
    assert status["flagged"] is False and status["no_digit_found"] is False
    assert (status["image_width"], status["image_height"]) == (280, 100)
    assert status["boxes"] == [[20, 22, 76, 78], [80, 22, 136, 78], [140, 22, 196, 78], [200, 22, 256, 78]]
    assert [piece["text"] for piece in status["pieces"]] == ["4", "6", "6", "7"]
    assert [piece["confidence_percent"] for piece in status["pieces"]] == ["90.0", "91.0", "92.0", "93.0"]
    assert status["pieces"][2]["outline"] == {
        "x": 140,
        "y": 22,
        "width": 56,
        "height": 56,
        "label_x": 168.0,
        "label_y": pytest.approx(18.5),
    }
    assert len(status["pieces"][3]["probability_percents"]) == 10
    assert status["pieces"][3]["probability_percents"][7] == "93.0"
    assert status["model_input_url"] == reverse("prediction_picture", args=[prediction.pk, "input"])


def test_the_result_page_shows_the_number_a_box_over_each_digit_and_a_card_per_digit(alice_client, alice):
    prediction = number_row(alice, "4667")

    page = result_page(alice_client, prediction)

    number = re.search(r'<p class="big-number"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", number) == "4667"
    assert 'viewBox="0 0 280 100"' in page
    assert page.count('<g class="digit-box') == 4
    assert [re.sub(r"\s", "", t) for t in re.findall(r"<text [^>]*>(.*?)</text>", page)] == ["4", "6", "6", "7"]
    assert page.count('class="piece"') + page.count('class="piece piece-flagged"') == 4
    assert page.count('class="piece-input"') == 4 and "--index: 3" in page
    assert reverse("prediction_picture", args=[prediction.pk, "input"]) in page
    assert page.count('class="probability-row') == 10
    assert "digit 1 of 4" in page
    assert "Yes, it is right" in page and 'name="true_digits" value="4667"' in page
    assert 'inputmode="numeric"' in page and 'pattern="[0-9]+"' in page
    assert "Or correct one digit" in page and page.count('name="position"') == 4
    assert (
        "number-char number-flagged" not in page and '<p class="flagged-note" data-show-when="flagged" hidden>' in page
    )


def test_a_piece_that_could_not_be_read_shows_as_a_question_mark_with_a_note(alice_client, alice):
    prediction = number_row(alice, "4?67")

    page = result_page(alice_client, prediction)
    status = status_of(alice_client, prediction)

    assert status["flagged"] is True and status["selected_position"] == 1
    assert '<span class="number-char number-flagged" title="This piece could not be read">?</span>' in page
    assert "This piece could not be read: it may be a smudge" in page
    assert page.count("digit-box-flagged") == 1 and "not read" in page
    # "Yes" cannot be the answer, and one digit cannot be corrected: the number is typed whole.
    assert re.search(r'<form [^>]*class="feedback-yes-form"[^>]*hidden', page, re.S)
    assert re.search(r'<form [^>]*class="correct-form"[^>]*hidden', page, re.S)
    assert re.search(r'<details class="feedback-no" open>', page)


def test_alice_says_the_number_is_right(alice_client, alice):
    prediction = number_row(alice, "4667")

    response = feedback(alice_client, prediction, "4667")

    assert response.status_code == 302
    prediction.refresh_from_db()
    assert prediction.true_digits == "4667" and prediction.is_correct is True
    page = alice_client.get(response["Location"]).content.decode()
    assert "Thank you! Marked as right." in page and "You marked this answer as right." in page
    assert status_of(alice_client, prediction)["is_correct"] is True


def test_alice_types_the_right_number_and_spaces_between_groups_are_dropped(alice_client, alice):
    prediction = number_row(alice, "4667")

    response = feedback(alice_client, prediction, " 4 687 ")

    assert response.status_code == 302
    prediction.refresh_from_db()
    assert prediction.true_digits == "4687" and prediction.is_correct is False
    page = alice_client.get(response["Location"]).content.decode()
    assert "Thank you! Noted: it is 4687." in page and "You said it is 4687." in page
    assert status_of(alice_client, prediction)["is_correct"] is False


def test_a_number_with_a_piece_not_read_is_corrected_by_typing_it_whole(alice_client, alice):
    prediction = number_row(alice, "4?67")

    feedback(alice_client, prediction, "4667")

    prediction.refresh_from_db()
    assert prediction.true_digits == "4667"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("46a7", "Type digits only (0 to 9), with no other signs."),
        ("4,667", "Type digits only (0 to 9), with no other signs."),
        ("", "Type the number the picture shows."),
        ("1" * 65, "At most 64 digits."),
    ],
)
def test_a_typed_number_that_is_not_one_is_refused_with_a_clear_message(alice_client, alice, typed, message):
    prediction = number_row(alice, "4667")

    response = feedback(alice_client, prediction, typed)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    # The form stays open with what she typed, to fix it.
    assert '<details class="feedback-no" open>' in page
    if typed:
        assert f'value="{typed}"' in page
    prediction.refresh_from_db()
    assert prediction.true_digits == ""


def test_alice_corrects_one_digit_then_another_and_both_are_kept(alice_client, alice):
    prediction = number_row(alice, "4667")

    response = correct(alice_client, prediction, position="1", digit="8")
    assert response.status_code == 302
    prediction.refresh_from_db()
    assert prediction.true_digits == "4867"
    assert "Thank you! Noted: it is 4867." in alice_client.get(response["Location"]).content.decode()

    correct(alice_client, prediction, position="3", digit="1")
    prediction.refresh_from_db()
    assert prediction.true_digits == "4861"
    assert "You said it is 4861." in result_page(alice_client, prediction)


def test_a_single_digit_is_corrected_by_picking_the_right_one(alice_client, alice):
    prediction = number_row(alice, "1")

    page = result_page(alice_client, prediction)
    assert "Or pick the right digit:" in page
    assert re.search(r'name="position" value="0" checked', page)

    correct(alice_client, prediction, position="0", digit="7")
    prediction.refresh_from_db()
    assert prediction.true_digits == "7" and prediction.true_label == 7


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"digit": "8"}, "First choose the digit to correct."),
        ({"position": "4", "digit": "8"}, "First choose the digit to correct."),
        ({"position": "-1", "digit": "8"}, "First choose the digit to correct."),
        ({"position": "x", "digit": "8"}, "First choose the digit to correct."),
        ({"position": "1"}, "Pick the right digit, from 0 to 9."),
        ({"position": "1", "digit": "12"}, "Pick the right digit, from 0 to 9."),
    ],
)
def test_a_digit_correction_that_makes_no_sense_is_refused_with_a_clear_message(alice_client, alice, fields, message):
    prediction = number_row(alice, "4667")

    response = correct(alice_client, prediction, **fields)

    assert response.status_code == 400
    assert message in response.content.decode()
    prediction.refresh_from_db()
    assert prediction.true_digits == ""


def test_one_digit_of_a_number_with_a_piece_not_read_cannot_be_corrected(alice_client, alice):
    prediction = number_row(alice, "4?67")

    response = correct(alice_client, prediction, position="1", digit="6")

    assert response.status_code == 400
    assert "write the whole number instead" in response.content.decode()
    prediction.refresh_from_db()
    assert prediction.true_digits == ""


def test_no_feedback_before_the_answer_is_ready(alice_client, alice):
    pending = number_row(alice, status=Prediction.Status.PENDING)

    typed = feedback(alice_client, pending, "4667")
    corrected = correct(alice_client, pending, position="0", digit="4")

    assert typed.status_code == 400 and "The answer is not ready yet" in typed.content.decode()
    assert corrected.status_code == 400
    pending.refresh_from_db()
    assert pending.true_digits == ""
    assert alice_client.get(reverse("prediction_correct_digit", args=[pending.pk])).status_code == 405


def test_a_picture_with_no_digit_can_still_be_told_its_number(alice_client, alice):
    blank = number_row(alice, "")

    page = result_page(alice_client, blank)
    assert "No digit found in this picture." in page
    assert re.search(r'<form [^>]*class="feedback-yes-form"[^>]*hidden', page, re.S)

    feedback(alice_client, blank, "12")
    blank.refresh_from_db()
    assert blank.true_digits == "12"


def history(client, **params):
    response = client.get(reverse("history"), params)
    assert response.status_code == 200
    return response


def history_ids(client, **params) -> list[int]:
    return [prediction.pk for prediction, _ in history(client, **params).context["rows"]]


def test_the_history_shows_each_number_and_what_alice_said_it_is(alice_client, alice):
    number_row(alice, "4667")
    number_row(alice, "120", true_digits="128")

    page = history(alice_client).content.decode()

    assert re.search(r'data-field="digits">4667</span>', page)
    assert "✗ it is 128" in page


def test_the_history_finds_a_number_whole_or_by_a_part(alice_client, alice):
    now = timezone.now()
    meter = number_row(alice, "4667", created_at=now - timedelta(days=2))
    account = number_row(alice, "904667", true_digits="904667", created_at=now - timedelta(days=1))
    other = number_row(alice, "1234", created_at=now)

    assert history_ids(alice_client) == [other.pk, account.pk, meter.pk]
    assert history_ids(alice_client, number="4667") == [account.pk, meter.pk]
    assert history_ids(alice_client, number="904667") == [account.pk]
    assert history_ids(alice_client, number="23") == [other.pk]
    assert history_ids(alice_client, number="555") == []
    # The other filters still narrow the search.
    assert history_ids(alice_client, number="4667", feedback="right") == [account.pk]
    assert history_ids(alice_client, number="4667", feedback="none") == [meter.pk]


def test_a_search_that_is_not_a_number_says_so_and_shows_the_rest(alice_client, alice):
    meter = number_row(alice, "4667")

    response = history(alice_client, number="46a")

    assert "Type digits only (0 to 9), with no other signs." in response.content.decode()
    assert [p.pk for p, _ in response.context["rows"]] == [meter.pk]
    assert "No pictures match these filters." in history(alice_client, number="999").content.decode()


@pytest.mark.parametrize("language", ["ta", "hi"])
def test_the_number_pages_are_in_tamil_and_hindi(alice_client, alice, language):
    prediction = number_row(alice, "4?67")
    english = [
        "This piece could not be read",
        "Type the right number:",
        "Digit by digit",
        "Each box is one digit the model found, with what it read there.",
    ]
    with translation.override(language):
        translated = [translation.gettext(message) for message in english]
    assert all(t and t != e for t, e in zip(translated, english, strict=True)), translated

    alice_client.cookies["django_language"] = language
    page = result_page(alice_client, prediction)
    assert all(t in page for t in translated[:3])
    assert not any(e in page for e in english)
    bad = feedback(alice_client, prediction, "46a7").content.decode()
    with translation.override(language):
        assert translation.gettext("Type digits only (0 to 9), with no other signs.") in bad
