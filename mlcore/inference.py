"""Running the trained CNN: load once per process, call it through one compiled function.

TensorFlow is imported here, inside functions, and nowhere at import time, so a web process
that imports `mlcore` for its error types never pays TensorFlow's start-up cost.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlcore.paths import DEFAULT_CLUSTER_READER_PATH, DEFAULT_MODEL_PATH, model_card_path
from mlcore.preprocessing import (
    DEFAULT_MAX_PIXELS,
    WORKING_SIZE,
    ImageError,
    decode_image,
    decoded_bytes,
    to_mnist_field,
)
from mlcore.reading import DigitReading, NumberReading
from mlcore.segmentation import FLAG_BELOW, SMALL_MARK, NumberLayout, best_grouping, cluster_spans, find_number
from mlcore.sequence import STEP, SequenceDigit, batch_of, decode

if TYPE_CHECKING:
    from PIL import Image

# A flagged mark smaller than this share of the picture's shorter side (and never more than a few pixels in a
# small drawing) is a speck of dirt or noise, not writing: a picture holding only such marks has no digit.
SPECK_OF_PICTURE = 0.02
SPECK_PIXELS = 3

# The touching digits the cluster reader finds are believed where the CNN, looking at each one's columns,
# sees a digit there with at least this probability on average: on our tuning set, 99% of touching
# numbers' clusters pass and most scribbles and printed words the cluster reader reads as digits do not.
DIGITS_SEEN_AT_LEAST = 0.2
# ...and where the cluster reader itself is this sure of its digits on average: a chain of cursive loops
# read as "00000" is not (0.63-0.88), while 99% of the touching numbers it reads right are.
TOUCHING_SURE_AT_LEAST = 0.85
# ...and, for a run of overlapping clusters read as one (`_joined_clusters`), sure of each of its digits:
# reading across the clusters' borders is a bolder guess, and on our tuning set the digits it read under
# this were wrong about as often as right, flags turned into guesses.
JOINED_SURE_AT_LEAST = 0.85
# A flagged digit of a number is read by the cluster reader looking at the whole line when it is this sure of
# it (and reads the other digits the same): on our tuning set, 6 of the 7 flags it filled so were right.
WHOLE_LINE_SURE_AT_LEAST = 0.9
# A picture read as no digit, looked at again keeping the table beyond the page, is taken as one digit only when
# the model reads it at least this surely: a digit written out to the page's edge (held-out: 3 more single
# digits right, no blank page more read as a digit). Two digits or more, none flagged, are taken as read.
LONE_DIGIT_BESIDE_THE_PAGE = 0.9
# A cluster the CNN reads as one digit at least this surely stays one digit: the cluster reader split a few
# wide single digits in two (a 4 read "41", a 0 "10": 5 of our 1,200 realistic uploads), and no touching
# number of our tuning set is read by the CNN as one digit that surely.
ONE_DIGIT_SURELY = 0.8
# A connected stroke the CNN cannot read as one digit, at least this many line heights wide (and too narrow
# to have been cut), may be two digits written into each other: a 1 joined to its neighbour ("17", "61").
UNSURE_CLUSTER_WIDTH = 0.5
# A digit's ink runs through at least this share of its rows (see _digit_shaped).
DIGIT_ROWS_INKED = 0.5
# A number with a flagged digit is looked at again in working copies of these sizes, in turn (see read_uploads).
SECOND_LOOK_SIZES = (384, 192, 512, 128)
# A flagged digit's input is read again moved by a pixel each way, (rows, columns): a reading that hangs on
# exactly where a faint or broken digit's centre of mass fell is not one to trust either way.
SHIFTED_LOOKS = ((1, 0), (-1, 0), (0, 1), (0, -1))

# Larger batches are cut into pieces of this size, which keeps memory bounded.
MAX_BATCH = 256
# The decoded uploads of one call are kept for their further looks up to this many bytes in all (64 megapixels
# in grey: any one upload the worker reads; a phone JPEG, decoded at a reduced scale, takes about 0.2 MB).
KEEP_DECODED_BYTES = 64_000_000


@dataclass(frozen=True)
class FileReading:
    """One file read from the command line: its reading, or why it could not be read."""

    file: str
    reading: NumberReading | None = None
    error: str | None = None
    error_code: str | None = None

    def as_dict(self) -> dict:
        r = self.reading
        single = r is not None and len(r.readings) == 1
        return {
            "file": self.file,
            "digit": r.digit if r else None,
            "digits": r.digits if r else None,
            "confidence": round(r.confidence, 6) if r and r.confidence is not None else None,
            "confidences": [round(c, 6) for c in r.confidences] if r else None,
            # One digit's 10 probabilities, as before numbers were read; per-digit ones in "confidences".
            "probabilities": [round(x, 6) for x in r.probabilities[0]] if single else None,
            "boxes": [list(box) for box in r.boxes] if r else None,
            "error": self.error,
        }


def load_keras_model(path: Path | str = DEFAULT_MODEL_PATH):
    import keras

    import mlcore.model  # noqa: F401  (registers the layers a saved model may use)

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
    # The reader of touching digits (mlcore.sequence); without it, clusters are read piece by piece only.
    cluster_reader: object | None = None

    def __post_init__(self) -> None:
        import tensorflow as tf

        model, cluster_reader = self.model, self.cluster_reader
        # A tf.function with a free batch dimension is traced once and reused for every call;
        # Keras' predict() would build a dataset and a loop for each image (~50 ms of overhead).
        self._forward = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec(shape=(None, 28, 28, 1), dtype=tf.float32)],
            jit_compile=False,
        )
        self._forward(tf.zeros((1, 28, 28, 1)))  # trace now, not on the first upload
        if cluster_reader is not None:
            self._read_clusters = tf.function(
                lambda x: cluster_reader(x, training=False),
                input_signature=[tf.TensorSpec(shape=(None, 28, None, 1), dtype=tf.float32)],
                jit_compile=False,
            )
            self._read_clusters(tf.zeros((1, 28, 64, 1)))

    @classmethod
    def load(
        cls, path: Path | str = DEFAULT_MODEL_PATH, cluster_reader_path: Path | str = DEFAULT_CLUSTER_READER_PATH
    ) -> DigitClassifier:
        cluster_reader = load_keras_model(cluster_reader_path) if Path(cluster_reader_path).is_file() else None
        return cls(model=load_keras_model(path), card=read_model_card(path), cluster_reader=cluster_reader)

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

    def digit_probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 10): each input's digit probabilities. A model with an 11th "not one digit" output
        leaves that share out, so a fragment or a pair of digits has no likely digit."""
        return self.probabilities(pixels)[:, :10]

    def cluster_readings(
        self,
        layouts: list[NumberLayout],
        unsure: list[list[tuple[int, int]]],
        joined: list[dict[tuple[int, int], int]],
    ) -> list[dict[tuple[int, int], _ClusterReading]]:
        """For each layout, the digits the cluster reader finds in each cluster that was cut (one
        too wide to be surely one digit), in each `unsure` cluster and in each `joined` run of clusters
        (`_joined_clusters`), keyed by the [start, stop) of their pieces; one batch for all."""
        found: list[dict[tuple[int, int], _ClusterReading]] = [{} for _ in layouts]
        if self.cluster_reader is None:
            return found
        wanted = [
            (i, span)
            for i, (layout, spans, runs) in enumerate(zip(layouts, unsure, joined, strict=True))
            for span in _cut_clusters(layout) + spans + list(runs)
        ]
        if not wanted:
            return found
        for (i, span), read in zip(wanted, self._read_whole([(layouts[i], span) for i, span in wanted]), strict=True):
            found[i][span] = read
        return found

    def _read_whole(self, wanted: list[tuple[NumberLayout, tuple[int, int]]]) -> list[_ClusterReading]:
        """What the cluster reader finds in each layout's pieces [start, stop), their clusters read
        whole; one batch for all."""
        inputs = [layout.cluster_input(*span) for layout, span in wanted]
        batch, _ = batch_of(inputs)
        columns = self._read_clusters(batch).numpy()
        found = []
        for column_probabilities, cluster_input in zip(columns, inputs, strict=True):
            inked = np.flatnonzero(cluster_input.max(axis=0) > 0)
            found.append(
                _ClusterReading(decode(column_probabilities, cluster_input.shape[1]), int(inked[0]), int(inked[-1]) + 1)
            )
        return found

    def _flags_read_on_the_whole_line(
        self, layouts: list[NumberLayout | None | ImageError], results: list[NumberReading | ImageError]
    ) -> list[NumberReading | ImageError]:
        """Each number with a flagged digit among digits read, looked at again by the cluster reader as
        one line (all its clusters together, one batch for all). Where that look reads every digit the
        first one read, the same, and each flagged one at least WHOLE_LINE_SURE_AT_LEAST surely, its
        digits take the flags' places: a digit that the pieces left in fragments or joined to a
        neighbour is often whole in the line. Any other look changes nothing. Only numbers with fewer
        flags than digits read are looked at: the digits read are what the look must agree with, and
        a printed word whose one letter the CNN read as a 1 ("?1??") was read as "1195" so."""
        chosen = [
            i
            for i, (layout, result) in enumerate(zip(layouts, results, strict=True))
            if isinstance(layout, NumberLayout) and _partly_flagged(result) and _mostly_read(result)
        ]
        if self.cluster_reader is None or not chosen:
            return results
        lines = [(layouts[i], (0, len(layouts[i].pieces))) for i in chosen]
        for i, (layout, line), read in zip(chosen, lines, self._read_whole(lines), strict=True):
            first = results[i]
            digits = _placed(layout, line, read)
            if digits is None or len(digits) != len(first.readings):
                continue
            agrees = all(
                group.probabilities.max() >= WHOLE_LINE_SURE_AT_LEAST
                if reading.flagged
                else reading.digit == int(group.probabilities.argmax())
                for reading, group in zip(first.readings, digits, strict=True)
            )
            if agrees:
                readings = [
                    _reading(layout, group) if reading.flagged else reading
                    for reading, group in zip(first.readings, digits, strict=True)
                ]
                results[i] = replace(first, readings=tuple(readings))
        return results

    def touching_digits(
        self,
        layouts: list[NumberLayout],
        readings: list[dict[tuple[int, int], _ClusterReading]],
        unsure: list[list[tuple[int, int]]],
        joined: list[dict[tuple[int, int], int]],
    ) -> list[dict[tuple[int, int], list[_Group]]]:
        """For each layout, of the cluster reader's `readings` (`cluster_readings`), the digits of each
        cluster the cluster reader finds two digits or more in,
        keyed by its span; in an `unsure` cluster (one stroke the CNN flags, see `_unsure_clusters`),
        exactly two. Other clusters are left to the pieces' reading: the CNN reads one digit (a
        wide 0, a 7 with a long bar) better, and flags what holds none. The CNN looks at each digit's
        columns too (one batch for all): where, on average, it sees no digit in them (a scribble, a
        word), the cluster is left to the pieces' reading as well. A `joined` run of clusters
        (`_joined_clusters`) read so, each of its digits surely, stands for the clusters inside it."""
        groups: list[dict[tuple[int, int], list[_Group]]] = []
        for layout, found, spans in zip(layouts, readings, unsure, strict=True):
            placed = {
                span: _placed(layout, span, read)
                for span, read in found.items()
                if len(read.digits) == 2 or (len(read.digits) > 2 and span not in spans)
            }
            groups.append({span: digits for span, digits in placed.items() if digits})
        inputs = [group.model_input for found in groups for digits in found.values() for group in digits]
        if not inputs:
            return groups
        digit_shares = iter(self.digit_probabilities(np.stack(inputs)).sum(axis=1))
        believed = [
            {
                span: digits
                for span, digits in found.items()
                if np.mean([next(digit_shares) for _ in digits]) >= DIGITS_SEEN_AT_LEAST
                and np.mean([group.probabilities.max() for group in digits]) >= TOUCHING_SURE_AT_LEAST
                and (
                    span not in runs
                    or (
                        min(group.probabilities.max() for group in digits) >= JOINED_SURE_AT_LEAST
                        and len(digits) >= runs[span]
                    )
                )
            }
            for found, runs in zip(groups, joined, strict=True)
        ]
        # Where a joined run of clusters is read, its reading stands for the clusters inside it.
        return [
            {
                span: digits
                for span, digits in found.items()
                if not any(other != span and other[0] <= span[0] and span[1] <= other[1] for other in found)
            }
            for found in believed
        ]

    def read_uploads(
        self, uploads: list[bytes], max_pixels: int = DEFAULT_MAX_PIXELS, max_decoded_bytes: int | None = None
    ) -> list[NumberReading | ImageError]:
        """Each upload's number, or the ImageError that says why it could not be read.

        Every candidate digit of every readable picture goes through the model in one batch. A number
        with a flagged digit among digits read is looked at again in working copies of other sizes
        (SECOND_LOOK_SIZES): a look that reads every digit the first one read, the same, and the
        flagged ones too, is taken (two looks at different scales agree). Any other is not: a flag
        is never traded for a guess that the first look contradicts, and a picture with nothing but
        flagged marks (a blank page's shadow, a scribble) keeps its flags. A number still flagged after
        those looks gets one more, by the cluster reader along its whole line (`_flags_read_on_the_whole_line`).
        Last, a picture read as no digit or nothing but flags is looked at once more keeping what looked
        like the table beyond the page (`_unread_looked_at_again_beside_the_page`).
        """
        pictures = _Uploads(uploads, max_pixels, max_decoded_bytes)
        results, layouts = self._read_uploads(pictures, list(range(len(uploads))))
        for working_size in SECOND_LOOK_SIZES:
            unsure = [i for i, result in enumerate(results) if _partly_flagged(result)]
            if not unsure:
                break
            again, _ = self._read_uploads(pictures, unsure, working_size)
            for i, second in zip(unsure, again, strict=True):
                if isinstance(second, NumberReading) and _reads_the_flags(results[i], second):
                    first_ms = results[i].preprocess_ms
                    results[i] = replace(second, preprocess_ms=first_ms + second.preprocess_ms)
        # (Those still flagged are the first look's readings, so its layouts hold their pieces.)
        results = self._flags_read_on_the_whole_line(layouts, results)
        return self._unread_looked_at_again_beside_the_page(pictures, results)

    def _unread_looked_at_again_beside_the_page(
        self, pictures: _Uploads, results: list[NumberReading | ImageError]
    ) -> list[NumberReading | ImageError]:
        """Each picture read as no digit or as nothing but flags, looked at again keeping as ink what looked
        like the table beyond the page (`preprocessing.ink_map`'s `beyond_paper`): a number whose strokes
        touch the table, or a dark band along the picture's border, goes with it when it is taken out.
        That look is taken only where it reads two digits or more, none flagged, or one digit read at least
        LONE_DIGIT_BESIDE_THE_PAGE surely (a digit written out to the page's edge): on a blank page, what
        lies beyond it reads at most as a lone digit, and less surely (a straight edge as a "1"; a lone
        straight step in brightness is no mark at all, see `segmentation._lone_step`)."""
        unread = [
            i
            for i, result in enumerate(results)
            if isinstance(result, NumberReading) and all(reading.flagged for reading in result.readings)
        ]
        if not unread:
            return results
        again, _ = self._read_uploads(pictures, unread, beyond_paper=False)
        for i, second in zip(unread, again, strict=True):
            if (
                isinstance(second, NumberReading)
                and second.found
                and not second.flagged
                and (len(second.readings) >= 2 or second.confidence >= LONE_DIGIT_BESIDE_THE_PAGE)
            ):
                results[i] = replace(second, preprocess_ms=results[i].preprocess_ms + second.preprocess_ms)
        return results

    def _read_uploads(
        self, pictures: _Uploads, chosen: list[int], working_size: int = WORKING_SIZE, *, beyond_paper: bool = True
    ) -> tuple[list[NumberReading | ImageError], list[NumberLayout | None | ImageError]]:
        """One look at each `chosen` upload: its number, or the ImageError that says why it could not be
        read; and the layout of the pieces it was read from (None where no ink was found). `beyond_paper`:
        as in `preprocessing.ink_map`."""
        layouts: list[NumberLayout | None | ImageError] = []
        sizes: list[tuple[int, int] | None] = []  # each picture's upright original size
        inputs: list[np.ndarray] = []  # each readable picture's candidate digits
        timings: list[float] = []
        for index in chosen:
            started = time.perf_counter()
            image = pictures.decoded(index)
            if isinstance(image, ImageError):
                layout, size = image, None
            else:
                layout = find_number(image, working_size, beyond_paper=beyond_paper)
                size = image.info["original_size"]
            if isinstance(layout, NumberLayout):
                inputs.append(layout.model_inputs())
            layouts.append(layout)
            sizes.append(size)
            timings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        probabilities = self.digit_probabilities(np.concatenate(inputs)) if inputs else np.zeros((0, 10))
        readable = [layout for layout in layouts if isinstance(layout, NumberLayout)]
        ends = np.cumsum([len(layout.runs) for layout in readable], dtype=int)
        # Each readable picture's rows of `probabilities`: one per candidate run of its pieces.
        run_probabilities = [
            probabilities[end - len(layout.runs) : end] for layout, end in zip(readable, ends, strict=True)
        ]
        unsure = [_unsure_clusters(layout, runs) for layout, runs in zip(readable, run_probabilities, strict=True)]
        joined = [_joined_clusters(layout, runs) for layout, runs in zip(readable, run_probabilities, strict=True)]
        read_whole = self.cluster_readings(readable, unsure, joined)
        touching = self.touching_digits(readable, read_whole, unsure, joined)
        # The clusters the cluster reader sees several digits in, surely or not (see `_digit_readings`).
        written = iter([{span for span, read in found.items() if len(read.digits) >= 2} for found in read_whole])
        pieces = iter(
            self._flags_read_a_pixel_off(
                readable,
                [
                    _piece_groups(layout, runs, candidates)
                    for layout, runs, candidates in zip(readable, run_probabilities, inputs, strict=True)
                ],
                touching,
            )
        )
        clusters = iter(touching)
        inference_ms = (time.perf_counter() - started) * 1000 / max(len(inputs), 1)
        results: list[NumberReading | ImageError] = []
        for layout, size, preprocess_ms in zip(layouts, sizes, timings, strict=True):
            if isinstance(layout, ImageError):
                results.append(layout)
                continue
            if layout is None:
                results.append(NumberReading(picture_size=size, preprocess_ms=preprocess_ms))
                continue
            readings = tuple(
                _digit_readings(layout, next(pieces), next(clusters), written=next(written), picture_size=size)
            )
            results.append(
                NumberReading(readings, picture_size=size, preprocess_ms=preprocess_ms, inference_ms=inference_ms)
            )
        return results, layouts

    def _flags_read_a_pixel_off(
        self,
        layouts: list[NumberLayout],
        groups: list[list[_Group]],
        touching: list[dict[tuple[int, int], list[_Group]]],
    ) -> list[list[_Group]]:
        """Each picture's groups of pieces, where the model cannot read one as a digit (it would be flagged),
        its digit probabilities averaged with the model's readings of its input moved a pixel each way
        (SHIFTED_LOOKS, one batch for all). A faint or broken digit's reading can hang on where its
        centre of mass fell, and the average of five small moves is the steadier one; a digit read
        surely is left as read, as are the marks that are no digit at any of the five places. Groups in
        a cluster whose digits the cluster reader found (`touching`, see `_digit_readings`) give way
        to those digits, so they are not read again."""
        flagged = [
            (picture, index)
            for picture, (layout, found, clusters) in enumerate(zip(layouts, groups, touching, strict=True))
            for index, group in enumerate(found)
            if group.probabilities.max() < FLAG_BELOW and not any(_in_cluster(layout, span, group) for span in clusters)
        ]
        if not flagged:
            return groups
        inputs = np.stack([groups[picture][index].model_input for picture, index in flagged])
        moved = np.concatenate([np.roll(inputs, shift, axis=(1, 2)) for shift in SHIFTED_LOOKS])
        readings = self.digit_probabilities(moved).reshape(len(SHIFTED_LOOKS), len(flagged), -1)
        steadier = [list(found) for found in groups]
        for number, (picture, index) in enumerate(flagged):
            group = steadier[picture][index]
            average = (group.probabilities + readings[:, number].sum(axis=0)) / (len(SHIFTED_LOOKS) + 1)
            steadier[picture][index] = replace(group, probabilities=average)
        return steadier

    def read_upload(
        self, data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_decoded_bytes: int | None = None
    ) -> NumberReading:
        """One upload's number; raises ImageError for a picture that cannot be read."""
        (result,) = self.read_uploads([data], max_pixels=max_pixels, max_decoded_bytes=max_decoded_bytes)
        if isinstance(result, ImageError):
            raise result
        return result

    def predict_files(self, paths: list[str]) -> list[FileReading]:
        uploads: list[bytes] = []
        read_errors: dict[int, str] = {}
        for i, path in enumerate(paths):
            try:
                uploads.append(Path(path).read_bytes())
            except OSError as error:
                read_errors[i] = f"cannot read the file: {error.strerror or error}"
                uploads.append(b"")
        results = self.read_uploads(uploads)
        files: list[FileReading] = []
        for i, (path, result) in enumerate(zip(paths, results, strict=True)):
            if i in read_errors:
                files.append(FileReading(path, error=read_errors[i], error_code="unreadable_file"))
            elif isinstance(result, ImageError):
                files.append(FileReading(path, error=str(result), error_code=result.code))
            else:
                files.append(FileReading(path, reading=result))
        return files


class _Uploads:
    """A call's uploads, each decoded when a look first needs it. The decoded pictures are kept for the further
    looks, which would otherwise decode them again (a hard picture up to six times), up to KEEP_DECODED_BYTES
    for all of them together; beyond that, a picture is decoded again, so a batch of big pictures is never
    held at once."""

    def __init__(self, uploads: list[bytes], max_pixels: int, max_decoded_bytes: int | None) -> None:
        self.uploads, self.max_pixels, self.max_decoded_bytes = uploads, max_pixels, max_decoded_bytes
        self._kept: dict[int, Image.Image | ImageError] = {}
        self._kept_bytes = 0

    def decoded(self, index: int) -> Image.Image | ImageError:
        """The upright grey picture (`preprocessing.decode_image`), or the ImageError that says why not."""
        if index in self._kept:
            return self._kept[index]
        try:
            image = decode_image(
                self.uploads[index], max_pixels=self.max_pixels, max_decoded_bytes=self.max_decoded_bytes
            )
        except ImageError as error:
            image = error
        size = 0 if isinstance(image, ImageError) else decoded_bytes(image)
        if self._kept_bytes + size <= KEEP_DECODED_BYTES:
            self._kept[index] = image
            self._kept_bytes += size
        return image


def _partly_flagged(result: NumberReading | ImageError) -> bool:
    """A number with a flagged digit and at least one digit read."""
    return isinstance(result, NumberReading) and result.flagged and any(not r.flagged for r in result.readings)


def _mostly_read(result: NumberReading) -> bool:
    """Fewer flagged digits than digits read."""
    flagged = sum(reading.flagged for reading in result.readings)
    return flagged < len(result.readings) - flagged


def _reads_the_flags(first: NumberReading, second: NumberReading) -> bool:
    """Whether a second look reads every digit the first one read, the same, and its flagged ones too."""
    return (
        second.found
        and not second.flagged
        and len(second.readings) == len(first.readings)
        and all(a.flagged or a.digit == b.digit for a, b in zip(first.readings, second.readings, strict=True))
    )


@functools.lru_cache(maxsize=4)
def shared_classifier(path: str = str(DEFAULT_MODEL_PATH)) -> DigitClassifier:
    """The process-wide classifier: loaded on first use, then reused by every task in the process."""
    return DigitClassifier.load(path)


@dataclass(frozen=True)
class _Group:
    """A digit (or flagged mark) of the number before it becomes a DigitReading: its columns and box
    in the layout's ink map, the model's reading of it and what the model saw."""

    box: tuple[int, int, int, int]  # (left, top, right, bottom) in the ink map
    probabilities: np.ndarray  # the 10 digit probabilities
    model_input: np.ndarray
    digit_shaped: bool = True  # see _digit_shaped

    @property
    def flagged(self) -> bool:
        return float(self.probabilities.max()) < FLAG_BELOW or not self.digit_shaped


@dataclass(frozen=True)
class _ClusterReading:
    """What the cluster reader found in one cluster, and where the cluster's ink lies in its input."""

    digits: list[SequenceDigit]
    first_inked: int  # the input's columns [first_inked, last_inked) hold ink
    last_inked: int


def _cut_clusters(layout: NumberLayout) -> list[tuple[int, int]]:
    """The clusters the segmentation cut: wide enough to be several touching digits."""
    return [(start, stop) for start, stop in cluster_spans(layout.pieces) if stop - start > 1]


def _joined_clusters(layout: NumberLayout, run_probabilities: np.ndarray) -> dict[tuple[int, int], int]:
    """Runs of neighbouring clusters whose columns overlap, as the [start, stop) of their pieces, where
    the CNN does not read every one of those clusters surely as one digit; each with the least number
    of digits a reading of the run must find (its clusters the CNN reads as a digit at all).

    A skipping pen leaves a digit in pieces: where one piece joins a neighbour and the rest of the
    digit another, neither cluster holds whole digits, and read together they do. Tight digits overlap
    in columns too, but each of their clusters reads surely as one digit, better one by one (and
    sparing the cluster reader). A reading that finds fewer digits than the run holds readable
    clusters has lost one of them (a 6 at the end of a run read as nothing)."""
    reading = {run: float(p.max()) for run, p in zip(layout.runs, run_probabilities, strict=True)}
    runs: list[list[tuple[int, int]]] = []
    reach = 0  # the rightmost column of the run so far
    for start, stop in cluster_spans(layout.pieces):
        left, _, right, _ = layout.run_box(start, stop)
        if runs and left < reach:
            runs[-1].append((start, stop))
            reach = max(reach, right)
        else:
            runs.append([(start, stop)])
            reach = right
    return {
        (clusters[0][0], clusters[-1][1]): sum(reading.get(cluster, 0.0) >= FLAG_BELOW for cluster in clusters)
        for clusters in runs
        if len(clusters) > 1 and not all(reading.get(cluster, 0.0) >= ONE_DIGIT_SURELY for cluster in clusters)
    }


def _unsure_clusters(layout: NumberLayout, run_probabilities: np.ndarray) -> list[tuple[int, int]]:
    """The uncut clusters the cluster reader should look at too (none or one): one stroke the CNN cannot read as one
    digit, wide enough to be two (a 1 written into its neighbour). Only where it is the line's one such
    stroke and the CNN reads every other uncut one surely: a printed word or a scribble, whose strokes
    read poorly, is not searched for digits this way (on our tuning set, "Class" became "00155")."""
    height = layout.line_height
    reading = {run: float(p.max()) for run, p in zip(layout.runs, run_probabilities, strict=True)}
    uncut = [(start, stop) for start, stop in cluster_spans(layout.pieces) if stop - start == 1]
    wide = [
        span
        for span in uncut
        if reading[span] < FLAG_BELOW
        and layout.pieces[span[0]].right - layout.pieces[span[0]].left >= UNSURE_CLUSTER_WIDTH * height
    ]
    others = [span for span in uncut if span not in wide]
    if len(wide) != 1 or any(reading[span] < ONE_DIGIT_SURELY for span in others):
        return []
    return wide


def _piece_groups(layout: NumberLayout, run_probabilities: np.ndarray, run_inputs: np.ndarray) -> list[_Group]:
    """The best grouping of the pieces into digits, each read by the CNN."""
    return [
        _Group(layout.run_box(start, stop), run_probabilities[index], run_inputs[index])
        for start, stop, index in best_grouping(len(layout.pieces), layout.runs, run_probabilities)
    ]


def _placed(layout: NumberLayout, span: tuple[int, int], read: _ClusterReading) -> list[_Group] | None:
    """The digits the cluster reader found in a cluster, each given the cluster's columns from halfway
    to its left neighbour's peak to halfway to its right one's (touching digits share columns, so
    this is where one mostly gives way to the next). None when a digit gets no stroke that way: the
    cluster is then left to the pieces' reading rather than losing a digit."""
    left, _, right, _ = layout.run_box(*span)
    clusters = layout.clusters(*span)
    digits, first, last = read.digits, read.first_inked, read.last_inked
    # Each peak's place along the cluster's ink, 0 at its left end and 1 at its right.
    centres = [np.clip(((d.first + d.last + 1) * STEP / 2 - first) / max(last - first, 1), 0, 1) for d in digits]
    edges = [0.0] + [(a + b) / 2 for a, b in zip(centres, centres[1:], strict=False)] + [1.0]
    columns = [int(round(left + share * (right - left))) for share in edges]
    groups = []
    for digit, low, high in zip(digits, columns, columns[1:], strict=False):
        box = layout.ink_box(low, max(high, low + 1), clusters)
        if box is None:
            return None
        window = layout.window(box[0], box[2], clusters)
        groups.append(_Group(box, digit.probabilities, to_mnist_field(window)))
    return groups


def _in_cluster(layout: NumberLayout, span: tuple[int, int], group: _Group) -> bool:
    """Whether a group's centre lies in the columns of the pieces [start, stop) of a cluster."""
    left, _, right, _ = layout.run_box(*span)
    return left <= (group.box[0] + group.box[2]) / 2 < right


def _digit_shaped(layout: NumberLayout, box: tuple[int, int, int, int]) -> bool:
    """Whether a group's ink runs through most of its height, as a digit's does (a skipping pen's gaps are
    short). Dashes of a dashed line stacked one above another, line after line, share their columns
    and so form one tall cluster, but most of its rows are empty paper."""
    left, top, right, bottom = box
    rows_with_ink = (layout.owner[top:bottom, left:right] > 0).any(axis=1)
    return rows_with_ink.mean() >= DIGIT_ROWS_INKED if rows_with_ink.size else True


def _digit_readings(
    layout: NumberLayout,
    pieces: list[_Group],
    touching: dict[tuple[int, int], list[_Group]] | None = None,
    *,
    written: set[tuple[int, int]] | frozenset = frozenset(),
    picture_size: tuple[int, int] | None = None,
) -> list[DigitReading]:
    """The digits of the number, left to right.

    `pieces`: the pieces grouped into digits by the CNN's readings (`_piece_groups`). They stand,
    except in clusters of touching digits, whose digits the cluster reader found (`touching`, by the
    cluster's span), unless the CNN reads the whole cluster surely as one digit.

    A group the model cannot read as one digit is flagged. A flagged mark that cannot be part of
    the number is left out: one much smaller than the digits (a comma, a dash, dirt), one far
    bigger (a line, a shadow's edge), one standing apart at either end of the number, or a speck
    too small in the picture to be writing (alone, it has no digits to be compared with). A flagged
    mark far wider than a digit stays, flagged, where it lies in a cluster the cluster reader sees
    several digits in (`written`), however unsure: touching digits that neither reader could read are
    writing, and leaving them out would say "no digit found", or give the rest of the number as if whole.
    """
    height = layout.line_height
    speck = max(SPECK_PIXELS, SPECK_OF_PICTURE * min(picture_size)) if picture_size else 0.0
    candidates = pieces
    for span, digits in (touching or {}).items():
        inside = [g for g in candidates if _in_cluster(layout, span, g)]
        if len(inside) == 1 and inside[0].probabilities.max() >= ONE_DIGIT_SURELY:
            continue  # one wide digit, surely
        candidates = [g for g in candidates if g not in inside] + digits
    candidates = [replace(group, digit_shaped=_digit_shaped(layout, group.box)) for group in candidates]
    candidates.sort(key=lambda g: g.box[0] + g.box[2])
    groups = []
    for group in candidates:
        left, top, right, bottom = group.box
        size = max(right - left, bottom - top)
        too_wide = right - left > 2 * height and not any(_in_cluster(layout, span, group) for span in written)
        if group.flagged and (size < SMALL_MARK * height or too_wide or bottom - top > 1.8 * height):
            continue
        box_left, box_top, box_right, box_bottom = layout.original(group.box)
        if group.flagged and max(box_right - box_left, box_bottom - box_top) < speck:
            continue
        groups.append(group)
    # Nothing but marks shaped like no digit (the dashes of a form's lines): no digit at all.
    if not any(group.digit_shaped for group in groups):
        groups = []
    # Something unreadable beside the number, well apart from it, is not one of its digits.
    while len(groups) > 1 and groups[0].flagged and groups[1].box[0] - groups[0].box[2] > height:
        groups.pop(0)
    while len(groups) > 1 and groups[-1].flagged and groups[-1].box[0] - groups[-2].box[2] > height:
        groups.pop()
    return [_reading(layout, group) for group in groups]


def _reading(layout: NumberLayout, group: _Group) -> DigitReading:
    """A group as one digit of the number, its box in the original picture."""
    likeliest = int(group.probabilities.argmax())
    return DigitReading(
        digit=None if group.flagged else likeliest,
        confidence=float(group.probabilities[likeliest]),
        probabilities=[float(p) for p in group.probabilities],
        box=layout.original(group.box),
        model_input=group.model_input,
    )
