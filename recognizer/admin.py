"""Staff inspection of predictions: where the model is wrong, label review, and the export for retraining.

The filters, counts and writes live in selectors and services; the pages beyond the standard
list and detail (dashboard, review queue, pictures) are in admin_views.py.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseBadRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from recognizer import admin_views, selectors, services
from recognizer.account_forms import AdminLoginForm
from recognizer.forms import is_row_id
from recognizer.models import FLAGGED, LABEL_MAX_LENGTH, STAFF_REVIEWED, Prediction

DIGIT_CHOICES = [(str(d), str(d)) for d in range(10)]

# Breadcrumbs and the site's few models are enough to find one's way; the sidebar took a quarter of the
# screen from the prediction list.
admin.site.enable_nav_sidebar = False

# The admin's login says so when too many failed logins locked the name or the address out.
admin.site.login_form = AdminLoginForm


class PredictedDigitFilter(admin.SimpleListFilter):
    title = _("number read has the digit")
    parameter_name = "predicted"

    def lookups(self, request, model_admin):
        return [
            *DIGIT_CHOICES,
            (FLAGGED, _("? (a piece not readable as one digit)")),
            (selectors.NO_DIGIT, _("none (no digit found)")),
        ]

    def queryset(self, request, queryset):
        if self.value() in (*selectors.DIGIT_VALUES, FLAGGED, selectors.NO_DIGIT):
            return selectors.predictions_by_predicted_digit(queryset, self.value())
        return queryset


class LabelFilter(admin.SimpleListFilter):
    title = _("true label has the digit (staff review wins)")
    parameter_name = "label"

    def lookups(self, request, model_admin):
        return [*DIGIT_CHOICES, (selectors.NO_DIGIT, _("unlabelled")), (selectors.NOT_A_DIGIT, _("not a digit"))]

    def queryset(self, request, queryset):
        if self.value() in (*selectors.DIGIT_VALUES, selectors.NO_DIGIT, selectors.NOT_A_DIGIT):
            return selectors.predictions_by_label(queryset, self.value())
        return queryset


class ConfusionCellFilter(admin.SimpleListFilter):
    """The dashboard's confusion-matrix cells link here ("4:9": true 4 read as 9); shown only while in use."""

    title = _("confusion matrix cell")
    parameter_name = "cell"

    def _cell(self) -> tuple[str, str] | None:
        label, _sep, read = (self.value() or "").partition(":")
        if label in selectors.DIGIT_VALUES and read in selectors.CONFUSION_COLUMNS:
            return label, read
        return None

    def lookups(self, request, model_admin):
        # Only the cell in use: a filter with no choice at all would be dropped, its parameter ignored.
        cell = self._cell()
        if cell is None:
            return []
        label, read = cell
        return [(f"{label}:{read}", gettext("true %(label)s, read %(read)s") % {"label": label, "read": read})]

    def queryset(self, request, queryset):
        cell = self._cell()
        if cell is not None:
            return selectors.predictions_by_confusion_cell(queryset, *cell)
        return queryset


class VerdictFilter(admin.SimpleListFilter):
    title = _("right or wrong")
    parameter_name = "verdict"

    def lookups(self, request, model_admin):
        return [
            (selectors.Verdict.RIGHT, _("right")),
            (selectors.Verdict.WRONG, _("wrong")),
            (selectors.Verdict.UNKNOWN, _("unknown")),
        ]

    def queryset(self, request, queryset):
        if self.value() in selectors.Verdict.CHOICES:
            return selectors.predictions_by_verdict(queryset, self.value())
        return queryset


class ConfidenceBandFilter(admin.SimpleListFilter):
    title = _("confidence")
    parameter_name = "confidence"

    def lookups(self, request, model_admin):
        return [
            (selectors.ConfidenceBand.LOW, _("below 50%")),
            (selectors.ConfidenceBand.MEDIUM, _("50% to 90%")),
            (selectors.ConfidenceBand.HIGH, _("above 90%")),
        ]

    def queryset(self, request, queryset):
        if self.value() in selectors.ConfidenceBand.CHOICES:
            return selectors.predictions_by_confidence_band(queryset, self.value())
        return queryset


class ReviewedFilter(admin.SimpleListFilter):
    title = _("staff review")
    parameter_name = "reviewed"

    def lookups(self, request, model_admin):
        return [("yes", _("reviewed by staff")), ("no", _("not reviewed"))]

    def queryset(self, request, queryset):
        # "Not a digit" is a staff review too: an empty staff label with its time.
        if self.value() == "yes":
            return queryset.filter(STAFF_REVIEWED)
        if self.value() == "no":
            return queryset.exclude(STAFF_REVIEWED)
        return queryset


class PredictionReviewForm(forms.ModelForm):
    """Only the staff label is editable; everything else is what the model and the user said."""

    staff_digits = forms.CharField(
        label=_("Staff label"),
        required=False,
        max_length=LABEL_MAX_LENGTH,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_(
            "The number it really is (digits 0-9), as staff see it; empty: no staff label. Kept apart from "
            "the user's own answer; it wins."
        ),
    )

    class Meta:
        model = Prediction
        fields = ["staff_digits"]

    def clean_staff_digits(self) -> str:
        value = self.cleaned_data["staff_digits"].strip()
        if not value:
            return ""
        try:
            return services.label_clean(value)
        except services.InvalidLabel as error:
            raise forms.ValidationError(error.message, code=error.code) from None


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    form = PredictionReviewForm
    change_list_template = "admin/recognizer/prediction/change_list.html"
    # Few, narrow columns (the two pictures stacked, one label column, a short date) so that the list
    # fits a 1366 px screen beside its filters.
    list_display = [
        "prediction_id",
        "list_pictures",
        "user",
        "predicted",
        "confidence_percent",
        "label_shown",
        "verdict",
        "model_version",
        "status",
        "sent_at",
    ]
    list_display_links = ["prediction_id", "list_pictures"]
    list_select_related = ["user"]
    list_filter = [
        "status",
        PredictedDigitFilter,
        LabelFilter,
        ConfusionCellFilter,
        VerdictFilter,
        ConfidenceBandFilter,
        ReviewedFilter,
        "model_version",
        "created_at",
    ]
    search_fields = ["user__username", "digits", "true_digits", "staff_digits"]
    search_help_text = _("Search by username, or by a number read or labelled (or part of one).")
    list_per_page = 50
    actions = ["confirm_labels", "set_staff_label", "export_dataset"]
    fieldsets = [
        (None, {"fields": ["pictures", "predicted", "confidence_percent", "probability_bars"]}),
        (
            _("Label"),
            {"fields": ["verdict", "true_digits", "feedback_at", "staff_digits", "reviewed_by", "reviewed_at"]},
        ),
        (
            _("Processing"),
            {
                "fields": [
                    "user",
                    "source",
                    "original_name",
                    "status",
                    "error",
                    "attempts",
                    "model_version",
                    "preprocess_ms",
                    "inference_ms",
                    "created_at",
                    "finished_at",
                    "boxes",
                    "image_width",
                    "image_height",
                ]
            },
        ),
    ]
    readonly_fields = [
        "pictures",
        "predicted",
        "confidence_percent",
        "probability_bars",
        "verdict",
        "true_digits",
        "feedback_at",
        "reviewed_by",
        "reviewed_at",
        "user",
        "source",
        "original_name",
        "status",
        "error",
        "attempts",
        "model_version",
        "preprocess_ms",
        "inference_ms",
        "created_at",
        "finished_at",
        "boxes",
        "image_width",
        "image_height",
    ]

    class Media:
        css = {"all": ["recognizer/admin/predictions.css"]}

    def get_queryset(self, request):
        # The `effective_label` annotation lets the list sort by it and the filters reuse it.
        return selectors.with_effective_label(super().get_queryset(request))

    def has_add_permission(self, request):
        return False  # predictions come from uploads, never from a blank form

    def changelist_view(self, request, extra_context=None):
        # The list takes any lookup on the model's own fields from the address, and a year (created_at__year,
        # and __iso_year) becomes that year's first and last instants only when the query runs: a year outside
        # the calendar's (10000, 0) was a server error instead of the list's own "invalid filter".
        for key, value in request.GET.items():
            parts = key.split("__")
            if ("year" in parts or "iso_year" in parts) and not all(
                part.strip().isdigit() and 1 <= int(part[:5]) <= 9999 for part in value.split(",")
            ):
                return HttpResponseBadRequest(gettext("A year in the filters must be a number from 1 to 9999."))
        return super().changelist_view(request, extra_context)

    def response_action(self, request, queryset):
        # The admin filters on the ticked ids as sent; one that cannot be a row's id (a word, a number too big
        # for the column: SQLite cannot even compare with it) is a request the list never sends.
        if not all(is_row_id(value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            return HttpResponseBadRequest(gettext("Those are not predictions: choose them in the list."))
        return super().response_action(request, queryset)

    # ---- list columns and detail fields

    def _picture_url(self, obj: Prediction, kind: str, size: str = "") -> str:
        url = reverse("admin:recognizer_prediction_picture", args=[obj.pk, kind])
        return f"{url}?size={size}" if size else url

    @admin.display(description=_("upload"))
    def upload_thumbnail(self, obj: Prediction):
        if not obj.image:
            return "—"
        return format_html(
            '<img class="prediction-thumb" src="{}" alt="{}" loading="lazy">',
            self._picture_url(obj, "upload", "thumb"),
            gettext("upload"),
        )

    @admin.display(description=_("model input"))
    def model_input_thumbnail(self, obj: Prediction):
        if not obj.model_input:
            return "—"
        return format_html(
            '<img class="prediction-thumb pixelated" src="{}" alt="{}" loading="lazy">',
            self._picture_url(obj, "input"),
            gettext("model input"),
        )

    @admin.display(description=_("ID"), ordering="id")
    def prediction_id(self, obj: Prediction) -> int:
        return obj.pk  # the primary key's own "ID" header is not translated

    @admin.display(description=_("pictures"))
    def list_pictures(self, obj: Prediction):
        """The upload above what the model saw, in one narrow column."""
        upload = self.upload_thumbnail(obj) if obj.image else ""
        model_input = self.model_input_thumbnail(obj) if obj.model_input else ""
        return format_html('<span class="list-pictures">{}{}</span>', upload, model_input)

    @admin.display(description=_("label"), ordering="effective_label")
    def label_shown(self, obj: Prediction):
        """The label that counts (staff's wins), saying whose it is; the user's answer too when staff differ.
        An empty label someone gave is "not a digit" (the picture holds none)."""
        if obj.staff_reviewed:
            staff_label = obj.staff_digits or gettext("not a digit")
            user_label = obj.true_digits or (gettext("not a digit") if obj.user_answered else "")
            differs = user_label and user_label != staff_label
            return format_html(
                '{}<span class="label-owner">{}</span>{}',
                staff_label,
                gettext("staff"),
                format_html('<span class="label-owner">{}: {}</span>', gettext("user"), user_label) if differs else "",
            )
        if obj.user_answered:
            user_label = obj.true_digits or gettext("not a digit")
            return format_html('{}<span class="label-owner">{}</span>', user_label, gettext("user"))
        return "—"

    @admin.display(description=_("sent"), ordering="created_at")
    def sent_at(self, obj: Prediction):
        moment = timezone.localtime(obj.created_at)
        return format_html("{}<br>{}", date_format(moment, "SHORT_DATE_FORMAT"), date_format(moment, "TIME_FORMAT"))

    @admin.display(description=_("pictures"))
    def pictures(self, obj: Prediction):
        upload = (
            format_html(
                '<figure><a href="{0}"><img class="prediction-large" src="{0}" alt=""></a><figcaption>{1}</figcaption>'
                "</figure>",
                self._picture_url(obj, "upload"),
                gettext("The upload"),
            )
            if obj.image
            else ""
        )
        pieces = max(len(obj.digits), 1)
        model_input = (
            format_html(
                '<figure><img class="prediction-large pixelated" src="{}" alt="" width="{}" height="140">'
                "<figcaption>{}</figcaption></figure>",
                self._picture_url(obj, "input"),
                140 * pieces,
                gettext("What the model saw (28x28 per digit, left to right)"),
            )
            if obj.model_input
            else ""
        )
        return format_html('<div class="prediction-pictures">{}{}</div>', upload, model_input)

    @admin.display(description=_("number read"), ordering="digits")
    def predicted(self, obj: Prediction):
        if obj.status != Prediction.Status.DONE:
            return "—"
        return obj.digits or gettext("no digit")

    @admin.display(description=_("confidence"), ordering="confidence")
    def confidence_percent(self, obj: Prediction):
        return "—" if obj.confidence is None else f"{obj.confidence:.1%}"

    @admin.display(description=_("right or wrong"), ordering="effective_label")
    def verdict(self, obj: Prediction):
        correct = obj.is_correct
        if correct is None:
            return format_html('<span class="verdict verdict-unknown" title="{}">?</span>', gettext("unknown"))
        if correct:
            return format_html('<span class="verdict verdict-right" title="{}">✔</span>', gettext("right"))
        return format_html('<span class="verdict verdict-wrong" title="{}">✘</span>', gettext("wrong"))

    @admin.display(description=_("probabilities"))
    def probability_bars(self, obj: Prediction):
        """Per piece of the number, left to right: what was read there and the 10 probabilities."""
        if not obj.probabilities:
            return "—"
        tables = []
        for position, probabilities in enumerate(obj.probabilities):
            read = obj.digits[position] if position < len(obj.digits) else ""
            rows = format_html_join(
                "",
                '<tr class="{}"><th>{}</th><td><span class="probability-bar" style="width: {}%"></span></td>'
                "<td>{}</td></tr>",
                (
                    ("predicted" if str(digit) == read else "", digit, f"{100 * p:.1f}", f"{p:.2%}")
                    for digit, p in enumerate(probabilities)
                ),
            )
            caption = gettext("Digit %(position)d: read %(read)s") % {"position": position + 1, "read": read}
            tables.append(format_html('<table class="probability-bars"><caption>{}</caption>{}</table>', caption, rows))
        return format_html(
            '<div class="probability-tables">{}</div>', format_html_join("", "{}", ((t,) for t in tables))
        )

    # ---- the staff label goes through the service, never a plain save

    def save_model(self, request, obj, form, change):
        if "staff_digits" in form.changed_data:
            services.prediction_record_review(
                prediction=obj, staff_digits=form.cleaned_data["staff_digits"] or None, reviewer=request.user
            )

    def delete_model(self, request, obj):
        services.prediction_delete(prediction=obj)

    def delete_queryset(self, request, queryset):
        services.predictions_delete(predictions=queryset)

    # ---- actions

    @admin.action(description=_("Confirm the label shown (mark reviewed)"), permissions=["change"])
    def confirm_labels(self, request, queryset):
        result = services.predictions_confirm(predictions=queryset, reviewer=request.user)
        self.message_user(
            request,
            ngettext("Confirmed %(count)d prediction.", "Confirmed %(count)d predictions.", result.confirmed)
            % {"count": result.confirmed},
            messages.SUCCESS,
        )
        if result.skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d prediction has no label and no number read to confirm; label it instead.",
                    "%(count)d predictions have no label and no number read to confirm; label them instead.",
                    result.skipped,
                )
                % {"count": result.skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Set the true label…"), permissions=["change"])
    def set_staff_label(self, request, queryset):
        return admin_views.set_staff_label_action(request, model_admin=self, queryset=queryset)

    @admin.action(description=_("Export as a dataset (npz)"))
    def export_dataset(self, request, queryset):
        return admin_views.export_dataset_action(request, model_admin=self, queryset=queryset)

    # ---- extra pages, all behind admin_view (active staff only) and the model's permissions

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path("dashboard/", wrap(self.dashboard_view), name="recognizer_prediction_dashboard"),
            path("review/", wrap(self.review_queue_view), name="recognizer_prediction_review_queue"),
            path("<int:object_id>/review/", wrap(self.review_label_view), name="recognizer_prediction_review_label"),
            path("<int:object_id>/picture/<str:kind>/", wrap(self.picture_view), name="recognizer_prediction_picture"),
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return custom + super().get_urls()

    def dashboard_view(self, request):
        return admin_views.dashboard(request, model_admin=self)

    def review_queue_view(self, request):
        return admin_views.review_queue(request, model_admin=self)

    def review_label_view(self, request, object_id):
        return admin_views.review_label(request, model_admin=self, object_id=object_id)

    def picture_view(self, request, object_id, kind):
        return admin_views.picture(request, model_admin=self, object_id=object_id, kind=kind)


# The model registry's pages (training jobs, model versions) are in their own module.
from recognizer import registry_admin  # noqa: E402, F401
