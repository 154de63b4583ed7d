"""Bob cannot see, change or delete Alice's predictions: every one of her ids answers him 404."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from recognizer.models import Prediction
from tests.prediction_rows import finished_prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def alices_prediction(alice) -> Prediction:
    return finished_prediction(alice, digits="4")


def test_bob_gets_404_for_alices_result_page(bob_client, alices_prediction):
    assert bob_client.get(reverse("prediction_detail", args=[alices_prediction.pk])).status_code == 404


def test_bob_gets_404_for_both_of_alices_pictures(bob_client, alices_prediction):
    for kind in ("upload", "input"):
        url = reverse("prediction_picture", args=[alices_prediction.pk, kind])
        assert bob_client.get(url).status_code == 404, kind
        assert bob_client.get(url + "?size=thumb").status_code == 404, kind


def test_bob_gets_404_for_alices_status_json(bob_client, alices_prediction):
    assert bob_client.get(reverse("prediction_status", args=[alices_prediction.pk])).status_code == 404


def test_bob_cannot_give_feedback_on_alices_prediction(bob_client, alices_prediction):
    response = bob_client.post(reverse("prediction_feedback", args=[alices_prediction.pk]), {"true_digits": "9"})
    assert response.status_code == 404
    alices_prediction.refresh_from_db()
    assert alices_prediction.true_digits == ""


def test_bob_cannot_correct_a_digit_of_alices_prediction(bob_client, alices_prediction):
    url = reverse("prediction_correct_digit", args=[alices_prediction.pk])
    response = bob_client.post(url, {"position": "0", "digit": "9"})
    assert response.status_code == 404
    assert "There is nothing here, or it is not yours to see." in response.content.decode()
    alices_prediction.refresh_from_db()
    assert alices_prediction.true_digits == ""


def test_bob_cannot_delete_alices_prediction(bob_client, alices_prediction, django_capture_on_commit_callbacks):
    files = [Path(settings.MEDIA_ROOT) / f.name for f in (alices_prediction.image, alices_prediction.model_input)]
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_client.post(reverse("prediction_delete", args=[alices_prediction.pk]))
    assert response.status_code == 404
    assert Prediction.objects.filter(pk=alices_prediction.pk).exists()
    assert all(f.exists() for f in files)


def test_bobs_bulk_delete_leaves_alices_predictions_alone(
    bob_client, bob, alices_prediction, django_capture_on_commit_callbacks
):
    bobs = finished_prediction(bob, digits="2")
    with django_capture_on_commit_callbacks(execute=True):
        bob_client.post(reverse("predictions_bulk_delete"), {"ids": [alices_prediction.pk, bobs.pk]})
    assert Prediction.objects.filter(pk=alices_prediction.pk).exists()
    assert not Prediction.objects.filter(pk=bobs.pk).exists()


def test_bobs_history_lists_only_his_own_predictions(bob_client, bob, alices_prediction):
    bobs = finished_prediction(bob, digits="2")
    response = bob_client.get(reverse("history"))
    assert [prediction.pk for prediction, _ in response.context["rows"]] == [bobs.pk]
    assert reverse("prediction_detail", args=[alices_prediction.pk]) not in response.content.decode()


def test_an_id_that_does_not_exist_looks_the_same_as_alices(bob_client, alices_prediction):
    missing = alices_prediction.pk + 1000
    assert bob_client.get(reverse("prediction_detail", args=[missing])).status_code == 404
    assert bob_client.get(reverse("prediction_status", args=[missing])).status_code == 404


def test_bob_sees_the_sites_own_not_found_page(bob_client, alices_prediction):
    response = bob_client.get(reverse("prediction_detail", args=[alices_prediction.pk]))
    assert "There is nothing here, or it is not yours to see." in response.content.decode()
