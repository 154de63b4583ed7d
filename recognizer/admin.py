"""Staff inspection of predictions: where the model is wrong, label review, and the export for retraining.

The filters, counts and writes live in selectors.py and services.py; the pages beyond the standard
list and detail (dashboard, accuracy chart, review queue, pictures) are in admin_views.py.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from recognizer import admin_views, selectors, services
from recognizer.models import Prediction

DIGIT_CHOICES = [(str(d), str(d)) for d in range(10)]


class PredictedDigitFilter(admin.SimpleListFilter):
    title = _("predicted digit")
    parameter_name = "predicted"

    def lookups(self, request, model_admin):
        return [*DIGIT_CHOICES, (selectors.NO_DIGIT, _("none (no single digit read)"))]

    def queryset(self, request, queryset):
        if self.value() in selectors.PREDICTED_COLUMNS:
            return selectors.predictions_by_predicted_digit(queryset, self.value())
        return queryset


class LabelFilter(admin.SimpleListFilter):
    title = _("true label (staff review wins)")
    parameter_name = "label"

    def lookups(self, request, model_admin):
        return [*DIGIT_CHOICES, (selectors.NO_DIGIT, _("unlabelled"))]

    def queryset(self, request, queryset):
        if self.value() in selectors.PREDICTED_COLUMNS:
            return selectors.predictions_by_label(queryset, self.value())
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
        if self.value() == "yes":
            return queryset.filter(staff_label__isnull=False)
        if self.value() == "no":
            return queryset.filter(staff_label__isnull=True)
        return queryset


class PredictionReviewForm(forms.ModelForm):
    """Only the staff label is editable; everything else is what the model and the user said."""

    staff_label = forms.TypedChoiceField(
        label=_("Staff label"),
        choices=[("", _("no staff label")), *DIGIT_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("The digit it really is, as staff see it. Kept apart from the user's own answer; it wins."),
    )

    class Meta:
        model = Prediction
        fields = ["staff_label"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    form = PredictionReviewForm
    change_list_template = "admin/recognizer/prediction/change_list.html"
    list_display = [
        "id",
        "upload_thumbnail",
        "model_input_thumbnail",
        "user",
        "predicted",
        "confidence_percent",
        "true_label",
        "staff_label",
        "verdict",
        "model_version",
        "status",
        "created_at",
    ]
    list_display_links = ["id", "upload_thumbnail"]
    list_select_related = ["user"]
    list_filter = [
        "status",
        PredictedDigitFilter,
        LabelFilter,
        VerdictFilter,
        ConfidenceBandFilter,
        ReviewedFilter,
        "model_version",
        "created_at",
    ]
    search_fields = ["user__username"]
    search_help_text = _("Search by username.")
    list_per_page = 50
    actions = ["confirm_labels", "set_staff_label", "export_dataset"]
    fieldsets = [
        (None, {"fields": ["pictures", "predicted", "confidence_percent", "probability_bars"]}),
        (
            _("Label"),
            {"fields": ["verdict", "true_label", "feedback_at", "staff_label", "reviewed_by", "reviewed_at"]},
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
        "true_label",
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
    ]

    class Media:
        css = {"all": ["recognizer/admin/predictions.css"]}

    def get_queryset(self, request):
        # The `effective_label` annotation lets the list sort by it and the filters reuse it.
        return selectors.with_effective_label(super().get_queryset(request))

    def has_add_permission(self, request):
        return False  # predictions come from uploads, never from a blank form

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
        model_input = (
            format_html(
                '<figure><img class="prediction-large pixelated" src="{}" alt="" width="280" height="280">'
                "<figcaption>{}</figcaption></figure>",
                self._picture_url(obj, "input"),
                gettext("What the model saw (28x28)"),
            )
            if obj.model_input
            else ""
        )
        return format_html('<div class="prediction-pictures">{}{}</div>', upload, model_input)

    @admin.display(description=_("predicted digit"), ordering="digits")
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
        if not obj.probabilities:
            return "—"
        rows = format_html_join(
            "",
            '<tr class="{}"><th>{}</th><td><span class="probability-bar" style="width: {}%"></span></td>'
            "<td>{}</td></tr>",
            (
                (
                    "predicted" if str(digit) == obj.digits else "",
                    digit,
                    f"{100 * p:.1f}",
                    f"{p:.2%}",
                )
                for digit, p in enumerate(obj.probabilities)
            ),
        )
        return format_html('<table class="probability-bars">{}</table>', rows)

    # ---- the staff label goes through the service, never a plain save

    def save_model(self, request, obj, form, change):
        if "staff_label" in form.changed_data:
            services.prediction_record_review(
                prediction=obj, staff_label=form.cleaned_data["staff_label"], reviewer=request.user
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
                    "%(count)d prediction has no label and no digit to confirm; label it instead.",
                    "%(count)d predictions have no label and no digit to confirm; label them instead.",
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
            path("dashboard/accuracy.png", wrap(self.accuracy_chart_view), name="recognizer_prediction_accuracy_chart"),
            path("review/", wrap(self.review_queue_view), name="recognizer_prediction_review_queue"),
            path("<int:object_id>/review/", wrap(self.review_label_view), name="recognizer_prediction_review_label"),
            path("<int:object_id>/picture/<str:kind>/", wrap(self.picture_view), name="recognizer_prediction_picture"),
        ]
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        return custom + super().get_urls()

    def dashboard_view(self, request):
        return admin_views.dashboard(request, model_admin=self)

    def accuracy_chart_view(self, request):
        return admin_views.accuracy_chart(request, model_admin=self)

    def review_queue_view(self, request):
        return admin_views.review_queue(request, model_admin=self)

    def review_label_view(self, request, object_id):
        return admin_views.review_label(request, model_admin=self, object_id=object_id)

    def picture_view(self, request, object_id, kind):
        return admin_views.picture(request, model_admin=self, object_id=object_id, kind=kind)
