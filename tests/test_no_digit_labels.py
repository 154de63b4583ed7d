"""Labels that mean what they say: "right, there is no digit" from the user, "not a digit" from staff, and
a correction that is not the digit the model already read. Services and selectors, as every page calls them."""

from __future__ import annotations

import io

import numpy as np
import pytest

from recognizer import selectors, services
from recognizer.selectors import Feedback
from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db


def test_alice_confirms_that_a_picture_with_no_digit_found_has_none(alice):
    blank = finished_prediction(alice, digits="", confidence=None)

    services.prediction_record_no_digit(prediction=blank)

    blank.refresh_from_db()
    assert (blank.user_answered, blank.labelled_not_a_digit, blank.is_correct) == (True, True, True)
    assert blank.true_digits == "" and blank.feedback_at is not None
    assert list(selectors.prediction_list(user=alice, feedback=Feedback.RIGHT)) == [blank]
    assert list(selectors.prediction_list(user=alice, feedback=Feedback.NONE)) == []
    assert blank not in selectors.review_queue()
    assert selectors.prediction_summary(user=alice)["marked_right"] == 1
    # Taking the answer back leaves it unanswered again.
    services.prediction_record_feedback(prediction=blank, true_digits=None)
    blank.refresh_from_db()
    assert (blank.user_answered, blank.is_correct) == (False, None)
    assert blank in selectors.review_queue()


def test_a_correction_to_the_digit_the_model_read_is_refused(alice):
    prediction = finished_prediction(alice, digits="46")

    with pytest.raises(services.InvalidLabel, match="read 6 there already") as refused:
        services.prediction_correct_digit(prediction=prediction, position=1, digit=6)

    assert refused.value.code == "same_digit"
    prediction.refresh_from_db()
    assert prediction.user_answered is False


def test_staff_mark_a_blank_picture_read_as_3_not_a_digit_and_it_never_becomes_a_training_3(alice, staff, tmp_path):
    blank_read_as_3 = finished_prediction(alice, digits="3", true_digits="3")  # the user agreed with the model
    three = finished_prediction(alice, digits="3", staff_digits="3", reviewer=staff)

    services.prediction_record_not_a_digit(prediction=blank_read_as_3, reviewer=staff)

    blank_read_as_3.refresh_from_db()
    assert (blank_read_as_3.label, blank_read_as_3.labelled_not_a_digit) == ("", True)
    assert blank_read_as_3.is_correct is False  # the model read a digit where there is none
    assert blank_read_as_3 not in selectors.review_queue()
    # The digit matrix counts only the real 3; the blank is counted apart.
    matrix = selectors.confusion_matrix()
    assert matrix.counts == {(3, "3"): 1}
    assert (matrix.not_a_digit, matrix.not_a_digit_right, matrix.predictions) == (1, 0, 2)
    not_a_digit_rows = selectors.predictions_by_label(selectors.predictions_with_label(), selectors.NOT_A_DIGIT)
    assert list(not_a_digit_rows) == [blank_read_as_3]
    # The export never learns it as a digit: not offered, and left out (and counted) when passed anyway.
    assert list(selectors.labelled_for_export()) == [three]
    out = io.BytesIO()
    result = services.labelled_dataset_export(predictions=[blank_read_as_3, three], out=out)
    assert (result.exported, result.skipped, result.not_a_digit) == (1, 1, 1)
    out.seek(0)
    with np.load(out) as arrays:
        assert arrays["prediction_ids"].tolist() == [three.pk]
    # Taking the staff label back: the user's own answer counts again.
    services.prediction_record_review(prediction=blank_read_as_3, staff_digits=None, reviewer=staff)
    blank_read_as_3.refresh_from_db()
    assert (blank_read_as_3.staff_reviewed, blank_read_as_3.label, blank_read_as_3.reviewed_by) == (False, "3", None)


def test_confirming_a_users_no_digit_answer_stores_it_as_staffs_not_a_digit(alice, staff):
    blank = finished_prediction(alice, digits="", confidence=None)
    services.prediction_record_no_digit(prediction=blank)

    result = services.predictions_confirm(predictions=[blank], reviewer=staff)

    blank.refresh_from_db()
    assert (result.confirmed, result.skipped) == (1, 0)
    assert (blank.staff_reviewed, blank.labelled_not_a_digit, blank.reviewed_by) == (True, True, staff)


def test_staff_say_not_a_digit_from_the_review_queue_and_the_dashboard_counts_it_apart(client, staff, alice):
    from django.urls import reverse

    blank = finished_prediction(alice, digits="3", confidence=0.4)
    client.force_login(staff)
    queue = client.get(reverse("admin:recognizer_prediction_review_queue")).content.decode()
    assert 'name="not_a_digit"' in queue and 'class="skip"' in queue

    url = reverse("admin:recognizer_prediction_review_label", args=[blank.pk])
    response = client.post(url, {"not_a_digit": "1"}, HTTP_ACCEPT="application/json")

    assert response.json() == {"id": blank.pk, "staff_digits": "", "not_a_digit": True}
    blank.refresh_from_db()
    assert blank.labelled_not_a_digit and blank.reviewed_by == staff
    dashboard = client.get(reverse("admin:recognizer_prediction_dashboard")).content.decode()
    assert "1 picture is labelled “not a digit”" in dashboard
    listed = client.get(reverse("admin:recognizer_prediction_changelist"), {"label": selectors.NOT_A_DIGIT})
    assert list(listed.context["cl"].result_list) == [blank]
    # Without the script, the plain form comes back to the queue, which no longer lists it.
    other = finished_prediction(alice, digits="", confidence=None)
    response = client.post(reverse("admin:recognizer_prediction_review_label", args=[other.pk]), {"not_a_digit": "1"})
    assert response.status_code == 302
    assert f'id="review-{other.pk}"' not in client.get(response["Location"]).content.decode()


def test_the_admin_list_says_not_a_digit_and_counts_it_as_reviewed(client, staff, alice):
    from django.urls import reverse

    blank = finished_prediction(alice, digits="3", confidence=0.4)
    unreviewed = finished_prediction(alice, digits="5")
    services.prediction_record_not_a_digit(prediction=blank, reviewer=staff)
    client.force_login(staff)
    changelist = reverse("admin:recognizer_prediction_changelist")

    reviewed = client.get(changelist, {"reviewed": "yes"})
    not_reviewed = client.get(changelist, {"reviewed": "no"})

    assert list(reviewed.context["cl"].result_list) == [blank]
    assert list(not_reviewed.context["cl"].result_list) == [unreviewed]
    assert 'not a digit<span class="label-owner">staff</span>' in reviewed.content.decode()
