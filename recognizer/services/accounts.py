"""A person's account: their API token, their data as a zip, and deleting the account with its pictures."""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import PurePath

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from recognizer.models import Prediction
from recognizer.services.stored_files import stored_files_delete

logger = logging.getLogger(__name__)

# How much a download holds in memory at once: the zip is handed out in pieces of about this size.
EXPORT_CHUNK_BYTES = 64 * 1024
EXPORT_CSV_FIELDS = [
    "id",
    "created_at",
    "source",
    "original_name",
    "status",
    "digits",
    "confidence",
    "your_answer",
    "feedback_at",
    "model_version",
    "error",
    "picture",
    "model_input",
]
# A spreadsheet runs a cell that starts with one of these as a formula; a file name must stay a name.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- API token ---


def api_token_create(*, user) -> Token:
    """A new API token for the user; the one they had (DRF keeps one per user) stops working."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def api_tokens_revoke(*, user) -> int:
    """The user's API tokens stop working. Returns how many there were."""
    deleted, _by_model = Token.objects.filter(user=user).delete()
    return deleted


# --- E-mail ---


def account_email_update(*, user, email: str) -> None:
    user.email = email
    user.save(update_fields=["email"])


# --- Download my data ---


class _Pieces:
    """Where the zip is written: a file without seek, whose bytes are taken away as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def _zip_time(prediction: Prediction) -> tuple[int, int, int, int, int, int]:
    return prediction.created_at.timetuple()[:6]


def _picture_path(prediction: Prediction, kind: str, name: str) -> str:
    suffix = PurePath(name).suffix.lower() or ".png"
    return f"pictures/{prediction.pk}-{kind}{suffix}"


def _spreadsheet_safe(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _record(prediction: Prediction, pictures: dict[str, str]) -> dict:
    return {
        "id": prediction.pk,
        "created_at": _iso(prediction.created_at),
        "source": prediction.source,
        "original_name": prediction.original_name,
        "status": prediction.status,
        "digits": prediction.digits,
        "confidence": prediction.confidence,
        "confidences": prediction.confidences,
        "probabilities": prediction.probabilities,
        "boxes": prediction.boxes,
        "image_width": prediction.image_width,
        "image_height": prediction.image_height,
        "your_answer": prediction.true_digits,
        "feedback_at": _iso(prediction.feedback_at),
        "model_version": prediction.model_version,
        "finished_at": _iso(prediction.finished_at),
        "error": prediction.error,
        "picture": pictures.get("picture"),
        "model_input": pictures.get("model_input"),
    }


def account_export_chunks(*, user) -> Iterator[bytes]:
    """The user's predictions as one zip, in pieces of about EXPORT_CHUNK_BYTES, made as they are sent.

    The zip holds pictures/ (each upload and what the model saw, as stored), predictions.csv and
    predictions.json (one record per prediction, naming its pictures). Memory stays bounded whatever the
    number of predictions: rows are read from the database in batches and files in chunks. A picture
    missing from storage is left out and its record says null.
    """

    def rows() -> Iterator[Prediction]:
        return Prediction.objects.owned_by(user).order_by("created_at", "id").iterator(chunk_size=500)

    out = _Pieces()
    written: dict[int, dict[str, str]] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for prediction in rows():
            for kind, field in (("picture", prediction.image), ("model_input", prediction.model_input)):
                if not field:
                    continue
                try:
                    stored = field.storage.open(field.name, "rb")
                except OSError:
                    logger.warning(
                        "Prediction %s: %s missing from storage, left out of the download", prediction.pk, kind
                    )
                    continue
                path = _picture_path(prediction, kind, field.name)
                # Pictures are compressed already: stored as they are.
                entry = zipfile.ZipInfo(path, date_time=_zip_time(prediction))
                entry.compress_type = zipfile.ZIP_STORED
                with stored, archive.open(entry, "w") as target:
                    for chunk in stored.chunks(EXPORT_CHUNK_BYTES):
                        target.write(chunk)
                        if out.size >= EXPORT_CHUNK_BYTES:
                            yield out.take()
                written.setdefault(prediction.pk, {})[kind] = path
            if out.size:
                yield out.take()

        with archive.open("predictions.csv", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            writer = csv.writer(text)
            writer.writerow(EXPORT_CSV_FIELDS)
            for prediction in rows():
                record = _record(prediction, written.get(prediction.pk, {}))
                record["original_name"] = _spreadsheet_safe(record["original_name"])
                writer.writerow(["" if record[name] is None else record[name] for name in EXPORT_CSV_FIELDS])
                if out.size >= EXPORT_CHUNK_BYTES:
                    yield out.take()

        with archive.open("predictions.json", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
            text.write("[")
            for number, prediction in enumerate(rows()):
                text.write(
                    ("," if number else "") + "\n  " + json.dumps(_record(prediction, written.get(prediction.pk, {})))
                )
                if out.size >= EXPORT_CHUNK_BYTES:
                    yield out.take()
            text.write("\n]\n")
    yield out.take()


# --- Delete my account ---


def account_delete(*, user) -> int:
    """Deletes the account, its predictions and API token at once, then every picture of it from storage.

    The rows go in one transaction, so an error leaves the account whole; the files go once that has
    committed (a file still there then is logged). Returns the number of predictions deleted.
    """
    user_model = get_user_model()
    storages = [Prediction._meta.get_field(name).storage for name in ("image", "model_input")]
    with transaction.atomic():
        # Held until the commit: an upload arriving meanwhile waits, then fails, instead of adding a picture
        # that nobody would delete.
        user_model._default_manager.select_for_update().get(pk=user.pk)
        names = Prediction.objects.filter(user=user).values_list("image", "model_input")
        files = [(storage, name) for pair in names for storage, name in zip(storages, pair, strict=True) if name]
        count = Prediction.objects.filter(user=user).count()
        user.delete()
        transaction.on_commit(lambda: stored_files_delete(files=files))
    return count
