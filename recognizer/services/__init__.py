"""Every write to predictions goes through these functions; views, the API, admin and tasks call them.

Split by concern; every name is importable from here: `from recognizer import services`.
"""

from recognizer.services.accounts import (
    account_delete,
    account_email_update,
    account_export_chunks,
    api_token_create,
    api_tokens_revoke,
)
from recognizer.services.export import DatasetExport, labelled_dataset_export, labelled_digits
from recognizer.services.labels import (
    ConfirmResult,
    InvalidLabel,
    label_clean,
    prediction_correct_digit,
    prediction_record_feedback,
    prediction_record_no_digit,
    prediction_record_not_a_digit,
    prediction_record_review,
    predictions_confirm,
    predictions_record_review,
)
from recognizer.services.login_limits import (
    LoginLocked,
    login_check,
    login_failure_record,
    login_lockout_clear,
    login_lockout_seconds,
    login_success_record,
)
from recognizer.services.model_versions import active_classifier, active_model_path
from recognizer.services.predictions import (
    CheckedUpload,
    UploadRejected,
    model_input_strip,
    prediction_create,
    prediction_delete,
    prediction_enqueue,
    prediction_enqueue_noting,
    prediction_mark_failed,
    prediction_run,
    predictions_create,
    predictions_delete,
    predictions_requeue_pending,
    upload_check,
    uploads_check,
)

__all__ = [
    "CheckedUpload",
    "ConfirmResult",
    "DatasetExport",
    "InvalidLabel",
    "LoginLocked",
    "UploadRejected",
    "account_delete",
    "account_email_update",
    "account_export_chunks",
    "api_token_create",
    "api_tokens_revoke",
    "active_classifier",
    "active_model_path",
    "label_clean",
    "labelled_dataset_export",
    "labelled_digits",
    "login_check",
    "login_failure_record",
    "login_lockout_clear",
    "login_lockout_seconds",
    "login_success_record",
    "model_input_strip",
    "prediction_correct_digit",
    "prediction_create",
    "prediction_delete",
    "prediction_enqueue",
    "prediction_enqueue_noting",
    "prediction_mark_failed",
    "prediction_record_feedback",
    "prediction_record_no_digit",
    "prediction_record_not_a_digit",
    "prediction_record_review",
    "prediction_run",
    "predictions_confirm",
    "predictions_create",
    "predictions_delete",
    "predictions_record_review",
    "predictions_requeue_pending",
    "upload_check",
    "uploads_check",
]
