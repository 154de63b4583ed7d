"""The result page of one prediction, its status JSON (asked while the worker reads the picture), its
pictures, and the answers to "is this right?": yes (or "right, there is no digit"), the right number typed,
or one digit corrected."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from recognizer import pictures, selectors, services
from recognizer.forms import CorrectDigitForm, NumberFeedbackForm
from recognizer.models import Prediction
from recognizer.views.answers import prediction_status


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
    corrected_position = answer["corrected_position"]
    if digit_form is not None and str(digit_form.data.get("position", "")).isdigit():
        checked_position = int(digit_form.data["position"])
    elif corrected_position is not None:
        checked_position = corrected_position  # the digit the user corrected shows chosen, its new value pressed
    else:
        checked_position = answer["correct_position"]
    read_there = (
        pieces[checked_position]["text"] if checked_position is not None and checked_position < len(pieces) else ""
    )
    return render(
        request,
        "recognizer/result.html",
        {
            "prediction": prediction,
            "status": answer,
            "digit_choices": range(10),
            "bars": bars,
            "chosen_piece": chosen_piece,
            "number_form": number_form
            or NumberFeedbackForm(
                initial={"true_digits": prediction.true_digits if answer["is_correct"] is False else ""}
            ),
            "digit_form": digit_form,
            "feedback_open": bool(number_form or digit_form) or answer["is_correct"] is False,
            "checked_position": checked_position,
            # The correction picker never offers, at the chosen place, the digit the model read there.
            "read_there": read_there,
            # After a correction of one digit, its new value shows pressed; after "right", none does.
            "corrected_digit": prediction.true_digits[corrected_position] if corrected_position is not None else "",
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


# The result page asks with ?wait=N: the answer comes as soon as the worker announces it (recognizer/finish_notices.py).
STATUS_WAIT_MAX_SECONDS = 20


@login_required
@require_GET
def prediction_status_json(request, pk: int):
    """The prediction as the result page draws it; with ?wait=N (at most 20 s), once finished or when N is up."""
    wait = request.GET.get("wait", "")
    timeout_seconds = min(int(wait), STATUS_WAIT_MAX_SECONDS) if wait.isdigit() else 0
    prediction = selectors.prediction_wait_finished(
        user=request.user, prediction_id=pk, timeout_seconds=timeout_seconds
    )
    response = JsonResponse(prediction_status(prediction))
    response["Cache-Control"] = "no-store"
    return response


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
def prediction_no_digit(request, pk: int):
    """ "Right, there is no digit": the answer to a picture in which no digit was found."""
    prediction = selectors.prediction_get(user=request.user, prediction_id=pk)
    try:
        services.prediction_record_no_digit(prediction=prediction)
    except services.InvalidLabel as refused:
        form = NumberFeedbackForm()
        form.add_error(None, refused.message)
        return render_result(request, prediction, number_form=form, status=400)
    messages.success(request, gettext("Thank you! Marked as right: there is no digit."))
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
