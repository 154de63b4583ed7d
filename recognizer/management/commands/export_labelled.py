"""Writes the labelled predictions as an npz dataset that `python -m mlcore train --extra FILE.npz` learns from."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognizer import selectors, services


class Command(BaseCommand):
    help = (
        "Export the 28x28 model inputs of labelled predictions and their labels (staff review wins) in "
        "MNIST's npz layout (x_train, y_train, plus prediction_ids and model_versions)."
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
        self.stdout.write(f"Wrote {result.exported} labelled images to {path}.")
        if result.skipped:
            self.stderr.write(f"Left out {result.skipped} predictions whose model input could not be read.")
