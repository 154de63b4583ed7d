"""Where the committed model and its card live."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = PACKAGE_DIR / "models" / "digit_cnn.keras"


def model_card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


# The reader of touching digits (mlcore.sequence): one for every version of the digit model, since
# retraining from corrections teaches single digits.
DEFAULT_CLUSTER_READER_PATH = PACKAGE_DIR / "models" / "cluster_reader.keras"
