"""What a user's answer to "is this right?" stores, through the services every page and the API call."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from recognizer import services
from recognizer.models import Prediction
from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db


def test_alice_says_which_number_it_really_is_and_takes_it_back(alice):
    prediction = finished_prediction(alice, digits="4661")

    services.prediction_record_feedback(prediction=prediction, true_digits=" 4667 ")

    prediction.refresh_from_db()
    assert (prediction.true_digits, prediction.label, prediction.is_correct) == ("4667", "4667", False)
    assert prediction.true_label is None and prediction.feedback_at is not None
    services.prediction_record_feedback(prediction=prediction, true_digits=None)
    prediction.refresh_from_db()
    assert (prediction.true_digits, prediction.feedback_at, prediction.is_correct) == ("", None, None)


@pytest.mark.parametrize("bad", ["", "46a7", "4 667", "4?67", "-46", "٤٦", "1" * 65])
def test_feedback_that_is_not_a_number_of_digits_is_refused_and_nothing_changes(alice, bad):
    prediction = finished_prediction(alice, digits="46", true_digits="46")

    with pytest.raises(services.InvalidLabel, match="1 to 64 digits 0-9"):
        services.prediction_record_feedback(prediction=prediction, true_digits=bad)

    prediction.refresh_from_db()
    assert prediction.true_digits == "46"


def test_alice_corrects_one_digit_of_the_number_read(alice):
    prediction = finished_prediction(alice, digits="4661")

    services.prediction_correct_digit(prediction=prediction, position=3, digit=7)

    prediction.refresh_from_db()
    assert prediction.true_digits == "4667" and prediction.is_correct is False


def test_correcting_a_second_digit_keeps_the_first_correction(alice):
    prediction = finished_prediction(alice, digits="1661")

    services.prediction_correct_digit(prediction=prediction, position=3, digit=7)
    services.prediction_correct_digit(prediction=prediction, position=0, digit=4)

    prediction.refresh_from_db()
    assert prediction.true_digits == "4667"


def test_a_digit_cannot_be_corrected_where_there_is_none_or_a_piece_is_flagged(alice):
    number = finished_prediction(alice, digits="46")
    flagged = finished_prediction(alice, digits="4?6")
    nothing = finished_prediction(alice, digits="", confidence=None)
    pending = finished_prediction(alice, status=Prediction.Status.PENDING)

    with pytest.raises(services.InvalidLabel, match="There is no digit 2: the number read has 2 digits") as error:
        services.prediction_correct_digit(prediction=number, position=2, digit=7)
    assert error.value.code == "position"
    with pytest.raises(services.InvalidLabel, match="no digit -1"):
        services.prediction_correct_digit(prediction=number, position=-1, digit=7)
    with pytest.raises(services.InvalidLabel, match="must be one of 0 to 9"):
        services.prediction_correct_digit(prediction=number, position=0, digit=10)
    with pytest.raises(services.InvalidLabel, match="could not be read; write the whole number") as error:
        services.prediction_correct_digit(prediction=flagged, position=0, digit=4)
    assert error.value.code == "flagged"
    for unread in (nothing, pending):
        with pytest.raises(services.InvalidLabel, match="no number read to correct"):
            services.prediction_correct_digit(prediction=unread, position=0, digit=4)

    for prediction in (number, flagged, nothing, pending):
        prediction.refresh_from_db()
        assert prediction.true_digits == ""


def test_the_database_refuses_a_label_that_is_not_digits_even_past_the_services(alice):
    prediction = finished_prediction(alice, digits="46")
    for field in ("true_digits", "staff_digits"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Prediction.objects.filter(pk=prediction.pk).update(**{field: "4?6"})
