"""Staff inspect the model's mistakes in the admin: who gets in, the dashboard's counts and links,
the review queue, the labelling actions and which label wins."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from recognizer import selectors
from recognizer.models import Prediction
from tests.prediction_rows import finished_prediction, stored_model_input

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:recognizer_prediction_changelist"
DASHBOARD = "admin:recognizer_prediction_dashboard"
REVIEW_QUEUE = "admin:recognizer_prediction_review_queue"


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def staff_pages(prediction: Prediction) -> list[str]:
    return [
        reverse("admin:index"),
        reverse(CHANGELIST),
        reverse("admin:recognizer_prediction_change", args=[prediction.pk]),
        reverse(DASHBOARD),
        reverse(REVIEW_QUEUE),
        reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "input"]),
        reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "upload"]),
    ]


def listed_ids(response) -> set[int]:
    """The predictions an admin list page shows (all of them: the tests stay under one page)."""
    changelist = response.context["cl"]
    assert changelist.result_count == len(changelist.result_list), "the test expects a single page"
    return {prediction.pk for prediction in changelist.result_list}


# ---- who gets in


def test_a_signed_in_user_who_is_not_staff_is_sent_to_the_admin_login_from_every_page(alice_client, alice):
    prediction = finished_prediction(alice, digits="3", true_digits="3")
    for url in staff_pages(prediction):
        response = alice_client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_an_anonymous_visitor_is_sent_to_the_admin_login(client, alice):
    prediction = finished_prediction(alice)
    for url in staff_pages(prediction):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url


def test_a_normal_user_cannot_label_from_the_review_queue(alice_client, alice):
    prediction = finished_prediction(alice, digits="4")
    url = reverse("admin:recognizer_prediction_review_label", args=[prediction.pk])
    response = alice_client.post(url, {"label": "9"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 302
    prediction.refresh_from_db()
    assert prediction.staff_digits == "" and prediction.reviewed_by is None


def test_staff_without_the_prediction_permissions_get_403_on_the_dashboard_and_labelling(
    client, django_user_model, alice
):
    helper = django_user_model.objects.create_user("harriet", password="x", is_staff=True)
    client.force_login(helper)
    prediction = finished_prediction(alice, digits="4")
    assert client.get(reverse(DASHBOARD)).status_code == 403
    assert client.get(reverse(REVIEW_QUEUE)).status_code == 403
    label_url = reverse("admin:recognizer_prediction_review_label", args=[prediction.pk])
    assert client.post(label_url, {"label": "4"}).status_code == 403
    prediction.refresh_from_db()
    assert prediction.staff_digits == ""


def test_staff_with_only_the_view_permission_see_the_queue_but_cannot_label(client, django_user_model, alice):
    viewer = django_user_model.objects.create_user("victor", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_prediction"))
    client.force_login(viewer)
    prediction = finished_prediction(alice, digits="4", confidence=0.4)
    assert client.get(reverse(DASHBOARD)).status_code == 200
    response = client.get(reverse(REVIEW_QUEUE))
    assert response.status_code == 200 and response.context["can_label"] is False
    label_url = reverse("admin:recognizer_prediction_review_label", args=[prediction.pk])
    assert client.post(label_url, {"label": "4"}).status_code == 403


def test_staff_reach_every_admin_page(staff_client, alice):
    prediction = finished_prediction(alice, digits="3", true_digits="3")
    for url in staff_pages(prediction):
        assert staff_client.get(url).status_code == 200, url


# ---- the list and the detail page


def test_the_list_shows_pictures_prediction_labels_and_the_right_or_wrong_mark(staff_client, alice, staff):
    wrong = finished_prediction(alice, digits="9", true_digits="4", confidence=0.62)
    right = finished_prediction(alice, digits="2", true_digits="2")
    unknown = finished_prediction(alice, digits="5")
    response = staff_client.get(reverse(CHANGELIST))
    page = response.content.decode()
    for prediction in (wrong, right, unknown):
        assert reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "input"]) in page
        assert reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "upload"]) + "?size=thumb" in page
    assert "62.0%" in page
    assert page.count("verdict-wrong") == 1 and page.count("verdict-right") == 1 and page.count("verdict-unknown") == 1
    assert "alice" in page and "cnn-v1" in page


def test_the_pictures_are_served_to_staff_as_stored(staff_client, alice):
    prediction = finished_prediction(alice, digits="6", true_digits="6")
    response = staff_client.get(reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "input"]))
    assert response["Content-Type"] == "image/png"
    served = np.asarray(Image.open(io.BytesIO(b"".join(response.streaming_content))).convert("L"))
    assert np.array_equal(served, stored_model_input(prediction))
    thumbnail = staff_client.get(
        reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "upload"]), {"size": "thumb"}
    )
    picture = Image.open(io.BytesIO(thumbnail.content))
    assert picture.format == "PNG" and max(picture.size) <= 96


def test_an_unknown_picture_kind_or_prediction_is_404(staff_client, alice):
    prediction = finished_prediction(alice)
    assert (
        staff_client.get(reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "x"])).status_code == 404
    )
    assert staff_client.get(reverse("admin:recognizer_prediction_picture", args=[99999, "input"])).status_code == 404


def test_a_stored_upload_that_does_not_decode_has_no_thumbnail_but_the_list_still_shows(staff_client, alice):
    prediction = finished_prediction(alice, status=Prediction.Status.FAILED)
    with prediction.image.open("wb") as stored:
        stored.write(b"\xff\xd8\xff\xe0 truncated")
    url = reverse("admin:recognizer_prediction_picture", args=[prediction.pk, "upload"])
    assert staff_client.get(url, {"size": "thumb"}).status_code == 404
    assert staff_client.get(reverse(CHANGELIST)).status_code == 200


def test_the_detail_page_shows_both_pictures_all_probabilities_timings_and_the_error(staff_client, alice):
    done = finished_prediction(alice, digits="8", confidence=0.81)
    page = staff_client.get(reverse("admin:recognizer_prediction_change", args=[done.pk])).content.decode()
    assert page.count('class="probability-bar"') == 10
    assert "81.00%" in page and "12.5" in page and "3.25" in page
    assert 'class="prediction-large pixelated"' in page and 'class="prediction-large"' in page
    failed = finished_prediction(alice, status=Prediction.Status.FAILED)
    page = staff_client.get(reverse("admin:recognizer_prediction_change", args=[failed.pk])).content.decode()
    assert "The picture could not be read." in page


def test_staff_correct_the_label_on_the_detail_page_apart_from_the_users_answer(staff_client, alice, staff):
    prediction = finished_prediction(alice, digits="1", true_digits="1", shown_digits="7")
    response = staff_client.post(
        reverse("admin:recognizer_prediction_change", args=[prediction.pk]), {"staff_digits": "7"}
    )
    assert response.status_code == 302
    prediction.refresh_from_db()
    assert (prediction.true_digits, prediction.staff_digits, prediction.label) == ("1", "7", "7")
    assert prediction.reviewed_by == staff and prediction.reviewed_at is not None
    assert prediction.is_correct is False


def test_the_detail_page_of_a_number_shows_every_digits_probabilities_and_the_strip_the_model_saw(staff_client, alice):
    number = finished_prediction(alice, digits="4667", confidence=0.9)
    page = staff_client.get(reverse("admin:recognizer_prediction_change", args=[number.pk])).content.decode()
    assert page.count('class="probability-bar"') == 40
    assert "Digit 4: read 7" in page
    assert 'width="560" height="140"' in page  # the 4 model inputs side by side
    strip = staff_client.get(reverse("admin:recognizer_prediction_picture", args=[number.pk, "input"]))
    assert Image.open(io.BytesIO(b"".join(strip.streaming_content))).size == (4 * 28, 28)


def test_staff_label_a_number_on_the_detail_page_and_a_label_with_letters_is_refused(staff_client, alice, staff):
    prediction = finished_prediction(alice, digits="4661", true_digits="4661")
    url = reverse("admin:recognizer_prediction_change", args=[prediction.pk])
    refused = staff_client.post(url, {"staff_digits": "46six7"})
    assert refused.status_code == 200 and "A number is written with 1 to 64 digits 0-9" in refused.content.decode()
    assert staff_client.post(url, {"staff_digits": "4667"}).status_code == 302
    prediction.refresh_from_db()
    assert (prediction.true_digits, prediction.staff_digits, prediction.label) == ("4661", "4667", "4667")
    assert prediction.is_correct is False and prediction.reviewed_by == staff
    staff_client.post(url, {"staff_digits": ""})  # staff take their label back: the user's answer counts again
    prediction.refresh_from_db()
    assert (prediction.staff_digits, prediction.label, prediction.is_correct) == ("", "4661", True)


def test_staff_find_numbers_by_search_and_by_a_digit_read_or_labelled(staff_client, alice):
    meter = finished_prediction(alice, digits="4667", true_digits="4668")
    flagged = finished_prediction(alice, digits="3?5")
    seven = finished_prediction(alice, digits="7")
    nothing = finished_prediction(alice, digits="", confidence=None)
    url = reverse(CHANGELIST)
    assert listed_ids(staff_client.get(url, {"q": "466"})) == {meter.pk}
    assert listed_ids(staff_client.get(url, {"q": "4668"})) == {meter.pk}  # the label is searched too
    assert listed_ids(staff_client.get(url, {"predicted": "7"})) == {meter.pk, seven.pk}
    assert listed_ids(staff_client.get(url, {"predicted": "?"})) == {flagged.pk}
    assert listed_ids(staff_client.get(url, {"predicted": "none"})) == {nothing.pk}
    assert listed_ids(staff_client.get(url, {"label": "8"})) == {meter.pk}
    assert listed_ids(staff_client.get(url, {"label": "none"})) == {flagged.pk, seven.pk, nothing.pk}


def test_staff_cannot_add_a_prediction_by_hand(staff_client):
    assert staff_client.get(reverse("admin:recognizer_prediction_add")).status_code == 403


def test_search_by_username(staff_client, alice, bob):
    alices = finished_prediction(alice)
    finished_prediction(bob)
    assert listed_ids(staff_client.get(reverse(CHANGELIST), {"q": "alice"})) == {alices.pk}


def test_filters_by_confidence_band_and_right_or_wrong(staff_client, alice):
    low = finished_prediction(alice, digits="3", confidence=0.3, true_digits="5")
    middle = finished_prediction(alice, digits="3", confidence=0.5, true_digits="3")
    high = finished_prediction(alice, digits="3", confidence=0.97)
    url = reverse(CHANGELIST)
    assert listed_ids(staff_client.get(url, {"confidence": "low"})) == {low.pk}
    assert listed_ids(staff_client.get(url, {"confidence": "medium"})) == {middle.pk}
    assert listed_ids(staff_client.get(url, {"confidence": "high"})) == {high.pk}
    assert listed_ids(staff_client.get(url, {"verdict": "wrong"})) == {low.pk}
    assert listed_ids(staff_client.get(url, {"verdict": "right"})) == {middle.pk}
    assert listed_ids(staff_client.get(url, {"verdict": "unknown"})) == {high.pk}


# ---- staff label wins


def test_both_labels_are_kept_and_the_staff_label_wins_everywhere(staff_client, alice, staff):
    # The user says 3; staff looked and it is an 8, which the model read.
    prediction = finished_prediction(alice, digits="8", true_digits="3", staff_digits="8", reviewer=staff)
    assert (prediction.true_digits, prediction.staff_digits, prediction.label) == ("3", "8", "8")
    assert prediction.is_correct is True
    url = reverse(CHANGELIST)
    assert listed_ids(staff_client.get(url, {"label": "8"})) == {prediction.pk}
    assert listed_ids(staff_client.get(url, {"label": "3"})) == set()
    assert listed_ids(staff_client.get(url, {"verdict": "right"})) == {prediction.pk}
    assert selectors.confusion_matrix().counts == {(8, "8"): 1}


# ---- the dashboard


@pytest.fixture
def labelled_rows(alice, bob, staff):
    """Labelled predictions spread over cells, versions and days, and some that must not be counted."""
    now = timezone.now()
    rows = {
        "4 read as 9": [
            finished_prediction(alice, digits="9", true_digits="4"),
            # The user agreed with the 9; staff say it is a 4: staff win.
            finished_prediction(bob, digits="9", true_digits="9", staff_digits="4", reviewer=staff),
        ],
        "4 read as 4": [finished_prediction(alice, digits="4", true_digits="4")],
        "7 read as 1": [finished_prediction(bob, digits="1", true_digits="7", created_at=now - timedelta(days=3))],
        "3 read as nothing": [finished_prediction(alice, digits="", true_digits="3", confidence=None)],
        "old version 4 read as 9": [finished_prediction(alice, digits="9", true_digits="4", model_version="cnn-v0")],
        "last month 7 read as 7": [
            finished_prediction(alice, digits="7", true_digits="7", created_at=now - timedelta(days=40))
        ],
        "last month 4 read as 9": [
            finished_prediction(bob, digits="9", true_digits="4", created_at=now - timedelta(days=40))
        ],
        # Numbers count digit by digit where as many pieces were read as the label has digits.
        "46 read right": [finished_prediction(alice, digits="46", true_digits="46")],
        "4667 read as 4661": [finished_prediction(bob, digits="4661", true_digits="4667")],
        "35 read as 3 and a flagged piece": [finished_prediction(alice, digits="3?", true_digits="35")],
        # A digit missed: which piece is which is not known, every true digit counts as "length wrong".
        "128 read as 12": [finished_prediction(alice, digits="12", true_digits="128")],
    }
    # Never counted: unlabelled, or not finished.
    finished_prediction(alice, digits="9")
    finished_prediction(alice, status=Prediction.Status.FAILED, true_digits="5")
    return rows


def ids(rows, *names) -> set[int]:
    return {p.pk for name in names for p in rows[name]}


def test_the_confusion_matrix_counts_the_labelled_finished_predictions_digit_by_digit(labelled_rows):
    matrix = selectors.confusion_matrix()
    assert matrix.counts == {
        (4, "9"): 4, (4, "4"): 3, (6, "6"): 3, (7, "1"): 2, (7, "7"): 1, (3, "3"): 1, (5, "?"): 1,
        (3, "length"): 1, (1, "length"): 1, (2, "length"): 1, (8, "length"): 1,
    }  # fmt: skip
    assert (matrix.total, matrix.right) == (19, 8)  # digits
    assert (matrix.predictions, matrix.predictions_right) == (12, 3)  # whole numbers
    assert selectors.confusion_matrix(model_version="cnn-v1").counts == {
        (4, "9"): 3, (4, "4"): 3, (6, "6"): 3, (7, "1"): 2, (7, "7"): 1, (3, "3"): 1, (5, "?"): 1,
        (3, "length"): 1, (1, "length"): 1, (2, "length"): 1, (8, "length"): 1,
    }  # fmt: skip
    today = timezone.localdate()
    assert selectors.confusion_matrix(created_from=today - timedelta(days=1), created_to=today).counts == {
        (4, "9"): 3, (4, "4"): 3, (6, "6"): 3, (7, "1"): 1, (3, "3"): 1, (5, "?"): 1,
        (3, "length"): 1, (1, "length"): 1, (2, "length"): 1, (8, "length"): 1,
    }  # fmt: skip


def places_in_cell(prediction: Prediction, label: int, read: str) -> int:
    """How many times a prediction counts in a cell, worked out apart from the selectors."""
    if len(prediction.label) != len(prediction.digits):
        return prediction.label.count(str(label)) if read == "length" else 0
    return sum(1 for t, r in zip(prediction.label, prediction.digits, strict=True) if (t, r) == (str(label), read))


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"model_version": "cnn-v1"},
        {"created_from": "{week_ago}", "created_to": "{today}"},
        {"model_version": "cnn-v1", "created_from": "{two_days_ago}"},
        {"created_to": "{two_days_ago}"},
    ],
    ids=["everything", "one version", "last week", "version and start date", "until two days ago"],
)
def test_each_cell_links_to_exactly_the_predictions_it_counts(staff_client, labelled_rows, query):
    today = timezone.localdate()
    days = {"today": today, "week_ago": today - timedelta(days=7), "two_days_ago": today - timedelta(days=2)}
    query = {key: value.format(**days) for key, value in query.items()}
    response = staff_client.get(reverse(DASHBOARD), query)
    assert response.status_code == 200
    selection = response.context["form"].selection()
    counted = list(selectors.labelled_done_predictions(**selection))
    followed = 0
    for row in response.context["matrix_rows"]:
        for cell in row["cells"]:
            places = {p.pk: places_in_cell(p, row["label"], cell["predicted"]) for p in counted}
            wanted = {pk for pk, n in places.items() if n}
            assert cell["count"] == sum(places.values()), (row["label"], cell["predicted"])
            if cell["count"]:
                assert listed_ids(staff_client.get(cell["url"])) == wanted, cell["url"]
                followed += 1
            else:
                assert cell["url"] is None
    assert followed >= 3


def test_the_dashboard_cells_hold_the_rows_made_in_the_test(staff_client, labelled_rows):
    response = staff_client.get(reverse(DASHBOARD))
    cells = {
        (row["label"], cell["predicted"]): cell for row in response.context["matrix_rows"] for cell in row["cells"]
    }
    assert cells[(4, "9")]["count"] == 4
    assert listed_ids(staff_client.get(cells[(4, "9")]["url"])) == ids(
        labelled_rows, "4 read as 9", "old version 4 read as 9", "last month 4 read as 9"
    )
    assert listed_ids(staff_client.get(cells[(3, "length")]["url"])) == ids(labelled_rows, "3 read as nothing")
    assert listed_ids(staff_client.get(cells[(8, "length")]["url"])) == ids(labelled_rows, "128 read as 12")
    assert cells[(7, "1")]["count"] == 2
    assert listed_ids(staff_client.get(cells[(7, "1")]["url"])) == ids(
        labelled_rows, "7 read as 1", "4667 read as 4661"
    )
    assert cells[(6, "6")]["count"] == 3  # twice in 4667, once in 46
    assert listed_ids(staff_client.get(cells[(6, "6")]["url"])) == ids(
        labelled_rows, "46 read right", "4667 read as 4661"
    )
    assert listed_ids(staff_client.get(cells[(5, "?")]["url"])) == ids(
        labelled_rows, "35 read as 3 and a flagged piece"
    )
    assert cells[(5, "5")]["count"] == 0 and cells[(5, "5")]["url"] is None
    page = response.content.decode()
    assert "12 labelled predictions" in page
    assert "25.0% read right" in page  # whole numbers: 3 of 12
    assert "length wrong" in page
    rows = {row["label"]: row for row in response.context["matrix_rows"]}
    assert rows[6]["total"] == 3
    assert listed_ids(staff_client.get(rows[6]["total_url"])) == ids(
        labelled_rows, "46 read right", "4667 read as 4661"
    )
    one_version = staff_client.get(reverse(DASHBOARD), {"model_version": "cnn-v0"})
    cells = {(r["label"], c["predicted"]): c for r in one_version.context["matrix_rows"] for c in r["cells"]}
    assert listed_ids(staff_client.get(cells[(4, "9")]["url"])) == ids(labelled_rows, "old version 4 read as 9")
    page = one_version.content.decode()
    assert f'href="{cells[(4, "9")]["url"].replace("&", "&amp;")}"' in page


def test_accuracy_per_model_version_per_digit_and_per_day(staff_client, labelled_rows):
    response = staff_client.get(reverse(DASHBOARD))
    # Whole numbers: a number is right only when all its digits are; per digit, the numbers that have it.
    by_version = {row["key"]: (row["labelled"], row["right"]) for row in response.context["by_version"]}
    assert by_version == {"cnn-v0": (1, 0), "cnn-v1": (11, 3)}
    by_digit = {row["key"]: (row["labelled"], row["right"]) for row in response.context["by_digit"]}
    assert by_digit == {1: (1, 0), 2: (1, 0), 3: (2, 0), 4: (7, 2), 5: (1, 0), 6: (2, 1), 7: (3, 1), 8: (1, 0)}
    over_time = {row["key"]: (row["labelled"], row["right"]) for row in response.context["over_time"]}
    today = timezone.localdate()
    assert over_time == {
        today - timedelta(days=40): (2, 1),
        today - timedelta(days=3): (1, 0),
        today: (9, 2),
    }
    assert "The accuracies below count whole numbers" in response.content.decode()
    wrong_v0 = next(row for row in response.context["by_version"] if row["key"] == "cnn-v0")["wrong_url"]
    assert listed_ids(staff_client.get(wrong_v0)) == ids(labelled_rows, "old version 4 read as 9")


def test_an_inverted_date_range_is_refused_next_to_the_dates_and_shows_no_figures(staff_client, labelled_rows):
    today = timezone.localdate()
    response = staff_client.get(
        reverse(DASHBOARD), {"created_from": str(today), "created_to": str(today - timedelta(days=5))}
    )
    assert response.context["form"].errors == {"created_to": ["The end date is before the start date."]}
    page = response.content.decode()
    assert "The end date is before the start date." in page
    assert "matrix" not in response.context  # never the unfiltered figures instead
    assert 'class="confusion-matrix"' not in page and 'class="accuracy-chart"' not in page


# ---- the review queue


def test_the_review_queue_lists_unlabelled_finished_predictions_least_confident_first(staff_client, alice, staff):
    sure = finished_prediction(alice, digits="1", confidence=0.99)
    doubtful = finished_prediction(alice, digits="7", confidence=0.41)
    middling = finished_prediction(alice, digits="2", confidence=0.7)
    nothing_read = finished_prediction(alice, digits="", confidence=None)
    finished_prediction(alice, digits="3", confidence=0.2, true_digits="3")  # the user labelled it
    finished_prediction(alice, digits="3", confidence=0.1, staff_digits="8", reviewer=staff)  # staff did
    finished_prediction(alice, status=Prediction.Status.FAILED)
    response = staff_client.get(reverse(REVIEW_QUEUE))
    assert [p.pk for p in response.context["predictions"]] == [nothing_read.pk, doubtful.pk, middling.pk, sure.pk]
    assert response.context["total"] == 4
    page = response.content.decode()
    assert page.index(f'id="review-{doubtful.pk}"') < page.index(f'id="review-{sure.pk}"')
    assert "recognizer/admin/review_queue.js" in page


def test_one_click_labelling_from_the_queue_stores_a_staff_label(staff_client, alice, staff):
    prediction = finished_prediction(alice, digits="1", confidence=0.45, shown_digits="7")
    url = reverse("admin:recognizer_prediction_review_label", args=[prediction.pk])
    response = staff_client.post(url, {"label": "7"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {"id": prediction.pk, "staff_digits": "7", "not_a_digit": False}
    prediction.refresh_from_db()
    assert (prediction.staff_digits, prediction.true_digits, prediction.reviewed_by) == ("7", "", staff)
    assert prediction not in selectors.review_queue()
    assert selectors.confusion_matrix().counts == {(7, "1"): 1}


def test_a_number_typed_in_the_queue_is_stored_as_the_staff_label(staff_client, alice, staff):
    prediction = finished_prediction(alice, digits="4?67", confidence=0.3)
    page = staff_client.get(reverse(REVIEW_QUEUE)).content.decode()
    assert 'name="label" inputmode="numeric"' in page
    assert 'class="suggested"' not in page  # no "as read" button: a flagged reading is no number to take as it is
    url = reverse("admin:recognizer_prediction_review_label", args=[prediction.pk])
    response = staff_client.post(url, {"label": "4667"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"id": prediction.pk, "staff_digits": "4667", "not_a_digit": False}
    prediction.refresh_from_db()
    assert prediction.label == "4667" and prediction not in selectors.review_queue()


def test_labelling_without_javascript_comes_back_to_the_queue(staff_client, alice):
    prediction = finished_prediction(alice, digits="1", confidence=0.45)
    response = staff_client.post(
        reverse("admin:recognizer_prediction_review_label", args=[prediction.pk]), {"label": "1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(REVIEW_QUEUE)
    assert f"Prediction {prediction.pk} labelled 1." in response.content.decode()
    assert response.context["total"] == 0


def test_a_label_that_is_not_a_digit_is_refused_and_nothing_is_saved(staff_client, alice):
    prediction = finished_prediction(alice, digits="1", confidence=0.45)
    url = reverse("admin:recognizer_prediction_review_label", args=[prediction.pk])
    for bad in ("x", "", "-1", "4 6", "4?67", "1" * 65):
        response = staff_client.post(url, {"label": bad}, HTTP_ACCEPT="application/json")
        assert response.status_code == 400
        assert response.json()["error"] == "A number is written with 1 to 64 digits 0-9, nothing else."
    assert staff_client.get(url).status_code == 405
    prediction.refresh_from_db()
    assert prediction.staff_digits == "" and prediction.reviewed_at is None


# ---- actions on selected rows


def run_action(client, action: str, predictions, **extra):
    data = {"action": action, "_selected_action": [p.pk for p in predictions], **extra}
    return client.post(reverse(CHANGELIST), data)


def test_mark_reviewed_confirms_the_label_shown_or_else_the_number_read(staff_client, alice, staff):
    user_labelled = finished_prediction(alice, digits="9", true_digits="4")
    unlabelled = finished_prediction(alice, digits="2")
    number = finished_prediction(alice, digits="4667")
    nothing_read = finished_prediction(alice, digits="", confidence=None)
    flagged = finished_prediction(alice, digits="4?67")
    untouched = finished_prediction(alice, digits="5")
    selected = [user_labelled, unlabelled, number, nothing_read, flagged]
    response = run_action(staff_client, "confirm_labels", selected)
    assert response.status_code == 302
    for prediction in (*selected, untouched):
        prediction.refresh_from_db()
    assert (user_labelled.staff_digits, user_labelled.true_digits, user_labelled.reviewed_by) == ("4", "4", staff)
    assert (unlabelled.staff_digits, unlabelled.reviewed_by) == ("2", staff)
    assert (number.staff_digits, number.is_correct) == ("4667", True)
    assert nothing_read.staff_digits == "" and nothing_read.reviewed_by is None
    assert flagged.staff_digits == "" and flagged.reviewed_by is None  # "?" is no number to agree with
    assert untouched.staff_digits == ""
    page = staff_client.get(response["Location"]).content.decode()
    assert "Confirmed 3 predictions." in page
    assert "2 predictions have no label and no number read to confirm" in page


def test_set_true_label_asks_for_the_digit_then_labels_the_selected_rows(staff_client, alice, staff):
    first = finished_prediction(alice, digits="1", true_digits="1")
    second = finished_prediction(alice, digits="7")
    other = finished_prediction(alice, digits="7")
    form_page = run_action(staff_client, "set_staff_label", [first, second])
    assert form_page.status_code == 200
    assert form_page.templates[0].name == "admin/recognizer/prediction/set_label.html"
    unchanged = run_action(staff_client, "set_staff_label", [first, second], apply="1", staff_digits="7x")
    assert unchanged.status_code == 200  # the form again, with the error
    assert "A number is written with 1 to 64 digits 0-9" in unchanged.content.decode()
    first.refresh_from_db()
    assert first.staff_digits == ""
    response = run_action(staff_client, "set_staff_label", [first, second], apply="1", staff_digits="7")
    assert response.status_code == 302
    for prediction in (first, second, other):
        prediction.refresh_from_db()
    assert (first.true_digits, first.staff_digits, first.label, first.reviewed_by) == ("1", "7", "7", staff)
    assert (second.staff_digits, second.reviewed_by) == ("7", staff)
    assert other.staff_digits == ""


def test_deleting_from_the_admin_removes_the_pictures_too(staff_client, alice, django_capture_on_commit_callbacks):
    prediction = finished_prediction(alice)
    storage, names = prediction.image.storage, [prediction.image.name, prediction.model_input.name]
    with django_capture_on_commit_callbacks(execute=True):
        run_action(staff_client, "delete_selected", [prediction], post="yes")
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert not any(storage.exists(name) for name in names)
