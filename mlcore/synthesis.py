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
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

PEN_STYLES = ("ordinary", "thin_faint", "thick_marker")
PICTURE_STYLES = ("paper_photo", "scan", "canvas_dark", "canvas_light")
GAP_KINDS = ("wide", "tight", "touching")
CANVAS_STYLES = ("canvas_dark", "canvas_light")
NON_DIGIT_KINDS = ("blank", "ruled", "printed", "scribble")
SCENE_EXTRAS = ("table", "shadow", "marks")  # what a phone photo may show besides the page

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


def _layout(shape: tuple[int, int], single: bool, picture: str, faint: bool, rng: np.random.Generator):
    """The picture's size (w, h), the ink's size once scaled (nw, nh) and its top-left corner (x0, y0)."""
    if picture in CANVAS_STYLES:
        long_side = rng.integers(200, 600) if single else rng.integers(400, 1200)
    else:
        long_side = rng.integers(300, 900) if single else rng.integers(600, 1600)
    short_side = round(long_side * rng.uniform(0.6, 1.0))
    landscape = not single or rng.random() < 0.5
    w, h = (int(long_side), int(short_side)) if landscape else (int(short_side), int(long_side))
    ih, iw = shape
    # Singles are sized by height (a lone "1" is narrow); numbers take 25-85% of the width.
    scale = rng.uniform(0.25, 0.85) * (h / ih if single else w / iw)
    # Digits no smaller than MNIST's own (a faint pen a bit larger, or its strokes blur away), and the ink must fit.
    scale = min(max(scale, (40 if faint else 28) / ih), 0.9 * h / ih, 0.95 * w / iw)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    x0, y0 = int(rng.integers(0, w - nw + 1)), int(rng.integers(0, h - nh + 1))
    return w, h, nw, nh, x0, y0


def render_picture(ink: np.ndarray, boxes, picture: str, pen: str, rng: np.random.Generator):
    """The ink placed on a picture: its encoded bytes and the boxes in the picture's pixels."""
    data, placed, _ = _render(ink, boxes, len(boxes) == 1, picture, pen, rng)
    return data, placed


def _render(ink, boxes, single: bool, picture: str, pen: str, rng: np.random.Generator, *, scene=None, pen_rgb=None):
    """render_picture's work; also returns where the table shows (alpha 0..1, or None).

    `scene`: which photo extras to add ("table", "shadow", "marks"); None draws them at random.
    `pen_rgb` overrides the pen's colour (printed text is black toner).
    """
    faint = pen == "thin_faint" and picture not in CANVAS_STYLES
    w, h, nw, nh, x0, y0 = _layout(ink.shape, single, picture, faint, rng)
    ih, iw = ink.shape
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
    # The table must stay clear of the writing, with a little paper around it.
    pad = margin + 0.03 * min(w, h)
    keep = (x0 - pad, y0 - pad, x0 + nw + pad, y0 + nh + pad)
    data, table = _paint([(mask, pen_rgb)], picture, faint, keep, rng, scene=scene)
    return data, placed, table


def _paint(layers, picture: str, faint: bool, keep, rng: np.random.Generator, *, scene=None):
    """Paper (or canvas) with `layers` of (mask, rgb; None for a random pen colour) drawn on it, lit and encoded.

    Returns the encoded bytes and where the table shows (None if it does not).
    """
    w, h = layers[0][0].size
    photo = picture == "paper_photo"
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
    out = Image.new("RGB", (w, h), _rgb(paper))
    for mask, rgb in layers:
        out = Image.composite(Image.new("RGB", (w, h), _rgb(pen_rgb if rgb is None else rgb)), out, mask)
    if picture in CANVAS_STYLES:
        return _encode(out if rng.random() < 0.5 else out.convert("L"), "PNG", 0), None

    if scene is None:
        # Half the phone photos show more than the page: the table beyond its edge, a sharp shadow,
        # texture or a fold in the paper (each alone or together); scans stay flat.
        scene = ()
        if photo and rng.random() < 0.5:
            scene = tuple(name for name, p in zip(SCENE_EXTRAS, (0.6, 0.5, 0.4), strict=True) if rng.random() < p)
            scene = scene or (SCENE_EXTRAS[rng.integers(len(SCENE_EXTRAS))],)
    table = _page_edge(h, w, keep, rng) if "table" in scene else None
    if table is not None:
        edge = Image.fromarray(np.clip(table * 255 + 0.5, 0, 255).astype(np.uint8))
        out = Image.composite(_table_surface(h, w, paper, rng), out, edge)

    shade = None
    if photo or faint:
        shade = _light((h, w), rng, rng.uniform(0.55, 0.85) if photo else rng.uniform(0.8, 0.95), photo)
    if "marks" in scene:
        marks = _paper_marks(h, w, rng)
        if table is not None:
            marks = 1 + (marks - 1) * (1 - table)  # the paper's texture and fold stop at its edge
        shade = marks if shade is None else shade * marks
    if "shadow" in scene:
        shadow = _sharp_shadow(h, w, rng)
        shade = shadow if shade is None else shade * shadow
    if shade is not None:
        light = Image.fromarray(np.clip(shade * 255, 0, 255).astype(np.uint8))
        out = ImageChops.multiply(out, Image.merge("RGB", (light, light, light)))
    # Sensor noise: a tile of grey-level noise, repeated from a random offset (cheaper than a full field).
    sigma = rng.uniform(2, 6) if faint or photo else rng.uniform(0.5, 2.5)
    tile = np.clip(128 + sigma * rng.standard_normal((160, 160), dtype=np.float32), 0, 255).astype(np.uint8)
    noise = np.tile(tile, (h // 160 + 2, w // 160 + 2))
    dy, dx = rng.integers(0, 160, 2)
    noise = Image.fromarray(np.ascontiguousarray(noise[dy : dy + h, dx : dx + w]))
    out = ImageChops.add(out, Image.merge("RGB", (noise, noise, noise)), 1.0, -128)
    if photo:
        return _encode(out, "JPEG", int(rng.integers(60, 96))), table
    out = out if rng.random() < 0.5 else out.convert("L")
    data = _encode(out, "PNG", 0) if rng.random() < 0.5 else _encode(out, "JPEG", int(rng.integers(75, 96)))
    return data, table


def _rgb(colour) -> tuple[int, int, int]:
    return tuple(int(round(c)) for c in np.clip(colour, 0, 255))


def _page_edge(h: int, w: int, keep, rng: np.random.Generator):
    """Where the table shows beyond the sheet's straight edge (alpha 0..1, h x w), or None if there is no room.

    The sheet rarely fills a phone photo: its edge cuts off one side, a corner of the picture, or
    the sheet's own corner shows (two edges at a right angle). The table takes 5-30% of the
    picture but never comes within `keep` (left, top, right, bottom), where the writing is; when
    the writing leaves too little room on one side, other sides and corners are tried.
    """
    target = rng.uniform(0.05, 0.30)
    softness = rng.uniform(0.7, 2.0)  # the edge is sharp, but not to the pixel
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    for _ in range(6):
        layout = rng.choice(("side", "diagonal", "corner"), p=(0.45, 0.3, 0.25))
        base = rng.integers(4) * np.pi / 2  # toward the right, bottom, left or top of the picture
        if layout == "side":
            normals = [base + rng.uniform(-0.2, 0.2)]
        elif layout == "diagonal":
            normals = [base + np.pi / 4 + rng.uniform(-0.35, 0.35)]
        else:
            first = base + rng.uniform(-0.3, 0.3)
            normals = [first, first + np.pi / 2]
        table = np.zeros((h, w), np.float32)
        for angle in normals:
            nx, ny = np.float32(np.cos(angle)), np.float32(np.sin(angle))
            along = xs * nx + ys * ny  # distance out of the page, toward the table
            cut = float(np.quantile(along[::8, ::8], 1 - target / len(normals)))
            if keep is not None:
                left, top, right, bottom = keep
                corners = [(left, top), (right, top), (left, bottom), (right, bottom)]
                cut = max(cut, max(x * nx + y * ny for x, y in corners) + 2 * softness)
            np.maximum(table, np.clip((along - cut) / softness + 0.5, 0, 1), out=table)
        if table.mean() > 0.04:
            return table
    return None


def _table_surface(h: int, w: int, paper: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A desk or table: darker wood or laminate, or a light surface of a clearly different colour; plain or textured."""
    for _ in range(8):
        if rng.random() < 0.75:
            # Darker: brown wood, a grey or black desk, a dark cloth.
            if rng.random() < 0.5:
                r = rng.uniform(70, 170)
                colour = np.array([r, r * rng.uniform(0.6, 0.8), r * rng.uniform(0.35, 0.6)])
            else:
                colour = rng.uniform(20, 110) + rng.uniform(-12, 12, 3)
        else:
            # Lighter but different: pale wood, a tinted laminate, a light grey desk.
            colour = rng.uniform(175, 235) * np.array([1.0, *rng.uniform(0.8, 1.05, 2)])
        if np.abs(colour - paper).sum() >= 70:  # it must read as something other than the paper
            break
    else:
        colour = paper * 0.45
    texture = rng.choice(("plain", "wood", "fabric"))
    hs, ws = h // 2 + 1, w // 2 + 1  # textures are made at half size, then enlarged
    if texture == "wood":
        # Grain: a random profile across the grain, followed along slowly wavering lines.
        angle = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:hs, 0:ws].astype(np.float32)
        across = xx * np.float32(np.cos(angle)) + yy * np.float32(np.sin(angle))
        across += _smooth_field((hs, ws), rng, 0, rng.uniform(5, 30))
        across -= across.min()
        profile = ndimage.gaussian_filter1d(rng.standard_normal(int(across.max()) + 2), rng.uniform(0.8, 2.5))
        profile += 1.5 * np.sin(np.arange(profile.size) * 2 * np.pi / rng.uniform(15, 60))
        pattern = profile[across.astype(np.int32)] / max(float(np.abs(profile).max()), 1e-6)
        strength = rng.uniform(0.08, 0.22)
    elif texture == "fabric":
        # A weave: a small repeating tile of crossing threads, with a little irregularity.
        period = int(rng.integers(3, 8))
        ty, tx = np.mgrid[0 : period * 8, 0 : period * 8].astype(np.float32)
        tile = np.sin(2 * np.pi * tx / period) * np.sin(2 * np.pi * ty / period)
        tile += 0.5 * rng.standard_normal(tile.shape).astype(np.float32)
        pattern = np.tile(tile, (hs // tile.shape[0] + 1, ws // tile.shape[1] + 1))[:hs, :ws] / 2
        strength = rng.uniform(0.05, 0.15)
    else:
        pattern = _smooth_field((hs, ws), rng, -1.0, 1.0)
        strength = rng.uniform(0.02, 0.06)
    pattern = _resize(1 + strength * pattern, w, h)
    surface = np.clip(pattern[:, :, None] * colour[None, None, :].astype(np.float32), 0, 255)
    return Image.fromarray(surface.astype(np.uint8))


def _sharp_shadow(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Light multiplier for a shadow with a fairly sharp border: a phone or hand (a polygon) or a blob.

    It darkens 15-40% and its edge blurs over 2-15 px; it may well cross the writing.
    """
    size = max(h, w)
    layer = Image.new("L", (w, h), 0)
    cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
    radius = rng.uniform(0.3, 0.7) * size
    if rng.random() < 0.6:
        count, wobble = int(rng.integers(4, 8)), rng.uniform(0.5, 1.0, 8)  # straight sides, sharp corners
        angles = np.sort(rng.uniform(0, 2 * np.pi, count))
        radii = radius * wobble[:count]
    else:
        count = 40  # a blob: a smoothly wavering outline
        angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
        harmonics = rng.uniform(-0.12, 0.12, (3, 2))
        radii = radius * (
            1 + sum(a * np.cos((k + 2) * angles) + b * np.sin((k + 2) * angles) for k, (a, b) in enumerate(harmonics))
        )
        radii *= 1 + rng.uniform(0, 0.4) * np.cos(2 * (angles - rng.uniform(0, np.pi)))  # a little elongated
    points = [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for a, r in zip(angles, radii, strict=True)]
    ImageDraw.Draw(layer).polygon(points, fill=255)
    layer = layer.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 6.0)))
    darkness = np.float32(rng.uniform(0.15, 0.40) / 255)
    return 1 - darkness * np.asarray(layer, np.float32)


def _paper_marks(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Light multiplier for the paper itself: faint fibre texture and mottling, sometimes a fold line."""
    tile = ndimage.gaussian_filter(
        rng.standard_normal((128, 128)).astype(np.float32), rng.uniform(0.7, 1.5), mode="wrap"
    )
    tile *= rng.uniform(0.008, 0.025) / max(float(tile.std()), 1e-6)
    marks = 1 + np.tile(tile, (h // 128 + 1, w // 128 + 1))[:h, :w]
    marks *= _smooth_field((h, w), rng, 1 - rng.uniform(0.01, 0.04), 1.0)
    if rng.random() < 0.6:
        # A fold: one side tilts a little away from the light, the crease itself is a thin dark line.
        angle = rng.uniform(0, np.pi)
        ys = np.arange(h, dtype=np.float32)[:, None]
        xs = np.arange(w, dtype=np.float32)[None, :]
        across = xs * np.float32(np.cos(angle)) + ys * np.float32(np.sin(angle))
        across -= np.float32(rng.uniform(0.2, 0.8) * w * np.cos(angle) + rng.uniform(0.2, 0.8) * h * np.sin(angle))
        width = rng.uniform(0.8, 2.5)
        step = rng.uniform(0.01, 0.05) * np.clip(across / (4 * width), 0, 1)
        crease = rng.uniform(0.04, 0.12) * np.exp(-((across / width) ** 2))
        marks *= 1 - step - crease
    return marks


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


# Pictures with no digits in them, so the reader learns to say so rather than guess.
WORDS = ("Total", "Name", "hello", "Date:", "Notes", "Price", "Thank you", "Signature", "Address", "Monday")
WORDS += ("Invoice", "Sum:", "apple", "Hello world", "Score", "Class", "yes", "Room", "Shopping list", "Dear Sam")
FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSerif-Italic.ttf")
FONTS += ("DejaVuSansCondensed.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif-Bold.ttf")


def synthetic_non_digit(rng: np.random.Generator, *, kind=None) -> SyntheticPicture:
    """A picture with nothing to read (text ""): a blank or ruled page, a printed word, or a scribble.

    Pens are tagged "none" (blank, ruled) or "printed"; a scribble is drawn with one of PEN_STYLES.
    """
    kind = kind or NON_DIGIT_KINDS[rng.integers(len(NON_DIGIT_KINDS))]
    paper_styles = ("paper_photo", "scan")
    if kind in ("blank", "ruled"):
        picture = "paper_photo" if rng.random() < 0.7 else "scan"
        # A page of the size a number's photo would be (the same layout, with no ink to place).
        w, h, *_ = _layout((10, 10), rng.random() < 0.3, picture, False, rng)
        layers = [(Image.new("L", (w, h), 0), np.zeros(3))]
        if kind == "ruled":
            layers = _ruled_lines(h, w, picture == "paper_photo", rng)
        # An empty page's photo more often shows the table, shadows or a fold: none of them is writing.
        scene = ()
        if picture == "paper_photo" and rng.random() < 0.8:
            scene = tuple(name for name in SCENE_EXTRAS if rng.random() < 0.5) or ("table",)
        data, _ = _paint(layers, picture, False, None, rng, scene=scene)
        return SyntheticPicture(data=data, text="", pen="none", picture=picture, gap=None, boxes=[])
    if kind == "printed":
        picture = paper_styles[rng.integers(2)]
        ink = _printed_word(rng, tilt=picture == "paper_photo")
        toner = np.full(3, rng.uniform(0, 45))
        data, _, _ = _render(ink, [], False, picture, "ordinary", rng, pen_rgb=toner)
        return SyntheticPicture(data=data, text="", pen="printed", picture=picture, gap=None, boxes=[])
    if kind == "scribble":
        picture = PICTURE_STYLES[rng.integers(len(PICTURE_STYLES))]
        pen = PEN_STYLES[rng.integers(len(PEN_STYLES))]
        ink = _scribble(rng, pen)
        data, _, _ = _render(ink, [], ink.shape[1] < 1.5 * ink.shape[0], picture, pen, rng)
        return SyntheticPicture(data=data, text="", pen=pen, picture=picture, gap=None, boxes=[])
    raise ValueError(f"unknown non-digit kind {kind!r}")


def _ruled_lines(h: int, w: int, tilted: bool, rng: np.random.Generator):
    """Layers for a ruled page: evenly spaced thin blue or grey lines, sometimes a red margin line."""
    angle = rng.uniform(-0.04, 0.04) if tilted else rng.uniform(-0.005, 0.005)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    down = ys * np.float32(np.cos(angle)) - xs * np.float32(np.sin(angle))  # distance down the page
    spacing = max(12.0, rng.uniform(0.04, 0.09) * h)
    offset = rng.uniform(0, spacing)
    width = rng.uniform(0.8, 2.0)
    phase = (down - offset) / spacing
    dist = np.abs(phase - np.round(phase)) * spacing
    lines = np.clip(width / 2 + 0.5 - dist, 0, 1) * rng.uniform(0.6, 1.0)
    lines[down < rng.uniform(0, 0.15) * h] = 0  # the header space above the first line
    colour = (
        np.array([120.0, 160, 220]) + rng.uniform(-30, 20, 3)
        if rng.random() < 0.7
        else np.full(3, rng.uniform(120, 190))
    )
    layers = [(_mask(lines), colour)]
    if rng.random() < 0.5:
        across = xs * np.float32(np.cos(angle)) + ys * np.float32(np.sin(angle))
        margin = np.clip(width / 2 + 0.5 - np.abs(across - rng.uniform(0.06, 0.2) * w), 0, 1)
        layers.append((_mask(margin), np.array([220.0, 110, 120]) + rng.uniform(-20, 20, 3)))
    return layers


def _mask(alpha: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8))


def _printed_word(rng: np.random.Generator, *, tilt: bool) -> np.ndarray:
    """A printed word in a DejaVu font (ink 0..1), a little rotated in a photo."""
    word = WORDS[rng.integers(len(WORDS))]
    size = int(rng.integers(40, 120))
    try:
        font = ImageFont.truetype(f"{FONT_DIR}/{FONTS[rng.integers(len(FONTS))]}", size)
    except OSError:  # no DejaVu on this machine: Pillow's own font still prints a word
        font = ImageFont.load_default(size)
    left, top, right, bottom = font.getbbox(word)
    image = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(image).text((4 - left, 4 - top), word, fill=255, font=font)
    if tilt:
        image = image.rotate(rng.uniform(-6, 6), BILINEAR, expand=True)
    return _crop(np.asarray(image, np.float32) / 255, 0.05)


def _scribble(rng: np.random.Generator, pen: str) -> np.ndarray:
    """Pen strokes that are not digits (ink 0..1): loops, a zigzag, a signature, a scratched-out patch.

    Drawn about WORK_HEIGHT tall with the pen's width, as render_ink draws digits.
    """
    size = WORK_HEIGHT
    shape = rng.choice(("loops", "zigzag", "signature", "scratch"))
    if shape == "loops":
        # A run of cursive loops ("llll", "eeee"): a prolate cycloid.
        t = np.linspace(0, 2 * np.pi * rng.integers(3, 8), 400)
        step, radius = rng.uniform(0.25, 0.6) * size, 0.5 * size
        x = step * t / (2 * np.pi) - rng.uniform(0.3, 0.6) * size * np.sin(t)
        y = -radius * np.cos(t) * rng.uniform(0.6, 1.0) + 0.1 * size * np.sin(t * rng.uniform(0.1, 0.3))
        strokes = [np.stack([x, y], 1)]
    elif shape == "zigzag":
        count = int(rng.integers(5, 12))
        x = np.arange(count) * rng.uniform(0.2, 0.5) * size + rng.uniform(-0.08, 0.08, count) * size
        y = np.where(np.arange(count) % 2, 0, size) + rng.uniform(-0.15, 0.15, count) * size
        strokes = [np.stack([x, y], 1)]
    elif shape == "signature":
        # A signature-like squiggle: a drift to the right with several sine waves on top, often underlined.
        t = np.linspace(0, 1, 500)
        length = rng.uniform(2.5, 6) * size
        x, y = length * t, np.zeros_like(t)
        for _ in range(3):
            freq, phase = rng.uniform(3, 25), rng.uniform(0, 2 * np.pi)
            x += rng.uniform(0.05, 0.3) * size * np.cos(2 * np.pi * freq * t + phase)
            y += rng.uniform(0.1, 0.5) * size * np.sin(2 * np.pi * freq * t + phase)
        strokes = [np.stack([x, y], 1)]
        if rng.random() < 0.5:
            under = y.max() + rng.uniform(0.1, 0.3) * size
            strokes.append(np.array([[x.min(), under], [x.max(), under + rng.uniform(-0.2, 0.2) * size]]))
    else:
        # Scratched out: quick strokes back and forth, moving down.
        count = int(rng.integers(6, 16))
        width = rng.uniform(1.0, 3.0) * size
        x = np.where(np.arange(count) % 2, width, 0) + rng.uniform(-0.1, 0.1, count) * size
        y = np.linspace(0, rng.uniform(0.6, 1.2) * size, count) + rng.uniform(-0.05, 0.05, count) * size
        strokes = [np.stack([x, y], 1)]
    if pen == "thin_faint":
        width = size / MNIST_BODY * rng.uniform(1.0, 2.0)
    elif pen == "thick_marker":
        width = 0.12 * size * rng.uniform(2.0, 3.0)
    else:
        width = 0.12 * size * rng.uniform(0.75, 1.3)
    # The strokes' centre lines, then every pixel within the pen's radius of them inked (as render_ink does).
    points = np.concatenate(strokes)
    origin = points.min(0) - width
    extent = points.max(0) + width - origin
    image = Image.new("1", (int(extent[0]) + 2, int(extent[1]) + 2), 1)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line([tuple(p) for p in stroke - origin], fill=0, width=1)
    ink = np.clip(0.5 * width + 0.5 - ndimage.distance_transform_edt(np.asarray(image)), 0, 1).astype(np.float32)
    return _crop(ink, 0.05)
