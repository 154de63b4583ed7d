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
        required=False, min_value=0, max_value=9, help_text=_("Only those read as exactly this one digit.")
    )
    number = serializers.RegexField(
        r"^[0-9?]{1,64}$",
        required=False,
        error_messages={"invalid": _("A number is 1 to 64 digits 0-9 (and ? for a piece not readable).")},
        help_text=_(
            'Only those whose number read contains this ("46" finds 4667 and 46), or is exactly it with '
            "number_exact=true; ? stands for a piece that could not be read."
        ),
    )
    number_exact = serializers.BooleanField(
        required=False, default=False, help_text=_("With number: only the number exactly, not numbers containing it.")
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
            "number": data.get("number"),
            "number_exact": data.get("number_exact", False),
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
