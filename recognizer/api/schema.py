"""The API's OpenAPI documentation: summaries, descriptions, examples and the error table of each endpoint.

Attached to the views in views.py with extend_schema_view, as drf-spectacular's docs show, so that a
reader of a view sees what it does in a screenful.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from recognizer.api.filters import PredictionFilterSerializer
from recognizer.api.serializers import (
    BrokerDownSerializer,
    ErrorSerializer,
    HealthSerializer,
    ModelCardSerializer,
    PredictionBatchSerializer,
    PredictionsAcceptedSerializer,
    PredictionSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UploadQuerySerializer,
    UploadSerializer,
)

# --- How the errors look in the schema ---

ERROR_DESCRIPTIONS = {
    400: "A bad field or query value (`errors` says which), no file, an empty file, or too many files.",
    401: "No token, or a wrong one.",
    404: "No such prediction among yours (someone else's looks the same).",
    413: "A file above the size limit, or a picture with too many pixels.",
    415: "A file that is not a picture we read (JPEG, PNG, WebP, BMP, GIF), or a damaged one.",
    429: "Too many requests: wait the seconds in the Retry-After header.",
    503: "Not available right now.",
}
ERROR_EXAMPLES = {
    400: {"detail": "wait: Ensure this value is less than or equal to 30.", "code": "max_value"},
    401: {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"},
    404: {"detail": "Not found.", "code": "not_found"},
    413: {"detail": "scan.png is too large: 12.3 MB, the limit is 10 MB.", "code": "too_large"},
    415: {"detail": "notes.txt is not a picture we can read. Use JPEG, PNG, WebP, BMP or GIF.", "code": "not_an_image"},
    429: {"detail": "Request was throttled. Expected available in 12 seconds.", "code": "throttled"},
    503: {"detail": "The service is not available right now. Try again later.", "code": "unavailable"},
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(
            ErrorSerializer,
            description=ERROR_DESCRIPTIONS[code],
            examples=[OpenApiExample(f"Error {code}", value=ERROR_EXAMPLES[code], response_only=True)],
        )
        for code in statuses
    }


PREDICTION_EXAMPLE = {
    "id": 42,
    "url": "http://127.0.0.1:8000/api/v1/predictions/42/",
    "status": "done",
    "source": "upload",
    "original_name": "meter.jpg",
    "digits": "4667",
    "digit": None,
    "confidence": 0.9871,
    "confidences": [0.9991, 0.9968, 0.9934, 0.9977],
    "probabilities": [
        [0.0001, 0.0002, 0.0001, 0.0, 0.9991, 0.0001, 0.0002, 0.0001, 0.0, 0.0001],
        [0.0004, 0.0, 0.0001, 0.0, 0.0003, 0.0012, 0.9968, 0.0, 0.0011, 0.0001],
        [0.0011, 0.0, 0.0002, 0.0, 0.0008, 0.0023, 0.9934, 0.0, 0.0019, 0.0003],
        [0.0, 0.0009, 0.0006, 0.0002, 0.0001, 0.0, 0.0, 0.9977, 0.0002, 0.0003],
    ],
    "boxes": [[112, 131, 214, 282], [287, 126, 376, 279], [452, 133, 545, 285], [621, 128, 707, 290]],
    "image_width": 900,
    "image_height": 400,
    "model_version": "1.0.0",
    "image_url": "http://127.0.0.1:8000/api/v1/predictions/42/image/",
    "model_input_url": "http://127.0.0.1:8000/api/v1/predictions/42/model-input/",
    "true_digits": "",
    "true_label": None,
    "created_at": "2026-11-24T10:15:02.114Z",
    "finished_at": "2026-11-24T10:15:02.301Z",
    "error": "",
}
ONE_DIGIT_EXAMPLE = {
    **PREDICTION_EXAMPLE,
    "original_name": "seven.jpg",
    "digits": "7",
    "digit": 7,
    "confidence": 0.9987,
    "confidences": [0.9987],
    "probabilities": [[0.0, 0.0001, 0.0004, 0.0001, 0.0, 0.0, 0.0, 0.9987, 0.0005, 0.0002]],
    "boxes": [[141, 96, 262, 301]],
    "image_width": 400,
    "image_height": 400,
}
PENDING_EXAMPLE = {
    **PREDICTION_EXAMPLE,
    "status": "pending",
    "digits": "",
    "digit": None,
    "confidence": None,
    "confidences": [],
    "probabilities": [],
    "boxes": [],
    "image_width": None,
    "image_height": None,
    "model_version": "",
    "model_input_url": None,
    "finished_at": None,
}
FEEDBACK_REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "true_digits": {
            "type": "string",
            "pattern": "^[0-9]{1,64}$",
            "nullable": True,
            "description": "The number the picture really shows, digits 0-9 only; null takes the feedback back.",
        },
        "true_label": {
            "type": "integer",
            "minimum": 0,
            "maximum": 9,
            "nullable": True,
            "description": "For a single digit: the digit it really is (the same as true_digits with one digit); "
            "null takes the feedback back. Sent together with true_digits, the two must agree.",
        },
    },
    "minProperties": 1,
}
ID_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The prediction's id.")


token_schema = extend_schema(
    tags=["auth"],
    summary="Get your API token",
    description="Your username and password for the token to send as `Authorization: Token <token>`. "
    "The same token every time, until it is revoked (on the account page, or by a new password). "
    "Failed logins are counted per username and per client address: while either is locked out, "
    "the answer is 429 with `Retry-After`, whatever the password.",
    request=TokenRequestSerializer,
    responses={
        200: OpenApiResponse(
            TokenSerializer,
            examples=[OpenApiExample("Token", value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"})],
        ),
        **errors(400, 429),
    },
    examples=[
        OpenApiExample("Credentials", value={"username": "demo", "password": "digitsite-demo"}, request_only=True)
    ],
)


prediction_schema = extend_schema_view(
    list=extend_schema(
        summary="Your predictions",
        description="Newest first, a page at a time (`page`, `page_size` up to the limit). `number` finds the "
        "numbers read that contain it (`number_exact=true`: that number only); `digit` those read as one digit.",
        parameters=[PredictionFilterSerializer],
        responses={200: PredictionSerializer(many=True), **errors(400, 401, 404, 429)},
    ),
    retrieve=extend_schema(
        summary="One of your predictions",
        parameters=[ID_PARAMETER],
        responses={
            200: OpenApiResponse(
                PredictionSerializer,
                examples=[
                    OpenApiExample("A number", value=PREDICTION_EXAMPLE, response_only=True),
                    OpenApiExample("One digit", value=ONE_DIGIT_EXAMPLE, response_only=True),
                ],
            ),
            **errors(401, 404, 429),
        },
    ),
    destroy=extend_schema(
        summary="Delete a prediction and its pictures",
        parameters=[ID_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **errors(401, 404, 429)},
    ),
    create=extend_schema(
        summary="Send pictures to read",
        description=(
            "Multipart: one picture in `image`, or several in `images` (repeat the field). Each picture is read "
            "as a whole number: `digits` holds it left to right, with one box, confidence and 10 probabilities "
            "per digit. All are checked "
            "first; one bad file refuses the whole request and nothing is kept.\n\n"
            "Answers **202** with the predictions, still pending; poll their `url`. With `?wait=N` "
            "(1 to 30 seconds) it waits for the answers and gives **201** once all are finished, or 202 "
            "with what is there when the time is up. The wait ends as soon as the worker has answered. "
            "When too many uploads already wait on that server process, the upload does not wait: 202 at "
            "once with `code` `wait_busy`.\n\n"
            "**503** when the queue (broker) cannot be reached: the uploads are kept as pending and are "
            "read once it is back (`manage.py requeue_pending`)."
        ),
        parameters=[UploadQuerySerializer],
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: OpenApiResponse(
                PredictionBatchSerializer,
                description="All finished.",
                examples=[OpenApiExample("Read", value={"predictions": [PREDICTION_EXAMPLE]}, response_only=True)],
            ),
            202: OpenApiResponse(
                PredictionsAcceptedSerializer,
                description="Accepted; not all finished yet.",
                examples=[OpenApiExample("Pending", value={"predictions": [PENDING_EXAMPLE]}, response_only=True)],
            ),
            **errors(400, 401, 413, 415, 429),
            503: OpenApiResponse(
                BrokerDownSerializer,
                description="The broker is down; the uploads are kept as pending.",
                examples=[
                    OpenApiExample(
                        "No worker",
                        value={
                            "ok": False,
                            "database": {"ok": True},
                            "broker": {"ok": True, "mode": "broker"},
                            "workers": {
                                "ok": False,
                                "count": 0,
                                "reason": "No worker has reported in the last 30 seconds.",
                            },
                            "model": {"ok": True, "version": "1.0.0"},
                        },
                        response_only=True,
                        status_codes=["503"],
                    ),
                    OpenApiExample(
                        "Broker down",
                        value={
                            "detail": "The pictures are saved, but the queue cannot be reached right now. They will "
                            "be read as soon as it is back.",
                            "code": "broker_unavailable",
                            "predictions": [PENDING_EXAMPLE],
                        },
                        response_only=True,
                    ),
                ],
            ),
        },
    ),
    partial_update=extend_schema(
        summary="Say which number it really is",
        description="Your feedback on a finished prediction: `true_digits`, the number it really shows (digits "
        "0-9), or null to take it back. For a single digit `true_label` (0 to 9) says the same; sent together "
        "with `true_digits` they must agree (400 otherwise).",
        parameters=[ID_PARAMETER],
        # Spelled out: drf-spectacular would document the body from the serializer with nothing required.
        request={"application/json": FEEDBACK_REQUEST_SCHEMA},
        examples=[
            OpenApiExample("It is 4667", value={"true_digits": "4667"}, request_only=True),
            OpenApiExample("It is a seven", value={"true_label": 7}, request_only=True),
            OpenApiExample("Take it back", value={"true_digits": None}, request_only=True),
        ],
        responses={200: PredictionSerializer, **errors(400, 401, 404, 429)},
    ),
    image=extend_schema(
        summary="The picture you sent",
        parameters=[ID_PARAMETER],
        responses={(200, "image/*"): OpenApiTypes.BINARY, **errors(401, 404, 429)},
    ),
    model_input=extend_schema(
        summary="The pictures the model saw",
        description="A PNG, white digits on black: each digit's 28x28 input side by side, left to right (28 "
        "pixels high, 28 per digit wide), once the prediction is done and a digit was found (404 otherwise).",
        parameters=[ID_PARAMETER],
        responses={(200, "image/png"): OpenApiTypes.BINARY, **errors(401, 404, 429)},
    ),
)


model_card_schema = extend_schema_view(
    get=extend_schema(
        tags=["service"],
        summary="The model in use",
        description="Its card: version, training date, test accuracy overall and per digit.",
        responses={
            200: OpenApiResponse(
                ModelCardSerializer,
                examples=[
                    OpenApiExample(
                        "Model card",
                        value={
                            "version": "1.0.0",
                            "trained_at": "2026-11-24T09:55:38+00:00",
                            "test_accuracy": 0.9971,
                            "validation_accuracy": 0.9946,
                            "per_class_accuracy": {str(d): 0.997 for d in range(10)},
                            "epochs": 25,
                            "parameters": 331306,
                            "training_seconds": 941.6,
                            "data": {"source": "MNIST", "train_images": 55000, "test_images": 10000},
                        },
                        response_only=True,
                    )
                ],
            ),
            **errors(401, 429, 503),
        },
    ),
)


health_schema = extend_schema_view(
    get=extend_schema(
        tags=["service"],
        summary="Is everything up",
        description="Database, broker (or eager mode, when no broker is configured), whether a worker is "
        "consuming (one reported within WORKER_HEARTBEAT_TTL seconds) and model file. "
        "200 when all are fine, 503 otherwise, with the same body.",
        responses={
            200: OpenApiResponse(
                HealthSerializer,
                description="All fine.",
                examples=[
                    OpenApiExample(
                        "All fine",
                        value={
                            "ok": True,
                            "database": {"ok": True},
                            "broker": {"ok": True, "mode": "broker"},
                            "workers": {"ok": True, "count": 2},
                            "model": {"ok": True, "version": "1.0.0"},
                        },
                        response_only=True,
                        status_codes=["200"],
                    )
                ],
            ),
            503: OpenApiResponse(
                HealthSerializer,
                description="Something is down.",
                examples=[
                    OpenApiExample(
                        "Broker down",
                        value={
                            "ok": False,
                            "database": {"ok": True},
                            "broker": {"ok": False, "mode": "broker"},
                            "workers": {"ok": False, "count": 0, "reason": "The broker cannot be reached."},
                            "model": {"ok": True, "version": "1.0.0"},
                        },
                        response_only=True,
                        status_codes=["503"],
                    )
                ],
            ),
        },
    ),
)
