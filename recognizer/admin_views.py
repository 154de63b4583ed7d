"""The admin pages beyond Django's list and detail: the misclassification dashboard (its accuracy chart
drawn inline by recognizer/charts.py), the review queue, the label and picture views, and the two actions
that need a page or a download.

PredictionAdmin.get_urls wraps each view in admin_site.admin_view (active staff only, CSRF-protected);
each one checks the Prediction permissions on top. Counting is in selectors, writing in services.
"""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from recognizer import charts, pictures, selectors, services
from recognizer.models import LABEL_MAX_LENGTH, Prediction

REVIEW_QUEUE_PAGE = 60
# The days a dashboard filter may name. Each becomes the instants a whole day starts and ends in the current
# time zone (the day after the last one included), which the calendar's own first and last days have no room
# for: 9999-12-31 was a server error.
FIRST_FILTER_DAY = date(1900, 1, 1)
LAST_FILTER_DAY = date(9998, 12, 31)


def _filter_day_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        validators=[MinValueValidator(FIRST_FILTER_DAY), MaxValueValidator(LAST_FILTER_DAY)],
        widget=forms.DateInput(
            attrs={"type": "date", "min": FIRST_FILTER_DAY.isoformat(), "max": LAST_FILTER_DAY.isoformat()},
            format="%Y-%m-%d",
        ),
    )


class DashboardFilterForm(forms.Form):
    model_version = forms.ChoiceField(label=_("Model version"), required=False)
    created_from = _filter_day_field(_("From"))
    created_to = _filter_day_field(_("To"))

    def __init__(self, *args, versions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model_version"].choices = [("", _("all versions")), *((v, v) for v in versions if v)]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            # On the field, so the message stands where the dates are.
            self.add_error("created_to", _("The end date is before the start date."))
        return cleaned

    def selection(self) -> dict:
        """Keyword arguments for the dashboard selectors; no filter where the form is invalid."""
        if not self.is_valid():
            return {"model_version": None, "created_from": None, "created_to": None}
        return {
            "model_version": self.cleaned_data["model_version"] or None,
            "created_from": self.cleaned_data["created_from"],
            "created_to": self.cleaned_data["created_to"],
        }


def _require_view(request, model_admin) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def _changelist_url(selection: dict, **filters: str) -> str:
    """The admin list filtered to the dashboard's selection and the given list-filter parameters.

    It uses the list's own filters (status, model version, the created_at date filter and the
    custom label/predicted/verdict filters), which run the same selectors as the dashboard.
    """
    params = {"status__exact": Prediction.Status.DONE}
    if selection["model_version"] is not None:
        params["model_version__exact"] = selection["model_version"]
    start, end = selectors.created_range_bounds(selection["created_from"], selection["created_to"])
    if start:
        params["created_at__gte"] = start.isoformat()
    if end:
        params["created_at__lt"] = end.isoformat()
    params.update(filters)
    return f"{reverse('admin:recognizer_prediction_changelist')}?{urlencode(params)}"


def _accuracy_rows(rows) -> list[dict]:
    return [
        {
            "key": row.key,
            "labelled": row.labelled,
            "right": row.right,
            "wrong": row.labelled - row.right,
            "accuracy": row.accuracy,
            "percent": f"{100 * row.accuracy:.1f}" if row.accuracy is not None else "0",
        }
        for row in rows
    ]


def dashboard(request, *, model_admin):
    _require_view(request, model_admin)
    form = DashboardFilterForm(request.GET or None, versions=selectors.model_versions())
    base_context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Misclassification dashboard"),
        "form": form,
        "review_queue_count": selectors.review_queue().count(),
        "review_queue_url": reverse("admin:recognizer_prediction_review_queue"),
    }
    if form.is_bound and not form.is_valid():
        # Figures for other dates than the ones asked would mislead: only the form and its errors (400: the
        # request asked for what cannot be counted).
        return TemplateResponse(
            request,
            "admin/recognizer/prediction/dashboard.html",
            {**base_context, "filters_invalid": True},
            status=400,
        )
    selection = form.selection()
    matrix = selectors.confusion_matrix(**selection)
    most = max(matrix.counts.values(), default=0)
    matrix_rows = [
        {
            "label": label,
            "total": sum(n for _p, n in cells),
            "total_url": _changelist_url(selection, label=str(label)),
            "cells": [
                {
                    "predicted": predicted,
                    "count": count,
                    "right": predicted == str(label),
                    # Shade by share of the largest cell, so the eye finds the big confusions.
                    "shade": round(count / most, 2) if most else 0,
                    "url": _changelist_url(selection, cell=f"{label}:{predicted}") if count else None,
                }
                for predicted, count in cells
            ],
        }
        for label, cells in matrix.rows()
    ]
    by_version = [
        {**row, "wrong_url": _changelist_url({**selection, "model_version": row["key"]}, verdict="wrong")}
        for row in _accuracy_rows(selectors.accuracy_by_model_version(**_without_version(selection)))
    ]
    by_digit = [
        {**row, "wrong_url": _changelist_url(selection, label=str(row["key"]), verdict="wrong")}
        for row in _accuracy_rows(selectors.accuracy_by_digit(**selection))
    ]
    over_time_rows = selectors.accuracy_over_time(**selection)
    over_time = _accuracy_rows(over_time_rows)
    context = {
        **base_context,
        "matrix": matrix,
        "matrix_rows": matrix_rows,
        "predicted_columns": selectors.CONFUSION_COLUMNS,
        "length_wrong": selectors.LENGTH_WRONG,
        "accuracy_percent": (
            f"{100 * matrix.predictions_right / matrix.predictions:.1f}" if matrix.predictions else None
        ),
        "wrong_url": _changelist_url(selection, verdict="wrong"),
        "not_a_digit_url": _changelist_url(selection, label=selectors.NOT_A_DIGIT),
        "by_version": by_version,
        "by_digit": by_digit,
        "over_time": over_time,
        "accuracy_chart": charts.accuracy_over_time(over_time_rows),
    }
    return TemplateResponse(request, "admin/recognizer/prediction/dashboard.html", context)


def _without_version(selection: dict) -> dict:
    return {"created_from": selection["created_from"], "created_to": selection["created_to"]}


def review_queue(request, *, model_admin):
    _require_view(request, model_admin)
    queue = selectors.review_queue()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Review queue"),
        "predictions": queue[:REVIEW_QUEUE_PAGE],
        "total": queue.count(),
        "label_max_length": LABEL_MAX_LENGTH,
        "can_label": model_admin.has_change_permission(request),
        "dashboard_url": reverse("admin:recognizer_prediction_dashboard"),
    }
    return TemplateResponse(request, "admin/recognizer/prediction/review_queue.html", context)


@require_POST
def review_label(request, *, model_admin, object_id: int):
    """Stores a staff label from the review queue: JSON for its script, a redirect for a plain form."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    prediction = Prediction.objects.filter(pk=object_id).first()
    if prediction is None:
        raise Http404
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        if request.POST.get("not_a_digit"):
            # A blank page, a scribble, a word: said so, rather than forced into a digit.
            services.prediction_record_not_a_digit(prediction=prediction, reviewer=request.user)
        else:
            services.prediction_record_review(
                prediction=prediction, staff_digits=request.POST.get("label", ""), reviewer=request.user
            )
    except services.InvalidLabel as error:
        if wants_json:
            return JsonResponse({"error": error.message}, status=400)
        return HttpResponseBadRequest(error.message)
    if wants_json:
        return JsonResponse(
            {
                "id": prediction.pk,
                "staff_digits": prediction.staff_digits,
                "not_a_digit": prediction.labelled_not_a_digit,
            }
        )
    if prediction.labelled_not_a_digit:
        messages.success(request, gettext("Prediction %(id)d marked “not a digit”.") % {"id": prediction.pk})
    else:
        labelled = {"id": prediction.pk, "label": prediction.staff_digits}
        messages.success(request, gettext("Prediction %(id)d labelled %(label)s.") % labelled)
    return redirect("admin:recognizer_prediction_review_queue")


def picture(request, *, model_admin, object_id: int, kind: str):
    """The upload or the 28x28 model input, to staff only: media/ is never served publicly."""
    prediction = model_admin.get_object(request, str(object_id))
    if prediction is None:
        raise Http404
    if not model_admin.has_view_permission(request, prediction):
        raise PermissionDenied
    stored = pictures.stored_picture(prediction, kind)
    return pictures.picture_response(stored, thumbnail=request.GET.get("size") == "thumb")


class _StaffLabelForm(forms.Form):
    staff_digits = forms.CharField(
        label=_("Number"),
        max_length=LABEL_MAX_LENGTH,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}),
        help_text=_("The digits 0-9 it really shows, e.g. 4667."),
    )

    def clean_staff_digits(self) -> str:
        try:
            return services.label_clean(self.cleaned_data["staff_digits"])
        except services.InvalidLabel as error:
            raise forms.ValidationError(error.message, code=error.code) from None


def set_staff_label_action(request, *, model_admin, queryset):
    """The "set the true label" action: a page to type the number, then the staff label on every selected row."""
    if "apply" in request.POST:
        form = _StaffLabelForm(request.POST)
        if form.is_valid():
            count = services.predictions_record_review(
                predictions=queryset, staff_digits=form.cleaned_data["staff_digits"], reviewer=request.user
            )
            model_admin.message_user(
                request,
                gettext("Labelled %(count)d predictions as %(label)s.")
                % {"count": count, "label": form.cleaned_data["staff_digits"]},
                messages.SUCCESS,
            )
            return None  # back to the list
    else:
        form = _StaffLabelForm()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Set the true label"),
        "form": form,
        "predictions": queryset,
        "count": queryset.count(),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action": request.POST.get("action", "set_staff_label"),
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/recognizer/prediction/set_label.html", context)


def export_dataset_action(request, *, model_admin, queryset):
    buffer = io.BytesIO()
    result = services.labelled_dataset_export(predictions=queryset.order_by("created_at", "id"), out=buffer)
    if result.skipped:
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d selected prediction was left out: unlabelled, unfinished, without a model input, "
                "or with a label whose length differs from the pieces read (or a flagged piece).",
                "%(count)d selected predictions were left out: unlabelled, unfinished, without a model input, "
                "or with a label whose length differs from the pieces read (or a flagged piece).",
                result.skipped,
            )
            % {"count": result.skipped},
            messages.WARNING,
        )
    if not result.exported:
        model_admin.message_user(request, gettext("Nothing to export."), messages.ERROR)
        return None
    response = HttpResponse(buffer.getvalue(), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="labelled-{timezone.now():%Y%m%d-%H%M%S}.npz"'
    return response
