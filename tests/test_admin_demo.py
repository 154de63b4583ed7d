"""`make run` shows a populated dashboard: `load_demo` adds a staff account and labelled predictions, once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.urls import reverse

from recognizer import selectors
from recognizer.models import Prediction

pytestmark = pytest.mark.django_db


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_load_demo_gives_staff_a_populated_dashboard_and_loading_twice_adds_nothing(settings, client):
    settings.DEBUG = True
    first = load_demo()
    demo = Prediction.objects.filter(user__username="demo")
    count = demo.count()
    assert count >= 30 and f"Demo predictions: {count} added" in first
    assert all(p.image and p.status == Prediction.Status.DONE for p in demo)
    matrix = selectors.confusion_matrix()
    assert matrix.predictions >= 25 and 0 < matrix.predictions_right < matrix.predictions  # labelled, some wrong
    assert (
        demo.exclude(staff_digits="").exclude(true_digits="").exclude(staff_digits=F("true_digits")).exists()
    )  # a user's answer corrected by staff
    assert selectors.review_queue().exists()

    assert "Demo predictions: 0 added" in load_demo()
    assert demo.count() == count

    assert client.login(username="staff", password="digitsite-demo")
    response = client.get(reverse("admin:recognizer_prediction_dashboard"))
    assert response.status_code == 200 and response.context["matrix"].total == matrix.total
    first_input = demo.exclude(model_input="").first()
    picture = client.get(reverse("admin:recognizer_prediction_picture", args=[first_input.pk, "input"]))
    assert picture.status_code == 200


def test_the_demo_user_cannot_reach_the_dashboard(settings, client):
    settings.DEBUG = True
    load_demo()
    assert client.login(username="demo", password="digitsite-demo")
    response = client.get(reverse("admin:recognizer_prediction_dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_load_demo_is_refused_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        load_demo()
    assert not Prediction.objects.exists()
