"""The CNN: two blocks of batch-normalised 3x3 convolutions, then a small dense head.

Inputs are float32 (N, 28, 28, 1) in 0..1, white ink on black, as MNIST; outputs are the
10 class probabilities. About 10 M multiply-adds per image, so it trains on two CPU cores.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

INPUT_SHAPE = (28, 28, 1)
# The ten digits, and an 11th answer: "not one digit" (a fragment, two digits, a letter, a scribble).
NUM_CLASSES = 11


def _conv_bn_relu(x, filters: int):
    # The convolution needs no bias: batch norm's shift takes its place.
    x = layers.Conv2D(filters, 3, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_model(num_classes: int = NUM_CLASSES) -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = _conv_bn_relu(inputs, 32)
    x = _conv_bn_relu(x, 32)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.1)(x)
    x = _conv_bn_relu(x, 64)
    x = _conv_bn_relu(x, 64)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digit_cnn")


def build_augmenter() -> keras.Sequential:
    """Small random rotations, shifts, zooms and shears, applied to training batches only.

    They stand in for the variety of real handwriting and of our own preprocessing
    (a slightly off centre of mass, a box a pixel too big or small).
    """
    return keras.Sequential(
        [
            layers.RandomRotation(0.03, fill_mode="constant"),  # about +-11 degrees
            layers.RandomZoom(0.1, fill_mode="constant"),
            layers.RandomTranslation(0.08, 0.08, fill_mode="constant"),
        ],
        name="augmenter",
    )


def with_classes(trained: keras.Model, num_classes: int = NUM_CLASSES) -> keras.Model:
    """A copy of a trained model with more outputs: every weight kept, the new answers starting unlikely.

    Fine-tuning the 10-digit model into one that also answers "not one digit" keeps what it
    learnt from MNIST instead of starting over.
    """
    model = build_model(num_classes)
    for old, new in zip(trained.layers, model.layers, strict=True):
        weights = old.get_weights()
        if [w.shape for w in weights] == [w.shape for w in new.get_weights()]:
            new.set_weights(weights)
            continue
        kernel, bias = weights  # the output layer
        added = num_classes - kernel.shape[1]
        new.set_weights(
            [
                np.concatenate([kernel, np.zeros((kernel.shape[0], added), kernel.dtype)], axis=1),
                np.concatenate([bias, np.full(added, bias.min() - 2.0, bias.dtype)]),
            ]
        )
    return model


@keras.saving.register_keras_serializable(package="mlcore")
class AgreeingDigits(layers.Layer):
    """Averages several models' digit probabilities, and the "not one digit" share of those that answer it.

    The first reads MNIST-like digits best (trained on MNIST alone), the others the pictures our
    preprocessing makes of real uploads and whether a piece is one digit at all; their average
    reads digits better than any alone, as ensembles do.
    """

    def call(self, outputs):
        from keras import ops

        readers = [p for p in outputs if p.shape[-1] > 10]
        not_one = sum(p[:, 10:] for p in readers) / len(readers)
        digits = [p[:, :10] / ops.maximum(ops.sum(p[:, :10], axis=1, keepdims=True), 1e-7) for p in outputs]
        average = sum(digits) / len(digits)
        return ops.concatenate([average * (1.0 - not_one), not_one], axis=1)


def ensemble(*members: keras.Model) -> keras.Model:
    """One model, saved and loaded as one file, that runs every member and combines them (`AgreeingDigits`)."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    outputs = AgreeingDigits(name="probabilities")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name="digit_cnn_ensemble")
