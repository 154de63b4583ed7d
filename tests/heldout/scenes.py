"""Pictures around the ink: a phone photo of paper, a flat scan, or a drawing canvas.

Every scene takes ink as a coverage array (0..1) made at the scale the scene asks for, and
returns encoded picture bytes. All randomness comes from the `rng` passed in.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageFilter
from scipy import ndimage

# ---------------------------------------------------------------------------------------------- content


@dataclass
class Content:
    """Something drawn on the page: `draw(scale)` gives its coverage at `scale` pixels per unit.

    `width` and `height` are its size in units; `digit_height` the height of one digit in units
    (None for content without digits), which scenes use to keep digits a sensible size."""

    width: float
    height: float
    draw: Callable[[float], np.ndarray]
    digit_height: float | None = 20.0


@dataclass(frozen=True)
class Ink:
    """The pen's colour as a fraction of the paper's reflectance, and how evenly it lays down."""

    colour: tuple[float, float, float]
    evenness: float = 0.85  # lowest share of full strength the pen gives here and there
    faint_levels: float | None = None  # thin_faint: how many grey levels darker than the paper


BLACK_PENS = [(0.13, 0.13, 0.16), (0.18, 0.18, 0.2), (0.1, 0.1, 0.12), (0.22, 0.21, 0.23)]
BLUE_PENS = [(0.16, 0.22, 0.55), (0.12, 0.18, 0.48), (0.2, 0.28, 0.62), (0.1, 0.16, 0.4)]


def pen_ink(rng: np.random.Generator, colour: str, marker: bool = False) -> Ink:
    palette = BLACK_PENS if colour == "black" else BLUE_PENS
    base = np.array(palette[rng.integers(len(palette))]) * rng.uniform(0.85, 1.15)
    if marker:
        base = base * 0.7
    return Ink(tuple(np.clip(base, 0.03, 0.9)), evenness=rng.uniform(0.8 if marker else 0.7, 0.97))


def faint_ink(rng: np.random.Generator, colour: str) -> Ink:
    tint = (1.0, 1.0, 1.0) if colour == "black" else (1.12, 1.05, 0.78)  # pencil grey, or a pale blue
    return Ink(tint, evenness=rng.uniform(0.75, 0.95), faint_levels=rng.uniform(10.0, 40.0))


# ---------------------------------------------------------------------------------------------- helpers


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=2)
    return buffer.getvalue()


def _coarse(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Smooth random values in 0..1 on a coarse grid of about `cells` along the longer side."""
    h, w = shape
    gh = max(2, int(round(cells * h / max(h, w))))
    gw = max(2, int(round(cells * w / max(h, w))))
    coarse = ndimage.gaussian_filter(rng.standard_normal((gh + 4, gw + 4)), 1.0)[2:-2, 2:-2]
    return (coarse - coarse.min()) / max(float(np.ptp(coarse)), 1e-6)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int, low: float, high: float) -> np.ndarray:
    """A smooth random field over `shape`, varying between about `low` and `high`."""
    h, w = shape
    image = Image.fromarray((low + (high - low) * _coarse(rng, shape, cells)).astype(np.float32), "F")
    return np.asarray(image.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)


def _rgb_image(values: np.ndarray, size: tuple[int, int], resample=Image.Resampling.BILINEAR) -> Image.Image:
    """A coarse (h, w, 3) array of 0..1 values stretched smoothly over `size` (w, h)."""
    small = Image.fromarray(np.clip(values * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")
    return small.resize(size, resample)


NOISE_TILE = 2100
NOISE_LEVELS = (1.0, 1.8, 2.6, 3.4, 4.2, 5.0)


@functools.lru_cache(maxsize=len(NOISE_LEVELS))
def _noise_tile(sigma: float) -> Image.Image:
    """Sensor noise around 128, made once per process: mostly shared by the channels, partly not."""
    rng = np.random.default_rng(int(sigma * 1000))
    shared = rng.standard_normal((NOISE_TILE, NOISE_TILE, 1), dtype=np.float32)
    own = rng.standard_normal((NOISE_TILE, NOISE_TILE, 3), dtype=np.float32)
    noise = (shared + 0.35 * own) * np.float32(sigma / np.sqrt(1 + 0.35**2)) + 128.5
    return Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8), "RGB")


def add_noise(rng: np.random.Generator, image: Image.Image, sigma: float) -> Image.Image:
    """`image` with sensor noise of about `sigma` grey levels."""
    level = min(NOISE_LEVELS, key=lambda s: abs(s - sigma))
    tile = _noise_tile(level)
    if rng.random() < 0.5:
        tile = tile.transpose(Image.Transpose.TRANSPOSE)
    w, h = image.size
    if w > NOISE_TILE or h > NOISE_TILE:
        big = Image.new("RGB", (max(w, NOISE_TILE) + NOISE_TILE, max(h, NOISE_TILE) + NOISE_TILE))
        for x in range(0, big.width, NOISE_TILE):
            for y in range(0, big.height, NOISE_TILE):
                big.paste(tile, (x, y))
        tile = big
    ox = int(rng.integers(0, tile.width - w + 1))
    oy = int(rng.integers(0, tile.height - h + 1))
    noise = tile.crop((ox, oy, ox + w, oy + h))
    if image.mode != "RGB":
        noise = noise.getchannel(int(rng.integers(3)))
    return ImageChops.add(image, noise, 1.0, -128)


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 matrix taking the 4 points `src` to `dst`."""
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coeffs = np.linalg.solve(np.array(rows, float), dst.reshape(-1).astype(float))
    return np.append(coeffs, 1.0).reshape(3, 3)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    homogeneous = np.c_[points, np.ones(len(points))] @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:]


def _soften(coverage: np.ndarray, sigma: float) -> np.ndarray:
    """The ink as a lens slightly out of focus sees it."""
    if sigma < 0.2:
        return coverage
    image = Image.fromarray(np.clip(coverage * 255 + 0.5, 0, 255).astype(np.uint8), "L")
    return np.asarray(image.filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32) / 255


def _lay_ink(page: Image.Image, coverage: np.ndarray, left: int, top: int, ink: Ink, rng, paper_level=None) -> None:
    """Darken the page where the ink covers it."""
    h, w = coverage.shape
    w, h = min(w, page.width - left), min(h, page.height - top)
    coverage = coverage[:h, :w]
    region = np.asarray(page.crop((left, top, left + w, top + h)), dtype=np.float32)
    strength = coverage * smooth_field(rng, (h, w), 6, ink.evenness, 1.0)
    if ink.faint_levels is not None:
        level = paper_level if paper_level is not None else 230.0
        darkness = min(ink.faint_levels / level, 0.5)
        colour = 1.0 - darkness * np.array(ink.colour) / np.mean(ink.colour)
    else:
        colour = np.array(ink.colour)
    region *= 1.0 - strength[..., None] * (1.0 - colour[None, None, :]).astype(np.float32)
    page.paste(Image.fromarray(np.clip(region + 0.5, 0, 255).astype(np.uint8), "RGB"), (left, top))


# ---------------------------------------------------------------------------------------------- page


@dataclass
class Page:
    """The paper (and maybe the table around it), before the camera or scanner sees it."""

    image: Image.Image  # RGB, as the picture frames it
    tint: np.ndarray  # the paper's colour, 0..1
    free: tuple[int, int, int, int]  # (left, top, right, bottom) where content may go, in page coordinates
    size: tuple[int, int]  # (width, height) of the page's coordinates
    edge: tuple | None = None  # (side, position, tilt) of the sheet's edge when the table shows
    to_page: np.ndarray | None = None  # 3x3: the picture's pixels to page coordinates (None: the same)

    def page_coordinates(self, xx: np.ndarray, yy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the picture's pixels (xx, yy) lie on the page."""
        if self.to_page is None:
            return xx, yy
        m = self.to_page
        d = m[2, 0] * xx + m[2, 1] * yy + m[2, 2]
        return (m[0, 0] * xx + m[0, 1] * yy + m[0, 2]) / d, (m[1, 0] * xx + m[1, 1] * yy + m[1, 2]) / d

    def beyond(self, x, y):
        """How far (x, y) lies beyond the sheet's edge, in pixels (negative: on the paper)."""
        if self.edge is None:
            return np.full(np.broadcast(x, y).shape, -np.inf)
        side, at, tilt = self.edge
        w, h = self.size
        if side in ("left", "right"):
            offset = (x - at) - np.tan(tilt) * (y - h / 2)
            return -offset if side == "left" else offset
        offset = (y - at) - np.tan(tilt) * (x - w / 2)
        return -offset if side == "top" else offset

    def on_paper(self, x: float, y: float) -> bool:
        return bool(self.beyond(x, y) < 0)


def make_page(
    rng,
    size: tuple[int, int],
    free: tuple[int, int, int, int],
    table: bool,
    grey: bool = False,
    need=(0, 0),
    brightness: float = 1.0,
    frame: tuple[int, int] | None = None,
) -> Page:
    """Paper filling the picture, or (with `table`) a sheet whose edge crosses it, leaving room for
    content of `need` (width, height) pixels on the paper; no table when no edge leaves that room.

    `size` is the page's extent in its own coordinates, `frame` the picture's size (default the
    same); the table itself is drawn by `add_table` once the camera's view is known."""
    w, h = size
    fw, fh = frame or size
    if grey:
        tint = np.array([1.0, 1.0, 1.0]) * rng.uniform(0.8, 0.9)
    else:
        tint = np.array([1.0, rng.uniform(0.97, 1.0), rng.uniform(0.9, 1.0)]) * rng.uniform(0.86, 0.95)
    tint = np.clip(tint * brightness, 0, 0.985)
    coarse = _coarse(rng, (fh, fw), 24)
    texture = 1.0 - rng.uniform(0.005, 0.025) * coarse
    image = _rgb_image(tint[None, None, :] * texture[..., None], (fw, fh), Image.Resampling.BICUBIC)
    left, top, right, bottom = free
    edge = None
    if table:
        tilt = np.deg2rad(rng.uniform(-8, 8))
        for side in rng.permutation(["left", "right", "top", "bottom"]):
            across = w if side in ("left", "right") else h
            along = h if side in ("left", "right") else w
            at = rng.uniform(0.12, 0.3) * across
            reach = at + abs(np.tan(tilt)) * along / 2 + 0.05 * across
            if side == "left":
                room = right - max(left, reach)
            elif side == "right":
                room = min(right, w - reach) - left
            elif side == "top":
                room = bottom - max(top, reach)
            else:
                room = min(bottom, h - reach) - top
            if room >= (need[0] if side in ("left", "right") else need[1]):
                edge = (str(side), at if side in ("left", "top") else across - at, tilt)
                if side == "left":
                    left = max(left, int(reach))
                elif side == "right":
                    right = min(right, int(w - reach))
                elif side == "top":
                    top = max(top, int(reach))
                else:
                    bottom = min(bottom, int(h - reach))
                break
    return Page(image, tint, (left, top, right, bottom), (w, h), edge)


def add_table(page: Page, rng, brightness: float) -> None:
    """Show the table beyond the sheet's edge, with the thin shadow the sheet casts on it."""
    if page.edge is None:
        return
    w, h = page.image.size
    factor = 4
    sw, sh = int(np.ceil(w / factor)), int(np.ceil(h / factor))
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float64) * factor
    outside = page.beyond(*page.page_coordinates(xx, yy))
    if rng.random() < 0.5:  # wood
        colour = np.array([0.42, 0.28, 0.17]) * rng.uniform(0.5, 1.1)
        sigma = (0.6, 6.0) if rng.random() < 0.5 else (6.0, 0.6)
        streaks = ndimage.gaussian_filter(rng.standard_normal((64, 64)), sigma)
        streaks = np.asarray(
            Image.fromarray(streaks.astype(np.float32), "F").resize((sw, sh), Image.Resampling.BICUBIC)
        )
        grain = 1.0 + 0.25 * streaks / max(float(np.abs(streaks).max()), 1e-6)
    else:  # a plain dark desk
        colour = np.array([1.0, 1.0, rng.uniform(0.9, 1.15)]) * rng.uniform(0.08, 0.35)
        grain = 1.0 + 0.16 * (_coarse_full(rng, (sh, sw), 40) - 0.5)
    shade = 1.0 - 0.35 * np.exp(-np.maximum(outside, 0) / max(4.0, 0.008 * max(w, h)))
    table = colour[None, None, :] * (grain * shade)[..., None] * brightness
    table_image = _rgb_image(table, (w, h))
    mask = np.clip(outside / 1.5 + 0.5, 0, 1)
    mask_image = Image.fromarray((mask * 255).astype(np.uint8), "L").resize((w, h), Image.Resampling.BILINEAR)
    page.image = Image.composite(table_image, page.image, mask_image)


def _coarse_full(rng, shape, cells) -> np.ndarray:
    h, w = shape
    image = Image.fromarray(_coarse(rng, shape, cells).astype(np.float32), "F")
    return np.asarray(image.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)


def rule_page(page: Page, rng, style: str) -> None:
    """Print a ruled page's lines (and maybe its margin) on the paper."""
    w, h = page.image.size
    spacing = rng.uniform(0.05, 0.09) * h if style == "photo" else rng.uniform(0.035, 0.06) * h
    thickness = max(1.0, rng.uniform(0.0012, 0.003) * max(h, w))
    first = rng.uniform(0.0, spacing)
    yy, xx = page.page_coordinates(np.arange(w, dtype=np.float64)[None, :], np.arange(h, dtype=np.float64)[:, None])[
        ::-1
    ]
    xx, yy = np.broadcast_arrays(xx, yy)
    tilt = rng.uniform(-0.01, 0.01)
    phase = np.mod(yy - first - tilt * xx, spacing)
    distance = np.minimum(phase, spacing - phase)
    strength = np.clip(thickness / 2 - distance + 0.5, 0, 1) * rng.uniform(0.6, 1.0)
    colour = np.array([0.62, 0.74, 0.9]) if rng.random() < 0.8 else np.array([0.62, 0.62, 0.64])
    layers = [(strength, colour)]
    if rng.random() < 0.6:
        at = (page.size[0] - w) / 2 + rng.uniform(0.08, 0.16) * w
        margin = np.clip(thickness * 0.8 - np.abs(xx - at - tilt * yy) + 0.5, 0, 1) * 0.9
        layers.append((margin, np.array([0.92, 0.5, 0.52])))
    on_paper = page.beyond(xx, yy) < 0
    for amount, tint in layers:
        amount = amount * on_paper
        coloured = ImageChops.multiply(page.image, Image.new("RGB", (w, h), tuple(int(255 * c) for c in tint)))
        mask = Image.fromarray(np.clip(amount * 255 + 0.5, 0, 255).astype(np.uint8), "L")
        page.image = Image.composite(coloured, page.image, mask)


# ---------------------------------------------------------------------------------------------- sizes


def _picture_size(rng, low: int, high: int) -> tuple[int, int]:
    long_side = int(rng.integers(low, high + 1))
    ratio = [4 / 3, 3 / 2, 16 / 9, 1.0][rng.choice(4, p=[0.5, 0.15, 0.15, 0.2])]
    short_side = int(round(long_side / ratio))
    return (long_side, short_side) if rng.random() < 0.6 else (short_side, long_side)


def _content_scale(rng, content: Content, size, min_digit_px: float, single: bool) -> float:
    """Pixels per unit: a number spans 30-90% of the width, a lone digit a share of the height."""
    w, h = size
    if single:
        scale = rng.uniform(0.15, 0.6) * min(w, h) / content.height
    else:
        scale = rng.uniform(0.3, 0.9) * w / content.width
    scale = min(scale, 0.85 * w / content.width, 0.6 * h / content.height)
    if content.digit_height:
        scale = max(scale, min_digit_px / content.digit_height)
    return scale


def _fit_size(rng, content: Content, size, scale: float) -> tuple[int, int]:
    """Grow the picture when the content at `scale` would not fit in it comfortably."""
    w, h = size
    need_w = content.width * scale / 0.88
    need_h = content.height * scale / 0.62
    grow = max(need_w / w, need_h / h, 1.0)
    return int(np.ceil(w * grow)), int(np.ceil(h * grow))


def _place(rng, page: Page, cov_w: int, cov_h: int) -> tuple[int, int]:
    left, top, right, bottom = page.free
    if right - left < cov_w or bottom - top < cov_h:
        w, h = page.size
        left, top, right, bottom = 0, 0, max(cov_w, w), max(cov_h, h)
    x0 = int(rng.uniform(left, max(left, right - cov_w) + 1))
    y0 = int(rng.uniform(top, max(top, bottom - cov_h) + 1))
    return x0, y0


# ---------------------------------------------------------------------------------------------- photo


def _warp_patch(coverage: np.ndarray, x0: int, y0: int, to_page: np.ndarray, size) -> tuple[np.ndarray, int, int]:
    """The coverage laid at (x0, y0) on the page, as the picture sees it, and where it lands."""
    h, w = coverage.shape
    corners = np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]], float)
    seen = _apply(np.linalg.inv(to_page), corners)
    left, top = (int(v) for v in np.maximum(np.floor(seen.min(axis=0)), 0))
    right, bottom = (int(v) for v in np.minimum(np.ceil(seen.max(axis=0)), size))
    shift_out = np.array([[1, 0, left], [0, 1, top], [0, 0, 1]], float)
    shift_in = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], float)
    local = shift_in @ to_page @ shift_out
    coeffs = tuple((local / local[2, 2]).reshape(-1)[:8])
    image = Image.fromarray(np.clip(coverage * 255 + 0.5, 0, 255).astype(np.uint8), "L")
    warped = image.transform(
        (right - left, bottom - top), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    return np.asarray(warped, dtype=np.float32) / 255, left, top


def _coverage(content: Content, scale: float, sigma: float) -> tuple[np.ndarray, int]:
    """The content's ink at `scale`, softened by `sigma` pixels, and the padding added around it."""
    coverage = content.draw(scale)
    pad = int(np.ceil(3 * sigma)) + 1
    return _soften(np.pad(coverage, pad), sigma), pad


def photo(
    rng: np.random.Generator,
    content: Content | None,
    ink: Ink | None,
    single: bool = False,
    table: bool | None = None,
    ruled: bool = False,
    min_digit_px: float = 30.0,
) -> tuple[bytes, dict]:
    """A phone photo of paper with `content` written on it: uneven light, maybe a shadow, a slight
    tilt of the camera, a little out of focus, sensor noise, JPEG."""
    size = _picture_size(rng, 800, 2000)
    scale = 0.0
    if content is not None:
        scale = _content_scale(rng, content, size, min_digit_px, single)
        size = _fit_size(rng, content, size, scale)
    w, h = size
    faint = ink is not None and ink.faint_levels is not None
    if table is None:
        table = rng.random() < 0.15

    # light over the picture: a gradient, darker corners, maybe a shadow, a colour cast
    grid = (48, max(2, int(round(48 * w / h)))) if w >= h else (max(2, int(round(48 * h / w))), 48)
    gy, gx = np.mgrid[0 : grid[0], 0 : grid[1]].astype(np.float32)
    gy, gx = gy / (grid[0] - 1), gx / (grid[1] - 1)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(direction) * (gx - 0.5) + np.sin(direction) * (gy - 0.5)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - rng.uniform(0.08, 0.4) * ramp
    radius = np.hypot(gx - rng.uniform(0.3, 0.7), gy - rng.uniform(0.3, 0.7))
    light *= 1.0 - rng.uniform(0.0, 0.3) * (radius / radius.max()) ** 2
    if rng.random() < 0.45:
        normal = rng.uniform(0, 2 * np.pi)
        across = np.cos(normal) * (gx - 0.5) * w / max(w, h) + np.sin(normal) * (gy - 0.5) * h / max(w, h)
        cut = rng.uniform(-0.3, 0.2)
        softness = rng.uniform(0.01, 0.06)
        light *= 1.0 - rng.uniform(0.2, 0.45) / (1.0 + np.exp(-(across - cut) / softness))
    cast = np.array([1.0, 1.0, 1.0]) + rng.uniform(-1, 1) * np.array([0.06, 0.0, -0.08])
    light_rgb = light[..., None] * cast[None, None, :]
    top_value = float(light_rgb.max())
    light_rgb /= top_value
    brightness = rng.uniform(0.85, 1.12) * top_value

    margin = 0.07
    cw, ch = int(round(w * (1 + 2 * margin))), int(round(h * (1 + 2 * margin)))
    frame_left, frame_top = (cw - w) / 2, (ch - h) / 2
    free = (
        int(frame_left + 0.05 * w),
        int(frame_top + 0.05 * h),
        int(frame_left + 0.95 * w),
        int(frame_top + 0.95 * h),
    )
    blur = (rng.uniform(0.3, 0.8) if faint else rng.uniform(0.3, 1.5)) * max(w, h) / 1400
    coverage, pad = (None, 0) if content is None else _coverage(content, scale, blur)
    need = (0, 0) if coverage is None else (coverage.shape[1], coverage.shape[0])
    page = make_page(rng, (cw, ch), free, table, need=need, brightness=brightness, frame=(w, h))

    # where the camera looks: the frame, turned a little and seen slightly from the side
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    for attempt in range(8):
        calm = max(0.0, 1.0 - attempt / 5)
        angle = np.deg2rad(rng.uniform(-4, 4) * calm)
        turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        quad = (frame - [w / 2, h / 2]) @ turn.T + [cw / 2, ch / 2]
        quad += rng.uniform(-1, 1, (4, 2)) * 0.025 * calm * np.array([w, h])
        to_page = _homography(frame, quad)
        if coverage is None:
            break
        x0, y0 = _place(rng, page, need[0] - 2 * pad, need[1] - 2 * pad)
        x0, y0 = x0 - pad, y0 - pad
        box = np.array([[x0, y0], [x0 + need[0], y0], [x0 + need[0], y0 + need[1]], [x0, y0 + need[1]]], float)
        box += np.array([[pad, pad], [-pad, pad], [-pad, -pad], [pad, -pad]])
        seen = _apply(np.linalg.inv(to_page), box)
        room = 0.015 * min(w, h)
        inside = bool(((seen >= room) & (seen <= np.array([w, h]) - room)).all())
        if inside and all(page.on_paper(x, y) for x, y in box):
            break
    else:
        raise RuntimeError("the content does not fit in the photo")
    page.to_page = to_page
    add_table(page, rng, brightness)
    if ruled:
        rule_page(page, rng, "photo")

    if coverage is not None:
        paper_level = None
        if faint:
            centre = _apply(np.linalg.inv(to_page), np.array([[x0 + need[0] / 2, y0 + need[1] / 2]], float))[0]
            gx_c = int(np.clip(centre[0] / w * (grid[1] - 1), 0, grid[1] - 1))
            gy_c = int(np.clip(centre[1] / h * (grid[0] - 1), 0, grid[0] - 1))
            paper_level = float(page.tint.mean() * light_rgb[gy_c, gx_c].mean() * 255)
        seen_coverage, left, top = _warp_patch(coverage, x0, y0, to_page, (w, h))
        _lay_ink(page.image, seen_coverage, left, top, ink, rng, paper_level)

    image = page.image
    image = ImageChops.multiply(image, _rgb_image(light_rgb, (w, h)))
    image = add_noise(rng, image, rng.uniform(2.5, 5.0) if faint else rng.uniform(1.0, 4.5))
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.UnsharpMask(radius=rng.uniform(1.0, 2.5), percent=int(rng.integers(30, 90))))
    quality = int(rng.integers(80, 96)) if faint else int(rng.integers(68, 96))
    info = {"size": (w, h), "scale": scale, "table": page.edge is not None}
    return encode_jpeg(image, quality), info


# ---------------------------------------------------------------------------------------------- scan


def scan(
    rng: np.random.Generator,
    content: Content | None,
    ink: Ink | None,
    single: bool = False,
    ruled: bool = False,
    min_digit_px: float = 30.0,
) -> tuple[bytes, dict]:
    """A flat scan: white or greyish paper, even light (a faint ink's page less so), mild noise."""
    size = _picture_size(rng, 700, 1800)
    scale = 0.0
    if content is not None:
        scale = _content_scale(rng, content, size, min_digit_px, single)
        size = _fit_size(rng, content, size, scale)
    w, h = size
    faint = ink is not None and ink.faint_levels is not None
    free = (int(0.04 * w), int(0.04 * h), int(0.96 * w), int(0.96 * h))
    page = make_page(rng, (w, h), free, table=False, grey=rng.random() < 0.35, brightness=rng.uniform(1.0, 1.08))
    if ruled:
        rule_page(page, rng, "scan")
    unevenness = rng.uniform(0.04, 0.12) if faint else rng.uniform(0.0, 0.04)
    if content is not None:
        coverage, pad = _coverage(content, scale, rng.uniform(0.3, 0.8))
        x0, y0 = _place(rng, page, coverage.shape[1] - 2 * pad, coverage.shape[0] - 2 * pad)
        paper_level = float(page.tint.mean() * 255 * (1 - unevenness / 2))
        _lay_ink(page.image, coverage, x0 - pad, y0 - pad, ink, rng, paper_level)
    image = page.image
    if unevenness > 0.005:
        shade = 1.0 - unevenness * _coarse(rng, (h, w), 4)
        image = ImageChops.multiply(image, _rgb_image(np.repeat(shade[..., None], 3, axis=2), (w, h)))
    border = np.asarray(image.crop((0, 0, w, 8)), dtype=np.float32).reshape(-1, 3)
    fill = tuple(int(v) for v in border.mean(axis=0))
    image = image.rotate(rng.uniform(-1.2, 1.2), resample=Image.Resampling.BILINEAR, fillcolor=fill)
    image = add_noise(rng, image, rng.uniform(2.0, 4.0) if faint else rng.uniform(0.6, 2.2))
    info = {"size": (w, h), "scale": scale}
    kind = rng.random()
    if kind < 0.3:
        return encode_png(image.convert("L")), info
    if kind < 0.55:
        return encode_png(image), info
    return encode_jpeg(image, int(rng.integers(85, 97))), info


# ---------------------------------------------------------------------------------------------- canvas


def _offset(rng, slack: int, room: int) -> int:
    """Where content with `slack` pixels to spare starts, `room` pixels from either side if possible."""
    low = min(room, slack // 2)
    return int(rng.integers(low, max(low, slack - room) + 1))


def canvas(rng: np.random.Generator, content: Content, dark: bool, single: bool = False) -> tuple[bytes, dict]:
    """A drawing made on a web canvas: flat background, one flat ink colour, PNG."""
    if single:
        side = int(rng.integers(200, 600))
        scale = rng.uniform(0.5, 0.85) * side / max(content.height, content.width)
        w, h = side, side
    else:
        h = int(rng.integers(160, 420))
        scale = rng.uniform(0.45, 0.85) * h / content.height
        w = int(np.ceil(content.width * scale / rng.uniform(0.6, 0.92)))
        if w > 2000:  # a long number on a wide canvas: keep it to a sane width
            scale *= 2000 / w
            w = 2000
    coverage = content.draw(scale)
    cov_h, cov_w = coverage.shape
    room = int(0.03 * min(w, h))  # keep a little clear of the canvas's border where there is space
    x0, y0 = (_offset(rng, max(0, size - extent), room) for size, extent in ((w, cov_w), (h, cov_h)))
    full = np.zeros((h, w), np.float32)
    full[y0 : y0 + cov_h, x0 : x0 + cov_w] = coverage[: h - y0, : w - x0]
    if dark:
        background = np.array([rng.integers(0, 45)] * 3, float)
        ink = np.array([255, 255, 255], float) - rng.integers(0, 30)
        if rng.random() < 0.2:
            ink = np.array([250, 230, 90], float)  # a coloured brush
    else:
        background = np.array([255, 255, 255], float) - rng.integers(0, 15)
        ink = np.array([rng.integers(0, 40)] * 3, float)
        if rng.random() < 0.25:
            ink = np.array([20, 50, 160], float)
    picture = background[None, None, :] * (1 - full[..., None]) + ink[None, None, :] * full[..., None]
    image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8), "RGB")
    mode = rng.random()
    if mode < 0.2:
        image = image.convert("L")
    elif mode < 0.35:
        image = image.convert("RGBA")
    return encode_png(image), {"size": (w, h), "scale": scale}
