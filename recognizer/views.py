"""The website's pages. Thin: reads go through selectors, writes through services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from recognizer import pictures, selectors, services
from recognizer.forms import BulkDeleteForm, FeedbackForm, HistoryFilterForm, SignupForm, upload_rejected_message
from recognizer.models import Prediction

HISTORY_PAGE_SIZE = 24
UPLOAD_FIELD = "images"
DRAWING_FIELD = "drawing"


def home(request):
    return render(request, "recognizer/home.html", upload_limits())


def help_page(request):
    return render(request, "recognizer/help.html", upload_limits())


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("upload")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, gettext("Welcome, %(name)s! Send a picture of a digit to begin.") % {"name": user})
        return redirect("upload")
    return render(request, "registration/signup.html", {"form": form})


def upload_limits() -> dict:
    return {
        "max_files": settings.UPLOAD_MAX_FILES,
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_megabytes": f"{settings.UPLOAD_MAX_BYTES / 1048576:g}",
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
        },
    }


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    if request.method == "GET":
        return render(request, "recognizer/upload.html", upload_page_context())
    try:
        created = services.predictions_create(
            user=request.user, uploads=request.FILES.getlist(UPLOAD_FIELD), source=Prediction.Source.UPLOAD
        )
    except services.UploadRejected as rejected:
        context = {**upload_page_context(), "error": upload_rejected_message(rejected)}
        return render(request, "recognizer/upload.html", context, status=400)
    warn_if_not_queued(request, created)
    if len(created) == 1:
        return redirect("prediction_detail", pk=created[0].pk)
    messages.success(
        request,
        ngettext(
            "%(count)d picture sent. The answers appear below as they are ready.",
            "%(count)d pictures sent. The answers appear below as they are ready.",
            len(created),
        )
        % {"count": len(created)},
    )
    return redirect("history")


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
        return render(request, "recognizer/draw.html", {"draw_messages": messages_for_script})
    drawing = request.FILES.get(DRAWING_FIELD)
    if drawing is None:
        return JsonResponse({"error": gettext("Draw a digit first.")}, status=400)
    try:
        prediction = services.prediction_create(user=request.user, upload=drawing, source=Prediction.Source.DRAWING)
    except services.UploadRejected as rejected:
        return JsonResponse({"error": upload_rejected_message(rejected)}, status=400)
    warn_if_not_queued(request, [prediction])
    return JsonResponse({"id": prediction.pk, "url": reverse("prediction_detail", args=[prediction.pk])}, status=201)


@login_required
@require_GET
def prediction_detail(request, pk: int):
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    status = prediction_status(prediction)
    return render(
        request,
        "recognizer/result.html",
        {
            "prediction": prediction,
            "status": status,
            "digits": range(10),
            "bars": list(zip(range(10), status["probability_percents"] or [""] * 10, strict=True)),
        },
    )


@login_required
@require_GET
def prediction_status_json(request, pk: int):
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    response = JsonResponse(prediction_status(prediction))
    response["Cache-Control"] = "no-store"
    return response


def prediction_status(prediction: Prediction) -> dict:
    """What the result page and the history show of a prediction, as the status JSON sends it."""
    done = prediction.status == Prediction.Status.DONE
    probabilities = prediction.probabilities or []
    return {
        "id": prediction.pk,
        "status": prediction.status,
        "status_label": prediction.get_status_display(),
        "finished": prediction.is_finished,
        "digit": prediction.digit,
        "digits": prediction.digits,
        "no_digit_found": done and prediction.digits == "",
        "confidence": prediction.confidence,
        "confidence_percent": percent(prediction.confidence),
        "probabilities": probabilities,
        "probability_percents": [percent(p) for p in probabilities],
        "model_version": prediction.model_version,
        "error": prediction.error if prediction.status == Prediction.Status.FAILED else "",
        "true_label": prediction.true_label,
        # The user's own verdict (a staff review is not shown to the user).
        "is_correct": None if prediction.true_label is None else prediction.true_label == prediction.digit,
        "picture_url": reverse("prediction_picture", args=[prediction.pk, "upload"]),
        "model_input_url": reverse("prediction_picture", args=[prediction.pk, "input"])
        if prediction.model_input
        else None,
    }


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


@login_required
@require_GET
def prediction_picture(request, pk: int, kind: str):
    """The original picture or the 28x28 model input, to its owner only (everyone else: 404)."""
    stored = selectors.prediction_picture(user=request.user, prediction_id=pk, kind=kind)
    return pictures.picture_response(stored, thumbnail=request.GET.get("size") == "thumb")


@login_required
@require_POST
def prediction_feedback(request, pk: int):
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid() or prediction.status != Prediction.Status.DONE:
        messages.error(request, gettext("Pick a digit from 0 to 9 once the answer is ready."))
        return redirect("prediction_detail", pk=prediction.pk)
    services.prediction_record_feedback(prediction=prediction, true_label=form.cleaned_data["true_label"])
    if prediction.is_correct:
        messages.success(request, gettext("Thank you! Marked as right."))
    else:
        messages.success(
            request, gettext("Thank you! Noted: it is a %(digit)d.") % {"digit": form.cleaned_data["true_label"]}
        )
    return redirect("prediction_detail", pk=prediction.pk)


@login_required
@require_POST
def prediction_delete(request, pk: int):
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    services.prediction_delete(prediction=prediction)
    messages.success(request, gettext("The picture and its answer were deleted."))
    return redirect(safe_next(request, reverse("history")))


@login_required
@require_POST
def predictions_bulk_delete(request):
    form = BulkDeleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["ids"][0])
        return redirect(safe_next(request, reverse("history")))
    # Only the user's own predictions: anyone else's ids are left alone, as if they did not exist.
    chosen = selectors.prediction_list(user=request.user).filter(pk__in=form.cleaned_data["ids"])
    count = services.predictions_delete(predictions=chosen)
    messages.success(
        request,
        ngettext("%(count)d picture deleted.", "%(count)d pictures deleted.", count) % {"count": count},
    )
    return redirect(safe_next(request, reverse("history")))


def safe_next(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@login_required
@require_GET
def history(request):
    filter_form = HistoryFilterForm(request.GET or None)
    filters = filter_form.filters()
    predictions = selectors.prediction_list(user=request.user, **filters)
    page = Paginator(predictions, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "recognizer/history.html",
        {
            "filter_form": filter_form,
            "is_filtered": any(value is not None for value in filters.values()),
            "page": page,
            "rows": [(prediction, prediction_status(prediction)) for prediction in page.object_list],
            "query": query.urlencode(),
            "summary": selectors.prediction_summary(user=request.user),
        },
    )
