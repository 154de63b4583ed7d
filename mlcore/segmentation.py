"""Finding the digits of a handwritten number: pieces of ink, the ways to group them, the best reading.

A number is one line of ink. Its connected pieces are not its digits: one digit can be several
pieces (the bar of a 5, a pen that skipped) and one piece can be several digits (neighbours
whose strokes touch). So we do not decide where the digits are from the ink alone:

1. `locate_number` finds the line's pieces, left to right, in an ink map (ruled lines, specks
   and marks off the line dropped; `ink_map` already left out what lies beyond the paper), and
   cuts each piece too wide to be one digit at a few candidate columns (where little ink
   crosses), so that every plausible digit is a run of consecutive pieces;
2. every run narrow enough to be one digit becomes a 28x28 model input (`NumberLayout.model_inputs`);
3. the classifier scores them all in one batch, and `best_grouping` picks the runs whose readings
   together are the most likely (dynamic programming over the pieces): a fragment or a pair of
   digits reads badly as one digit (the model has a "not one digit" answer), so it loses to the
   grouping that reads well.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image
from scipy import ndimage

from mlcore.preprocessing import (
    DETAIL_SIZE,
    WORKING_SIZE,
    grey_copy,
    ink_map,
    stroke_width,
    to_mnist_field,
    working_factor,
)
from mlcore.sequence import sequence_input

# Ink counts as part of a stroke from this strength (0..1) when it touches ink at least SEED_INK.
# The low level keeps faint pen strokes whole; the seed keeps noise out.
STROKE_INK = 0.25
SEED_INK = 0.5
# A run of pieces wider than this (in line heights) is not one digit.
MAX_DIGIT_WIDTH = 1.5
# A piece wider than this (in line heights) may be touching digits: it gets candidate cuts.
SPLIT_WIDTH = 0.8
MAX_PIECES_PER_DIGIT = 5
# Cuts are at least this far apart and from a piece's ends (in line heights): no digit is thinner.
CUT_SPACING = 0.28
# A mark smaller than this share of the largest mark's area is dust.
DUST_AREA = 0.02
# A mark whose both sides are below this share of the line height is a speck.
SPECK_SIZE = 0.22
# A grouping whose best digit is less likely than this is flagged, not guessed.
FLAG_BELOW = 0.5
# Where nothing is written inside the picture, only a mark at least this share of its height or width
# is a digit drawn to fill it; a shorter one at the border is a fragment of a page's or a shadow's edge.
FILLS_PICTURE = 0.33
# ...unless it is not shaped like a line (a curved digit at the border): its width across over its length.
LINE_LIKE = 0.3
# A flagged mark this small (share of the line height) is punctuation or dirt: dropped.
SMALL_MARK = 0.45
# A lone straight mark whose two sides differ in brightness by more than this many times its own contrast
# with them is a step (a shadow's or a table's edge), not a stroke: our digits measure up to 1.9, those
# edges 15 and more.
STEP_NOT_STROKE = 4.0


@dataclass(frozen=True)
class InkPiece:
    """A piece of the line's ink: a connected stroke, or a slice of one between two cuts."""

    label: int  # its pixels are `owner == label` in the layout's owner map
    top: int
    left: int
    bottom: int
    right: int
    cluster: int = 0  # the pieces cut from one cluster of ink share this number


@dataclass
class NumberLayout:
    """The pieces of one line of ink, and how to turn runs of them into model inputs and boxes."""

    ink: np.ndarray  # ink strength 0..1 of the picture (or the part of it) the pieces are in
    owner: np.ndarray  # int32, the piece label of each stroke pixel, 0 elsewhere
    pieces: list[InkPiece]  # left to right
    line_height: float
    # ink-map pixel (x, y) -> original picture pixel: (x * scale + offset_x, y * scale + offset_y)
    scale: float = 1.0
    offset: tuple[float, float] = (0.0, 0.0)
    runs: list[tuple[int, int]] = field(default_factory=list)  # [start, stop) of pieces that may be one digit

    def __post_init__(self) -> None:
        if not self.runs:
            self.runs = candidate_runs(self.pieces, self.line_height)

    def run_box(self, start: int, stop: int) -> tuple[int, int, int, int]:
        chosen = self.pieces[start:stop]
        return (
            min(p.left for p in chosen),
            min(p.top for p in chosen),
            max(p.right for p in chosen),
            max(p.bottom for p in chosen),
        )

    def model_input(self, start: int, stop: int) -> np.ndarray:
        """The 28x28 model input of the digit made of pieces [start, stop).

        It holds the ink of the pieces' clusters in the run's columns. For whole clusters that is
        just their pieces; where a cluster was cut, it is a window over the cluster: the strokes of
        touching digits cross, and no cut gives each digit all of its own ink and none of its
        neighbour's, so the model reads the window, a neighbour's stroke ends included.
        """
        left, _, right, _ = self.run_box(start, stop)
        return to_mnist_field(self.window(left, right, self.clusters(start, stop)))

    def clusters(self, start: int, stop: int) -> set[int]:
        """The clusters the pieces [start, stop) are cut from."""
        return {piece.cluster for piece in self.pieces[start:stop]}

    def window(self, left: int, right: int, clusters: set[int]) -> np.ndarray:
        """The ink of the clusters' strokes in columns [left, right), cropped to their rows."""
        chosen = [p for p in self.pieces if p.cluster in clusters]
        top, bottom = min(p.top for p in chosen), max(p.bottom for p in chosen)
        # Soft edges reach 2 pixels beyond the stroke pixels; take them, but not other clusters' strokes.
        top, low = max(top - 2, 0), max(left - 2, 0)
        bottom, high = min(bottom + 2, self.ink.shape[0]), min(right + 2, self.ink.shape[1])
        owner = self.owner[top:bottom, low:high]
        mine = np.isin(owner, [p.label for p in chosen])
        # The window's own columns only (the margin is for soft edges): whole clusters lie within them anyway.
        mine[:, : left - low] = False
        mine[:, right - low :] = False
        mask = ndimage.binary_dilation(mine, iterations=2) & ((owner == 0) | mine)
        return np.where(mask, self.ink[top:bottom, low:high], 0.0)

    def model_inputs(self) -> np.ndarray:
        """(len(runs), 28, 28): every candidate digit, for one batch through the model."""
        return np.stack([self.model_input(start, stop) for start, stop in self.runs])

    def cluster_input(self, start: int, stop: int) -> np.ndarray:
        """The clusters of pieces [start, stop), whole, as the cluster reader's input (mlcore.sequence)."""
        left, _, right, _ = self.run_box(start, stop)
        return sequence_input(self.window(left, right, self.clusters(start, stop)))

    def ink_box(self, left: int, right: int, clusters: set[int]) -> tuple[int, int, int, int] | None:
        """The box of the clusters' strokes in columns [left, right), or None when none lies there."""
        labels = [p.label for p in self.pieces if p.cluster in clusters]
        mine = np.isin(self.owner[:, left:right], labels)
        rows, cols = np.flatnonzero(mine.any(axis=1)), np.flatnonzero(mine.any(axis=0))
        if rows.size == 0:
            return None
        return (left + int(cols[0]), int(rows[0]), left + int(cols[-1]) + 1, int(rows[-1]) + 1)

    def original_box(self, start: int, stop: int) -> tuple[int, int, int, int]:
        return self.original(self.run_box(start, stop))

    def original(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A box in the ink map as a box in the original picture's pixels."""
        left, top, right, bottom = box
        x0, y0 = self.offset
        return (
            int(left * self.scale + x0),
            int(top * self.scale + y0),
            int(np.ceil(right * self.scale + x0)),
            int(np.ceil(bottom * self.scale + y0)),
        )


def stroke_mask(ink: np.ndarray) -> np.ndarray:
    """Stroke pixels: ink above STROKE_INK connected to ink above SEED_INK (hysteresis)."""
    weak = ink > STROKE_INK
    labels, count = ndimage.label(weak, structure=np.ones((3, 3)))
    if count == 0:
        return weak
    seeded = np.zeros(count + 1, dtype=bool)
    seeded[np.unique(labels[ink > SEED_INK])] = True
    seeded[0] = False
    return seeded[labels]


def _remove_ruled_lines(solid: np.ndarray) -> np.ndarray:
    """Drops long, thin straight lines (a ruled page, a margin, a form's box) but not digit strokes.

    A ruled line runs along at least half the picture, a margin down nearly all of it, and
    either is at most ~1.5% of the picture thick; a digit's bar is shorter or, when the digit
    fills the picture, far thicker, and a 1 never spans the whole height.
    """
    height, width = solid.shape
    thin = max(2, int(round(0.015 * max(height, width))))
    lines = np.zeros_like(solid)
    for axis, length in ((1, width // 2), (0, int(height * 0.9))):
        if length < 8:
            continue
        long_runs = _runs_at_least(solid, length, axis)
        if not long_runs.any():
            continue
        # Only thin runs: a thick band (a digit's body, a shadow) keeps its pixels.
        lines |= long_runs & ~_runs_at_least(long_runs, thin + 1, 1 - axis)
    if not lines.any():
        return solid
    # Take the line's soft fringe too, so it leaves no dotted trace behind.
    return solid & ~ndimage.binary_dilation(lines, iterations=1)


def _runs_at_least(mask: np.ndarray, length: int, axis: int) -> np.ndarray:
    """The pixels of `mask` in a straight run of at least `length` along `axis` (a binary opening by
    a line, in time independent of the line's length)."""
    if mask.shape[axis] < length:
        return np.zeros_like(mask)
    counts = np.cumsum(mask, axis=axis, dtype=np.int32)
    counts = np.concatenate([np.zeros_like(counts.take([0], axis=axis)), counts], axis=axis)
    size = mask.shape[axis]
    # A full window starts at i when the `length` pixels from i on are all set.
    starts = (
        counts.take(range(length, size + 1), axis=axis) - counts.take(range(0, size - length + 1), axis=axis)
    ) == length
    # A pixel is covered when a full window started within `length` before it.
    started = np.cumsum(starts, axis=axis, dtype=np.int32)
    started = np.concatenate([started, np.repeat(started.take([-1], axis=axis), length - 1, axis=axis)], axis=axis)
    before = np.concatenate([np.zeros_like(started.take(range(length), axis=axis)), started], axis=axis)
    return (started - before.take(range(size), axis=axis)) > 0


def locate_number(ink: np.ndarray, *, cut: bool = True) -> NumberLayout | None:
    """The pieces of the line of digits in an ink map, left to right; None when there is no ink.

    With `cut` False, wide pieces are left whole: enough to know where the line is and how tall.
    """
    solid = _remove_ruled_lines(stroke_mask(ink))
    labels, count = ndimage.label(solid, structure=np.ones((3, 3)))
    if count == 0:
        return None
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:].astype(np.float64)
    slices = ndimage.find_objects(labels)
    edges = _straight_edges(labels, slices)
    inside = [i for i in range(count) if i not in edges and not _touches_border(slices[i], labels.shape)]
    # Digits are written inside the picture: what runs into its border (a table beyond the page, a
    # shadow's edge) is left out, except a digit of the line drawn out to the edge, or where it is all
    # there is (a drawing that fills its canvas). Even then, a mark running from one border to the
    # opposite one is a page's or a shadow's edge, and a short straight one a piece of such an edge.
    if inside:
        candidates = inside + _digits_at_border(inside, edges, labels, slices, areas)
    else:
        candidates = [
            i
            for i in range(count)
            if i not in edges
            and not _spans_picture(slices[i], labels.shape)
            and (_fills_picture(slices[i], labels.shape) or not _line_like(labels[slices[i]] == i + 1))
        ]
    if not candidates:
        return None
    # Dust is far smaller than any stroke of a digit (even a skipped pen's dash).
    biggest = max(areas[i] for i in candidates)
    marks = [i for i in candidates if areas[i] >= DUST_AREA * biggest]
    # The parts of one digit share its columns (the bar of a 5, the dashes of a skipping pen),
    # so the line's height and place are judged on such clusters, not on loose parts.
    clusters = _overlapping_columns(marks, slices)
    boxes = [_box_of(cluster, slices) for cluster in clusters]
    cluster_areas = [sum(areas[i] for i in cluster) for cluster in clusters]
    # The line is where most of the writing is: a shadow's corner or a blot can be the largest mark in
    # the picture, but the digits of a number written elsewhere outweigh it together.
    centres = [(top + bottom) / 2 for _, top, _, bottom in boxes]
    lines = [[i for i, centre in enumerate(centres) if top <= centre <= bottom] for _, top, _, bottom in boxes]
    anchor = max(range(len(clusters)), key=lambda a: (sum(cluster_areas[i] for i in lines[a]), cluster_areas[a]))
    on_line = lines[anchor]
    largest = max(on_line, key=lambda i: cluster_areas[i])
    # The tallest of the substantial clusters (a 1 can be the largest of few, and a dash is short).
    substantial = [boxes[i] for i in on_line if cluster_areas[i] >= 0.25 * cluster_areas[largest]]
    line_height = float(max(bottom - top for _, top, _, bottom in substantial))
    band = (boxes[largest][1] - 0.35 * line_height, boxes[largest][3] + 0.35 * line_height)
    owner = np.zeros(labels.shape, dtype=np.int32)
    pieces: list[InkPiece] = []
    for index, (cluster, (left, top, right, bottom), area) in enumerate(
        zip(clusters, boxes, cluster_areas, strict=True)
    ):
        if max(bottom - top, right - left) < SPECK_SIZE * line_height and area < 0.05 * cluster_areas[largest]:
            continue  # a speck, a dot of noise
        if not band[0] <= (top + bottom) / 2 <= band[1]:
            continue  # not on the line: a mark above or below it, another line
        cut_up = _cut_into_pieces(cluster, labels, slices, owner, len(pieces) + 1, line_height if cut else np.inf)
        pieces += [replace(piece, cluster=index) for piece in cut_up]
    return NumberLayout(ink=ink, owner=owner, pieces=pieces, line_height=line_height)


def _digits_at_border(inside: list[int], edges: set[int], labels: np.ndarray, slices, areas) -> list[int]:
    """The marks running into the border that look like digits of the line inside it: a digit drawn out
    to the edge of a canvas, or cut by the picture's edge. Such a mark lies on the line (within half the
    line's height above and below), is at least half as tall, and meets the border with a stroke's end, not
    along a length of it: a table's corner, a shadow or the end of a ruled line stays out. (How wide it
    is does not matter: digits that touch make one wide mark.)"""
    biggest = max(areas[i] for i in inside)
    written = [i for i in inside if areas[i] >= 0.25 * biggest]
    top = min(slices[i][0].start for i in written)
    bottom = max(slices[i][0].stop for i in written)
    height = bottom - top
    found = []
    for i, (rows, cols) in enumerate(slices):
        if i in inside or i in edges or not _touches_border((rows, cols), labels.shape):
            continue
        tall = rows.stop - rows.start
        if not (rows.start >= top - 0.5 * height and rows.stop <= bottom + 0.5 * height and tall >= 0.5 * height):
            continue
        mark = labels == i + 1
        contact = int(mark[0].sum() + mark[-1].sum() + mark[:, 0].sum() + mark[:, -1].sum())
        if contact <= 2 * stroke_width(mark[rows, cols]):
            found.append(i)
    return found


def _fills_picture(box: tuple[slice, slice], shape: tuple[int, int]) -> bool:
    """A mark drawn to fill its picture: at least a third of its height or width."""
    rows, cols = box
    return rows.stop - rows.start >= FILLS_PICTURE * shape[0] or cols.stop - cols.start >= FILLS_PICTURE * shape[1]


def _line_like(mask: np.ndarray) -> bool:
    """A mark shaped like a straight line: far longer than it is wide, in whichever direction it runs."""
    across, along = _spreads(*np.nonzero(mask))
    return across < LINE_LIKE * max(along, 1e-9)


def _spreads(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    """How far points spread across and along their main direction (standard deviations); (0, 0) for
    fewer than three points."""
    if ys.size < 3:
        return 0.0, 0.0
    variances = np.linalg.eigvalsh(np.cov(np.stack([ys, xs]).astype(np.float64)))
    return float(np.sqrt(max(variances[0], 0.0))), float(np.sqrt(max(variances[1], 0.0)))


def _spans_picture(box: tuple[slice, slice], shape: tuple[int, int]) -> bool:
    rows, cols = box
    return (rows.start == 0 and rows.stop == shape[0]) or (cols.start == 0 and cols.stop == shape[1])


def _touches_border(box: tuple[slice, slice], shape: tuple[int, int]) -> bool:
    rows, cols = box
    return rows.start == 0 or cols.start == 0 or rows.stop == shape[0] or cols.stop == shape[1]


def _straight_edges(labels: np.ndarray, slices) -> set[int]:
    """Marks that are long straight lines running off the picture: the paper's edge against a
    table, a fold, the grain of the wood beyond the page. A digit's stroke is not straight that
    long, and digits are written inside the picture, not across its border."""
    height, width = labels.shape
    reach = 0.25 * min(height, width)
    thin = max(1.5, 0.01 * min(height, width))
    edges = set()
    for index, (rows, cols) in enumerate(slices):
        if (
            not _touches_border((rows, cols), labels.shape)
            or max(rows.stop - rows.start, cols.stop - cols.start) < reach
        ):
            continue
        ys, xs = np.nonzero(labels[rows, cols] == index + 1)
        step = max(1, ys.size // 2000)  # a sample is enough to tell a line
        across, _ = _spreads(ys[::step], xs[::step])
        if across <= thin:
            edges.add(index)
    return edges


def _box_of(marks: list[int], slices) -> tuple[int, int, int, int]:
    return (
        min(slices[i][1].start for i in marks),
        min(slices[i][0].start for i in marks),
        max(slices[i][1].stop for i in marks),
        max(slices[i][0].stop for i in marks),
    )


def _overlapping_columns(marks: list[int], slices) -> list[list[int]]:
    """Marks grouped when they share most of their columns (the bar above a 5, a dot over a stroke)."""
    clusters: list[tuple[int, int, list[int]]] = []
    for i in sorted(marks, key=lambda i: slices[i][1].start):
        left, right = slices[i][1].start, slices[i][1].stop
        if clusters:
            c_left, c_right, members = clusters[-1]
            overlap = min(right, c_right) - max(left, c_left)
            if overlap >= 0.5 * min(right - left, c_right - c_left):
                clusters[-1] = (min(left, c_left), max(right, c_right), members + [i])
                continue
        clusters.append((left, right, [i]))
    return [members for _, _, members in clusters]


def _cut_into_pieces(
    cluster: list[int], labels: np.ndarray, slices, owner: np.ndarray, first_label: int, line_height: float
) -> list[InkPiece]:
    """The cluster as one piece, or cut along candidate paths when it is wide enough to hold several digits."""
    left, top, right, bottom = _box_of(cluster, slices)
    mask = np.isin(labels[top:bottom, left:right], [i + 1 for i in cluster])
    if right - left <= SPLIT_WIDTH * line_height:
        cuts = []
    else:
        cuts = candidate_cuts(mask, line_height)
        reach = max(1, int(CUT_SPACING * line_height / 2) - 1)
    paths = [_cut_path(mask, column, reach) for column in cuts]
    # Each pixel belongs to the part between the paths on its left and on its right.
    columns = np.arange(mask.shape[1])[np.newaxis, :]
    part_of = sum((columns >= path[:, np.newaxis]).astype(np.int32) for path in paths) if paths else 0
    part_of = np.broadcast_to(part_of, mask.shape)
    pieces = []
    for index in range(len(cuts) + 1):
        part = mask & (part_of == index)
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        if rows.size == 0:
            continue
        label = first_label + len(pieces)
        owner[top:bottom, left:right][part] = label
        pieces.append(
            InkPiece(label, top + int(rows[0]), left + int(cols[0]), top + int(rows[-1]) + 1, left + int(cols[-1]) + 1)
        )
    return pieces


def _cut_path(mask: np.ndarray, column: int, reach: int) -> np.ndarray:
    """The column at each row of the top-to-bottom path near `column` that crosses the least ink.

    Touching digits rarely meet along a straight vertical line: a path that may step one column
    per row goes round a neighbour's curve and through the thinnest part of the join.
    """
    height, width = mask.shape
    low, high = max(column - reach, 0), min(column + reach + 1, width)
    ink = mask[:, low:high].astype(np.float32)
    # Among paths crossing as little ink, the straighter and the nearer the chosen column wins.
    ink += 0.01 * np.abs(np.arange(low, high) - column)[np.newaxis, :] / max(reach, 1)
    cost = ink[0].copy()
    steps = np.zeros(ink.shape, dtype=np.int8)  # -1: from the left, 0: from above, 1: from the right
    from_left = np.full(cost.size, np.inf, dtype=np.float32)
    from_right = np.full(cost.size, np.inf, dtype=np.float32)
    for row in range(1, height):
        # The cheapest of the three, ties going to the left, then above (row by row, in place: this
        # loop runs for every row of every candidate cut).
        from_left[1:], from_right[:-1] = cost[:-1], cost[1:]
        right = from_right < cost
        best = np.where(right, from_right, cost)
        left = from_left <= best
        steps[row] = np.where(left, -1, right)
        cost = np.where(left, from_left, best) + ink[row]
    path = np.empty(height, dtype=np.int64)
    position = int(cost.argmin())
    for row in range(height - 1, -1, -1):
        path[row] = position + low
        position += int(steps[row, position])
    return path


def candidate_cuts(mask: np.ndarray, line_height: float) -> list[int]:
    """Columns where touching digits may meet: the lowest points of the ink's column profile."""
    width = mask.shape[1]
    margin = spacing = max(1, int(CUT_SPACING * line_height))
    if width <= 2 * margin:
        return []
    profile = ndimage.uniform_filter1d(mask.sum(axis=0).astype(np.float32), size=3, mode="nearest")
    inner = np.arange(margin, width - margin)
    values = profile[inner]
    # Local minima (plateaus included) of the profile, lowest first.
    left_ok = values <= np.concatenate([[np.inf], values[:-1]])
    right_ok = values <= np.concatenate([values[1:], [np.inf]])
    order = inner[left_ok & right_ok][np.argsort(values[left_ok & right_ok], kind="stable")]
    cuts: list[int] = []
    most = int(width / spacing)  # as many as fit: a long run of touching digits needs one per join
    for column in order:
        if all(abs(column - c) >= spacing for c in cuts):
            cuts.append(int(column))
        if len(cuts) == most:
            break
    # Touching digits joined along a long stroke may leave no clear minimum: also try even splits.
    expected = int(round(width / (0.6 * line_height)))
    for parts in range(2, min(expected, 4) + 1):
        for k in range(1, parts):
            column = int(round(width * k / parts))
            if margin <= column < width - margin and all(abs(column - c) >= spacing // 2 for c in cuts):
                cuts.append(column)
    return sorted(cuts)


def cluster_spans(pieces: list[InkPiece]) -> list[tuple[int, int]]:
    """[start, stop) of the pieces of each cluster of ink, left to right."""
    spans, start = [], 0
    for stop in range(1, len(pieces) + 1):
        if stop == len(pieces) or pieces[stop].cluster != pieces[start].cluster:
            spans.append((start, stop))
            start = stop
    return spans


def candidate_runs(pieces: list[InkPiece], line_height: float) -> list[tuple[int, int]]:
    """Every run of consecutive pieces narrow enough to be one digit, and every whole cluster.

    A single piece is always a candidate; so is a cluster left uncut, however wide (a 5 with a
    long bar, a 2 with a long tail), since the classifier tells a wide digit from a pair.
    """
    runs = []
    for start in range(len(pieces)):
        for stop in range(start + 1, min(start + MAX_PIECES_PER_DIGIT, len(pieces)) + 1):
            width = pieces[stop - 1].right - pieces[start].left
            if stop > start + 1 and width > MAX_DIGIT_WIDTH * line_height:
                break
            runs.append((start, stop))
    for span in cluster_spans(pieces):
        if span not in runs:
            runs.append(span)
    return runs


def best_grouping(
    count: int, runs: list[tuple[int, int]], digit_probabilities: np.ndarray
) -> list[tuple[int, int, int]]:
    """The runs covering all `count` pieces whose readings together are the most likely.

    `digit_probabilities` is (len(runs), 10): the model's digit probabilities for each run (what
    they leave of 1 is its belief that the run is not one digit). Returns (start, stop, run index).
    """
    scores = np.log(np.maximum(digit_probabilities.max(axis=1), 1e-6))
    best = np.full(count + 1, -np.inf)
    best[0] = 0.0
    came_from: list[tuple[int, int] | None] = [None] * (count + 1)
    for index, (start, stop) in sorted(enumerate(runs), key=lambda item: item[1][1]):
        total = best[start] + scores[index]
        if total > best[stop]:
            best[stop], came_from[stop] = total, (start, index)
    chosen = []
    stop = count
    while stop > 0:
        start, index = came_from[stop]
        chosen.append((start, stop, index))
        stop = start
    return chosen[::-1]


def find_number(
    image: Image.Image, working_size: int = WORKING_SIZE, *, beyond_paper: bool = True
) -> NumberLayout | None:
    """The line of digits in a decoded picture (`preprocessing.decode_image`), or None if it has no ink.

    The digits are looked for in a small working copy (its longer side at most `working_size`); when
    they are small there, they are looked at again in the picture as decoded, around where they are,
    so thin strokes keep their shape. `beyond_paper`: as in `preprocessing.ink_map`.
    """
    factor = working_factor(image.size, working_size)
    decoded_scale = image.info.get("decoded_scale", 1.0)
    grey = grey_copy(image, factor)
    ink = ink_map(grey, beyond_paper=beyond_paper)
    if ink is None and factor > 1:
        # A thin, faint pen's strokes are averaged into the paper in the small copy: before saying
        # there is no ink, look again at twice the size (only pictures that seemed blank pay for it).
        factor = max(1, factor // 2)
        grey = grey_copy(image, factor)
        ink = ink_map(grey, beyond_paper=beyond_paper)
    outline = None if ink is None else locate_number(ink.strength, cut=False)
    if outline is None or not outline.pieces:
        return None
    if factor > 1 and outline.line_height < DETAIL_SIZE:
        left, top, right, bottom = outline.run_box(0, len(outline.pieces))
        margin = 0.5 * outline.line_height
        region = (
            int(max((left - margin) * factor, 0)),
            int(max((top - margin) * factor, 0)),
            int(min((right + margin) * factor, image.width)),
            int(min((bottom + margin) * factor, image.height)),
        )
        detail_factor = max(1, int(outline.line_height * factor // DETAIL_SIZE))
        detail_grey = grey_copy(image.crop(region), detail_factor)
        detail_ink = ink_map(detail_grey, digits_known_big=True, beyond_paper=beyond_paper)
        detailed = None if detail_ink is None else locate_number(detail_ink.strength)
        if detailed is not None and detailed.pieces:
            if _lone_step(detailed, detail_grey, detail_ink.polarity):
                return None
            return _placed(detailed, detail_factor, region[:2], decoded_scale)
    # The digits are big enough in the working copy: read them there, cutting what is wide enough
    # to hold several digits (when nothing is, the outline is already the layout).
    if ink.faint and outline.line_height >= DETAIL_SIZE:
        # A faint pen's big digits: followed along longer lines now that their size is known. They are
        # the same digits, so their ink keeps its polarity (chosen afresh, in a picture mostly covered by
        # a big digit running into the border, the paper inside its loops can pass for light ink).
        followed = ink_map(grey, digits_known_big=True, polarity=ink.polarity, beyond_paper=beyond_paper)
        followed_outline = None if followed is None else locate_number(followed.strength, cut=False)
        if followed_outline is not None and followed_outline.pieces:
            ink, outline = followed, followed_outline
    if any(piece.right - piece.left > SPLIT_WIDTH * outline.line_height for piece in outline.pieces):
        outline = locate_number(ink.strength)
    if _lone_step(outline, grey, ink.polarity):
        return None
    return _placed(outline, factor, (0, 0), decoded_scale)


def _lone_step(layout: NumberLayout, grey: np.ndarray, polarity: float) -> bool:
    """Whether the line's only mark (its only cluster) is a straight step in brightness (the edge of a
    shadow, of a table beyond the page) rather than a stroke of a pen.

    A stroke is darker than the paper on both sides of it (lighter, for light ink); at a step, one side
    is much darker than the other and the mark lies between them. Measured across the mark's main
    direction, two and a half stroke widths out, on `grey` (the picture the layout was found in).
    """
    if len({piece.cluster for piece in layout.pieces}) != 1:
        return False
    # One mark, though a long one may have been cut into pieces like touching digits.
    left, top, right, bottom = layout.run_box(0, len(layout.pieces))
    mark = np.isin(layout.owner[top:bottom, left:right], [piece.label for piece in layout.pieces])
    ys, xs = np.nonzero(mark)
    if ys.size < 3 or not _line_like(mark):
        return False  # (a dot has no direction to look across)
    points = np.stack([ys + top, xs + left], axis=1).astype(np.float64)
    _, directions = np.linalg.eigh(np.cov((points - points.mean(axis=0)).T))
    across = directions[:, 0] * max(3.0, 2.5 * stroke_width(mark))
    points = points[np.linspace(0, len(points) - 1, min(len(points), 200)).astype(int)]

    def brightness(at: np.ndarray) -> float:
        return float(np.median(ndimage.map_coordinates(grey, at.T, order=1, mode="nearest")))

    on, one_side, other_side = brightness(points), brightness(points + across), brightness(points - across)
    contrast = min(one_side, other_side) - on if polarity > 0 else on - max(one_side, other_side)
    return abs(one_side - other_side) > STEP_NOT_STROKE * max(contrast, 0.0)


def _placed(layout: NumberLayout, factor: int, origin: tuple[int, int], decoded_scale: float) -> NumberLayout:
    """The layout with the way from its ink map's pixels to the original picture's: through the
    decoded picture (shrunk by `factor`, cropped at `origin`), which a big JPEG gives reduced."""
    layout.scale = factor * decoded_scale
    layout.offset = (origin[0] * decoded_scale, origin[1] * decoded_scale)
    return layout
