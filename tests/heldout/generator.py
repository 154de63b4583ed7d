"""The held-out pictures: handwritten numbers and digits from MNIST's test set, and pictures with no digit.

`build_suite(seed)` makes the whole set the held-out test scores; every picture comes from its own
random stream (seed, family, index), so the set is the same on every run and machine.

Families (the `family` tag) and shapes (the `shape` tag):
  ordinary      single | number   black or blue pen, a phone photo, a flat scan, or a canvas drawing
  thin_faint    single | number   thin strokes with small skips, ink barely darker than noisy, unevenly lit paper
  thick_marker  single | number   strokes 2-3 times MNIST's width, loops nearly closed
  non_digit     blank | ruled | printed | scribble
A number also has a `gap` tag (wide, tight, touching) and a `length` (2 to 8 digits).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.heldout import scenes
from tests.heldout.ink import GAP_KINDS, Glyph, Line, Pen, Placed, digit_field, lay_out
from tests.heldout.vetting import usable_indices

SEED = 20_251_105
LENGTHS = tuple(range(2, 9))
FAMILIES = ("ordinary", "thin_faint", "thick_marker", "non_digit")
NON_DIGIT_KINDS = ("blank", "ruled", "printed", "scribble")

# how many pictures the full suite holds
NUMBERS_PER_GAP_AND_LENGTH = 24  # ordinary numbers: 3 gap kinds x 7 lengths x 24 = 504
SINGLES = 600  # ordinary single digits, 60 of each digit
HARD_SINGLES = 150  # per hard family, 15 of each digit
HARD_NUMBERS_PER_LENGTH = 15  # per hard family: 7 lengths x 15 = 105, gap kinds taking turns
NON_DIGITS = {"blank": 50, "ruled": 50, "printed": 50, "scribble": 50}

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
WORDS = (
    "Total",
    "hello",
    "Name:",
    "Date",
    "Notes",
    "Signature",
    "Address",
    "Invoice",
    "Amount",
    "Thank you",
    "Reading",
    "Meter",
    "Sum:",
    "Page",
    "Hello World",
    "Customer",
    "Remarks",
    "Balance due",
)

_CODES = {"ordinary": 1, "thin_faint": 2, "thick_marker": 3, "non_digit": 4}
_SHAPE_CODES = {"single": 1, "number": 2, "blank": 3, "ruled": 4, "printed": 5, "scribble": 6}


@dataclass(frozen=True)
class Picture:
    """One held-out picture and what it truly shows."""

    data: bytes = field(repr=False)  # the encoded picture (JPEG or PNG)
    text: str  # the digits written, left to right; "" when there are none
    family: str  # ordinary | thin_faint | thick_marker | non_digit
    shape: str  # single | number | blank | ruled | printed | scribble
    style: str  # photo | scan | canvas_dark | canvas_light
    gap: str | None = None  # wide | tight | touching, for numbers
    length: int = 0  # how many digits
    name: str = ""
    details: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def format(self) -> str:
        return "jpeg" if self.data[:2] == b"\xff\xd8" else "png"


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    from tests.images import mnist_test_digits

    images, labels = mnist_test_digits()
    usable = usable_indices(labels)
    by_digit = {d: usable[labels[usable] == d] for d in range(10)}
    return images, labels, by_digit


def _rng(seed: int, family: str, shape: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _CODES[family], _SHAPE_CODES[shape], index])


# ---------------------------------------------------------------------------------------------- digits


def _pick(rng, options: dict[str, float]) -> str:
    names = list(options)
    weights = np.array([options[n] for n in names], float)
    return names[rng.choice(len(names), p=weights / weights.sum())]


def _pen(rng, family: str, style: str) -> Pen:
    if family == "thin_faint":
        return Pen("stroke", width=rng.uniform(1.0, 2.0), skips=int(rng.choice(3, p=[0.25, 0.5, 0.25])))
    if family == "thick_marker":
        return Pen("marker", width_factor=rng.uniform(2.0, 3.0), threshold=rng.uniform(0.4, 0.5))
    if style.startswith("canvas"):
        if rng.random() < 0.7:
            return Pen("stroke", width=rng.uniform(2.2, 3.8))
        return Pen("native", offset=rng.uniform(-0.2, 0.5), threshold=rng.uniform(0.35, 0.55))
    if rng.random() < 0.6:
        return Pen("native", offset=rng.uniform(-0.3, 0.5), threshold=rng.uniform(0.35, 0.55))
    return Pen("stroke", width=rng.uniform(2.0, 3.2))


def _glyphs(rng, digits: list[int], family: str, style: str) -> list[Glyph]:
    images, labels, by_digit = _digits()
    slant = rng.uniform(-0.12, 0.3)
    size = rng.uniform(0.95, 1.05)
    pen = _pen(rng, family, style)
    glyphs = []
    for digit in digits:
        index = int(rng.choice(by_digit[digit]))
        own_pen = pen
        if family == "thin_faint":  # where the pen skips differs from digit to digit
            own_pen = Pen("stroke", width=pen.width, skips=int(rng.choice(3, p=[0.25, 0.5, 0.25])))
        glyphs.append(
            Glyph(
                digit,
                digit_field(images[index], own_pen, rng),
                scale=size * rng.uniform(0.9, 1.1),
                shear=slant + rng.uniform(-0.05, 0.05),
                angle=rng.uniform(-4, 4),
            )
        )
    return glyphs


def _line_content(line: Line, pad: float = 1.5) -> scenes.Content:
    left, top, right, bottom = line.box
    origin = (left - pad, top - pad)
    width, height = right - left + 2 * pad, bottom - top + 2 * pad

    def draw(scale: float) -> np.ndarray:
        shape = (int(np.ceil(height * scale)), int(np.ceil(width * scale)))
        return line.render(scale, origin, shape)

    heights = [p.glyph.local_box[3] - p.glyph.local_box[1] for p in line.placed]
    return scenes.Content(width, height, draw, digit_height=float(np.median(heights)))


MIN_DIGIT_PX = {"ordinary": 30.0, "thin_faint": 48.0, "thick_marker": 30.0}
STYLES = {
    "ordinary": {"photo": 0.5, "scan": 0.25, "canvas_dark": 0.125, "canvas_light": 0.125},
    "thin_faint": {"photo": 0.7, "scan": 0.3},
    "thick_marker": {"photo": 0.45, "scan": 0.25, "canvas_dark": 0.15, "canvas_light": 0.15},
}


def _render(rng, content: scenes.Content, family: str, style: str, single: bool) -> tuple[bytes, dict, str]:
    colour = "black" if rng.random() < 0.55 else "blue"
    if style.startswith("canvas"):
        data, info = scenes.canvas(rng, content, dark=style == "canvas_dark", single=single)
        return data, info, "canvas"
    if family == "thin_faint":
        ink = scenes.faint_ink(rng, colour)
    else:
        ink = scenes.pen_ink(rng, colour, marker=family == "thick_marker")
    if style == "photo":
        data, info = scenes.photo(rng, content, ink, single=single, min_digit_px=MIN_DIGIT_PX[family])
    else:
        data, info = scenes.scan(rng, content, ink, single=single, min_digit_px=MIN_DIGIT_PX[family])
    return data, info, colour


def digit_picture(seed: int, family: str, index: int, digit: int) -> Picture:
    rng = _rng(seed, family, "single", index)
    style = _pick(rng, STYLES[family])
    glyphs = _glyphs(rng, [digit], family, style)
    line = Line([Placed(glyphs[0], 0.0, 0.0)], None, [], [])
    data, info, colour = _render(rng, _line_content(line), family, style, single=True)
    info["pen"] = colour
    return Picture(data, str(digit), family, "single", style, None, 1, f"{family}-single-{index:04d}", info)


def number_picture(seed: int, family: str, index: int, gap: str, length: int) -> Picture:
    rng = _rng(seed, family, "number", index)
    style = _pick(rng, STYLES[family])
    digits = [int(d) for d in rng.integers(0, 10, length)]
    line = lay_out(_glyphs(rng, digits, family, style), gap, rng)
    data, info, colour = _render(rng, _line_content(line), family, style, single=False)
    info.update(pen=colour, measured=line.measured, shared=line.shared)
    return Picture(data, line.text, family, "number", style, gap, length, f"{family}-number-{index:04d}", info)


# ---------------------------------------------------------------------------------------------- no digits


def _word_content(rng) -> scenes.Content:
    fonts = sorted(p for p in FONT_DIR.glob("DejaVu*.ttf") if "MathTeX" not in p.name)
    font_path = fonts[rng.integers(len(fonts))]
    word = WORDS[rng.integers(len(WORDS))]
    if rng.random() < 0.25:
        word = word.upper()
    reference = ImageFont.truetype(str(font_path), 100)
    left, top, right, bottom = reference.getbbox(word)
    units = 20.0 / 100  # a 100-pixel font is 20 units: letters about as tall as handwritten digits
    pad = 2.0
    width, height = (right - left) * units + 2 * pad, (bottom - top) * units + 2 * pad

    def draw(scale: float) -> np.ndarray:
        size = max(6, int(round(100 * units * scale)))
        font = ImageFont.truetype(str(font_path), size)
        shape = (int(np.ceil(height * scale)), int(np.ceil(width * scale)))
        image = Image.new("L", (shape[1], shape[0]), 0)
        x, y, _, _ = font.getbbox(word)
        ImageDraw.Draw(image).text((pad * scale - x, pad * scale - y), word, fill=255, font=font)
        return np.asarray(image, dtype=np.float32) / 255

    return scenes.Content(width, height, draw, digit_height=None)


def _scribble_points(rng) -> tuple[np.ndarray, float, float]:
    """A scribble's path in units: a tangle of loops, or a back-and-forth crossing out."""
    width, height = rng.uniform(40, 150), rng.uniform(22, 60)
    if rng.random() < 0.6:
        position = np.array([width / 2, height / 2])
        heading = rng.uniform(0, 2 * np.pi)
        curvature = 0.0
        points = [position.copy()]
        length = rng.uniform(6, 14) * (width + height)
        for _ in range(int(length / 0.5)):
            curvature = np.clip(curvature + rng.normal(0, 0.05), -0.45, 0.45)
            offset = (position - [width / 2, height / 2]) / [width / 2, height / 2]
            if np.hypot(*offset) > 1.0:  # turn back towards the middle
                towards = np.arctan2(-offset[1] * height, -offset[0] * width)
                heading += 0.25 * np.angle(np.exp(1j * (towards - heading)))
            heading += curvature * 0.5
            position = position + 0.5 * np.array([np.cos(heading), np.sin(heading)])
            points.append(position.copy())
        path = np.array(points)
    else:
        strokes = int(width / rng.uniform(2.0, 4.5))
        xs = np.linspace(0, width, strokes) + rng.normal(0, 0.8, strokes)
        ys = np.where(np.arange(strokes) % 2 == 0, 0.0, height) + rng.normal(0, height * 0.08, strokes)
        slant = rng.uniform(-0.4, 0.4) * height
        xs = xs + np.where(np.arange(strokes) % 2 == 0, slant / 2, -slant / 2)
        path = np.c_[xs, ys]
        for _ in range(3):  # round the turns a little
            q = 0.75 * path[:-1] + 0.25 * path[1:]
            r = 0.25 * path[:-1] + 0.75 * path[1:]
            path = np.empty((2 * len(q), 2))
            path[0::2], path[1::2] = q, r
    path -= path.min(axis=0)
    return path, float(path[:, 0].max()), float(path[:, 1].max())


def _scribble_content(rng) -> scenes.Content:
    path, width, height = _scribble_points(rng)
    pen = rng.uniform(1.5, 3.5)
    pad = pen + 1.0

    def draw(scale: float) -> np.ndarray:
        shape = (int(np.ceil((height + 2 * pad) * scale)), int(np.ceil((width + 2 * pad) * scale)))
        big = Image.new("L", (shape[1] * 2, shape[0] * 2), 0)
        points = [tuple(p) for p in ((path + pad) * scale * 2)]
        ImageDraw.Draw(big).line(points, fill=255, width=max(1, int(round(pen * scale * 2))), joint="curve")
        small = big.resize((shape[1], shape[0]), Image.Resampling.BOX)
        return np.asarray(small, dtype=np.float32) / 255

    return scenes.Content(width + 2 * pad, height + 2 * pad, draw, digit_height=None)


def non_digit_picture(seed: int, kind: str, index: int) -> Picture:
    rng = _rng(seed, "non_digit", kind, index)
    name = f"non_digit-{kind}-{index:04d}"
    if kind == "blank":
        data, info = scenes.photo(rng, None, None, table=index % 3 == 0)
        style = "photo"
    elif kind == "ruled":
        style = "photo" if rng.random() < 0.7 else "scan"
        if style == "photo":
            data, info = scenes.photo(rng, None, None, table=rng.random() < 0.25, ruled=True)
        else:
            data, info = scenes.scan(rng, None, None, ruled=True)
    elif kind == "printed":
        style = "photo" if rng.random() < 0.6 else "scan"
        content = _word_content(rng)
        ink = scenes.Ink((0.08, 0.08, 0.09), evenness=0.95)
        if style == "photo":
            data, info = scenes.photo(rng, content, ink)
        else:
            data, info = scenes.scan(rng, content, ink)
    elif kind == "scribble":
        style = _pick(rng, {"photo": 0.5, "scan": 0.25, "canvas_dark": 0.125, "canvas_light": 0.125})
        content = _scribble_content(rng)
        if style.startswith("canvas"):
            data, info = scenes.canvas(rng, content, dark=style == "canvas_dark")
        else:
            ink = scenes.pen_ink(rng, "black" if rng.random() < 0.55 else "blue")
            maker = scenes.photo if style == "photo" else scenes.scan
            data, info = maker(rng, content, ink)
    else:
        raise ValueError(f"unknown non-digit kind {kind!r}")
    return Picture(data, "", "non_digit", kind, style, None, 0, name, info)


# ---------------------------------------------------------------------------------------------- the suite


def suite_plan(seed: int = SEED, scale: float = 1.0) -> list[tuple]:
    """What the suite holds, as calls to make; `scale` < 1 makes a smaller suite (for quick looks)."""

    def count(n: int) -> int:
        return max(1, int(round(n * scale)))

    # a picture's index depends only on where it sits in the full set, so a smaller set holds
    # the very same pictures as the first ones of each group
    plan: list[tuple] = []
    for g, gap in enumerate(GAP_KINDS):
        for n, length in enumerate(LENGTHS):
            first = (g * len(LENGTHS) + n) * NUMBERS_PER_GAP_AND_LENGTH
            for k in range(count(NUMBERS_PER_GAP_AND_LENGTH)):
                plan.append((number_picture, seed, "ordinary", first + k, gap, length))
    for index in range(count(SINGLES)):
        plan.append((digit_picture, seed, "ordinary", index, index % 10))
    for family in ("thin_faint", "thick_marker"):
        for index in range(count(HARD_SINGLES)):
            plan.append((digit_picture, seed, family, index, index % 10))
        for n, length in enumerate(LENGTHS):
            for k in range(count(HARD_NUMBERS_PER_LENGTH)):
                index = n * HARD_NUMBERS_PER_LENGTH + k
                plan.append((number_picture, seed, family, index, GAP_KINDS[index % 3], length))
    for kind in NON_DIGIT_KINDS:
        for index in range(count(NON_DIGITS[kind])):
            plan.append((non_digit_picture, seed, kind, index))
    return plan


def make(step: tuple) -> Picture:
    function, *arguments = step
    return function(*arguments)


def build_suite(seed: int = SEED, scale: float = 1.0, workers: int = 1) -> list[Picture]:
    """Every held-out picture, in a fixed order (see the module's docstring for the families)."""
    plan = suite_plan(seed, scale)
    if workers <= 1:
        return [make(step) for step in plan]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fresh processes (not forks): the caller may already run TensorFlow's threads
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(make, plan, chunksize=8))
