"""Running the trained CNN: load once per process, call it through one compiled function.

TensorFlow is imported here, inside functions, and nowhere at import time, so a web process
that imports `mlcore` for its error types never pays TensorFlow's start-up cost.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlcore.paths import DEFAULT_MODEL_PATH, model_card_path
from mlcore.preprocessing import DEFAULT_MAX_PIXELS, ImageError, PreparedDigit, preprocess_upload

# Larger batches are cut into pieces of this size, which keeps memory bounded.
MAX_BATCH = 256


@dataclass(frozen=True)
class DigitPrediction:
    """The answer for one picture. `digit` is None when the picture holds no ink."""

    digit: int | None
    confidence: float | None
    probabilities: list[float] | None
    model_input: np.ndarray | None  # the (28, 28) uint8 picture the model saw
    box: tuple[int, int, int, int] | None  # where the digit is in the upright picture
    preprocess_ms: float = 0.0
    inference_ms: float = 0.0

    @property
    def found(self) -> bool:
        return self.digit is not None


@dataclass(frozen=True)
class FilePrediction:
    file: str
    prediction: DigitPrediction | None = None
    error: str | None = None
    error_code: str | None = None

    def as_dict(self) -> dict:
        p = self.prediction
        return {
            "file": self.file,
            "digit": p.digit if p else None,
            "confidence": round(p.confidence, 6) if p and p.confidence is not None else None,
            "probabilities": [round(x, 6) for x in p.probabilities] if p and p.probabilities else None,
            "error": self.error,
        }


def load_keras_model(path: Path | str = DEFAULT_MODEL_PATH):
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model at {path}: run `make train` first.")
    return keras.models.load_model(path, compile=False)


def read_model_card(path: Path | str = DEFAULT_MODEL_PATH) -> dict:
    card = model_card_path(Path(path))
    return json.loads(card.read_text()) if card.is_file() else {}


@dataclass
class DigitClassifier:
    """The model, loaded once, with one traced function for any batch size."""

    model: object
    card: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        import tensorflow as tf

        model = self.model
        # A tf.function with a free batch dimension is traced once and reused for every call;
        # Keras' predict() would build a dataset and a loop for each image (~50 ms of overhead).
        self._forward = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec(shape=(None, 28, 28, 1), dtype=tf.float32)],
            jit_compile=False,
        )
        self._forward(tf.zeros((1, 28, 28, 1)))  # trace now, not on the first upload

    @classmethod
    def load(cls, path: Path | str = DEFAULT_MODEL_PATH) -> DigitClassifier:
        return cls(model=load_keras_model(path), card=read_model_card(path))

    @property
    def version(self) -> str:
        return str(self.card.get("version", "unknown"))

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 28, 28) uint8 model inputs to (N, 10) probabilities, in one call per MAX_BATCH."""
        pixels = np.asarray(pixels)
        if pixels.ndim == 2:
            pixels = pixels[np.newaxis]
        if len(pixels) == 0:
            return np.zeros((0, 10), dtype=np.float32)
        inputs = (pixels.astype(np.float32) / 255.0)[..., np.newaxis]
        outputs = [self._forward(inputs[i : i + MAX_BATCH]).numpy() for i in range(0, len(inputs), MAX_BATCH)]
        return np.concatenate(outputs)

    def classify_prepared(self, prepared: list[PreparedDigit], preprocess_ms: list[float]) -> list[DigitPrediction]:
        found = [i for i, p in enumerate(prepared) if p.found]
        started = time.perf_counter()
        probabilities = self.probabilities(np.stack([prepared[i].pixels for i in found])) if found else None
        inference_ms = (time.perf_counter() - started) * 1000 / max(len(found), 1)
        results: list[DigitPrediction] = []
        rows = {index: row for row, index in enumerate(found)}
        for i, p in enumerate(prepared):
            if i not in rows:
                results.append(DigitPrediction(None, None, None, None, None, preprocess_ms[i], 0.0))
                continue
            probs = probabilities[rows[i]]
            digit = int(probs.argmax())
            results.append(
                DigitPrediction(
                    digit=digit,
                    confidence=float(probs[digit]),
                    probabilities=[float(x) for x in probs],
                    model_input=p.pixels,
                    box=p.box,
                    preprocess_ms=preprocess_ms[i],
                    inference_ms=inference_ms,
                )
            )
        return results

    def classify_uploads(
        self, uploads: list[bytes], max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> list[DigitPrediction | ImageError]:
        """Each upload's prediction, or the ImageError that says why it could not be read.

        All readable pictures go through the model together in one batch.
        """
        outcomes: list[PreparedDigit | ImageError] = []
        timings: list[float] = []
        for data in uploads:
            started = time.perf_counter()
            try:
                outcomes.append(preprocess_upload(data, max_pixels=max_pixels))
            except ImageError as error:
                outcomes.append(error)
            timings.append((time.perf_counter() - started) * 1000)
        readable = [i for i, o in enumerate(outcomes) if not isinstance(o, ImageError)]
        predictions = self.classify_prepared([outcomes[i] for i in readable], [timings[i] for i in readable])
        results: list[DigitPrediction | ImageError] = list(outcomes)
        for i, prediction in zip(readable, predictions, strict=True):
            results[i] = prediction
        return results

    def classify_upload(self, data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> DigitPrediction:
        """One upload's prediction; raises ImageError for a picture that cannot be read."""
        (result,) = self.classify_uploads([data], max_pixels=max_pixels)
        if isinstance(result, ImageError):
            raise result
        return result

    def predict_files(self, paths: list[str]) -> list[FilePrediction]:
        uploads: list[bytes] = []
        read_errors: dict[int, str] = {}
        for i, path in enumerate(paths):
            try:
                uploads.append(Path(path).read_bytes())
            except OSError as error:
                read_errors[i] = f"cannot read the file: {error.strerror or error}"
                uploads.append(b"")
        results = self.classify_uploads(uploads)
        files: list[FilePrediction] = []
        for i, (path, result) in enumerate(zip(paths, results, strict=True)):
            if i in read_errors:
                files.append(FilePrediction(path, error=read_errors[i], error_code="unreadable_file"))
            elif isinstance(result, ImageError):
                files.append(FilePrediction(path, error=str(result), error_code=result.code))
            else:
                files.append(FilePrediction(path, prediction=result))
        return files


@functools.lru_cache(maxsize=4)
def shared_classifier(path: str = str(DEFAULT_MODEL_PATH)) -> DigitClassifier:
    """The process-wide classifier: loaded on first use, then reused by every task in the process."""
    return DigitClassifier.load(path)
