"""Reading a cluster of touching digits as a whole: a small convolutional-recurrent net with CTC.

Where neighbours' strokes cross, no cut gives each digit its own ink and none of its
neighbour's (a 7's bar reaches over the next digit), so reading cut pieces or column windows
one by one fails on touching numbers. This model reads the whole cluster instead: its columns,
left to right, each give the probabilities of the ten digits and of "no new digit here" (CTC's
blank); the digits are where those columns peak. Each digit's place along the cluster comes
from its peak, so it still gets a box and a 28x28 input of its own.

TensorFlow is imported inside functions only, as in `inference`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mlcore.preprocessing import normalise_stroke_width

HEIGHT = 28
BODY = 20  # the digits' height inside the input, as MNIST's 20 of 28
# Input columns per output column: the second pooling halves the height only, so a narrow 1 squeezed
# between touching neighbours still gets a column or two of its own (with 4, 1s went missing).
STEP = 2
BLANK = 10
MAX_WIDTH = 512  # a cluster wider than this (about 25 digits) is squeezed to it
# Decoding keeps this many likeliest digit sequences as it goes along the columns, and tries only the digits
# a column gives at least UNLIKELY_DIGIT.
BEAM_WIDTH = 8
UNLIKELY_DIGIT = 1e-3


def sequence_input(ink: np.ndarray) -> np.ndarray:
    """A cluster's ink (0..1, cropped) as the model's (28, W) uint8 input: BODY pixels tall, aspect
    kept, strokes near MNIST's width, W a multiple of 4."""
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = normalise_stroke_width(crop, crop.shape[0])
    scale = BODY / crop.shape[0]
    width = int(min(max(1, round(crop.shape[1] * scale)), MAX_WIDTH - 8))
    scaled = np.asarray(Image.fromarray(crop.astype(np.float32), "F").resize((width, BODY), Image.Resampling.BOX))
    peak = float(scaled.max())
    if peak > 0:
        scaled = np.clip(scaled / max(peak, 0.5) * 1.15, 0.0, 1.0)
    padded_width = -(-(width + 8) // 4) * 4
    field = np.zeros((HEIGHT, padded_width), dtype=np.float32)
    top = (HEIGHT - BODY) // 2
    field[top : top + BODY, 4 : 4 + width] = scaled
    return np.round(field * 255).astype(np.uint8)


def batch_of(inputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Inputs of different widths as one zero-padded float batch (N, 28, W, 1), and each one's width."""
    widths = np.array([x.shape[1] for x in inputs])
    batch = np.zeros((len(inputs), HEIGHT, int(widths.max()), 1), dtype=np.float32)
    for i, x in enumerate(inputs):
        batch[i, :, : x.shape[1], 0] = x / 255.0
    return batch, widths


def build_sequence_model():
    """(N, 28, W, 1) -> (N, W / STEP, 11) probabilities, the last one CTC's blank. About 0.4 M weights."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(HEIGHT, None, 1), name="cluster")
    x = inputs
    # One convolution at full size (the costly one), two at each smaller size.
    for filters, convolutions, pool in ((32, 1, (2, 2)), (64, 2, (2, 1)), (96, 2, None)):
        for _ in range(convolutions):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        if pool:
            x = layers.MaxPooling2D(pool)(x)
    # Columns become time steps: each holds its whole height (7 rows) of features.
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((-1, (HEIGHT // 4) * 96))(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.GRU(96, return_sequences=True))(x)
    outputs = layers.Dense(BLANK + 1, activation="softmax", name="columns")(x)
    return keras.Model(inputs, outputs, name="cluster_reader")


@dataclass(frozen=True)
class SequenceDigit:
    digit: int
    probabilities: np.ndarray  # the 10 digit probabilities at its likeliest column
    first: int  # its output columns [first, last]
    last: int


def decode(columns: np.ndarray, width: int) -> list[SequenceDigit]:
    """The digits of one input, from its (T, 11) column probabilities over the first width / STEP columns.

    The digits are the likeliest sequence summed over every way of placing it in the columns (CTC's
    prefix beam search), not the digits of the likeliest single column each: a digit drawn thin over
    several columns, each a little more likely "no new digit here", is likely as a whole and would be
    lost column by column. Each digit's columns are where the likeliest placement of that sequence
    puts it; where the sequence is the columns' own likeliest answers (most clusters), their runs.
    """
    columns = columns[: max(1, width // STEP)]
    by_column = _best_columns(columns)
    labels = _likeliest_sequence(columns)
    if labels == tuple(digit.digit for digit in by_column):
        return by_column
    digits = []
    for label, (first, last) in zip(labels, _placement(columns, labels), strict=True):
        peak = first + int(columns[first : last + 1, label].argmax())
        digits.append(SequenceDigit(label, columns[peak, :BLANK].copy(), first, last))
    return digits


def _best_columns(columns: np.ndarray) -> list[SequenceDigit]:
    """A digit per run of columns whose likeliest answer is that digit (greedy CTC decoding)."""
    best = columns.argmax(axis=1)
    digits: list[SequenceDigit] = []
    column = 0
    while column < len(best):
        label = int(best[column])
        end = column
        while end + 1 < len(best) and best[end + 1] == label:
            end += 1
        if label != BLANK:
            peak = column + int(columns[column : end + 1, label].argmax())
            # What the ten leave of 1 at the peak is "no digit here", as the CNN's "not one digit".
            digits.append(SequenceDigit(label, columns[peak, :BLANK].copy(), column, end))
        column = end + 1
    return digits


def _likeliest_sequence(columns: np.ndarray, beam: int = BEAM_WIDTH) -> tuple[int, ...]:
    """CTC prefix beam search: the `beam` likeliest digit sequences so far are kept, each with the
    probability of its placements ending in "no new digit" and in its last digit (a repeated digit is a
    new one only after a "no new digit" column)."""
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (1.0, 0.0)}
    for column in columns:
        # Digits this column cannot plausibly hold are not tried (most columns are surely blank).
        likely = np.flatnonzero(column[:BLANK] >= UNLIKELY_DIGIT)
        extended: dict[tuple[int, ...], list[float]] = {}
        for prefix, (ends_blank, ends_digit) in beams.items():
            entry = extended.setdefault(prefix, [0.0, 0.0])
            entry[0] += (ends_blank + ends_digit) * column[BLANK]
            last = prefix[-1] if prefix else None
            for digit in likely:
                p = float(column[digit])
                longer = extended.setdefault(prefix + (int(digit),), [0.0, 0.0])
                if digit == last:
                    entry[1] += ends_digit * p  # the same digit going on over another column
                    longer[1] += ends_blank * p  # the same digit again, after a gap
                else:
                    longer[1] += (ends_blank + ends_digit) * p
        kept = sorted(extended.items(), key=lambda item: -(item[1][0] + item[1][1]))[:beam]
        total = sum(b + d for _, (b, d) in kept) or 1.0  # rescaled each column: long inputs would underflow
        beams = {prefix: (b / total, d / total) for prefix, (b, d) in kept}
    return max(beams.items(), key=lambda item: item[1][0] + item[1][1])[0]


def _placement(columns: np.ndarray, labels: tuple[int, ...]) -> list[tuple[int, int]]:
    """The columns [first, last] of each digit of `labels` in their likeliest placement (Viterbi over
    CTC's states: "no new digit" before, between and after the digits, and each digit)."""
    if not labels:
        # (The search's sequence is never likelier empty than the columns' own unless it pruned that
        # one on the way, as it can on columns where many digits are plausible: then no digit is placed.)
        return []
    states = [BLANK]
    for label in labels:
        states += [label, BLANK]
    states = np.array(states)
    log_p = np.log(np.maximum(columns[:, states], 1e-12))
    # A digit's state may be entered from two states back (skipping the blank between) unless the
    # digit before it is the same one: repeated digits need a blank between them.
    can_skip = np.zeros(len(states), dtype=bool)
    can_skip[2:] = (states[2:] != BLANK) & (states[2:] != states[:-2])
    score = np.full(len(states), -np.inf)
    score[:2] = log_p[0, :2]
    came_from = np.zeros((len(columns), len(states)), dtype=np.int64)
    index = np.arange(len(states))
    for t in range(1, len(columns)):
        stay, step = score, np.concatenate([[-np.inf], score[:-1]])
        skip = np.where(can_skip, np.concatenate([[-np.inf, -np.inf], score[:-2]]), -np.inf)
        options = np.stack([stay, step, skip])
        choice = options.argmax(axis=0)
        came_from[t] = index - choice
        score = options.max(axis=0) + log_p[t]
    state = len(states) - 1 if len(states) == 1 or score[-1] >= score[-2] else len(states) - 2
    path = [state]
    for t in range(len(columns) - 1, 0, -1):
        state = came_from[t, state]
        path.append(state)
    placed: dict[int, list[int]] = {}
    for t, state in enumerate(reversed(path)):
        if states[state] != BLANK:
            placed.setdefault((state - 1) // 2, [t, t])[1] = t
    return [tuple(placed[i]) for i in range(len(labels))]


def save_sequence_set(path, inputs: list[np.ndarray], texts: list[str]) -> None:
    """Variable-width inputs and their digits in one .npz (padded, with each one's width)."""
    batch, widths = batch_of(inputs)
    pixels = np.round(batch[..., 0] * 255).astype(np.uint8)
    np.savez_compressed(path, inputs=pixels, widths=widths, texts=np.array(texts))


def load_sequence_set(path) -> tuple[list[np.ndarray], list[str]]:
    with np.load(path) as data:
        return [x[:, :w] for x, w in zip(data["inputs"], data["widths"], strict=True)], [str(t) for t in data["texts"]]


def train_sequence_reader(
    inputs: list[np.ndarray],
    texts: list[str],
    *,
    epochs: int = 12,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    seed: int = 1,
    validation: tuple[list[np.ndarray], list[str]] | None = None,
    initial=None,
    log=print,
):
    """A sequence reader trained with CTC on the clusters and their digits. Batches hold clusters of
    similar width (less padding); the learning rate falls along a cosine to 1% of its start.

    `initial` (a model) is trained further instead of a new one: more clusters and epochs without
    paying again for the ones it has already learnt from."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model = initial if initial is not None else build_sequence_model()
    steps_per_epoch = -(-len(inputs) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps_per_epoch, alpha=0.01)
    optimizer = keras.optimizers.Adam(schedule, clipnorm=5.0)
    rng = np.random.default_rng(seed)

    @tf.function(reduce_retracing=True)
    def step(batch, labels, label_lengths, frames):
        with tf.GradientTape() as tape:
            probabilities = model(batch, training=True)
            logits = tf.math.log(tf.maximum(probabilities, 1e-8))
            loss = tf.reduce_mean(
                tf.nn.ctc_loss(labels, logits, label_lengths, frames, logits_time_major=False, blank_index=BLANK)
            )
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    started = time.perf_counter()
    order_by_width = np.argsort([x.shape[1] for x in inputs], kind="stable")
    for epoch in range(epochs):
        # Neighbours in width (shuffled a little, so batches differ each epoch) form batches, in random order.
        shuffled = np.argsort(np.arange(len(inputs)) + rng.uniform(0, 3 * batch_size, len(inputs)))
        order = order_by_width[shuffled]
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        losses = []
        for index in rng.permutation(len(batches)):
            chosen = batches[index]
            batch, widths = batch_of([_varied(inputs[i], rng) for i in chosen])
            lengths = np.array([len(texts[i]) for i in chosen], dtype=np.int32)
            labels = np.zeros((len(chosen), max(1, int(lengths.max()))), dtype=np.int32)
            for row, i in enumerate(chosen):
                labels[row, : lengths[row]] = [int(c) for c in texts[i]]
            losses.append(float(step(batch, labels, lengths, (widths // STEP).astype(np.int32))))
        message = f"epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.3f}, {time.perf_counter() - started:.0f} s"
        if validation is not None:
            read = ["".join(str(d.digit) for d in digits) for digits in read_sequences(model, validation[0])]
            exact = np.mean([text == found for text, found in zip(validation[1], read, strict=True)])
            message += f", validation exact {exact:.2%}"
        log(message)
    return model


def _varied(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A training input a little narrower or wider (handwriting's own variety) and a pixel up or down."""
    width = pixels.shape[1]
    new_width = int(round(width * rng.uniform(0.85, 1.15)))
    stretched = np.asarray(Image.fromarray(pixels).resize((new_width, HEIGHT), Image.Resampling.BILINEAR))
    varied = np.zeros((HEIGHT, -(-new_width // 4) * 4), dtype=np.uint8)
    varied[:, :new_width] = stretched
    return np.roll(varied, int(rng.integers(-1, 2)), axis=0)


def read_sequences(model, inputs: list[np.ndarray], batch_size: int = 64) -> list[list[SequenceDigit]]:
    """Each input's digits, through the model in batches of similar width."""
    order = np.argsort([x.shape[1] for x in inputs], kind="stable")
    results: list[list[SequenceDigit]] = [[] for _ in inputs]
    for i in range(0, len(order), batch_size):
        chosen = order[i : i + batch_size]
        batch, widths = batch_of([inputs[j] for j in chosen])
        columns = np.asarray(model(batch, training=False))
        for row, j in enumerate(chosen):
            results[j] = decode(columns[row], int(widths[row]))
    return results


def save_sequence_reader(model, path, *, version: str, examples: int, fine_tuned_from: dict | None = None) -> dict:
    """The model and its card (version, when, what it learnt from) beside it."""
    import json
    from datetime import UTC, datetime
    from pathlib import Path

    from mlcore.paths import model_card_path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    card = {
        "version": version,
        "kind": "cluster reader (CTC)",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_clusters": examples,
        "data": "python -m mlcore synthesize-clusters: MNIST training digits drawn as touching numbers",
    }
    if fine_tuned_from:
        # What the starting model had learnt from, so the card tells the whole recipe.
        card["fine_tuned_from"] = fine_tuned_from
    model_card_path(path).write_text(json.dumps(card, indent=2) + "\n")
    return card
