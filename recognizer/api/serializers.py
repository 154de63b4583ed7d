"""What the API sends and accepts. Read-only shapes and input checks: writes go through services."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from recognizer.models import Prediction


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong, in words for a person."))
    code = serializers.CharField(help_text=_("What went wrong, for a program: e.g. not_an_image, too_large."))
    errors = serializers.DictField(
        required=False, help_text=_("Per-field messages, for a request with bad fields (400).")
    )


class PredictionSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    digit = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=_("The digit read; null while not done, when no digit was found, or when several were."),
    )
    probabilities = serializers.ListField(
        child=serializers.FloatField(),
        read_only=True,
        allow_null=True,
        min_length=10,
        max_length=10,
        help_text=_("The model's probability for each digit 0 to 9; null until done."),
    )
    image_url = serializers.SerializerMethodField()
    model_input_url = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "url",
            "status",
            "source",
            "original_name",
            "digit",
            "digits",
            "confidence",
            "probabilities",
            "model_version",
            "image_url",
            "model_input_url",
            "true_label",
            "created_at",
            "finished_at",
            "error",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "digits": {"help_text": _('Every digit read, as text: "" once done means no digit was found.')},
            "confidence": {"help_text": _("The probability of the digit read, 0 to 1.")},
            "true_label": {"help_text": _("The digit it really is, as you told us (PATCH), or null.")},
            "error": {"help_text": _("Why the prediction failed; empty otherwise.")},
        }

    def _url(self, name: str, prediction: Prediction) -> str:
        return reverse(name, args=[prediction.pk], request=self.context.get("request"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, prediction: Prediction) -> str:
        return self._url("api:prediction-detail", prediction)

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, prediction: Prediction) -> str:
        return self._url("api:prediction-image", prediction)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_model_input_url(self, prediction: Prediction) -> str | None:
        """The 28x28 picture the model saw, once there is one."""
        return self._url("api:prediction-model-input", prediction) if prediction.model_input else None


class PredictionBatchSerializer(serializers.Serializer):
    predictions = PredictionSerializer(many=True)


class BrokerDownSerializer(ErrorSerializer):
    predictions = PredictionSerializer(many=True, help_text=_("The uploads, kept as pending."))


class UploadSerializer(serializers.Serializer):
    """The multipart body of POST predictions/ (documentation only: the files go straight to the service)."""

    image = serializers.ImageField(required=False, help_text=_("One picture (JPEG, PNG, WebP, BMP or GIF)."))
    images = serializers.ListField(
        child=serializers.ImageField(),
        required=False,
        max_length=settings.UPLOAD_MAX_FILES,
        help_text=_("Several pictures: repeat the field for each one."),
    )


class UploadQuerySerializer(serializers.Serializer):
    wait = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.API_WAIT_MAX_SECONDS,
        help_text=_("Wait up to this many seconds for the answers (201 when all are finished, 202 if not yet)."),
    )


class FeedbackSerializer(serializers.Serializer):
    true_label = serializers.IntegerField(
        min_value=0, max_value=9, allow_null=True, help_text=_("The digit the picture really shows; null clears it.")
    )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_('Send it as the header "Authorization: Token <token>".'))


class ModelCardSerializer(serializers.Serializer):
    version = serializers.CharField()
    trained_at = serializers.DateTimeField(required=False)
    test_accuracy = serializers.FloatField(required=False, help_text=_("Share of the MNIST test set read right."))
    validation_accuracy = serializers.FloatField(required=False)
    per_class_accuracy = serializers.DictField(
        child=serializers.FloatField(), required=False, help_text=_("Test accuracy per digit, keyed 0 to 9.")
    )
    epochs = serializers.IntegerField(required=False)
    parameters = serializers.IntegerField(required=False)
    training_seconds = serializers.FloatField(required=False)
    data = serializers.DictField(required=False, help_text=_("What the model was trained on."))


class HealthCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()


class BrokerHealthSerializer(HealthCheckSerializer):
    mode = serializers.ChoiceField(choices=["eager", "broker"], help_text=_("eager: no broker, tasks run in-process."))


class ModelHealthSerializer(HealthCheckSerializer):
    version = serializers.CharField(allow_null=True)


class HealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    database = HealthCheckSerializer()
    broker = BrokerHealthSerializer()
    model = ModelHealthSerializer()
