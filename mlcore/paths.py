"""Where the committed model and its card live."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = PACKAGE_DIR / "models" / "digit_cnn.keras"


def model_card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")
