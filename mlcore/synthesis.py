"""Realistic pictures of handwriting, rendered from MNIST digit arrays.

MNIST digits (28x28 uint8, white ink on black) are redrawn with a chosen pen, joined into numbers
and placed on a picture (a paper photo, a scan, or a web canvas), so the model can be trained and
tuned on what users really upload. Everything is deterministic given a `numpy.random.Generator`.

How a digit is redrawn: the upscaled MNIST stroke is thresholded and thinned to its ridge (the
local maxima of the distance to the background), then every pixel within the pen's radius of that
ridge is inked, so the stroke width no longer depends on MNIST's own pen. Sizes quoted "at 28-px
scale" are in MNIST pixels: a digit's body is about 20 of them tall.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops
from scipy import ndimage

PEN_STYLES = ("ordinary", "thin_faint", "thick_marker")
PICTURE_STYLES = ("paper_photo", "scan", "canvas_dark", "canvas_light")
GAP_KINDS = ("wide", "tight", "touching")
CANVAS_STYLES = ("canvas_dark", "canvas_light")

Box = tuple[int, int, int, int]  # (left, top, right, bottom), right and bottom exclusive
MNIST_BODY = 20.0  # an MNIST digit's height in its own pixels
WORK_HEIGHT = 112  # strokes are redrawn at this height (a cheap distance transform), then resized
BILINEAR = Image.Resampling.BILINEAR


@dataclass(frozen=True)
class SyntheticPicture:
    data: bytes  # encoded JPEG or PNG
    text: str  # the digits written, e.g. "4667"
    pen: str
    picture: str
    gap: str | None  # None for a single digit
    boxes: list[Box]  # each digit's ink box in the picture's pixels, left to right


def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Float32 resize through Pillow (fast; antialiased when shrinking)."""
    return np.asarray(Image.fromarray(array.astype(np.float32), mode="F").resize((width, height), BILINEAR))


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """A slowly varying random field in [low, high]: pen pressure, paper unevenness."""
    grid = rng.random((4, 4)).astype(np.float32)
    return low + (high - low) * np.clip(_resize(grid, shape[1], shape[0]), 0.0, 1.0)


def _crop(ink: np.ndarray, threshold: float) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.max(1) > threshold), np.flatnonzero(ink.max(0) > threshold)
    if rows.size == 0:
        return ink
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def render_ink(digit: np.ndarray, height_px: int, pen: str, rng: np.random.Generator, *, breaks: bool = True):
    """The digit's ink (float32 0..1), redrawn with `pen` and scaled to `height_px` tall.

    `breaks` lets a thin_faint pen skip (short gaps in its strokes); canvas drawings never skip.
    """
    img = _crop(np.asarray(digit, dtype=np.float32) / 255.0, 0.3)
    unit = WORK_HEIGHT / MNIST_BODY  # one MNIST pixel at working scale
    if pen == "ordinary":
        width = 0.12 * WORK_HEIGHT * rng.uniform(0.75, 1.3)
    elif pen == "thin_faint":
        width = unit * rng.uniform(1.0, 2.0)
    elif pen == "thick_marker":
        width = 0.12 * WORK_HEIGHT * rng.uniform(2.0, 3.0)
    else:
        raise ValueError(f"unknown pen {pen!r}")
    pad = int(width) + 3
    big = ndimage.zoom(np.pad(img, 1), WORK_HEIGHT / img.shape[0], order=1)
    mask = np.pad(big > 0.45, pad)
    dist = ndimage.distance_transform_edt(mask)
    # The ridge: local maxima of the distance, leaving out the shallow corners of the outline.
    ridge = mask & (dist >= ndimage.maximum_filter(dist, 3) - 0.5)
    ridge &= dist >= 0.35 * ndimage.maximum_filter(dist, int(3 * unit) | 1)
    pressure = _smooth_field(mask.shape, rng, 0.85, 1.15)  # the width varies a little along the line
    to_ridge = ndimage.distance_transform_edt(~ridge)
    holes = _holes(mask, unit * unit)
    for _ in range(4):
        ink = np.clip(0.5 * width * pressure + 0.5 - to_ridge, 0.0, 1.0)
        # A wide pen must not open or close loops: a thick "3" would read as an "8", a "6" as a blob.
        if pen == "thin_faint" or _holes(ink > 0.5, 1.0) == holes:
            break
        width *= 0.8
    points = np.argwhere(ridge)
    if pen == "thin_faint" and breaks and len(points):
        # The pen skipped: round holes a little wider than the stroke cut it at 1-3 ridge points
        # (gaps of ~1 MNIST px; more or longer ones made some digits unreadable).
        holes = np.ones(mask.shape, bool)
        chosen = points[rng.choice(len(points), size=min(len(points), 1 + rng.binomial(2, 0.25)), replace=False)]
        holes[chosen[:, 0], chosen[:, 1]] = False
        gap = 0.5 * width + unit * rng.uniform(0.2, 0.6)
        ink *= np.clip(ndimage.distance_transform_edt(holes) - gap, 0.0, 1.0)
    ink = _crop(ink, 0.05)
    return _resize(ink, max(1, round(ink.shape[1] * height_px / ink.shape[0])), height_px)


def _holes(mask: np.ndarray, min_area: float) -> int:
    """How many enclosed background regions (loops) of at least `min_area` pixels the mask has."""
    labels, count = ndimage.label(~mask)
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= min_area).sum()) - 1  # less the outside (the padding makes it one region)


def _profiles(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the leftmost and rightmost inked column (+-1e6 where the row is empty)."""
    on = ink > 0.5
    has = on.any(1)
    left = np.where(has, on.argmax(1), 1e6)
    right = np.where(has, ink.shape[1] - 1 - on[:, ::-1].argmax(1), -1e6)
    return left, right


def compose_number(digits, height_px: int, pen: str, gap: str, rng: np.random.Generator, *, breaks: bool = True):
    """Digits written on one line, left to right: the ink and each digit's ink box."""
    unit = height_px / MNIST_BODY
    inks = [render_ink(d, max(8, round(height_px * rng.uniform(0.9, 1.1))), pen, rng, breaks=breaks) for d in digits]
    # Digits sit on a common baseline, each a little above or below it.
    bottoms = [round(height_px * (1.2 + rng.uniform(-0.05, 0.05))) for _ in inks]
    tops = [b - ink.shape[0] for b, ink in zip(bottoms, inks, strict=True)]
    tops = [t - min(tops) for t in tops]
    xs = [0]
    for a, b in zip(range(len(inks)), range(1, len(inks)), strict=False):
        xa, wa = xs[a], inks[a].shape[1]
        # Rows both digits cover, so the right digit can be slid against the left one's outline.
        y0, y1 = max(tops[a], tops[b]), min(tops[a] + inks[a].shape[0], tops[b] + inks[b].shape[0])
        left_b = _profiles(inks[b])[0][y0 - tops[b] : y1 - tops[b]]
        right_a = _profiles(inks[a])[1][y0 - tops[a] : y1 - tops[a]]
        if gap == "wide" or y1 <= y0:
            x = xa + wa + round(height_px * rng.uniform(0.4, 1.0))
        elif gap == "tight":
            # Clear by 1-3 MNIST px; widening the outlines by that much keeps diagonal contact out too.
            clear = max(2.0, unit * rng.uniform(1.0, 3.0))
            k = int(clear) * 2 + 1
            spread = ndimage.minimum_filter1d(left_b, k) - ndimage.maximum_filter1d(right_a, k)
            x = max(round(clear + 1 + xa - spread.min()), xa + wa - round(2 * unit))
        elif gap == "touching":
            # Strokes cross by 1-4 MNIST px where the two digits come closest.
            overlap = max(2.0, unit * rng.uniform(1.0, 4.0))
            x = round(1 - overlap + xa - (left_b - right_a).min())
        else:
            raise ValueError(f"unknown gap {gap!r}")
        xs.append(max(int(x), xa + 1))
    height = max(t + ink.shape[0] for t, ink in zip(tops, inks, strict=True))
    canvas = np.zeros((height, max(x + ink.shape[1] for x, ink in zip(xs, inks, strict=True))), np.float32)
    boxes = []
    for x, t, ink in zip(xs, tops, inks, strict=True):
        region = canvas[t : t + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink, out=region)
        boxes.append((x, t, x + ink.shape[1], t + ink.shape[0]))
    return canvas, boxes


def _light(shape: tuple[int, int], rng: np.random.Generator, low: float, shadow: bool) -> np.ndarray:
    """Uneven light: a linear ramp from `low` to ~1, optionally with a soft-edged shadow."""
    h, w = max(2, shape[0] // 16), max(2, shape[1] // 16)  # made small, then resized: it is smooth
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    along = (xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle)
    light = low + (1.0 - low) * (along - along.min()) / max(float(np.ptp(along)), 1e-6)
    if shadow:
        angle = rng.uniform(0, 2 * np.pi)
        side = (xx / w - rng.uniform(0.1, 0.9)) * np.cos(angle) + (yy / h - rng.uniform(0.1, 0.9)) * np.sin(angle)
        softness = rng.uniform(0.03, 0.15)
        light *= 1 - rng.uniform(0.15, 0.45) / (1 + np.exp(np.clip(-side / softness, -30, 30)))
    return _resize(light, shape[1], shape[0])


def render_picture(ink: np.ndarray, boxes, picture: str, pen: str, rng: np.random.Generator):
    """The ink placed on a picture: its encoded bytes and the boxes in the picture's pixels."""
    single = len(boxes) == 1
    if picture in CANVAS_STYLES:
        long_side = rng.integers(200, 600) if single else rng.integers(400, 1200)
    else:
        long_side = rng.integers(300, 900) if single else rng.integers(600, 1600)
    short_side = round(long_side * rng.uniform(0.6, 1.0))
    landscape = not single or rng.random() < 0.5
    w, h = (long_side, short_side) if landscape else (short_side, long_side)
    ih, iw = ink.shape
    # Singles are sized by height (a lone "1" is narrow); numbers take 25-85% of the width.
    scale = rng.uniform(0.25, 0.85) * (h / ih if single else w / iw)
    # Digits no smaller than MNIST's own (a faint pen a bit larger, or its strokes blur away), and the ink must fit.
    faint = pen == "thin_faint" and picture not in CANVAS_STYLES
    scale = min(max(scale, (40 if faint else 28) / ih), 0.9 * h / ih, 0.95 * w / iw)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    x0, y0 = int(rng.integers(0, w - nw + 1)), int(rng.integers(0, h - nh + 1))
    sx, sy = nw / iw, nh / ih
    placed = [
        (
            x0 + int(np.floor(left * sx)),
            y0 + int(np.floor(top * sy)),
            min(w, x0 + int(np.ceil(right * sx))),
            min(h, y0 + int(np.ceil(bottom * sy))),
        )
        for left, top, right, bottom in boxes
    ]
    photo = picture == "paper_photo"
    # Only the ink is sharp (paper and light are smooth), so the lens blur is applied to its mask alone.
    blur = 0.0 if picture in CANVAS_STYLES else rng.uniform(0.4, 1.5) if photo else rng.uniform(0.0, 0.6)
    margin = int(np.ceil(3 * blur)) + 1
    alpha = np.pad(_resize(ink, nw, nh), margin)
    alpha *= _smooth_field(alpha.shape, rng, 0.6 if faint else 0.85, 1.0)  # the pen presses unevenly
    if blur > 0.2:
        alpha = ndimage.gaussian_filter(alpha, blur)
    mask = Image.new("L", (w, h), 0)
    mask.paste(Image.fromarray(np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)), (x0 - margin, y0 - margin))

    if picture == "canvas_dark":
        paper, pen_rgb = np.full(3, rng.choice([0.0, rng.uniform(0, 30)])), np.full(3, rng.uniform(215, 255))
    elif picture == "canvas_light":
        paper = np.full(3, rng.choice([255.0, rng.uniform(235, 255)]))
        pen_rgb = rng.choice([np.zeros(3), np.full(3, rng.uniform(0, 50)), np.array([20.0, 40, 160])])
    else:
        kind = rng.integers(3) if photo else 0  # white, grey or yellowish paper
        grey = rng.uniform(225, 250) if kind == 0 else rng.uniform(170, 215) if kind == 1 else rng.uniform(230, 250)
        paper = np.array([grey, grey - (kind == 2) * rng.uniform(5, 20), grey - (kind == 2) * rng.uniform(30, 60)])
        blue = rng.random() < 0.4
        if faint:
            # Only 10-40 grey levels darker than the paper (a hard pencil, a dying pen).
            tint = np.array([1.0, 0.85, 0.35]) / 0.838 if blue else np.ones(3)
            pen_rgb = paper - rng.uniform(10, 40) * tint
        elif blue:
            pen_rgb = np.array([rng.uniform(15, 60), rng.uniform(30, 80), rng.uniform(110, 190)])
        else:
            pen_rgb = np.full(3, rng.uniform(10, 60))
    colour = [tuple(int(round(c)) for c in np.clip(rgb, 0, 255)) for rgb in (pen_rgb, paper)]
    out = Image.composite(Image.new("RGB", (w, h), colour[0]), Image.new("RGB", (w, h), colour[1]), mask)
    if picture in CANVAS_STYLES:
        return _encode(out if rng.random() < 0.5 else out.convert("L"), "PNG", 0), placed

    if photo or faint:
        light = _light((h, w), rng, rng.uniform(0.55, 0.85) if photo else rng.uniform(0.8, 0.95), photo)
        light = Image.fromarray(np.clip(light * 255, 0, 255).astype(np.uint8))
        out = ImageChops.multiply(out, Image.merge("RGB", (light, light, light)))
    # Sensor noise: a tile of grey-level noise, repeated from a random offset (cheaper than a full field).
    sigma = rng.uniform(2, 6) if faint or photo else rng.uniform(0.5, 2.5)
    tile = np.clip(128 + sigma * rng.standard_normal((160, 160), dtype=np.float32), 0, 255).astype(np.uint8)
    noise = np.tile(tile, (h // 160 + 2, w // 160 + 2))
    dy, dx = rng.integers(0, 160, 2)
    noise = Image.fromarray(np.ascontiguousarray(noise[dy : dy + h, dx : dx + w]))
    out = ImageChops.add(out, Image.merge("RGB", (noise, noise, noise)), 1.0, -128)
    if photo:
        return _encode(out, "JPEG", int(rng.integers(60, 96))), placed
    out = out if rng.random() < 0.5 else out.convert("L")
    return (_encode(out, "PNG", 0) if rng.random() < 0.5 else _encode(out, "JPEG", int(rng.integers(75, 96)))), placed


def _encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=quality)
    else:
        image.save(buffer, "PNG", compress_level=1)  # speed over size: these are made by the thousand
    return buffer.getvalue()


def synthetic_number(digits, labels, rng: np.random.Generator, *, pen=None, picture=None, gap=None):
    """A picture of the digits written as one number; pen, picture and gap are random where None."""
    pen = pen or PEN_STYLES[rng.integers(len(PEN_STYLES))]
    picture = picture or PICTURE_STYLES[rng.integers(len(PICTURE_STYLES))]
    gap = None if len(digits) == 1 else gap or GAP_KINDS[rng.integers(len(GAP_KINDS))]
    breaks = picture not in CANVAS_STYLES  # a canvas never skips
    ink, boxes = compose_number(list(digits), 96, pen, gap or "wide", rng, breaks=breaks)
    data, placed = render_picture(ink, boxes, picture, pen, rng)
    text = "".join(str(int(label)) for label in labels)
    return SyntheticPicture(data=data, text=text, pen=pen, picture=picture, gap=gap, boxes=placed)


def synthetic_digit(digit, label, rng: np.random.Generator, *, pen=None, picture=None) -> SyntheticPicture:
    return synthetic_number([digit], [label], rng, pen=pen, picture=picture)


def synthetic_set(
    images, labels, count, rng, *, lengths=(1, 8), pens=PEN_STYLES, pictures=PICTURE_STYLES, gaps=GAP_KINDS
) -> list[SyntheticPicture]:
    """`count` pictures cycling through every pen x picture x gap family (gap None: one digit).

    Lengths of numbers (an inclusive range) cycle too, so each family sees every length.
    """
    low, high = lengths
    gap_options = ([None] if low <= 1 else []) + (list(gaps) if high >= 2 else [])
    families = list(itertools.product(pens, pictures, gap_options))
    order = rng.permutation(len(families))
    multi_lengths = range(max(2, low), high + 1)
    result = []
    for i in range(count):
        pen, picture, gap = families[order[i % len(families)]]
        n = 1 if gap is None else multi_lengths[(i // len(families)) % len(multi_lengths)]
        chosen = rng.integers(0, len(images), n)
        result.append(
            synthetic_number(
                [images[j] for j in chosen], [labels[j] for j in chosen], rng, pen=pen, picture=picture, gap=gap
            )
        )
    return result
