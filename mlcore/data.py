"""Loading MNIST and extra labelled sets in one array layout.

The layout is the one `keras.datasets.mnist.load_data()` uses and `../shared/data/mnist.npz`
holds: uint8 images of shape (N, 28, 28), white digit on black, and uint8 labels (N,).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_PATH_VARIABLE = "MNIST_PATH"
VALIDATION_SIZE = 5000


@dataclass(frozen=True)
class DigitSet:
    images: np.ndarray  # (N, 28, 28) uint8, white ink on black
    labels: np.ndarray  # (N,) uint8

    def __post_init__(self) -> None:
        if self.images.ndim != 3 or self.images.shape[1:] != (28, 28):
            raise ValueError(f"images must be (N, 28, 28), got {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError("labels must be one per image")

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class MnistSplits:
    train: DigitSet
    validation: DigitSet  # held out from the 60,000 training images, for model choices
    test: DigitSet  # the 10,000 test images, only for the final figure


def mnist_path() -> Path | None:
    value = os.environ.get(MNIST_PATH_VARIABLE)
    return Path(value) if value else None


def load_mnist_arrays() -> tuple[DigitSet, DigitSet]:
    """MNIST's (train, test) sets: from MNIST_PATH when set, else Keras' own download."""
    path = mnist_path()
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(f"{MNIST_PATH_VARIABLE}={path} does not exist")
        with np.load(path) as arrays:
            train = DigitSet(arrays["x_train"], arrays["y_train"])
            test = DigitSet(arrays["x_test"], arrays["y_test"])
        return train, test
    # Users with internet and no local copy: Keras caches the download under ~/.keras.
    from keras.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return DigitSet(x_train, y_train), DigitSet(x_test, y_test)


def load_mnist(validation_size: int = VALIDATION_SIZE, seed: int = 0) -> MnistSplits:
    train, test = load_mnist_arrays()
    order = np.random.default_rng(seed).permutation(len(train))
    held_out, kept = order[:validation_size], order[validation_size:]
    return MnistSplits(
        train=DigitSet(train.images[kept], train.labels[kept]),
        validation=DigitSet(train.images[held_out], train.labels[held_out]),
        test=test,
    )


def load_labelled_npz(path: str | Path) -> DigitSet:
    """An extra labelled set (e.g. staff-corrected uploads) in MNIST's own npz layout."""
    with np.load(path) as arrays:
        images = np.asarray(arrays["x_train"], dtype=np.uint8)
        labels = np.asarray(arrays["y_train"], dtype=np.uint8)
    return DigitSet(images, labels)


def concatenate(*sets: DigitSet) -> DigitSet:
    return DigitSet(np.concatenate([s.images for s in sets]), np.concatenate([s.labels for s in sets]))
