"""Sending pictures: the upload page (several files at once) and the drawing canvas."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from recognizer import services
from recognizer.forms import upload_rejected_message
from recognizer.models import Prediction
from recognizer.services.reader_warmup import reader_is_starting

UPLOAD_FIELD = "images"
DRAWING_FIELD = "drawing"


def upload_limits() -> dict:
    return {
        "max_files": settings.UPLOAD_MAX_FILES,
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_megabytes": f"{settings.UPLOAD_MAX_BYTES / 1048576:g}",
        "reader_starting": reader_is_starting(),
    }


def upload_page_context() -> dict:
    limits = upload_limits()
    return {
        **limits,
        # The page's script checks the choice before sending, with these messages ({name} etc. filled in there).
        "upload_messages": {
            "too_many": gettext("At most {limit} pictures at once; you chose {count}.").replace(
                "{limit}", str(limits["max_files"])
            ),
            "too_large": gettext("{name} is too large: the limit is {limit} MB.").replace(
                "{limit}", limits["max_megabytes"]
            ),
            "not_image": gettext("{name} is not a picture we can read. Use JPEG, PNG, WebP, BMP or GIF."),
            "summary": gettext("Chosen: {count} of at most {limit}, {size} in all.").replace(
                "{limit}", str(limits["max_files"])
            ),
            "remove": gettext("Remove"),
            "sending": gettext("Sending…"),
            "refused": gettext("Nothing was sent. Remove the pictures marked in red, then send the others."),
            "failed": gettext("The pictures could not be sent. Check your connection and try again."),
        },
    }


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    if request.method == "GET":
        return render(request, "recognizer/upload.html", upload_page_context())
    # The page's script sends the choice itself and asks for JSON, so that a refusal keeps the files chosen.
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        created = services.predictions_create(
            user=request.user, uploads=request.FILES.getlist(UPLOAD_FIELD), source=Prediction.Source.UPLOAD
        )
    except services.UploadRejected as rejected:
        if wants_json:
            return JsonResponse(upload_refusal(rejected), status=400)
        context = {**upload_page_context(), "error": upload_refusal(rejected)["error"]}
        return render(request, "recognizer/upload.html", context, status=400)
    warn_if_not_queued(request, created)
    if len(created) == 1:
        return upload_answer(wants_json, reverse("prediction_detail", args=[created[0].pk]))
    messages.success(
        request,
        ngettext(
            "%(count)d picture sent. The answers appear below as they are ready.",
            "%(count)d pictures sent. The answers appear below as they are ready.",
            len(created),
        )
        % {"count": len(created)},
    )
    # This upload's answers together, not the whole history.
    sent_url = f"{reverse('predictions_sent')}?{urlencode([('ids', prediction.pk) for prediction in created])}"
    return upload_answer(wants_json, sent_url)


def upload_answer(wants_json: bool, url: str):
    """Where the sender goes next: a redirect, or for the page's script the address to go to."""
    return JsonResponse({"url": url}, status=201) if wants_json else redirect(url)


def upload_refusal(rejected: services.UploadRejected) -> dict:
    """Why an upload was refused, for the page's script: the message, and each refused file by its place."""
    return {
        "error": " ".join(upload_rejected_message(refused) for refused in rejected.refused_files),
        "files": [
            {"index": refused.file_index, "name": refused.file_name, "error": upload_rejected_message(refused)}
            for refused in rejected.refused_files
            if refused.file_index is not None
        ],
    }


def warn_if_not_queued(request, created: list[Prediction]) -> None:
    # `queued` is noted once the transaction commits; with the broker down the pictures wait as pending.
    if any(getattr(prediction, "queued", True) is False for prediction in created):
        messages.warning(
            request,
            gettext(
                "The pictures are saved, but the queue cannot be reached right now. "
                "They will be read as soon as it is back."
            ),
        )


@login_required
@require_http_methods(["GET", "POST"])
def draw(request):
    """The drawing canvas. The page's script posts the drawing as a PNG file and gets JSON back."""
    if request.method == "GET":
        messages_for_script = {
            "sending": gettext("Reading…"),
            "failed": gettext("The drawing could not be sent. Check your connection and try again."),
        }
        return render(
            request,
            "recognizer/draw.html",
            {"draw_messages": messages_for_script, "reader_starting": reader_is_starting()},
        )
    drawing = request.FILES.get(DRAWING_FIELD)
    if drawing is None:
        return JsonResponse({"error": gettext("Draw a number first.")}, status=400)
    try:
        prediction = services.prediction_create(user=request.user, upload=drawing, source=Prediction.Source.DRAWING)
    except services.UploadRejected as rejected:
        return JsonResponse({"error": upload_rejected_message(rejected)}, status=400)
    warn_if_not_queued(request, [prediction])
    return JsonResponse({"id": prediction.pk, "url": reverse("prediction_detail", args=[prediction.pk])}, status=201)
