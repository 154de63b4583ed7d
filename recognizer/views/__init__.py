"""The website's pages. Thin: reads go through selectors, writes through services.

One module per part of the site; every view is importable from `recognizer.views` as before.
"""

from recognizer.views.accounts import (
    PasswordResetConfirmView,
    account,
    account_delete,
    account_email,
    account_export,
    account_token,
)
from recognizer.views.history import history, prediction_delete, predictions_bulk_delete, predictions_sent
from recognizer.views.pages import help_page, home, signup
from recognizer.views.results import (
    prediction_correct_digit,
    prediction_detail,
    prediction_feedback,
    prediction_no_digit,
    prediction_picture,
    prediction_status_json,
)
from recognizer.views.sending import draw, upload

__all__ = [
    "PasswordResetConfirmView",
    "account",
    "account_delete",
    "account_email",
    "account_export",
    "account_token",
    "draw",
    "help_page",
    "history",
    "home",
    "prediction_correct_digit",
    "prediction_delete",
    "prediction_detail",
    "prediction_feedback",
    "prediction_no_digit",
    "prediction_picture",
    "prediction_status_json",
    "predictions_bulk_delete",
    "predictions_sent",
    "signup",
    "upload",
]
