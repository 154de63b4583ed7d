"""Forms of the website: sign up, feedback, the history's filters and bulk delete, and upload error messages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from recognizer.account_forms import SignupForm  # noqa: F401  (accounts' forms live there)
from recognizer.selectors import Feedback
from recognizer.services import UploadRejected

DIGIT_CHOICES = [(str(d), str(d)) for d in range(10)]


# The longest number a picture is read as (the model's `digits` column).
MAX_NUMBER_LENGTH = 64


def number_typed(value: str) -> str:
    """A number as a person types it: spaces between groups of digits are allowed and dropped."""
    return "".join((value or "").split())


class NumberField(forms.CharField):
    """Digits only (0-9), spaces dropped; the number a picture really shows, or a part of one to look for."""

    default_error_messages = {
        "invalid": _("Type digits only (0 to 9), with no other signs."),
        "too_long": _("At most %(limit)d digits."),
    }

    def to_python(self, value) -> str:
        return number_typed(super().to_python(value))

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and not (value.isascii() and value.isdigit()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(value) > MAX_NUMBER_LENGTH:
            raise forms.ValidationError(
                self.error_messages["too_long"], code="too_long", params={"limit": MAX_NUMBER_LENGTH}
            )

    def widget_attrs(self, widget) -> dict:
        # A phone shows its number pad; the browser checks the pattern before sending.
        return {
            **super().widget_attrs(widget),
            "inputmode": "numeric",
            "pattern": "[0-9]+",
            "title": _("Digits only (0 to 9)"),
            "autocomplete": "off",
        }


class NumberFeedbackForm(forms.Form):
    """The answer to "is this right?": the number the picture really shows."""

    true_digits = NumberField(
        label=_("The right number"),
        error_messages={"required": _("Type the number the picture shows.")},
    )


class CorrectDigitForm(forms.Form):
    """One digit of the number read was wrong: which one (0 is the leftmost), and what it really is."""

    position = forms.IntegerField(
        min_value=0,
        error_messages={
            "required": _("First choose the digit to correct."),
            "invalid": _("First choose the digit to correct."),
            "min_value": _("First choose the digit to correct."),
        },
    )
    digit = forms.TypedChoiceField(
        choices=DIGIT_CHOICES,
        coerce=int,
        error_messages={
            "required": _("Pick the right digit, from 0 to 9."),
            "invalid_choice": _("Pick the right digit, from 0 to 9."),
        },
    )

    def __init__(self, *args, length: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.length = length

    def clean_position(self) -> int:
        position = self.cleaned_data["position"]
        if position >= self.length:
            raise forms.ValidationError(_("First choose the digit to correct."), code="max_value")
        return position


class HistoryFilterForm(forms.Form):
    number = NumberField(
        label=_("Number"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("All of it or a part")}),
    )
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
        filters = {name: cleaned.get(name) or None for name in ("number", "feedback", "created_from", "created_to")}
        filters["digit"] = cleaned.get("digit")
        if self.non_field_errors():
            filters["created_from"] = filters["created_to"] = None
        return filters


# The largest id a row can have (a signed 64-bit integer). A bigger number names no row, and some databases
# cannot even compare a column with it (SQLite raises OverflowError): it is refused before any query.
LARGEST_ID = 2**63 - 1


def is_row_id(value) -> bool:
    """Whether `value` (a number or its text) can be a row's id: a whole number from 1 to LARGEST_ID."""
    try:
        return 0 < int(value) <= LARGEST_ID
    except (TypeError, ValueError):  # not a number, or more digits than Python will read
        return False


class MultipleIntegerField(forms.Field):
    """Ids of rows: whole numbers that fit a row's id, else the whole field is invalid."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value or []
        if isinstance(values, str) or not all(is_row_id(item) for item in values):
            raise forms.ValidationError(_("Those are not pictures of yours."), code="invalid")
        return [int(item) for item in values]


class BulkDeleteForm(forms.Form):
    ids = MultipleIntegerField(error_messages={"required": _("Select at least one picture.")})


class SentPredictionsForm(forms.Form):
    """The pictures of one upload, by id (?ids=4&ids=5), as the upload page's redirect names them."""

    ids = MultipleIntegerField()

    def __init__(self, data, *args, **kwargs):
        super().__init__({"ids": data.getlist("ids")}, *args, **kwargs)


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
        "too_large_decoded": gettext(
            "%(name)s is too big a picture to read: it would take more than %(megabytes)s MB of memory."
        ),
    }
    if rejected.code in by_code and name:
        megabytes = f"{settings.UPLOAD_MAX_DECODED_BYTES / 1_000_000:g}"
        return by_code[rejected.code] % {"name": name, "megapixels": megapixels, "megabytes": megabytes}
    return rejected.message
