"""Forms of the website: sign up, feedback, the history's filters and bulk delete, and upload error messages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recognizer.selectors import Feedback
from recognizer.services import UploadRejected

DIGIT_CHOICES = [(str(d), str(d)) for d in range(10)]


class SignupForm(UserCreationForm):
    """Django's own sign-up form: a user name and the password twice, checked by the password validators."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class FeedbackForm(forms.Form):
    """The answer to "is this right?": the digit the picture really shows."""

    true_label = forms.TypedChoiceField(label=_("The right digit"), choices=DIGIT_CHOICES, coerce=int)


class HistoryFilterForm(forms.Form):
    digit = forms.TypedChoiceField(
        label=_("Digit"), choices=[("", _("Any digit"))] + DIGIT_CHOICES, coerce=int, empty_value=None, required=False
    )
    feedback = forms.ChoiceField(
        label=_("Feedback"),
        required=False,
        choices=[
            ("", _("Any")),
            (Feedback.NONE, _("None given")),
            (Feedback.RIGHT, _("Marked right")),
            (Feedback.WRONG, _("Marked wrong")),
        ],
    )
    created_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The first day must not be after the last day."))
        return cleaned

    def filters(self) -> dict:
        """The filters for `selectors.prediction_list`: only the fields that are valid, so one bad date
        does not hide the rest of the history."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        filters = {name: cleaned.get(name) or None for name in ("feedback", "created_from", "created_to")}
        filters["digit"] = cleaned.get("digit")
        if self.non_field_errors():
            filters["created_from"] = filters["created_to"] = None
        return filters


class MultipleIntegerField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            return [int(item) for item in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Those are not pictures of yours."), code="invalid") from None


class BulkDeleteForm(forms.Form):
    ids = MultipleIntegerField(error_messages={"required": _("Select at least one picture.")})


def upload_rejected_message(rejected: UploadRejected) -> str:
    """The reason an upload was refused, in the visitor's language.

    mlcore never imports Django, so its reasons are in English; the code says which one it was.
    """
    name = rejected.file_name
    megapixels = f"{settings.UPLOAD_MAX_PIXELS / 1_000_000:g}"
    by_code = {
        "empty_file": gettext("%(name)s is empty."),
        "not_an_image": gettext("%(name)s is not a picture we can read. Use JPEG, PNG, WebP, BMP or GIF."),
        "unsupported_format": gettext(
            "%(name)s is a kind of picture we do not accept. Use JPEG, PNG, WebP, BMP or GIF."
        ),
        "corrupt_image": gettext("%(name)s is damaged or cut short: the picture cannot be read."),
        "too_many_pixels": gettext("%(name)s has too many pixels: at most %(megapixels)s megapixels are accepted."),
    }
    if rejected.code in by_code and name:
        return by_code[rejected.code] % {"name": name, "megapixels": megapixels}
    return rejected.message
