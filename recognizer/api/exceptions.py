"""Every API error is JSON, `{"detail": message, "code": ...}`, with the status that says what went wrong.

Field errors (400) also carry `errors`, DRF's per-field messages, so a client can point at the field.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from recognizer.forms import upload_rejected_message
from recognizer.services import UploadRejected


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The upload is too large.")
    default_code = "too_large"


class UnsupportedImage(exceptions.APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = _("The upload is not a picture we can read.")
    default_code = "not_an_image"


class BadUpload(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The upload was refused.")
    default_code = "bad_upload"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is not available right now. Try again later.")
    default_code = "unavailable"


# UploadRejected.code -> the error raised for it. An empty file is a 400, not a 415: it has no type at all,
# the request simply carries nothing to read.
UPLOAD_ERRORS: dict[str, type[exceptions.APIException]] = {
    "too_large": PayloadTooLarge,
    "too_many_pixels": PayloadTooLarge,
    "too_large_decoded": PayloadTooLarge,
    "not_an_image": UnsupportedImage,
    "unsupported_format": UnsupportedImage,
    "corrupt_image": UnsupportedImage,
    "invalid_image": UnsupportedImage,
    "empty_file": BadUpload,
    "no_file": BadUpload,
    "too_many_files": BadUpload,
}


def upload_error(rejected: UploadRejected) -> exceptions.APIException:
    """The API error for a refused upload: 413 too large, 415 not a picture we read, 400 otherwise."""
    error_class = UPLOAD_ERRORS.get(rejected.code, BadUpload)
    return error_class(detail=upload_rejected_message(rejected), code=rejected.code)


def _django_request_error(exc: Exception) -> exceptions.APIException | None:
    """Django refuses some requests while parsing them; the API answers those as JSON too."""
    if isinstance(exc, TooManyFilesSent):
        return BadUpload(detail=gettext("Too many files in one request."), code="too_many_files")
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(detail=gettext("The request body is too large."), code="too_large")
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ParseError(detail=gettext("Too many fields in one request."), code="too_many_fields")
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(detail=gettext("The request could not be read."), code="bad_request")
    return None


def _first(detail) -> tuple[str, str, str]:
    """(field, message, code) of the first error in DRF's nested error detail."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            _, message, code = _first(value)
            return str(field), message, code
    elif isinstance(detail, list):
        for value in detail:
            return _first(value)
    return "", str(detail), getattr(detail, "code", None) or "invalid"


def _answered_as_json_when_negotiation_failed(exc, request):
    """The error when DRF could not choose a format for the answer (?format=xyz, or an Accept header the view
    cannot meet): sent as JSON, which every client reads. Left to DRF, it is drawn with the view's first
    renderer, for the docs the Swagger page, whose template asks who the user is and fails on a bad token."""
    if request is None or getattr(request, "accepted_renderer", None) is not None:
        return exc
    request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    format_parameter = api_settings.URL_FORMAT_OVERRIDE
    requested = request.query_params.get(format_parameter, "") if format_parameter else ""
    if isinstance(exc, Http404) and requested:
        message = gettext("There is no %(format)s version of this address; leave out ?format.")
        return exceptions.NotFound(detail=message % {"format": requested[:40]}, code="unknown_format")
    return exc


def api_exception_handler(exc, context):
    exc = _django_request_error(exc) or exc
    exc = _answered_as_json_when_negotiation_failed(exc, context.get("request"))
    if isinstance(exc, Http404):
        # The same words whether the id is someone else's or absent (Django's message names the model).
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an error we expect: Django's 500 handling and logging take it
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first(exc.detail)
        if field and field != "non_field_errors":
            message = f"{field}: {message}"
        response.data = {"detail": message, "code": code, "errors": exc.detail}
    else:
        _, message, code = _first(response.data)
        response.data = {"detail": message, "code": code}
    return response
