"""Training the CNN on MNIST (plus optional extra labelled sets) and writing its model card."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from mlcore.data import DigitSet, concatenate, load_labelled_npz, load_mnist
from mlcore.evaluation import evaluate_model
from mlcore.paths import DEFAULT_MODEL_PATH, model_card_path


@dataclass
class TrainingConfig:
    epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 2e-3
    final_learning_rate: float = 2e-5
    label_smoothing: float = 0.05
    seed: int = 1
    version: str = ""
    extra: tuple[str, ...] = ()
    fine_tune: str = ""  # a trained model to start from (its weights kept), instead of from scratch
    mnist_repeat: int = 1  # MNIST's training images this many times per epoch, to weigh them against the extra


def _as_model_input(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def _training_dataset(data: DigitSet, config: TrainingConfig):
    import tensorflow as tf

    from mlcore.model import NUM_CLASSES, build_augmenter

    augmenter = build_augmenter()
    labels = np.eye(NUM_CLASSES, dtype=np.float32)[data.labels]
    dataset = tf.data.Dataset.from_tensor_slices((_as_model_input(data.images), labels))
    dataset = dataset.shuffle(len(data), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(config.batch_size)
    dataset = dataset.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def train(config: TrainingConfig, out_path: Path = DEFAULT_MODEL_PATH) -> dict:
    import keras
    import tensorflow as tf

    from mlcore.model import NUM_CLASSES, build_model

    keras.utils.set_random_seed(config.seed)
    splits = load_mnist()
    train_set = concatenate(*[splits.train] * config.mnist_repeat, *(load_labelled_npz(p) for p in config.extra))

    if config.fine_tune:
        from mlcore.inference import load_keras_model
        from mlcore.model import with_classes

        model = with_classes(load_keras_model(config.fine_tune))
    else:
        model = build_model()
    steps_per_epoch = int(np.ceil(len(train_set) / config.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate,
        decay_steps=steps_per_epoch * config.epochs,
        alpha=config.final_learning_rate / config.learning_rate,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    validation = (
        _as_model_input(splits.validation.images),
        np.eye(NUM_CLASSES, dtype=np.float32)[splits.validation.labels],
    )
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print(
        f"Training on {len(train_set)} images ({len(splits.validation)} held out for "
        f"validation), {config.epochs} epochs, {threads} threads",
        flush=True,
    )
    started = time.perf_counter()
    history = model.fit(
        _training_dataset(train_set, config),
        epochs=config.epochs,
        validation_data=validation,
        verbose=1 if sys.stdout.isatty() else 2,  # a progress bar on a terminal, a line per epoch in a log
    )
    seconds = time.perf_counter() - started

    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_path)
    report = evaluate_model(model, splits.test)
    trained_at = datetime.now(UTC)
    card = {
        "version": config.version or trained_at.strftime("%Y%m%d-%H%M"),
        "trained_at": trained_at.isoformat(timespec="seconds"),
        "data": {
            "source": "MNIST",
            "train_images": len(train_set),
            "mnist_train_images": len(splits.train),
            "validation_images": len(splits.validation),
            "test_images": len(splits.test),
            "extra": [str(p) for p in config.extra],
            "mnist_repeat": config.mnist_repeat,
            "fine_tuned_from": config.fine_tune or None,
        },
        "classes": "0-9 and 10 = not one digit",
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "training_seconds": round(seconds, 1),
        "parameters": int(model.count_params()),
        "validation_accuracy": round(float(history.history["val_accuracy"][-1]), 5),
        "test_accuracy": round(report.accuracy, 5),
        "per_class_accuracy": {str(d): round(a, 5) for d, a in enumerate(report.recall)},
    }
    model_card_path(out_path).write_text(json.dumps(card, indent=2) + "\n")
    return card


def combine(paths: list[Path], *, out_path: Path = DEFAULT_MODEL_PATH, version: str) -> dict:
    """The models as one file (`model.ensemble`), scored on MNIST's test set, with its card.

    The first is the MNIST reader; the others, fine-tuned with an 11th answer, "not one digit", give
    the ensemble theirs (averaged, where there are several: `model.AgreeingDigits`).
    """
    from mlcore.data import load_mnist
    from mlcore.inference import load_keras_model, read_model_card
    from mlcore.model import ensemble

    members = [load_keras_model(path) for path in paths]
    for number, member in enumerate(members):
        member.name = f"member_{number}"  # they are all "digit_cnn": one model needs distinct names
    model = ensemble(*members)
    splits = load_mnist()
    report = evaluate_model(model, splits.test)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_path)
    cards = [read_model_card(path) for path in paths]
    card = {
        "version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "members": cards,
        "classes": "0-9 and 10 = not one digit",
        "data": cards[-1].get("data", {}),  # what the picture reader learnt from, MNIST included
        "training_seconds": round(sum(c.get("training_seconds", 0) for c in cards), 1),
        "parameters": int(model.count_params()),
        "validation_accuracy": round(evaluate_model(model, splits.validation).accuracy, 5),
        "test_accuracy": round(report.accuracy, 5),
        "per_class_accuracy": {str(d): round(a, 5) for d, a in enumerate(report.recall)},
    }
    model_card_path(out_path).write_text(json.dumps(card, indent=2) + "\n")
    return card
