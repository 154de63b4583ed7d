"""The history: every prediction of the user, searched by number and filtered, with single and bulk delete;
and the page of one upload's pictures together."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from recognizer import selectors, services
from recognizer.forms import BulkDeleteForm, HistoryFilterForm, SentPredictionsForm
from recognizer.views.answers import prediction_status

HISTORY_PAGE_SIZE = 24


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
    if form.has_error("ids", code="required"):
        messages.error(request, form.errors["ids"][0])
        return redirect(safe_next(request, reverse("history")))
    if not form.is_valid():
        # Ids that are not numbers, or too big to be a row's: not a request the page sends.
        context = {
            "heading": gettext("The request could not be read"),
            "message": form.errors["ids"][0],
            "link_url": reverse("history"),
            "link_text": gettext("History"),
        }
        return render(request, "error_page.html", context, status=400)
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


@login_required
@require_GET
def predictions_sent(request):
    """The answers to one upload of several pictures, together: the page the upload leads to.

    The ids come in the address; only the user's own are shown (anyone else's are left out).
    """
    form = SentPredictionsForm(request.GET)
    ids = form.cleaned_data["ids"] if form.is_valid() else []
    predictions = list(selectors.predictions_sent_together(user=request.user, prediction_ids=ids))
    return render(
        request,
        "recognizer/sent.html",
        {
            "rows": [(prediction, prediction_status(prediction)) for prediction in predictions],
            "sent_at": predictions[0].created_at if predictions else None,
        },
        status=200 if predictions else 404,
    )
