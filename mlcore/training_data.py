"""Training examples beyond MNIST's clean arrays: what our preprocessing really makes of pictures.

MNIST's digits are all drawn with one kind of pen and prepared one way. Uploads are not: a thin
faint pen, a thick marker, a photo's blur and JPEG, and a number cut into digits by `segmentation`.
So, from MNIST *training* digits only (the test digits stay for judging), we make:

- rendered digits: `synthesis` draws the digit as a photo, scan or canvas with a random pen, and
  `segmentation.find_number` prepares it exactly as an upload would be;
- pieces of rendered numbers: every candidate run of a number the segmentation proposes, labelled
  with its digit when it is one digit, and "not one digit" (class 10) when it is a fragment or
  holds parts of two digits, so the model can judge the cuts;
- other things that are not one digit: parts of digits, two digits side by side, printed letters,
  scribbles, and whatever the segmentation finds in pictures with no digit (a table's edge, a
  shadow, a ruled line, a printed word).

Each example is a 28x28 uint8 model input, white ink on black, as MNIST.
"""

from __future__ import annotations

import glob
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from mlcore.data import DigitSet
from mlcore.preprocessing import decode_image, to_mnist_field
from mlcore.segmentation import cluster_spans, find_number

NOT_ONE_DIGIT = 10
# Letters that do not look like a digit (no O, l, I, S, Z, B, G, g, q, b, s, z, T...).
LETTERS = "ACEFHKMNPRUVWXYacdefhkmnprtuvwxy"
FONT_GLOB = "/usr/share/fonts/truetype/*/*.ttf"


def _ink(digit: np.ndarray, scale: int = 4) -> np.ndarray:
    """An MNIST digit as smooth ink (0..1) at `scale` times its size, cropped to its strokes."""
    big = np.asarray(Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC))
    ink = np.clip(big.astype(np.float32) / 255.0, 0, 1)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.1), np.flatnonzero(ink.max(axis=0) > 0.1)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fragment(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The left or right part of a digit: what a cut in the wrong place leaves.

    Only cuts across columns happen in a line, so only those parts. A tall thin part looks like a
    1 to anyone, so it is not taught as "not one digit" (the grouping prefers fewer digits anyway).
    """
    width = ink.shape[1]
    share = rng.uniform(0.3, 0.6)
    part = ink[:, : max(1, int(width * share))] if rng.random() < 0.5 else ink[:, int(width * (1 - share)) :]
    rows, cols = np.flatnonzero(part.max(axis=1) > 0.3), np.flatnonzero(part.max(axis=0) > 0.3)
    if rows.size == 0 or rows.size > 2 * cols.size:
        return None
    return part


def _pair(first: np.ndarray, second: np.ndarray, rng: np.random.Generator, partial: bool) -> np.ndarray:
    """Two digits side by side, close or touching (or a digit with a large part of its neighbour)."""
    if partial:
        second = second[:, : max(1, int(second.shape[1] * rng.uniform(0.45, 0.7)))]
    height = max(first.shape[0], second.shape[0])
    gap = int(rng.integers(-6, 10))
    width = first.shape[1] + second.shape[1] + gap
    canvas = np.zeros((height, max(width, first.shape[1])), dtype=np.float32)
    canvas[: first.shape[0], : first.shape[1]] = first
    left = max(first.shape[1] + gap, 0)
    part = canvas[: second.shape[0], left : left + second.shape[1]]
    canvas[: second.shape[0], left : left + second.shape[1]] = np.maximum(part, second[:, : part.shape[1]])
    if rng.random() < 0.5:
        canvas = canvas[:, ::-1]
    return canvas


def _letter(rng: np.random.Generator, fonts: list[str]) -> np.ndarray | None:
    if not fonts:
        return None
    font = ImageFont.truetype(fonts[rng.integers(0, len(fonts))], size=int(rng.integers(60, 100)))
    text = "".join(rng.choice(list(LETTERS), size=1 if rng.random() < 0.8 else 2))
    picture = Image.new("L", (260, 160), 0)
    ImageDraw.Draw(picture).text((20, 10), text, fill=255, font=font)
    picture = picture.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BILINEAR)
    return np.asarray(picture, dtype=np.float32) / 255.0


def _scribble(rng: np.random.Generator) -> np.ndarray:
    """A random pen stroke that is not a digit: a wavy line, a zigzag, a knot."""
    picture = Image.new("L", (120, 120), 0)
    points = np.cumsum(rng.normal(0, 18, size=(int(rng.integers(3, 9)), 2)), axis=0) + 60
    ImageDraw.Draw(picture).line([tuple(p) for p in points], fill=255, width=int(rng.integers(4, 12)), joint="curve")
    return ndimage.gaussian_filter(np.asarray(picture, dtype=np.float32) / 255.0, 1.0)


def not_one_digit(images: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` 28x28 inputs of things that are not one digit, made from the given MNIST digits."""
    rng = np.random.default_rng(seed)
    fonts = sorted(glob.glob(FONT_GLOB))
    examples = []
    while len(examples) < count:
        kind = rng.choice(["fragment", "pair", "partial_pair", "letter", "scribble"], p=[0.3, 0.25, 0.15, 0.15, 0.15])
        first = _ink(images[rng.integers(0, len(images))])
        if kind == "fragment":
            ink = _fragment(first, rng)
        elif kind in ("pair", "partial_pair"):
            ink = _pair(first, _ink(images[rng.integers(0, len(images))]), rng, kind == "partial_pair")
        elif kind == "letter":
            ink = _letter(rng, fonts)
        else:
            ink = _scribble(rng)
        if ink is None or (ink > 0.5).sum() < 20:
            continue
        examples.append(to_mnist_field(ink))
    return np.stack(examples)


def rendered_digits(images: np.ndarray, labels: np.ndarray, seed: int) -> DigitSet:
    """Each digit drawn as a picture by `synthesis`, then prepared as an upload would be."""
    from mlcore.synthesis import synthetic_digit

    rng = np.random.default_rng(seed)
    inputs, kept = [], []
    for image, label in zip(images, labels, strict=True):
        picture = synthetic_digit(image, int(label), rng)
        layout = find_number(decode_image(picture.data))
        if layout is None or not layout.pieces:
            continue
        inputs.append(layout.model_input(0, len(layout.pieces)))
        kept.append(label)
    return DigitSet(np.stack(inputs), np.asarray(kept, dtype=np.uint8))


def number_runs(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> DigitSet:
    """The candidate runs the segmentation proposes in rendered numbers, each with its true class.

    A run is a digit when it covers most of one digit's true box and little of any other; it is
    "not one digit" when it covers less than half of every digit, or much of two.
    """
    from mlcore.synthesis import GAP_KINDS, synthetic_number

    rng = np.random.default_rng(seed)
    inputs, classes = [], []
    for _ in range(count):
        length = int(rng.integers(2, 6))
        chosen = rng.integers(0, len(images), size=length)
        gap = GAP_KINDS[rng.integers(0, len(GAP_KINDS))] if rng.random() < 0.5 else "touching"
        picture = synthetic_number(images[chosen], labels[chosen], rng, gap=gap)
        layout = find_number(decode_image(picture.data))
        if layout is None:
            continue
        true_boxes = np.asarray(picture.boxes, dtype=np.float64)
        digits, wrong = [], []
        for start, stop in layout.runs:
            covered = _coverage(np.asarray(layout.original_box(start, stop), dtype=np.float64), true_boxes)
            best = int(np.argmax(covered))
            rest = np.delete(covered, best)
            if covered[best] > 0.8 and (rest.size == 0 or rest.max() < 0.3):
                label = int(labels[chosen][best])
            elif covered[best] < 0.5 or (rest.size and rest.max() > 0.5):
                label = NOT_ONE_DIGIT
            else:
                continue  # in between: neither clearly one digit nor clearly not
            (wrong if label == NOT_ONE_DIGIT else digits).append(((start, stop), label))
        # Most runs are wrong groupings; keep as many of them as of digits, so both are learnt.
        if len(wrong) > len(digits):
            wrong = [wrong[i] for i in rng.choice(len(wrong), size=max(len(digits), 1), replace=False)]
        for (start, stop), label in digits + wrong:
            inputs.append(layout.model_input(start, stop))
            classes.append(label)
    return DigitSet(np.stack(inputs), np.asarray(classes, dtype=np.uint8))


def non_digit_runs(count: int, seed: int) -> np.ndarray:
    """What the segmentation proposes in pictures with no digit at all (blank paper beside a
    table, a ruled page, a printed word, scribbles): each candidate run is "not one digit"."""
    from mlcore.synthesis import synthetic_non_digit

    rng = np.random.default_rng(seed)
    inputs = []
    for _ in range(count):
        layout = find_number(decode_image(synthetic_non_digit(rng).data))
        if layout is None or not layout.runs:
            continue
        runs = [layout.runs[i] for i in rng.permutation(len(layout.runs))[:6]]
        inputs += [layout.model_input(start, stop) for start, stop in runs]
    return np.stack(inputs) if inputs else np.zeros((0, 28, 28), dtype=np.uint8)


def _coverage(box: np.ndarray, true_boxes: np.ndarray) -> np.ndarray:
    """The share of each true digit box's width that `box` covers (digits on a line are told apart by columns)."""
    overlap = np.minimum(box[2], true_boxes[:, 2]) - np.maximum(box[0], true_boxes[:, 0])
    return np.clip(overlap, 0, None) / np.maximum(true_boxes[:, 2] - true_boxes[:, 0], 1)


def _job(args: tuple) -> DigitSet:
    kind, images, labels, count, seed = args
    if kind == "rendered":
        return rendered_digits(images, labels, seed)
    if kind == "runs":
        return number_runs(images, labels, count, seed)
    if kind == "non_digits":
        made = non_digit_runs(count, seed)
        return DigitSet(made, np.full(len(made), NOT_ONE_DIGIT, dtype=np.uint8))
    return DigitSet(not_one_digit(images, count, seed), np.full(count, NOT_ONE_DIGIT, dtype=np.uint8))


def build_extra_training_set(
    train: DigitSet,
    *,
    rendered: int,
    numbers: int,
    others: int,
    non_digits: int = 0,
    seed: int = 0,
    workers: int | None = None,
) -> DigitSet:
    """All the examples above from the training split, made in parallel (a few minutes on 2 cores)."""
    rng = np.random.default_rng(seed)
    workers = workers or os.cpu_count() or 1
    chosen = rng.choice(len(train), size=min(rendered, len(train)), replace=False)
    jobs = []
    for part, indices in enumerate(np.array_split(chosen, workers * 4)):
        jobs.append(("rendered", train.images[indices], train.labels[indices], 0, seed * 1000 + part))
    for part in range(workers * 2):
        jobs.append(("runs", train.images, train.labels, numbers // (workers * 2), seed * 1000 + 100 + part))
        jobs.append(("others", train.images, train.labels, others // (workers * 2), seed * 1000 + 200 + part))
        jobs.append(("non_digits", None, None, non_digits // (workers * 2), seed * 1000 + 300 + part))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        sets = list(pool.map(_job, jobs))
    return DigitSet(np.concatenate([s.images for s in sets]), np.concatenate([s.labels for s in sets]))


def cluster_sequences(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[list, list[str]]:
    """The clusters of ink the segmentation finds in rendered numbers, each with the digits it holds.

    Mostly touching numbers (one cluster of 2-10 digits), some with tight or wide gaps (clusters of
    one digit, a wide one among them), so the sequence reader also learns that a wide 0 or a 7 with
    a long bar is one digit. A cluster that cuts through a digit's box is left out (its label is unclear).
    """
    from mlcore.synthesis import synthetic_number

    rng = np.random.default_rng(seed)
    inputs, texts = [], []
    for _ in range(count):
        gap = "touching" if rng.random() < 0.75 else ("tight", "wide")[rng.integers(2)]
        length = int(rng.integers(2, 11))
        chosen = rng.integers(0, len(images), size=length)
        picture = synthetic_number(images[chosen], labels[chosen], rng, gap=gap)
        layout = find_number(decode_image(picture.data))
        if layout is None:
            continue
        true_boxes = np.asarray(picture.boxes, dtype=np.float64)
        for start, stop in cluster_spans(layout.pieces):
            covered = _coverage(np.asarray(layout.original_box(start, stop), dtype=np.float64), true_boxes)
            if ((covered > 0.3) & (covered < 0.7)).any() or not (covered >= 0.7).any():
                continue
            if gap != "touching" and rng.random() < 0.7:
                continue  # enough of single digits
            inputs.append(layout.cluster_input(start, stop))
            texts.append("".join(str(int(label)) for label in labels[chosen][covered >= 0.7]))
    return inputs, texts


def non_digit_clusters(count: int, seed: int) -> tuple[list, list[str]]:
    """The wide clusters the segmentation finds in pictures with no digit (a printed word, a scribble,
    a shadow's edge), each labelled with no digits at all: the sequence reader learns to find none
    there, and the number's reading then falls back to the pieces, which the CNN flags."""
    from mlcore.synthesis import synthetic_non_digit

    rng = np.random.default_rng(seed)
    inputs = []
    for _ in range(count):
        layout = find_number(decode_image(synthetic_non_digit(rng).data))
        if layout is None:
            continue
        for start, stop in cluster_spans(layout.pieces):
            if stop - start > 1:  # only clusters that were cut reach the sequence reader
                inputs.append(layout.cluster_input(start, stop))
    return inputs, [""] * len(inputs)


def _sequence_job(args: tuple) -> tuple[list, list[str]]:
    kind, images, labels, count, seed = args
    return cluster_sequences(images, labels, count, seed) if kind == "numbers" else non_digit_clusters(count, seed)


def build_sequence_set(
    train: DigitSet, *, numbers: int, non_digits: int, seed: int, workers: int | None = None
) -> tuple[list, list[str]]:
    """The clusters of `numbers` rendered numbers from the training split and of `non_digits` pictures
    with no digit, made in parallel."""
    workers = workers or os.cpu_count() or 1
    parts = workers * 4
    jobs = [("numbers", train.images, train.labels, numbers // parts, seed * 1000 + part) for part in range(parts)]
    jobs += [("non_digits", None, None, non_digits // parts, seed * 1000 + 500 + part) for part in range(parts)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        made = list(pool.map(_sequence_job, jobs))
    return [x for inputs, _ in made for x in inputs], [t for _, texts in made for t in texts]
