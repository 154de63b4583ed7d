"""The API's answers stay exactly what the declared serializer fields make of a prediction, now that the list
and detail are written by a fast path (PredictionSerializer.to_representation), and the list stays a fixed
number of queries however long the page."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient, APIRequestFactory

from recognizer.api.serializers import PredictionSerializer
from recognizer.models import Prediction

pytestmark = pytest.mark.django_db


def make_predictions(user) -> list[Prediction]:
    now = timezone.now()
    common = {"user": user, "image": "uploads/a.png", "original_name": "meter.jpg"}
    return [
        Prediction.objects.create(**common, created_at=now),
        Prediction.objects.create(**common, created_at=now, status="processing"),
        Prediction.objects.create(
            **common,
            created_at=now,
            status="done",
            digits="4?7",
            confidence=0.5,
            confidences=[0.9, 0.3, 0.8],
            probabilities=[[0.1] * 10] * 3,
            boxes=[[1, 2, 3, 4]] * 3,
            image_width=90,
            image_height=40,
            model_version="2.0.0",
            model_input="model_inputs/a.png",
            true_digits="417",
            feedback_at=now,
            finished_at=now,
        ),
        Prediction.objects.create(
            **common,
            created_at=now,
            status="done",
            digits="7",
            confidence=1,
            confidences=[1.0],
            probabilities=[[0.0] * 9 + [1.0]],
            boxes=[[0, 0, 9, 9]],
            finished_at=now,
            model_input="m/b.png",
        ),
        Prediction.objects.create(**common, created_at=now, status="done", digits="", finished_at=now),
        Prediction.objects.create(
            **common, created_at=now, status="failed", error="no digit", finished_at=now, source="drawing"
        ),
    ]


def test_every_field_is_what_the_declared_fields_make_of_it(alice):
    request = APIRequestFactory().get("/api/v1/predictions/")
    from rest_framework.request import Request

    context = {"request": Request(request)}
    for prediction in make_predictions(alice):
        prediction.refresh_from_db()  # as a list reads it: JSON decoded, choices as text
        fast = PredictionSerializer(prediction, context=context).data
        declared = serializers.ModelSerializer.to_representation(PredictionSerializer(context=context), prediction)
        assert dict(fast) == dict(declared), prediction.status


def test_a_list_of_twenty_is_three_queries_whatever_the_page(alice, django_assert_num_queries):
    from rest_framework.authtoken.models import Token

    for _ in range(4):
        make_predictions(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")

    with django_assert_num_queries(3):  # the token and its user, the count, the page
        listed = client.get("/api/v1/predictions/")

    assert listed.status_code == 200
    assert len(listed.json()["results"]) == 20
    assert listed.json()["results"][0]["url"].endswith(f"/api/v1/predictions/{listed.json()['results'][0]['id']}/")
