"""Staff pages of the model registry: training jobs (start, watch, cancel) and model versions (compare,
promote, force, roll back). The logic is in recognizer.services.model_versions."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recognizer.registry import ModelVersion, TrainingJob
from recognizer.services import model_versions

SCORE_NAMES = {
    "mnist_test": _("MNIST test"),
    "realistic_singles": _("Realistic single digits"),
    "realistic_numbers": _("Realistic numbers"),
    "user_holdout": _("Held-out user pictures"),
}


def _percent(value) -> str:
    return "–" if value is None else f"{value:.2%}"


class PromoteForm(forms.Form):
    force = forms.BooleanField(
        label=_("Promote although the evaluation refuses it"),
        required=False,
    )
    note = forms.CharField(
        label=_("Why (kept with the version and logged)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    change_list_template = "admin/recognizer/modelversion/change_list.html"
    list_display = ["version", "state", "created_at", "created_by", "mnist", "singles", "numbers", "users", "gate"]
    list_filter = ["state"]
    fields = [
        "version",
        "state",
        "promote_link",
        "comparison",
        "created_at",
        "created_by",
        "activated_at",
        "activated_by",
        "forced_note",
        "card_shown",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # versions come from training jobs (or the committed model)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.state == ModelVersion.State.CANDIDATE

    def get_urls(self):
        own = [
            path("<int:object_id>/promote/", self.admin_site.admin_view(self.promote_view), name="recognizer_promote"),
            path("rollback/", self.admin_site.admin_view(self.rollback_view), name="recognizer_rollback"),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        model_versions.active_model_version()  # the committed model is listed from the first visit
        return super().changelist_view(request, extra_context)

    def _candidate_score(self, obj: ModelVersion, name: str):
        return ((obj.evaluation.get("candidate") or {}).get(name) or {}).get("accuracy")

    @admin.display(description=_("MNIST test"))
    def mnist(self, obj: ModelVersion) -> str:
        value = self._candidate_score(obj, "mnist_test")
        return _percent(value if value is not None else obj.card.get("test_accuracy"))

    @admin.display(description=_("Single digits"))
    def singles(self, obj: ModelVersion) -> str:
        return _percent(self._candidate_score(obj, "realistic_singles"))

    @admin.display(description=_("Numbers"))
    def numbers(self, obj: ModelVersion) -> str:
        return _percent(self._candidate_score(obj, "realistic_numbers"))

    @admin.display(description=_("Held-out user pictures"))
    def users(self, obj: ModelVersion) -> str:
        return _percent(self._candidate_score(obj, "user_holdout"))

    @admin.display(description=_("Evaluation"))
    def gate(self, obj: ModelVersion) -> str:
        if not obj.evaluation:
            return "–"
        refusal = model_versions.model_version_refusal(obj)
        return gettext("refused: %(reason)s") % {"reason": refusal} if refusal else gettext("may be promoted")

    @admin.display(description=_("Promote"))
    def promote_link(self, obj: ModelVersion):
        if obj.state == ModelVersion.State.ACTIVE:
            return gettext("This version reads the uploads now.")
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:recognizer_promote", args=[obj.pk]),
            gettext("Promote…"),
        )

    @admin.display(description=_("Side by side with the version it was compared with"))
    def comparison(self, obj: ModelVersion):
        return _comparison_table(obj)

    @admin.display(description=_("Model card"))
    def card_shown(self, obj: ModelVersion):
        return format_html("<pre>{}</pre>", json.dumps(obj.card, indent=2, ensure_ascii=False))

    def promote_view(self, request, object_id: int):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        version = get_object_or_404(ModelVersion, pk=object_id)
        refusal = model_versions.model_version_refusal(version)
        form = PromoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                model_versions.model_version_promote(
                    version=version, user=request.user, force=form.cleaned_data["force"], note=form.cleaned_data["note"]
                )
            except model_versions.PromotionRefused as refused:
                messages.error(request, gettext("Not promoted: %(reason)s") % {"reason": refused})
            else:
                forced = f" (forced: {form.cleaned_data['note']})" if refusal else ""
                _log(request, version, f"promoted{forced}")
                messages.success(request, gettext("%(version)s now reads the uploads.") % {"version": version})
                return redirect("admin:recognizer_modelversion_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Promote %(version)s") % {"version": version},
            "opts": self.model._meta,
            "version": version,
            "active": model_versions.active_model_version(),
            "refusal": refusal,
            "comparison": _comparison_table(version),
            "form": form,
        }
        return TemplateResponse(request, "admin/recognizer/modelversion/promote.html", context)

    def rollback_view(self, request):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        if request.method == "POST":
            try:
                version = model_versions.model_version_rollback(user=request.user)
            except model_versions.PromotionRefused as refused:
                messages.error(request, str(refused))
            else:
                _log(request, version, "rolled back to")
                messages.success(
                    request, gettext("Rolled back: %(version)s reads the uploads again.") % {"version": version}
                )
        return redirect("admin:recognizer_modelversion_changelist")


def _log(request, version: ModelVersion, what: str) -> None:
    # In the admin's own history of the version, beside who did it and when.
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[version], action_flag=CHANGE, change_message=what, single_object=True
    )


def _comparison_table(version: ModelVersion):
    evaluation = version.evaluation or {}
    candidate, active = evaluation.get("candidate"), evaluation.get("active")
    if not candidate or not active:
        return gettext("Not evaluated (the committed model, or a version from before evaluations).")
    rows = []
    for key, name in SCORE_NAMES.items():
        if key not in candidate:
            continue
        new, old = candidate[key], active.get(key, {})
        rows.append((name, "", _percent(new["accuracy"]), _percent(old.get("accuracy")), new["count"]))
        for digit, (new_digit, old_digit) in enumerate(
            zip(new.get("per_digit", []), old.get("per_digit", []), strict=False)
        ):
            rows.append(("", str(digit), _percent(new_digit), _percent(old_digit), ""))
    body = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        '<table class="model-comparison"><thead><tr>'
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
        "</tr></thead><tbody>{}</tbody></table>",
        gettext("Set"),
        gettext("Digit"),
        version.version,
        evaluation.get("active_version", ""),
        gettext("Pictures"),
        body,
    )


class TrainingJobForm(forms.ModelForm):
    class Meta:
        model = TrainingJob
        fields = ["mode", "epochs"]

    def clean_epochs(self) -> int:
        epochs = self.cleaned_data["epochs"]
        if not 1 <= epochs <= 50:
            raise forms.ValidationError(_("Between 1 and 50 epochs."))
        return epochs


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    form = TrainingJobForm
    change_list_template = "admin/recognizer/trainingjob/change_list.html"
    list_display = [
        "job_id",
        "mode",
        "state",
        "progress_shown",
        "requested_by",
        "created_at",
        "candidate_link",
        "reason",
    ]
    list_display_links = ["job_id"]
    list_filter = ["state", "mode"]
    actions = ["cancel_jobs"]
    readonly_fields = [
        "mode",
        "epochs",
        "state",
        "progress_shown",
        "reason",
        "base_version",
        "candidate_link",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "cancel_requested",
    ]

    def get_fields(self, request, obj=None):
        return ["mode", "epochs"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.is_finished

    def save_model(self, request, obj, form, change):
        if change:
            return
        job = model_versions.training_job_start(user=request.user, mode=obj.mode, epochs=obj.epochs)
        obj.pk = job.pk  # the admin then shows the job that was queued
        obj.state = job.state

    def changelist_view(self, request, extra_context=None):
        # Jobs whose worker was killed are shown as failed, not as running for ever.
        model_versions.training_jobs_fail_stale()
        running = TrainingJob.objects.filter(state__in=[TrainingJob.State.QUEUED, TrainingJob.State.RUNNING]).exists()
        return super().changelist_view(request, {**(extra_context or {}), "refresh_seconds": 5 if running else 0})

    @admin.display(description=_("ID"), ordering="id")
    def job_id(self, obj: TrainingJob) -> int:
        return obj.pk  # the primary key's own "ID" header is not translated

    @admin.display(description=_("Progress"))
    def progress_shown(self, obj: TrainingJob) -> str:
        progress = obj.progress or {}
        if not progress:
            return "–"
        if progress.get("phase") == "evaluating":
            return gettext("evaluating the candidate")
        return (
            gettext(
                "epoch %(epoch)s of %(epochs)s, batch %(batch)s of %(batches)s, loss %(loss)s, accuracy %(accuracy)s"
            )
            % progress
        )

    @admin.display(description=_("Candidate"))
    def candidate_link(self, obj: TrainingJob):
        if obj.candidate is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:recognizer_modelversion_change", args=[obj.candidate.pk]),
            obj.candidate,
        )

    @admin.action(description=_("Cancel the selected jobs"))
    def cancel_jobs(self, request, queryset):
        for job in queryset:
            model_versions.training_job_cancel(job=job)
        messages.info(request, gettext("Cancelled jobs stop within a few seconds."))
