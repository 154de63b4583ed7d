"""Writes the labelled predictions as an npz dataset that `python -m mlcore train --extra FILE.npz` learns from."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognizer import selectors, services


class Command(BaseCommand):
    help = (
        "Export the labelled predictions digit by digit: each digit's 28x28 model input and its digit of the "
        "label (staff review wins), in MNIST's npz layout (x_train, y_train, plus prediction_ids, "
        "model_versions and positions). Numbers whose label length differs from the pieces read, or with a "
        "flagged piece, are left out."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, metavar="FILE.npz", help="where to write the dataset")
        parser.add_argument("--model-version", help="only predictions made by this model version")

    def handle(self, *args, out, model_version, **options):
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a folder.")
        predictions = selectors.labelled_for_export(model_version=model_version)
        # Written beside the target and renamed, so a failed export never leaves half a file behind.
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("wb") as file:
                result = services.labelled_dataset_export(predictions=predictions, out=file)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(
            f"Wrote {result.exported} labelled digit images (from {result.predictions} predictions) to {path}."
        )
        if result.skipped:
            self.stderr.write(
                f"Left out {result.skipped} predictions: their label has another number of digits than the "
                "pieces read, a piece was flagged, or their model input could not be read."
            )
