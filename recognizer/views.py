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
from recognizer.forms import (
    BulkDeleteForm,
    CorrectDigitForm,
    HistoryFilterForm,
    NumberFeedbackForm,
    SignupForm,
    upload_rejected_message,
)
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
        messages.success(request, gettext("Welcome, %(name)s! Send a picture of a number to begin.") % {"name": user})
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
        return JsonResponse({"error": gettext("Draw a number first.")}, status=400)
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
    return render_result(request, prediction)


def render_result(request, prediction: Prediction, *, number_form=None, digit_form=None, status: int = 200):
    """The result page; after a refused correction, with the form that says why (and what was typed)."""
    answer = prediction_status(prediction)
    selected = answer["selected_position"]
    pieces = answer["pieces"]
    chosen_piece = pieces[selected] if selected is not None else None
    bars = list(zip(range(10), chosen_piece["probability_percents"] if chosen_piece else [""] * 10, strict=True))
    return render(
        request,
        "recognizer/result.html",
        {
            "prediction": prediction,
            "status": answer,
            "digit_choices": range(10),
            "bars": bars,
            "chosen_piece": chosen_piece,
            "number_form": number_form or NumberFeedbackForm(),
            "digit_form": digit_form,
            "feedback_open": bool(number_form or digit_form) or answer["is_correct"] is False,
            "checked_position": int(digit_form.data["position"])
            if digit_form is not None and str(digit_form.data.get("position", "")).isdigit()
            else answer["correct_position"],
            # What the page's script writes when it fills in an answer that arrives while the page is open.
            "result_messages": {
                "not_read": gettext("not read"),
                "could_not_be_read": gettext("This piece could not be read"),
                "model_saw": gettext("What the model saw (28 × 28)"),
                "place": gettext("digit %(place)s") % {"place": "{place}"},
                "place_of": gettext("digit %(place)s of %(total)s") % {"place": "{place}", "total": "{total}"},
            },
        },
        status=status,
    )


@login_required
@require_GET
def prediction_status_json(request, pk: int):
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    response = JsonResponse(prediction_status(prediction))
    response["Cache-Control"] = "no-store"
    return response


# How big the reading drawn over each box is, as a share of the picture's longer side.
BOX_LABEL_SHARE = 0.05


def prediction_status(prediction: Prediction) -> dict:
    """What the result page and the history show of a prediction, as the status JSON sends it.

    `pieces` has one entry per character of the number (a digit, or "?" for a piece that could not be
    read), with everything the page draws for it: its box and label over the picture, its confidence,
    its bars and where its 28x28 input sits in the model-input strip.
    """
    done = prediction.status == Prediction.Status.DONE
    digits = prediction.digits if done else ""
    pieces = prediction_pieces(prediction) if done else []
    flagged = [piece["position"] for piece in pieces if piece["flagged"]]
    width, height = prediction.image_width, prediction.image_height
    return {
        "id": prediction.pk,
        "status": prediction.status,
        "status_label": prediction.get_status_display(),
        "finished": prediction.is_finished,
        "digit": prediction.digit,
        "digits": digits,
        "number_found": bool(digits),
        "flagged": bool(flagged),
        "no_digit_found": done and digits == "",
        "confidence": prediction.confidence,
        "confidence_percent": percent(prediction.confidence),
        "confidences": [piece["confidence"] for piece in pieces],
        "probabilities": [piece["probabilities"] for piece in pieces],
        "boxes": [piece["box"] for piece in pieces],
        "image_width": width,
        "image_height": height,
        # The reading's size over the picture, in the picture's pixels (the overlay scales with it).
        "label_size": round(max(width, height) * BOX_LABEL_SHARE, 1) if width and height else None,
        "pieces": pieces,
        # The piece shown first: the first one that could not be read, else the first digit.
        "selected_position": (flagged[0] if flagged else 0) if pieces else None,
        # The digit the "correct one digit" form starts on: the only one there is, else the person chooses.
        # (A number with a piece not read is corrected by typing it whole: the service refuses one digit.)
        "correct_position": 0 if len(pieces) == 1 else None,
        "model_version": prediction.model_version,
        "error": prediction.error if prediction.status == Prediction.Status.FAILED else "",
        "true_digits": prediction.true_digits,
        # The user's own verdict (a staff review is not shown to the user).
        "is_correct": (prediction.true_digits == digits) if prediction.true_digits and done else None,
        "picture_url": reverse("prediction_picture", args=[prediction.pk, "upload"]),
        "model_input_url": reverse("prediction_picture", args=[prediction.pk, "input"])
        if prediction.model_input
        else None,
    }


def prediction_pieces(prediction: Prediction) -> list[dict]:
    digits = prediction.digits
    confidences = list(prediction.confidences or [])
    probabilities = list(prediction.probabilities or [])
    if probabilities and not isinstance(probabilities[0], list):
        probabilities = [probabilities]  # a row written before numbers: one digit's 10 probabilities
    boxes = list(prediction.boxes or [])
    if not confidences and len(digits) == 1 and prediction.confidence is not None:
        confidences = [prediction.confidence]
    label_size = (
        max(prediction.image_width, prediction.image_height) * BOX_LABEL_SHARE
        if prediction.image_width and prediction.image_height
        else None
    )
    pieces = []
    for position, text in enumerate(digits):
        confidence = confidences[position] if position < len(confidences) else None
        shares = probabilities[position] if position < len(probabilities) else []
        box = boxes[position] if position < len(boxes) else None
        pieces.append(
            {
                "position": position,
                "text": text,
                "flagged": not text.isdigit(),
                "confidence": confidence,
                "confidence_percent": percent(confidence),
                "probabilities": shares,
                "probability_percents": [percent(p) for p in shares] if len(shares) == 10 else [""] * 10,
                "box": box,
                "outline": box_outline(box, label_size, prediction.image_height) if box and label_size else None,
            }
        )
    return pieces


def box_outline(box: list[int], label_size: float, picture_height: int) -> dict:
    """A box as the overlay draws it (SVG x, y, width, height) and where its reading is written:
    above the box, or below it when the box touches the top of the picture."""
    left, top, right, bottom = box
    above = top - label_size * 0.25
    label_y = above if above - label_size * 0.8 >= 0 else min(bottom + label_size * 0.95, picture_height)
    return {
        "x": left,
        "y": top,
        "width": max(right - left, 1),
        "height": max(bottom - top, 1),
        "label_x": round((left + right) / 2, 1),
        "label_y": round(label_y, 1),
    }


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


@login_required
@require_GET
def prediction_picture(request, pk: int, kind: str):
    """The original picture or the model input strip (28 px high, 28 px a digit), to its owner only."""
    stored = selectors.prediction_picture(user=request.user, prediction_id=pk, kind=kind)
    return pictures.picture_response(stored, thumbnail=request.GET.get("size") == "thumb")


@login_required
@require_POST
def prediction_feedback(request, pk: int):
    """ "Is this right?": yes (the number read comes back as it is), or the right number typed in full."""
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    form = NumberFeedbackForm(request.POST)
    if not form.is_valid():
        return render_result(request, prediction, number_form=form, status=400)
    if prediction.status != Prediction.Status.DONE:
        form.add_error(None, gettext("The answer is not ready yet: say whether it is right once it is."))
        return render_result(request, prediction, number_form=form, status=400)
    try:
        services.prediction_record_feedback(prediction=prediction, true_digits=form.cleaned_data["true_digits"])
    except ValueError as refused:
        form.add_error("true_digits", str(refused))
        return render_result(request, prediction, number_form=form, status=400)
    say_thank_you(request, prediction)
    return redirect("prediction_detail", pk=prediction.pk)


@login_required
@require_POST
def prediction_correct_digit(request, pk: int):
    """One digit of the number read was wrong: its position and the digit it really is."""
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    form = CorrectDigitForm(request.POST, length=len(prediction.digits))
    if form.is_valid() and prediction.status != Prediction.Status.DONE:
        form.add_error(None, gettext("The answer is not ready yet: correct it once it is."))
    if form.errors:
        return render_result(request, prediction, digit_form=form, status=400)
    try:
        services.prediction_correct_digit(
            prediction=prediction, position=form.cleaned_data["position"], digit=form.cleaned_data["digit"]
        )
    except ValueError as refused:
        form.add_error(None, str(refused))
        return render_result(request, prediction, digit_form=form, status=400)
    say_thank_you(request, prediction)
    return redirect("prediction_detail", pk=prediction.pk)


def say_thank_you(request, prediction: Prediction) -> None:
    if prediction.true_digits == prediction.digits:
        messages.success(request, gettext("Thank you! Marked as right."))
    else:
        messages.success(request, gettext("Thank you! Noted: it is %(number)s.") % {"number": prediction.true_digits})


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
