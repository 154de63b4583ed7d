"""A new model version from users' corrections, and the scores that decide whether it may serve.

The product's training jobs (recognizer.services.model_versions) call `retrain` and `score_model`;
`python -m mlcore retrain-bench` measures them. Nothing here knows of Django: corrections come in as
28x28 model inputs with their digits (a DigitSet), progress goes out through a callback.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mlcore.data import DigitSet, concatenate, load_mnist, load_mnist_arrays
from mlcore.paths import model_card_path

FINE_TUNE = "fine_tune"
FROM_SCRATCH = "scratch"
# Promotion is refused when the candidate reads MNIST's test set worse than this (a fraction: 0.1 point).
MNIST_TOLERANCE = 0.001


class TrainingCancelled(Exception):
    """The progress callback asked to stop: nothing was saved."""


@dataclass
class RetrainConfig:
    mode: str = FINE_TUNE
    epochs: int = 3
    learning_rate: float = 2e-4  # fine-tuning: small steps keep what the model knew
    batch_size: int = 64
    # MNIST training images mixed into each epoch, so the model does not forget MNIST for the corrections.
    mnist_replay: int = 5000
    # Each correction is seen this many times per epoch: a few hundred would drown in the replay otherwise.
    corrections_repeat: int = 3
    seed: int = 1
    version: str = ""


# progress(state) -> False to stop; state: {"epoch", "epochs", "batch", "batches", "loss", "accuracy"}
ProgressCallback = Callable[[dict], bool]


def retrain(
    *,
    base_model_path: str | Path | None,
    corrections: DigitSet,
    out_path: Path,
    config: RetrainConfig,
    progress: ProgressCallback | None = None,
    provenance: dict | None = None,
    progress_every_seconds: float = 5.0,
) -> dict:
    """Trains a model on the corrections (with MNIST replay) and writes it and its card to `out_path`.

    Fine-tuning starts from the base model (every member of an ensemble is trained together);
    from scratch starts from a new CNN and learns MNIST's whole training set with the corrections.
    `progress` is called at each epoch's end and every few seconds within one; when it returns
    False, training stops and TrainingCancelled is raised with nothing written.
    Returns the model card (also written beside the model).
    """
    import keras

    from mlcore.inference import load_keras_model, read_model_card
    from mlcore.model import NUM_CLASSES, build_model, with_classes
    from mlcore.train import _training_dataset

    if config.mode not in (FINE_TUNE, FROM_SCRATCH):
        raise ValueError(f"unknown training mode {config.mode!r}")
    keras.utils.set_random_seed(config.seed)
    mnist = load_mnist().train
    rng = np.random.default_rng(config.seed)
    if config.mode == FINE_TUNE:
        if base_model_path is None:
            raise ValueError("fine-tuning needs a base model")
        model = load_keras_model(base_model_path)
        if model.output_shape[-1] < NUM_CLASSES:  # a 10-digit model learns to say "not one digit" too
            model = with_classes(model)
        # A few hundred corrections must not re-learn the normalisation statistics MNIST gave: frozen batch
        # normalisation layers keep them (and run as at inference), as Keras advises for fine-tuning.
        for layer in _all_layers(model):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
        replay = rng.choice(len(mnist), size=min(config.mnist_replay, len(mnist)), replace=False)
        data = concatenate(
            DigitSet(mnist.images[replay], mnist.labels[replay]), *[corrections] * config.corrections_repeat
        )
    else:
        model = build_model()
        data = concatenate(mnist, *[corrections] * config.corrections_repeat)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.05),
        metrics=["accuracy"],
    )
    batches = int(np.ceil(len(data) / config.batch_size))
    reporter = _progress_reporter(progress, config.epochs, batches, progress_every_seconds)
    started = time.perf_counter()
    history = model.fit(
        _training_dataset(data, _as_training_config(config)), epochs=config.epochs, verbose=0, callbacks=[reporter]
    )
    if reporter.cancelled:
        raise TrainingCancelled("training was cancelled")
    seconds = time.perf_counter() - started
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_path)
    base_card = read_model_card(base_model_path) if base_model_path else {}
    trained_at = datetime.now(UTC)
    card = {
        "version": config.version or trained_at.strftime("%Y%m%d-%H%M%S"),
        "trained_at": trained_at.isoformat(timespec="seconds"),
        "classes": "0-9 and 10 = not one digit",
        "training": {**asdict(config), "seconds": round(seconds, 1)},
        "base_version": base_card.get("version") if config.mode == FINE_TUNE else None,
        "data": {
            "source": "MNIST and users' corrections"
            + (" (fine-tuned: MNIST replay)" if config.mode == FINE_TUNE else " (from scratch)"),
            "train_images": len(data),
            "correction_digits": len(corrections),
            **(provenance or {}),
        },
        "final_loss": round(float(history.history["loss"][-1]), 5),
        "final_accuracy": round(float(history.history["accuracy"][-1]), 5),
        "parameters": int(model.count_params()),
        "training_seconds": round(seconds, 1),
    }
    model_card_path(out_path).write_text(json.dumps(card, indent=2) + "\n")
    return card


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # an ensemble's members are models of their own
            yield from _all_layers(layer)


def _as_training_config(config: RetrainConfig):
    from mlcore.train import TrainingConfig

    return TrainingConfig(epochs=config.epochs, batch_size=config.batch_size, seed=config.seed)


def _progress_reporter(progress: ProgressCallback | None, epochs: int, batches: int, every: float):
    """A Keras callback that reports to `progress` at each epoch's end and every few seconds, and stops
    training when it returns False. Built on demand: Keras is imported only where training runs."""
    import keras

    class ProgressReporter(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch, self.last_report, self.cancelled = 0, time.monotonic(), False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch, logs=None):
            if progress is not None and time.monotonic() - self.last_report >= every:
                self._send(batch + 1, logs)

        def on_epoch_end(self, epoch, logs=None):
            if progress is not None:
                self._send(batches, logs)

        def _send(self, batch: int, logs) -> None:
            logs = logs or {}
            state = {
                "epoch": self.epoch,
                "epochs": epochs,
                "batch": batch,
                "batches": batches,
                "loss": round(float(logs.get("loss", float("nan"))), 4),
                "accuracy": round(float(logs.get("accuracy", float("nan"))), 4),
            }
            self.last_report = time.monotonic()
            if progress(state) is False:
                self.cancelled = True
                self.model.stop_training = True

    return ProgressReporter()


@dataclass
class ScoreSettings:
    """How much each score reads: the defaults for a real decision, smaller ones for quick tests."""

    mnist_images: int = 10_000
    single_pictures: int = 300
    number_pictures: int = 120
    seed: int = 2026


@dataclass
class Score:
    accuracy: float | None
    count: int
    per_digit: list[float | None] = field(default_factory=list)


def score_model(model_path: str | Path, *, user_holdout: DigitSet | None, settings: ScoreSettings) -> dict:
    """The model's accuracy on MNIST's test set, on our realistic single-digit and number pictures
    (MNIST test digits drawn as photos, scans and drawings, the same pictures for every model), and on
    the users' labelled digits held out from training. Per digit where the answer is one digit."""
    from mlcore.inference import DigitClassifier

    classifier = DigitClassifier.load(model_path)
    _, test = load_mnist_arrays()
    mnist = DigitSet(test.images[: settings.mnist_images], test.labels[: settings.mnist_images])
    scores = {"mnist_test": _digit_score(classifier, mnist)}
    singles, numbers = _realistic_pictures(settings.single_pictures, settings.number_pictures, settings.seed)
    read = classifier.read_uploads([p.data for p in singles + numbers])
    single_right = [getattr(r, "digits", None) == p.text for p, r in zip(singles, read, strict=False)]
    scores["realistic_singles"] = _score(single_right, [int(p.text) for p in singles])
    number_right = [getattr(r, "digits", None) == p.text for p, r in zip(numbers, read[len(singles) :], strict=True)]
    scores["realistic_numbers"] = _score(number_right, None)
    if user_holdout is not None and len(user_holdout):
        scores["user_holdout"] = _digit_score(classifier, user_holdout)
    return {name: asdict(score) for name, score in scores.items()}


def _digit_score(classifier, data: DigitSet) -> Score:
    predicted = classifier.digit_probabilities(data.images).argmax(axis=1)
    return _score(list(predicted == data.labels), [int(label) for label in data.labels])


def _score(right: list[bool], digits: list[int] | None) -> Score:
    accuracy = float(np.mean(right)) if right else None
    per_digit = []
    if digits is not None:
        for digit in range(10):
            of_digit = [ok for ok, d in zip(right, digits, strict=True) if d == digit]
            per_digit.append(round(float(np.mean(of_digit)), 5) if of_digit else None)
    return Score(None if accuracy is None else round(accuracy, 5), len(right), per_digit)


@functools.lru_cache(maxsize=2)
def _realistic_pictures(singles: int, numbers: int, seed: int):
    """The same pictures for every model scored in this process (drawn once, from MNIST's test digits)."""
    from mlcore.synthesis import synthetic_set

    _, test = load_mnist_arrays()
    rng = np.random.default_rng(seed)
    single = synthetic_set(test.images, test.labels, singles, rng, lengths=(1, 1)) if singles else []
    number = synthetic_set(test.images, test.labels, numbers, rng, lengths=(2, 8)) if numbers else []
    return single, number


def promotion_refusals(candidate: dict, active: dict) -> list[dict]:
    """Why the candidate must not replace the active version (empty when it may), as data the product words
    in its reader's language: [{"score": "mnist_test" | "user_holdout", "candidate": ..., "active": ...}].

    Refused when it reads MNIST's test set worse by more than MNIST_TOLERANCE, or the users' held-out
    pictures worse at all (where both were scored on them).
    """
    refusals = []
    new, old = candidate["mnist_test"]["accuracy"], active["mnist_test"]["accuracy"]
    if new is not None and old is not None and new < old - MNIST_TOLERANCE:
        refusals.append({"score": "mnist_test", "candidate": new, "active": old})
    new_users = (candidate.get("user_holdout") or {}).get("accuracy")
    old_users = (active.get("user_holdout") or {}).get("accuracy")
    if new_users is not None and old_users is not None and new_users < old_users:
        refusals.append({"score": "user_holdout", "candidate": new_users, "active": old_users})
    return refusals


def corrections_from_pictures(classifier, pictures) -> DigitSet:
    """What staff corrections of these pictures give training: like the product's export, the model input of
    each picture read as one unflagged piece, with the picture's true digit (others cannot be paired)."""
    images, labels = [], []
    for picture, reading in zip(pictures, classifier.read_uploads([p.data for p in pictures]), strict=True):
        pieces = getattr(reading, "readings", ())
        if len(pieces) == 1 and len(picture.text) == 1 and pieces[0].digit is not None:
            images.append(np.asarray(pieces[0].model_input, dtype=np.uint8))
            labels.append(int(picture.text))
    return DigitSet(np.stack(images), np.asarray(labels, dtype=np.uint8))


def fine_tuning_bench(
    base_model_path: str | Path,
    *,
    corrections: int = 1000,
    pen: str = "thin_faint",
    test_pictures: int = 1000,
    config: RetrainConfig | None = None,
) -> dict:
    """Fine-tunes the model on `corrections` labelled pictures of one pen (MNIST *training* digits drawn by our
    generator, read by the model, labelled with the truth) with the default settings, and reads pictures of
    the same pen made from MNIST *test* digits, and MNIST's test set, before and after."""
    import tempfile

    from mlcore.inference import DigitClassifier
    from mlcore.synthesis import synthetic_set

    train, test = load_mnist_arrays()
    rng = np.random.default_rng(13)
    base = DigitClassifier.load(base_model_path)
    labelled = synthetic_set(train.images, train.labels, corrections, rng, lengths=(1, 1), pens=(pen,))
    corrected = corrections_from_pictures(base, labelled)
    trial = synthetic_set(
        test.images, test.labels, test_pictures, np.random.default_rng(14), lengths=(1, 1), pens=(pen,)
    )

    def pictures_read(classifier) -> float:
        read = classifier.read_uploads([p.data for p in trial])
        return float(np.mean([getattr(r, "digits", None) == p.text for p, r in zip(trial, read, strict=True)]))

    def mnist_read(classifier) -> float:
        return float(np.mean(classifier.digit_probabilities(test.images).argmax(axis=1) == test.labels))

    before = {"pictures": pictures_read(base), "mnist_test": mnist_read(base)}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "candidate.keras"
        started = time.perf_counter()
        card = retrain(
            base_model_path=base_model_path, corrections=corrected, out_path=out, config=config or RetrainConfig()
        )
        seconds = time.perf_counter() - started
        tuned = DigitClassifier.load(out)
        after = {"pictures": pictures_read(tuned), "mnist_test": mnist_read(tuned)}
    return {
        "pen": pen,
        "labelled_pictures": corrections,
        "correction_digits": len(corrected),
        "training": card["training"],
        "fine_tuning_seconds": round(seconds, 1),
        "test_pictures": test_pictures,
        "before": before,
        "after": after,
    }
