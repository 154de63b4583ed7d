"""What the API sends and accepts. Read-only shapes and input checks: writes go through services."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from recognizer.models import LABEL_MAX_LENGTH, Prediction

ONE_TO_64_DIGITS = rf"^[0-9]{{1,{LABEL_MAX_LENGTH}}}$"
# A prediction's URLs, reversed once with an id no row has and cut there (PredictionSerializer._url_parts).
URL_NAMES = {
    "detail": "api:prediction-detail",
    "image": "api:prediction-image",
    "model_input": "api:prediction-model-input",
}
URL_PLACEHOLDER_ID = 918273645546372819
# How DRF writes a date and time (ISO 8601, "Z" for UTC): building the serializer's fields to ask them costs more.
DATETIMES = serializers.DateTimeField(read_only=True)


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
        help_text=_(
            "The digit read when the picture holds exactly one readable digit; null while not done, when no "
            "digit was found, or when the number has several digits (see digits)."
        ),
    )
    confidences = serializers.ListField(
        child=serializers.FloatField(),
        read_only=True,
        help_text=_("The confidence of each digit of `digits`, left to right; [] until done."),
    )
    probabilities = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=10, max_length=10),
        read_only=True,
        help_text=_(
            "Per digit of `digits`, left to right: the model's probability for each digit 0 to 9 (a list of "
            "10-lists; before numbers it was one 10-list). [] until done or when no digit was found."
        ),
    )
    boxes = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=4, max_length=4),
        read_only=True,
        help_text=_(
            "Per digit of `digits`: where it is, [left, top, right, bottom] in the upright picture's pixels "
            "(see image_width and image_height)."
        ),
    )
    true_label = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=_("Your feedback when it is a single digit, else null (true_digits holds any number)."),
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
            "digits",
            "digit",
            "confidence",
            "confidences",
            "probabilities",
            "boxes",
            "image_width",
            "image_height",
            "model_version",
            "image_url",
            "model_input_url",
            "true_digits",
            "true_label",
            "created_at",
            "finished_at",
            "error",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "digits": {
                "help_text": _(
                    'The number read, left to right, as text ("4667"); "?" marks a piece that could not be read '
                    'as one digit ("4?67"); "" once done means no digit was found.'
                )
            },
            "confidence": {
                "help_text": _("How sure the whole number is, 0 to 1 (every digit must be right); null until done.")
            },
            "image_width": {"help_text": _("The upright picture's width in pixels, the space of `boxes`.")},
            "image_height": {"help_text": _("The upright picture's height in pixels.")},
            "true_digits": {"help_text": _('The number it really is, as you told us (PATCH); "" when you did not.')},
            "error": {"help_text": _("Why the prediction failed; empty otherwise.")},
        }

    def to_representation(self, prediction: Prediction) -> dict:
        """The same answer as DRF's field-by-field walk over the fields above, in a fraction of its time.

        A list page of 20 spent most of its CPU here: 21 fields a row each through get_attribute and
        to_representation, the JSON lists rebuilt number by number, and three reverse() a row. The stored
        JSON lists are written by the worker with the types the schema gives (floats, ints), so they are sent
        as they are; the URLs are reversed once per serializer. tests/test_api_fast_paths.py checks that
        every field is the same as the declared fields make it.
        """
        urls = self._url_parts()
        pk = str(prediction.pk)
        dates = DATETIMES
        return {
            "id": prediction.pk,
            "url": urls["detail"][0] + pk + urls["detail"][1],
            "status": str(prediction.status),
            "source": str(prediction.source),
            "original_name": prediction.original_name,
            "digits": prediction.digits,
            "digit": prediction.digit,
            "confidence": None if prediction.confidence is None else float(prediction.confidence),
            "confidences": prediction.confidences,
            "probabilities": prediction.probabilities,
            "boxes": prediction.boxes,
            "image_width": prediction.image_width,
            "image_height": prediction.image_height,
            "model_version": prediction.model_version,
            "image_url": urls["image"][0] + pk + urls["image"][1],
            "model_input_url": urls["model_input"][0] + pk + urls["model_input"][1] if prediction.model_input else None,
            "true_digits": prediction.true_digits,
            "true_label": prediction.true_label,
            "created_at": dates.to_representation(prediction.created_at),
            "finished_at": dates.to_representation(prediction.finished_at),
            "error": prediction.error,
        }

    def _url_parts(self) -> dict[str, tuple[str, str]]:
        """Each URL's text before and after the id, reversed once (for a list, once for all its rows)."""
        if getattr(self, "_url_parts_cache", None) is None:
            request = self.context.get("request")
            self._url_parts_cache = {
                kind: tuple(reverse(name, args=[URL_PLACEHOLDER_ID], request=request).split(str(URL_PLACEHOLDER_ID), 1))
                for kind, name in URL_NAMES.items()
            }
        return self._url_parts_cache

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


class PredictionsAcceptedSerializer(PredictionBatchSerializer):
    detail = serializers.CharField(
        required=False, help_text=_("Only when the upload did not wait (code wait_busy): why, in words.")
    )
    code = serializers.CharField(
        required=False, help_text=_("wait_busy: too many uploads were waiting already; poll each url.")
    )


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
    """The number the picture really shows: `true_digits`, or `true_label` for one digit. Null clears it."""

    true_digits = serializers.RegexField(
        ONE_TO_64_DIGITS,
        max_length=LABEL_MAX_LENGTH,
        required=False,
        allow_null=True,
        error_messages={"invalid": _("Write the number with the digits 0-9 only (1 to 64 of them).")},
        help_text=_("The number the picture really shows, digits 0-9 only; null takes the feedback back."),
    )
    true_label = serializers.IntegerField(
        min_value=0,
        max_value=9,
        required=False,
        allow_null=True,
        help_text=_("For a single digit: the digit it really is; null takes the feedback back."),
    )

    def validate(self, attrs):
        if "true_digits" not in attrs and "true_label" not in attrs:
            raise serializers.ValidationError(
                {"true_digits": [_("Say which number it is: true_digits (or true_label for one digit).")]},
                code="required",
            )
        from_label = attrs.get("true_label")
        from_label = None if from_label is None else str(from_label)
        if "true_digits" in attrs and "true_label" in attrs and attrs["true_digits"] != from_label:
            raise serializers.ValidationError(
                {"true_digits": [_("true_digits and true_label disagree; send one of them.")]}, code="disagree"
            )
        return {"true_digits": attrs["true_digits"] if "true_digits" in attrs else from_label}


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


class WorkersHealthSerializer(HealthCheckSerializer):
    count = serializers.IntegerField(
        required=False, help_text=_("How many workers reported within WORKER_HEARTBEAT_TTL seconds.")
    )
    mode = serializers.CharField(required=False, help_text=_("eager: no broker, tasks run in-process."))
    reason = serializers.CharField(required=False, help_text=_("Why no worker is counted."))


class HealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    database = HealthCheckSerializer()
    broker = BrokerHealthSerializer()
    workers = WorkersHealthSerializer()
    model = ModelHealthSerializer()
