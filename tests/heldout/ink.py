"""Handwritten ink: MNIST test digits redrawn as pen strokes, and numbers laid out along a line.

Lengths here are in *units*: one unit is one pixel of MNIST's 28x28 square, so a digit is about
20 units tall. A digit is kept as a field sampled finely over its source square: positive inside
the ink, zero on the ink's edge, in units. Fields can be drawn at any size with crisp edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

FIELD_RES = 6  # field samples per unit
MARGIN = 6  # units of room kept around the 28x28 square, for thick pens
LAYOUT_RES = 6  # pixels per unit when numbers are laid out
OUTSIDE = -50.0  # the field's value far from any ink
MNIST_STROKE = 2.5  # units: the median width of MNIST's strokes

PEN_KINDS = ("native", "stroke", "marker")


@dataclass(frozen=True)
class Pen:
    """How a digit's ink is laid down.

    native: MNIST's own outline, `offset` units fatter (negative: thinner);
    stroke: a pen of constant `width` units along the digit's centre line, with `skips` gaps;
    marker: MNIST's outline fattened until its strokes are `width_factor` times MNIST's usual width.
    """

    kind: str = "native"
    offset: float = 0.0
    width: float = 2.5
    skips: int = 0
    width_factor: float = 2.5
    threshold: float = 0.45


# --------------------------------------------------------------------------------------------- fields


def _upsampled(pixels: np.ndarray) -> np.ndarray:
    """MNIST intensities (0..1) resampled smoothly at FIELD_RES over the square and its margin."""
    size = (28 + 2 * MARGIN) * FIELD_RES
    centres = (np.arange(size, dtype=np.float32) + 0.5) / FIELD_RES - MARGIN - 0.5
    rows, cols = np.meshgrid(centres, centres, indexing="ij")
    values = ndimage.map_coordinates(
        pixels.astype(np.float32) / 255, [rows, cols], order=3, mode="constant", cval=0.0, prefilter=True
    )
    # a pen's edge is smooth: round off the 28x28 grid's steps (then rescale, so that a digit
    # written faintly or thinly in MNIST keeps its strokes whole)
    values = ndimage.gaussian_filter(values, sigma=0.6 * FIELD_RES)
    return values / max(float(values.max()), 1e-6)


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Positive inside `mask`, negative outside, in units."""
    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    return ((inside - outside) / FIELD_RES).astype(np.float32)


MAX_SOLIDITY = 0.85  # a marker digit's ink may fill at most this share of its convex hull


def _solidity(ink: np.ndarray) -> float:
    """The share of its convex hull that the ink fills (a straight stroke: nearly 1)."""
    points = np.argwhere(ink)
    if len(points) < 4:
        return 0.0
    try:
        hull = ConvexHull(points)
    except QhullError:
        return 1.0
    return float(len(points) / max(hull.volume, 1.0))


def _smooth_outline(sdf: np.ndarray) -> np.ndarray:
    """A pen's outline has no corners finer than the pen: round off the distance field a little."""
    return ndimage.gaussian_filter(sdf, 0.5 * FIELD_RES)


def _neighbours(mask: np.ndarray) -> np.ndarray:
    counts = ndimage.convolve(mask.astype(np.uint8), np.ones((3, 3), np.uint8), mode="constant")
    return counts.astype(np.int32) - mask


def centre_line(mask: np.ndarray) -> np.ndarray:
    """A one-pixel-wide centre line of `mask` (Zhang and Suen's thinning), short spurs pruned."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return mask.copy()
    top, bottom, left, right = rows.min() - 1, rows.max() + 2, cols.min() - 1, cols.max() + 2
    image = mask[top:bottom, left:right].astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            p = np.pad(image, 1)
            n2, n3, n4 = p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:]
            n5, n6, n7 = p[2:, 2:], p[2:, 1:-1], p[2:, :-2]
            n8, n9 = p[1:-1, :-2], p[:-2, :-2]
            ring = [n2, n3, n4, n5, n6, n7, n8, n9, n2]
            count = sum(ring[:8])
            transitions = sum(((ring[k] == 0) & (ring[k + 1] == 1)).astype(np.uint8) for k in range(8))
            if step == 0:
                side = ((n2 * n4 * n6) == 0) & ((n4 * n6 * n8) == 0)
            else:
                side = ((n2 * n4 * n8) == 0) & ((n2 * n6 * n8) == 0)
            remove = (image == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                image[remove] = 0
                changed = True
        if not changed:
            break
    line = np.zeros_like(mask)
    line[top:bottom, left:right] = _prune(image.astype(bool), int(1.5 * FIELD_RES))
    return line


def _prune(line: np.ndarray, length: int) -> np.ndarray:
    """Drop branches shorter than `length` pixels that end in the open (spurs of the thinning)."""
    trimmed = line.copy()
    for _ in range(length):
        ends = trimmed & (_neighbours(trimmed) <= 1)
        if not ends.any():
            break
        trimmed &= ~ends
    if not trimmed.any():  # a short stroke: keep it whole
        return line
    regrown = trimmed & (_neighbours(trimmed) <= 1)
    for _ in range(length):
        regrown = ndimage.binary_dilation(regrown, structure=np.ones((3, 3), bool)) & line
    return trimmed | regrown


def _with_skips(line: np.ndarray, skips: int, width: float, rng: np.random.Generator) -> np.ndarray:
    """The centre line with `skips` short gaps where the pen lifted off the paper."""
    line = line.copy()
    for _ in range(skips):
        counts = _neighbours(line)
        plain = line & (counts == 2)
        # keep gaps away from the line's ends and crossings
        special = line & (counts != 2)
        far = ndimage.distance_transform_edt(~special) > 2.5 * FIELD_RES
        candidates = np.argwhere(plain & far)
        if len(candidates) == 0:
            break
        row, col = candidates[rng.integers(len(candidates))]
        radius = (width / 2 + rng.uniform(0.3, 0.75)) * FIELD_RES
        rr, cc = np.ogrid[: line.shape[0], : line.shape[1]]
        line &= (rr - row) ** 2 + (cc - col) ** 2 > radius**2
    return line


def _marker_offset(mask: np.ndarray, wanted: float) -> float:
    """How far the outline may grow (up to `wanted` units) and still leave every loop a small opening.

    A loop counts when, somewhere on the way, the growing ink encloses at least 1.5 square units
    (loops MNIST left open close up under a marker too); each keeps 70% of that, at most 2.5
    square units, open. Tinier loops may fill in, as they do under a real marker."""
    rows, cols = np.nonzero(mask)
    room = int(np.ceil((wanted + 1.5) * FIELD_RES))
    top, left = max(rows.min() - room, 0), max(cols.min() - room, 0)
    sdf = _signed_distance(mask)[top : rows.max() + room + 1, left : cols.max() + room + 1]
    birth_area = 1.5 * FIELD_RES**2
    seeds: list[tuple[tuple[int, int], float]] = []  # a loop's deepest point, and the area it keeps
    allowed = 0.0
    for grow in np.arange(0.0, wanted + 1e-6, 0.25):
        ink = sdf > -grow
        enclosed = ndimage.binary_fill_holes(ink) & ~ink
        labels, count = ndimage.label(enclosed)
        areas = ndimage.sum_labels(enclosed, labels, index=np.arange(1, count + 1)) if count else []
        for seed, keep in seeds:
            label = labels[seed]
            if label == 0 or areas[label - 1] < keep:
                return allowed
        if count:
            depth = ndimage.distance_transform_edt(enclosed)
            for index in range(1, count + 1):
                if areas[index - 1] >= birth_area and not any(labels[s] == index for s, _ in seeds):
                    where = np.argmax(np.where(labels == index, depth, -1))
                    keep = min(0.7 * areas[index - 1], 2.5 * FIELD_RES**2)
                    seeds.append((np.unravel_index(where, labels.shape), keep))
        allowed = float(grow)
    return min(allowed, wanted)


def stroke_width(mask: np.ndarray) -> float:
    """The typical width of the strokes of `mask`, in units."""
    line = centre_line(mask)
    if not line.any():
        return 0.0
    depth = ndimage.distance_transform_edt(mask)[line]
    return float(2 * np.median(depth) / FIELD_RES)


def _pieces(mask: np.ndarray) -> int:
    """How many separate pieces of ink (ignoring specks under a square unit) `mask` holds."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count == 0:
        return 0
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, count + 1))
    return int((sizes >= FIELD_RES**2).sum())


def _whole_mask(values: np.ndarray, threshold: float) -> np.ndarray:
    """The ink above `threshold`, lowered where needed so that no stroke MNIST drew breaks apart."""
    whole = _pieces(values > 0.2)
    while threshold > 0.2 and _pieces(values > threshold) > whole:
        threshold -= 0.05
    return values > threshold


def digit_field(pixels: np.ndarray, pen: Pen, rng: np.random.Generator) -> np.ndarray:
    """The field of one MNIST digit drawn with `pen`, over the square and its margin."""
    values = _upsampled(pixels)
    mask = _whole_mask(values, pen.threshold)
    if pen.kind == "native":
        outline = _smooth_outline(_signed_distance(mask))
        if pen.offset > 0:
            return outline + np.float32(_marker_offset(mask, pen.offset))  # fatter, loops kept open
        offset = pen.offset
        while offset < 0 and _pieces(outline + offset > 0) > _pieces(mask):  # thinner, strokes kept whole
            offset = min(offset + 0.1, 0.0)
        return outline + np.float32(offset)
    if pen.kind == "stroke":
        line = centre_line(mask)
        if pen.skips:
            line = _with_skips(line, pen.skips, pen.width, rng)
        distance = ndimage.distance_transform_edt(~line) / FIELD_RES
        return (pen.width / 2 - distance).astype(np.float32)
    if pen.kind == "marker":
        wanted = pen.width_factor * MNIST_STROKE - stroke_width(mask)
        grow = _marker_offset(mask, max(wanted, 0.5) / 2)
        outline = _smooth_outline(_signed_distance(mask))
        # a marker keeps some paper showing between the parts of a digit: no solid blobs
        floor = min(grow, max(1.6 * MNIST_STROKE - stroke_width(mask), 0.0) / 2)
        limit = max(MAX_SOLIDITY, _solidity(mask) + 0.05)  # a straight stroke is solid from the start
        while grow > floor and _solidity(outline + grow > 0) > limit:
            grow = max(grow - 0.25, floor)
        return outline + np.float32(grow)
    raise ValueError(f"unknown pen {pen.kind!r}")


# --------------------------------------------------------------------------------------------- glyphs


@dataclass
class Glyph:
    """One digit's field, with how it is sized, slanted and turned on the page."""

    digit: int
    field: np.ndarray
    scale: float = 1.0
    shear: float = 0.0  # positive leans the top to the right
    angle: float = 0.0  # degrees, counter-clockwise
    local_box: tuple[float, float, float, float] = field(init=False)  # ink's (left, top, right, bottom)

    def __post_init__(self) -> None:
        rows, cols = np.nonzero(self.field > -0.6 / FIELD_RES)
        if rows.size == 0:
            raise ValueError("a digit without ink")
        xs = (np.array([cols.min(), cols.max() + 1]) / FIELD_RES) - MARGIN
        ys = (np.array([rows.min(), rows.max() + 1]) / FIELD_RES) - MARGIN
        corners = np.array([[x, y] for x in xs for y in ys])
        local = self._forward(corners)
        self.local_box = (
            float(local[:, 0].min()),
            float(local[:, 1].min()),
            float(local[:, 0].max()),
            float(local[:, 1].max()),
        )

    def _matrix(self) -> np.ndarray:
        theta = np.deg2rad(self.angle)
        rotation = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
        shear = np.array([[1.0, -self.shear], [0.0, 1.0]])
        return self.scale * rotation @ shear

    def _forward(self, source_xy: np.ndarray) -> np.ndarray:
        return (source_xy - 14.0) @ self._matrix().T

    def render(
        self, scale: float, x: float, y: float, shape: tuple[int, int], out: np.ndarray | None = None, patch=False
    ):
        """Ink coverage (0..1) of this digit placed with its local origin at (x, y) units, drawn at
        `scale` pixels per unit into an array of `shape` (max-combined into `out` when given).
        Returns the array and the pixel box (left, top, right, bottom) that was drawn; with `patch`,
        the array is only the drawn box."""
        if out is None and not patch:
            out = np.zeros(shape, np.float32)
        left, top, right, bottom = self.local_box
        pad = 2.0
        j0 = max(int(np.floor((x + left - pad) * scale)), 0)
        j1 = min(int(np.ceil((x + right + pad) * scale)), shape[1])
        i0 = max(int(np.floor((y + top - pad) * scale)), 0)
        i1 = min(int(np.ceil((y + bottom + pad) * scale)), shape[0])
        if j1 <= j0 or i1 <= i0:
            return (np.zeros((0, 0), np.float32) if patch else out), (0, 0, 0, 0)
        gx = (np.arange(j0, j1, dtype=np.float32) + 0.5) / scale - x
        gy = (np.arange(i0, i1, dtype=np.float32) + 0.5) / scale - y
        inverse = np.linalg.inv(self._matrix())
        # source = inverse @ local + 14, written out per axis over the grid
        sx = inverse[0, 0] * gx[None, :] + inverse[0, 1] * gy[:, None] + 14.0
        sy = inverse[1, 0] * gx[None, :] + inverse[1, 1] * gy[:, None] + 14.0
        rows = (sy + MARGIN) * FIELD_RES - 0.5
        cols = (sx + MARGIN) * FIELD_RES - 0.5
        values = ndimage.map_coordinates(self.field, [rows, cols], order=1, mode="constant", cval=OUTSIDE)
        ink = np.clip(values * (self.scale * scale) + 0.5, 0.0, 1.0)
        if patch:
            return ink, (j0, i0, j1, i1)
        np.maximum(out[i0:i1, j0:j1], ink, out=out[i0:i1, j0:j1])
        return out, (j0, i0, j1, i1)


# --------------------------------------------------------------------------------------------- numbers

GAP_KINDS = ("wide", "tight", "touching")


@dataclass
class Placed:
    glyph: Glyph
    x: float
    y: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        left, top, right, bottom = self.glyph.local_box
        return (self.x + left, self.y + top, self.x + right, self.y + bottom)


@dataclass
class Line:
    """Digits placed along a line, in units; `box` bounds all their ink."""

    placed: list[Placed]
    gap: str | None
    measured: list[float]  # per neighbour pair: the gap in units (negative: how deep they overlap)
    shared: list[float]  # per neighbour pair: square units of ink the two share

    @property
    def box(self) -> tuple[float, float, float, float]:
        boxes = np.array([p.box for p in self.placed])
        return (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())

    @property
    def text(self) -> str:
        return "".join(str(p.glyph.digit) for p in self.placed)

    def render(self, scale: float, origin: tuple[float, float] = (0.0, 0.0), shape=None):
        """The line's ink at `scale` pixels per unit; `origin` (units) lands on pixel (0, 0)."""
        left, top, right, bottom = self.box
        ox, oy = origin
        if shape is None:
            shape = (int(np.ceil((bottom - oy) * scale)) + 2, int(np.ceil((right - ox) * scale)) + 2)
        out = np.zeros(shape, np.float32)
        for p in self.placed:
            p.glyph.render(scale, p.x - ox, p.y - oy, shape, out)
        return out


def _ink_pixels(glyph: Glyph, x: float, y: float, shape) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the layout pixels this digit inks when placed at (x, y)."""
    ink, (j0, i0, j1, i1) = glyph.render(LAYOUT_RES, x, y, shape, patch=True)
    rows, cols = np.nonzero(ink > 0.5)
    return rows + i0, cols + j0


class _Neighbour:
    """The previous digit's ink, seen from a digit about to be placed right of it.

    Shifts are in layout pixels, negative to the left, applied to the new digit's pixels."""

    def __init__(self, rows, cols, earlier: np.ndarray, right: int):
        self.rows, self.cols = rows, cols
        self.c0 = max(int(cols.min()) - 2 * LAYOUT_RES, 0)
        self.ink = np.zeros((earlier.shape[0], right - self.c0), bool)
        self.ink[rows, cols - self.c0] = True
        self.distance = ndimage.distance_transform_edt(~self.ink)
        before = earlier[:, self.c0 : right]
        self.before = ndimage.distance_transform_edt(~before) if before.any() else None
        self.right_end = np.full(earlier.shape[0], -np.inf)
        np.maximum.at(self.right_end, rows, cols.astype(float))

    def _moved(self, rows, cols, shift):
        where = cols - self.c0 + shift
        inside = (where >= 0) & (where < self.ink.shape[1])
        return rows[inside], where[inside]

    def gap(self, rows, cols, shift) -> float:
        """Distance in pixels between the nearest pixel centres of the two inks (0: they overlap)."""
        r, c = self._moved(rows, cols, shift)
        return float(self.distance[r, c].min()) if r.size else np.inf

    def gap_to_earlier(self, rows, cols, shift) -> float:
        if self.before is None:
            return np.inf
        r, c = self._moved(rows, cols, shift)
        return float(self.before[r, c].min()) if r.size else np.inf

    def overlap(self, rows, cols, shift) -> int:
        r, c = self._moved(rows, cols, shift)
        return int(self.ink[r, c].sum())

    def reach(self, rows, cols, shift) -> float:
        """How far the two inks reach past each other along a row, in units."""
        left_end = np.full(self.right_end.shape, np.inf)
        np.minimum.at(left_end, rows, (cols + shift).astype(float))
        both = np.isfinite(left_end) & np.isfinite(self.right_end)
        if not both.any():
            return -np.inf
        return float((self.right_end[both] - left_end[both]).max() + 1) / LAYOUT_RES

    def slide_until(self, rows, cols, closest: float, limit: int) -> int:
        """The leftmost shift (from 0) at which the inks are still `closest` pixels apart or more.
        The distance falls by at most a pixel per pixel of shift, which lets the slide jump."""
        shift = 0
        while shift > limit:
            room = self.gap(rows, cols, shift - 1) - closest
            if room < 0 or not np.isfinite(room):
                break
            shift -= 1 + int(room)
        while self.gap(rows, cols, shift) < closest and shift < 0:  # a jump may land one past
            shift += 1
        return shift


def lay_out(glyphs: list[Glyph], gap: str, rng: np.random.Generator) -> Line:
    """Place the digits left to right on a wobbly baseline, with gaps of the given kind.

    wide: the inks of neighbours 8-14 units apart at their closest; tight: 0.8-3 units apart,
    never touching; touching: their strokes share ink (never more than 6% of the smaller
    digit's, nor 4 square units), reaching 1-4 units past each other along some row, and when
    these two digits cannot meet without reaching further, just past where they first meet."""
    widths = [g.local_box[2] - g.local_box[0] for g in glyphs]
    shape = (int(80.0 * LAYOUT_RES), int((sum(widths) + 25.0 * len(glyphs) + 20.0) * LAYOUT_RES))
    baseline = 55.0
    earlier = np.zeros(shape, bool)  # ink of all digits before the previous one
    placed: list[Placed] = []
    measured: list[float] = []
    shared: list[float] = []
    prev_rows = prev_cols = None
    for index, glyph in enumerate(glyphs):
        y = baseline - glyph.local_box[3] + rng.uniform(-1.6, 1.6)
        if index == 0:
            x = 5.0 - glyph.local_box[0]
            prev_rows, prev_cols = _ink_pixels(glyph, x, y, shape)
            placed.append(Placed(glyph, x, y))
            continue
        prev_box = placed[-1].box
        start = prev_box[2] + 22.0 - glyph.local_box[0]
        right = min(int((start + glyph.local_box[2] + 3.0) * LAYOUT_RES), shape[1])
        near = _Neighbour(prev_rows, prev_cols, earlier, right)
        limit = -int((22.0 + prev_box[2] - prev_box[0]) * LAYOUT_RES)
        if gap in ("wide", "tight"):
            wanted = rng.uniform(8.0, 14.0) if gap == "wide" else rng.uniform(0.8, 3.0)
            rows, cols = _ink_pixels(glyph, start, y, shape)
            shift = near.slide_until(rows, cols, wanted * LAYOUT_RES + 1, limit)
        elif gap == "touching":
            # where the two first meet: at the baseline drawn, or a little higher or lower when
            # that lets them meet without reaching further past each other
            wanted = rng.uniform(1.0, 4.0)
            best = None
            for lift in [0.0, *rng.permutation([-2.4, -1.6, -0.8, 0.8, 1.6, 2.4])]:
                r, c = _ink_pixels(glyph, start, y + lift, shape)
                contact = near.slide_until(r, c, 0.5, limit) - 1
                if near.gap(r, c, contact) > 0:
                    continue
                deep = near.reach(r, c, contact)
                if best is None or deep < best[0]:
                    best = (deep, lift, r, c, contact)
                if deep <= wanted:
                    break
            deep, lift, rows, cols, contact = best
            y += lift
            smaller = min(len(prev_rows), len(rows))
            target = contact - int(round(max(wanted - max(deep, 0.0), 0.5) * LAYOUT_RES))
            shift = contact
            for trial in range(target, contact + 1):  # back off towards first contact if need be
                common = near.overlap(rows, cols, trial)
                if common < 0.3 * LAYOUT_RES**2 and trial != contact:
                    continue
                if common > min(0.06 * smaller, 4.0 * LAYOUT_RES**2):
                    continue
                if near.gap_to_earlier(rows, cols, trial) <= 1.5 * LAYOUT_RES:
                    continue
                shift = trial
                break
        else:
            raise ValueError(f"unknown gap kind {gap!r}")
        x = start + shift / LAYOUT_RES
        common = near.overlap(rows, cols, shift)
        measured.append(-near.reach(rows, cols, shift) if common else (near.gap(rows, cols, shift) - 1) / LAYOUT_RES)
        shared.append(common / LAYOUT_RES**2)
        earlier[prev_rows, prev_cols] = True
        prev_rows, prev_cols = rows, cols + shift
        placed.append(Placed(glyph, x, y))
    return Line(placed, gap, measured, shared)
