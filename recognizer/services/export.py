"""The labelled-data export that training learns from (admin action, `manage.py export_labelled`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PIL import Image

from recognizer.models import Prediction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledDigits:
    """The labelled digits of some predictions, one 28x28 model input each (numpy arrays, one row per digit)."""

    images: object  # (N, 28, 28) uint8
    labels: object  # (N,) uint8
    prediction_ids: object  # (N,) int64
    model_versions: object  # (N,) str
    positions: object  # (N,) int64: the digit's place in its number, 0 first
    skipped: int
    predictions: int
    not_a_digit: int


@dataclass(frozen=True)
class DatasetExport:
    exported: int  # digits written (one row each)
    skipped: int  # predictions left out: see labelled_dataset_export
    predictions: int = 0  # predictions whose digits were written
    not_a_digit: int = 0  # of the skipped: labelled "not a digit" (no digit to learn, never a training example)


def labelled_dataset_export(*, predictions, out) -> DatasetExport:
    """Writes the labelled digits of the given predictions (`labelled_digits`) as an npz file to `out`.

    The layout is MNIST's, which `mlcore.data.load_labelled_npz` reads (so `python -m mlcore train --extra
    FILE.npz` can learn from it): x_train uint8 (N, 28, 28), y_train uint8 (N,), plus prediction_ids (N,),
    model_versions (N,) and positions (N,) to trace each image back. `out` is a path or a binary file object.
    """
    import numpy as np

    digits = labelled_digits(predictions=predictions)
    np.savez_compressed(
        out,
        x_train=digits.images,
        y_train=digits.labels,
        prediction_ids=digits.prediction_ids,
        model_versions=digits.model_versions,
        positions=digits.positions,
    )
    return DatasetExport(
        exported=len(digits.labels),
        skipped=digits.skipped,
        predictions=digits.predictions,
        not_a_digit=digits.not_a_digit,
    )


def labelled_digits(*, predictions) -> LabelledDigits:
    """The labelled digits of the given predictions, one 28x28 model input each.

    Each labelled number is cut into its digits from the model-input strip (28 pixels per digit, left to
    right), each with its digit of the label. That needs the label (staff wins) to have exactly as many
    digits as pieces were read, and no piece flagged: otherwise which picture goes with which digit is
    not known, and the prediction is skipped (and counted). Unfinished or unlabelled ones are skipped too,
    and so are those labelled "not a digit" (counted apart as well): they have no digit to learn.
    """
    import numpy as np

    images, labels, ids, versions, positions = [], [], [], [], []
    skipped = exported_predictions = not_a_digit = 0
    for prediction in predictions:
        label = prediction.label
        if prediction.labelled_not_a_digit:
            not_a_digit += 1
            skipped += 1
            continue
        pieces = len(prediction.digits)
        if (
            prediction.status != Prediction.Status.DONE
            or not label
            or not prediction.model_input
            or prediction.flagged
            or len(label) != pieces
        ):
            skipped += 1
            continue
        try:
            with prediction.model_input.open("rb") as stored, Image.open(stored) as picture:
                strip = np.asarray(picture.convert("L"), dtype=np.uint8)
        except (OSError, ValueError):
            logger.warning("Prediction %s: model input unreadable, left out of the export", prediction.pk)
            skipped += 1
            continue
        if strip.shape != (28, 28 * pieces):
            skipped += 1
            continue
        exported_predictions += 1
        for position, true_digit in enumerate(label):
            images.append(strip[:, 28 * position : 28 * (position + 1)])
            labels.append(int(true_digit))
            ids.append(prediction.pk)
            versions.append(prediction.model_version)
            positions.append(position)
    return LabelledDigits(
        images=np.stack(images) if images else np.zeros((0, 28, 28), dtype=np.uint8),
        labels=np.asarray(labels, dtype=np.uint8),
        prediction_ids=np.asarray(ids, dtype=np.int64),
        model_versions=np.asarray(versions, dtype=str),
        positions=np.asarray(positions, dtype=np.int64),
        skipped=skipped,
        predictions=exported_predictions,
        not_a_digit=not_a_digit,
    )
