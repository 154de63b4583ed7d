"""The REST API, /api/v1/. Thin: reads through selectors, writes through services, errors as JSON."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext
from rest_framework import mixins, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from recognizer import pictures, selectors, services
from recognizer.account_forms import lockout_message
from recognizer.api import health, schema
from recognizer.api.exceptions import ServiceUnavailable, upload_error
from recognizer.api.filters import PredictionFilterSerializer, PredictionPagination
from recognizer.api.serializers import (
    FeedbackSerializer,
    ModelCardSerializer,
    PredictionSerializer,
    UploadQuerySerializer,
)
from recognizer.client_address import client_address
from recognizer.models import Prediction

UPLOAD_FIELDS = ("image", "images")
PICTURE_ACTIONS = ("image", "model_input")
LARGEST_ID = 2**63 - 1

# --- Token ---


@schema.token_schema
class TokenObtainView(ObtainAuthToken):
    # Credentials are the authentication here; a stale token or session must not get in the way.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    # DRF's view turns throttling off; we keep it, against password guessing.
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES
    # DRF's view names its own parsers; ours refuse JSON nested too deep (recognizer/api/parsers.py).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    serializer_class = AuthTokenSerializer

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except ValidationError:
            # Refused unchecked while the name or the address is locked out: say so, and for how long.
            username = request.data.get("username") if hasattr(request.data, "get") else None
            seconds = services.login_lockout_seconds(username=str(username or ""), address=client_address(request))
            if seconds > 0:
                raise Throttled(wait=seconds, detail=lockout_message(seconds)) from None
            raise
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        # A credential: kept by no cache, the browser's included (as OAuth's token responses, RFC 6749 5.1).
        return Response({"token": token.key}, headers={"Cache-Control": "no-store"})


# --- Predictions ---


@schema.prediction_schema
class PredictionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, GenericViewSet):
    serializer_class = PredictionSerializer
    pagination_class = PredictionPagination
    # Every lookup goes through the owner's selector: someone else's id is a 404 like an absent one.
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Prediction.objects.none()
        if self.action == "list":
            filters = PredictionFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            return selectors.prediction_list(user=self.request.user, **filters.selector_arguments())
        return selectors.prediction_list(user=self.request.user)

    def get_object(self) -> Prediction:
        try:
            prediction_id = int(self.kwargs["pk"])
        except ValueError:
            raise NotFound from None
        if not 0 < prediction_id <= LARGEST_ID:
            raise NotFound
        return selectors.prediction_get(user=self.request.user, prediction_id=prediction_id)

    def perform_content_negotiation(self, request, force=False):
        # A picture is sent whatever the Accept header asks for (browsers ask for image/avif and such);
        # its errors are still JSON.
        return super().perform_content_negotiation(request, force=force or self.action in PICTURE_ACTIONS)

    def create(self, request):
        query = UploadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)  # before anything is saved
        uploads = [upload for field in UPLOAD_FIELDS for upload in request.FILES.getlist(field)]
        try:
            created = services.predictions_create(user=request.user, uploads=uploads, source=Prediction.Source.UPLOAD)
        except services.UploadRejected as rejected:
            raise upload_error(rejected) from None
        # predictions_create queues on commit; without an outer transaction that has happened by now.
        if any(getattr(prediction, "queued", True) is False for prediction in created):
            return Response(
                {
                    "detail": gettext(
                        "The pictures are saved, but the queue cannot be reached right now. "
                        "They will be read as soon as it is back."
                    ),
                    "code": "broker_unavailable",
                    "predictions": self.get_serializer(created, many=True).data,
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        waited = selectors.predictions_wait_finished(
            prediction_ids=[prediction.pk for prediction in created],
            timeout_seconds=query.validated_data.get("wait", 0),
        )
        finished = all(prediction.is_finished for prediction in waited.predictions)
        body = {"predictions": self.get_serializer(waited.predictions, many=True).data}
        if waited.busy and not finished:
            body["detail"] = gettext(
                "Too many uploads are waiting for their answers right now, so this one did not wait: "
                "ask for each prediction's url in a moment."
            )
            body["code"] = "wait_busy"
        return Response(body, status=status.HTTP_201_CREATED if finished else status.HTTP_202_ACCEPTED)

    def partial_update(self, request, pk=None):
        prediction = self.get_object()
        feedback = FeedbackSerializer(data=request.data)
        feedback.is_valid(raise_exception=True)
        if prediction.status != Prediction.Status.DONE:
            raise ValidationError(
                {"true_digits": [gettext("Feedback can be given once the answer is ready.")]}, code="not_done"
            )
        services.prediction_record_feedback(prediction=prediction, true_digits=feedback.validated_data["true_digits"])
        return Response(self.get_serializer(prediction).data)

    def perform_destroy(self, instance: Prediction) -> None:
        services.prediction_delete(prediction=instance)

    def _picture(self, kind: str) -> HttpResponse:
        # get_object has already checked the owner; the selector would look the prediction up again.
        return pictures.picture_response(pictures.stored_picture(self.get_object(), kind))

    @action(detail=True, methods=["get"], url_path="image")
    def image(self, request, pk=None):
        return self._picture("upload")

    @action(detail=True, methods=["get"], url_path="model-input")
    def model_input(self, request, pk=None):
        return self._picture("input")


# --- The model and the service ---


@schema.model_card_schema
class ModelCardView(APIView):
    permission_classes = (AllowAny,)

    def get(self, request):
        from mlcore.inference import read_model_card  # reads a JSON file; TensorFlow stays out of the web process

        card = read_model_card(services.active_model_path())
        if not card:
            raise ServiceUnavailable(gettext("No trained model is installed."), code="model_unavailable")
        return Response(ModelCardSerializer(card).data)


@schema.health_schema
class HealthView(APIView):
    """For monitors: public and never throttled."""

    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = ()

    def get(self, request):
        report = health.system_health()
        response = Response(report, status=status.HTTP_200_OK if report["ok"] else status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Cache-Control"] = "no-store"
        return response
