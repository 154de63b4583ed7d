"""The list's query: filters checked like any other input (400 on a bad value), and its pages."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

from recognizer.models import Prediction
from recognizer.selectors import Feedback


class PredictionFilterSerializer(serializers.Serializer):
    digit = serializers.IntegerField(
        required=False, min_value=0, max_value=9, help_text=_("Only those read as this digit.")
    )
    status = serializers.ChoiceField(required=False, choices=Prediction.Status.choices)
    feedback = serializers.ChoiceField(
        required=False,
        choices=Feedback.CHOICES,
        help_text=_("none: no feedback given; right / wrong: marked so by you."),
    )
    created_after = serializers.DateField(required=False, help_text=_("Made on this day or later (YYYY-MM-DD)."))
    created_before = serializers.DateField(required=False, help_text=_("Made on this day or earlier (YYYY-MM-DD)."))

    def validate(self, attrs):
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and after > before:
            raise serializers.ValidationError(
                {"created_before": _("created_before must not be earlier than created_after.")}, code="invalid_range"
            )
        return attrs

    def selector_arguments(self) -> dict:
        """The checked query as prediction_list's keyword arguments."""
        data = self.validated_data
        return {
            "digit": data.get("digit"),
            "status": data.get("status"),
            "feedback": data.get("feedback"),
            "created_from": data.get("created_after"),
            "created_to": data.get("created_before"),
        }


class PredictionPagination(PageNumberPagination):
    """?page=N and ?page_size=N; a page_size above the limit is cut to the limit."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.API_MAX_PAGE_SIZE
