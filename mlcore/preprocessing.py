"""Turning a real picture of a handwritten digit into the 28x28 input MNIST's digits look like.

MNIST was made by taking the ink of each digit, scaling it into a 20x20 box with its aspect
ratio kept (anti-aliased, so edges are grey), and placing it in a 28x28 field with its centre of
mass in the middle. A model trained on it only works on pictures prepared the same way, so we:

1. decode safely (size checked before decoding, EXIF rotation applied, alpha flattened),
2. remove the uneven lighting of a photo by subtracting a smooth background estimate,
3. decide the polarity (dark ink on paper, or light strokes on a dark canvas),
4. separate ink from background with a threshold set by the picture's own noise level,
5. keep the connected ink components that form the digit and drop specks,
6. thicken very thin pen strokes to MNIST's stroke width relative to the digit,
7. scale into 20x20 keeping the aspect ratio, and centre by centre of mass in 28x28.
"""

from __future__ import annotations

import functools
import io
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageStat
from scipy import ndimage

# Phone cameras reach 50 megapixels; anything larger is refused before it is decoded.
DEFAULT_MAX_PIXELS = 50_000_000
# The memory a picture may take once decoded, as Pillow holds it (see decoded_bytes): by default what the
# largest picture allowed takes in colour. A 7000x7000 PNG with transparency takes 196 MB.
DEFAULT_MAX_DECODED_BYTES = 4 * DEFAULT_MAX_PIXELS
# Find the digits on a copy with at most this many pixels along the longer side (fast); digits
# found smaller than DETAIL_SIZE there are looked at again in the picture as decoded, which big
# JPEGs give at no less than DECODE_SIZE, shrunk only so far that they stay DETAIL_SIZE tall.
WORKING_SIZE = 256
DECODE_SIZE = 480
DETAIL_SIZE = 48
# Pictures at least this big (pixels, shorter side) are lightly blurred before ink is looked for.
SMOOTH_FROM = 100
# An ink map below this contrast with the paper (0..1 luminance) is not ink but texture.
MIN_INK_CONTRAST = 0.03
# Ink-map values below this are background for measuring the noise (strokes are stronger).
QUIET_INK = 0.16
# The noise threshold, in robust standard deviations of the background.
NOISE_SIGMAS = 6.0
# Ink whose strongest pixels are less than this many thresholds strong is a faint pen: it is looked
# for along short lines, which average the paper's texture down far enough to trust a lower contrast.
FAINT_INK = 6.0
MIN_FOLLOWED_INK_CONTRAST = 0.015
# The lines' length in pixels: short while the digits' size is unknown (a big photo's small working
# copy can hold them 14 pixels tall), longer where they are known to be at least DETAIL_SIZE tall.
SHORT_STROKE_LINE = 3
STROKE_LINE = 7
# MNIST digits' strokes are about this wide relative to the height of the digit.
MNIST_STROKE_RATIO = 0.12
# Light ink is written on a dark surface (a canvas, a board): one brighter than this is paper.
LIGHT_INK_SURFACE = 0.5
# What runs along the picture's border this thick (a share of its shorter side) is beyond the paper.
EDGE_THICKNESS = 0.06
# Ink that only runs into the picture's border is writing when it is this many thresholds strong (a
# digit drawn to a canvas's edge); weaker, it is light or shade at the edge of the page.
STRONG_AT_BORDER = 6.0


class ImageError(ValueError):
    """An upload that cannot be read as a picture. `code` is stable, the message is for people."""

    code = "invalid_image"


class EmptyImageError(ImageError):
    code = "empty_file"


class NotAnImageError(ImageError):
    code = "not_an_image"


class CorruptImageError(ImageError):
    code = "corrupt_image"


class ImageTooLargeError(ImageError):
    code = "too_many_pixels"


class ImageTooLargeDecodedError(ImageTooLargeError):
    """Few enough pixels, but too much memory once decoded (e.g. a huge picture with transparency)."""

    code = "too_large_decoded"


class UnsupportedFormatError(ImageError):
    code = "unsupported_format"


# EXIF orientations that turn the picture a quarter (its width and height swap once upright).
EXIF_ORIENTATION = 0x0112
ORIENTATIONS_ON_THEIR_SIDE = (5, 6, 7, 8)
# How each EXIF orientation is undone (as ImageOps.exif_transpose does it).
UPRIGHT_BY_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# What uploads may be, judged by the bytes, never by the file name.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF")

# Pillow holds a decoded picture in a byte a pixel for black-and-white, grey and palette pictures, two for
# 16-bit grey, and four for every other mode (RGB included).
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}


def _too_large(max_pixels: int, width: int = 0, height: int = 0) -> ImageTooLargeError:
    size = f"{width}x{height} pixels" if width else "too many pixels"
    return ImageTooLargeError(f"The picture has {size}; at most {max_pixels / 1_000_000:g} megapixels are accepted.")


def decoded_bytes(image: Image.Image) -> int:
    """The memory the (opened, not yet loaded) picture takes once decoded, from its header alone."""
    width, height = image.size
    return width * height * BYTES_PER_PIXEL.get(image.mode, 4)


def _open_within_budget(
    data: bytes, max_pixels: int, max_decoded_bytes: int | None
) -> tuple[Image.Image, tuple[int, int]]:
    """The picture opened, not decoded, and its size: refused from its header when it has too many pixels
    or would take more than `max_decoded_bytes` once decoded (default: what `max_pixels` colour pixels take).

    A JPEG is set to decode at a reduced scale (`draft`), so its budget is that of the smaller decode.
    """
    if not data:
        raise EmptyImageError("The file is empty.")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # Pillow's own guard, from the header alone
        raise _too_large(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise NotAnImageError("The file is not a picture we can read (JPEG, PNG, WebP, BMP or GIF).") from None
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(max_pixels, width, height)
    if width < 1 or height < 1:
        raise CorruptImageError("The picture has no pixels.")
    if image.format == "JPEG":
        # Decode at a reduced scale straight from the JPEG data: much faster for big photos.
        # Only the luminance is used, so the decoder skips the colour planes too.
        image.draft("L", (DECODE_SIZE, DECODE_SIZE))
    budget = 4 * max_pixels if max_decoded_bytes is None else max_decoded_bytes
    needed = decoded_bytes(image)
    if needed > budget:
        raise ImageTooLargeDecodedError(
            f"The picture ({width}x{height} pixels, {image.mode}) would take {needed / 1_000_000:.1f} MB once "
            f"decoded; at most {budget / 1_000_000:g} MB are accepted."
        )
    return image, (width, height)


def _jpeg_has_end(data: bytes) -> bool:
    """Whether a JPEG holds its end-of-image marker after its first scan (a file cut short does not).

    Walks the marker segments from the start to the first start-of-scan; in the compressed data after it
    a 0xFF byte is always followed by 00 or a restart marker, so FF D9 there is the end of the picture.
    """
    position = 2  # after the start-of-image marker
    while position + 4 <= len(data):
        if data[position] != 0xFF or data[position + 1] == 0xFF:  # padding between segments
            position += 1
            continue
        marker = data[position + 1]
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # markers without a length
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan
            return data.find(b"\xff\xd9", position + 2 + length) != -1
        position += 2 + length
    return False


def inspect_upload(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_decoded_bytes: int | None = None) -> str:
    """The picture's format, read from its header, or the ImageError a user should see.

    Nothing is decoded: this runs in the web process, which must not spend a worker's memory on a
    picture (a 237 KB PNG can hold 7000x7000 pixels). The format, the pixel count and the memory the
    decoded picture would take come from the header; a JPEG or PNG cut short is found from the file's
    structure (the end-of-image marker after the scan; every chunk's checksum up to the end chunk).
    Damage inside the compressed pixels of an otherwise whole file is found by the worker, which
    then fails the prediction with the reason.
    """
    image, _size = _open_within_budget(data, max_pixels, max_decoded_bytes)
    with image:
        image_format = image.format
        if image_format not in ACCEPTED_FORMATS:
            raise UnsupportedFormatError(f"{image_format} pictures are not accepted; use JPEG, PNG, WebP, BMP or GIF.")
        damaged = CorruptImageError("The picture is damaged or truncated: the file ends too early.")
        if image_format == "JPEG" and not _jpeg_has_end(data):
            raise damaged
        if image_format == "PNG":
            try:
                image.verify()  # chunk checksums only: nothing is inflated
            except (OSError, SyntaxError, ValueError, EOFError, struct.error):
                raise damaged from None
    return image_format


def decode_image(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, max_decoded_bytes: int | None = None
) -> Image.Image:
    """The upright picture in grey ("L"), with any transparency flattened onto a contrasting background.

    Decoded within a memory budget: the size is checked from the header first (pixels, and the memory
    the decoded picture takes: see `_open_within_budget`), the picture is turned to one byte a pixel as
    soon as it is decoded (before it is turned upright), and no float copy of it is made.
    Big JPEGs are decoded at a reduced scale; `info["decoded_scale"]` says by how much
    (original size / decoded size), so boxes can be given in the original's pixels, and
    `info["original_size"]` is the original's (width, height) once upright: the space of those boxes.
    """
    image, (width, height) = _open_within_budget(data, max_pixels, max_decoded_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.seek(0)  # the first frame of an animation
            image.load()
            decoded_scale = max(width, height) / max(image.size)
            orientation = image.getexif().get(EXIF_ORIENTATION)
            grey = _flatten_transparency(image)
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombWarning) as error:
        raise CorruptImageError(f"The picture is damaged or truncated ({error}).") from None
    if grey is not image:
        image.close()  # the decoded picture in its own mode, up to 4 bytes a pixel: not needed any more
    if orientation in UPRIGHT_BY_ORIENTATION:
        grey = grey.transpose(UPRIGHT_BY_ORIENTATION[orientation])
    grey.info["decoded_scale"] = decoded_scale
    grey.info["original_size"] = (height, width) if orientation in ORIENTATIONS_ON_THEIR_SIDE else (width, height)
    return grey


def _flatten_transparency(image: Image.Image) -> Image.Image:
    """The decoded picture in grey ("L"), with any transparency flattened onto a contrasting background.

    Strokes drawn on a transparent background go on white if they are dark, on black if they are light,
    so the ink always stands out whatever colour it was drawn in. All in Pillow's byte-a-pixel images:
    a float copy of a 7000x7000 picture would take gigabytes.
    """
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "L")
    if image.mode in ("LA", "PA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode != "RGBA":
        return image if image.mode == "L" else image.convert("L")
    alpha = image.getchannel("A")
    grey = image.convert("L")  # the luminance of the colour, whatever the alpha
    image.close()
    if alpha.getextrema()[0] >= 250:  # opaque throughout
        return grey
    opaque = alpha.point(lambda a: 255 if a > 127 else 0)
    stroke = ImageStat.Stat(grey, mask=opaque)
    stroke_luminance = stroke.mean[0] / 255 if stroke.count[0] else 0.0
    flattened = Image.new("L", grey.size, 255 if stroke_luminance < 0.5 else 0)
    flattened.paste(grey, (0, 0), alpha)  # grey x alpha + background x (1 - alpha)
    return flattened


def grey_copy(image: Image.Image, factor: int = 1) -> np.ndarray:
    """Luminance in 0..1, shrunk by a whole factor.

    A whole factor lets Pillow average plain blocks of pixels (`reduce`), several times faster
    than resampling to an exact size.
    """
    grey = image.convert("L")
    if factor > 1:
        grey = grey.reduce(factor)
    return np.asarray(grey, dtype=np.float32) / 255.0


def working_factor(size: tuple[int, int], longest_side: int = WORKING_SIZE) -> int:
    """The whole factor that brings a picture to at most `longest_side` (between half and all of it)."""
    return max(1, -(-max(size) // longest_side))


def _backgrounds(grey: np.ndarray) -> tuple[np.ndarray, Callable[[], np.ndarray]]:
    """Smooth estimates of the paper or canvas without the ink, for dark ink and for light ink.

    Computed on a small copy: a morphological closing removes every dark stroke narrower than
    its window (about a quarter of the picture, wider than the strokes of a big, thick digit) and
    follows gradients and shadows exactly; an opening does the same for light strokes on a canvas.
    Scaled back up, the estimates keep the lighting and lose the ink.

    The canvas (for light ink) is given as a function that makes it on first call: most pictures are
    dark ink on paper, and `ink_map` asks for it only where light ink could still be the writing.
    """
    height, width = grey.shape
    factor = max(1, max(height, width) // 96)
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = np.asarray(Image.fromarray(grey, "F").resize(small_size, Image.Resampling.BOX))
    window = max(3, min(33, int(min(small.shape) * 0.6) // 2 * 2 + 1))
    # Near the picture's edges a closing cannot follow a gradient (it has nothing beyond the edge
    # to compare with), so the overall trend of the light is taken out first and put back after.
    trend = _lighting_trend(small)
    flat = small - trend

    def smooth_upscaled(estimate: np.ndarray) -> np.ndarray:
        estimate = ndimage.uniform_filter(estimate, size=3, mode="nearest") + trend
        upscaled = Image.fromarray(estimate.astype(np.float32), "F").resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(upscaled)

    paper = ndimage.grey_closing(flat, size=window, mode="nearest")
    canvas = ndimage.grey_opening(flat, size=window, mode="nearest")
    # A tiny picture (an MNIST-sized drawing) is all digit: there is no shadow to follow.
    if min(height, width) < SMOOTH_FROM:
        return smooth_upscaled(paper), functools.cache(lambda: smooth_upscaled(canvas))
    # The window must be wider than the strokes, but the narrower it is the closer it follows a
    # shadow's edge: once the strokes are seen, it shrinks to a few times their width.
    narrow = _window_for_strokes(grey, flat, paper, canvas, factor)
    if narrow < window:
        paper = ndimage.grey_closing(flat, size=narrow, mode="nearest")
    paper = smooth_upscaled(_follow_background(flat, paper, 1.0))
    # Ink is a stroke, darker than the paper on both sides; the edge of a shadow or of the page
    # is a step, darker on one side only, which the smooth estimate above blurs into false ink.
    # A closing a few strokes wide, on the picture itself, follows a straight step exactly (a
    # curved one nearly) and still bridges every stroke. (Only paper is photographed under
    # shadows: a canvas is drawn on, so its estimate is left as it is.)
    local = max(3, min(narrow, window) * factor) // 2 * 2 + 1
    paper = np.minimum(paper, ndimage.grey_closing(grey, size=local, mode="nearest"))

    @functools.cache
    def light_canvas() -> np.ndarray:
        opened = ndimage.grey_opening(flat, size=narrow, mode="nearest") if narrow < window else canvas
        return smooth_upscaled(_follow_background(flat, opened, -1.0))

    return paper, light_canvas


def _window_for_strokes(grey, flat, paper, canvas, factor: int) -> int:
    """A closing window (small-copy pixels) about four stroke widths wide, from a first look at the ink.

    The widest strokes of either polarity decide; with no strokes to measure it is 3 pixels.
    """
    widest = 3
    for estimate, sign in ((paper, 1.0), (canvas, -1.0)):
        ink = sign * (estimate - flat)
        # A quarter of the strongest ink: a measure that holds however much of the picture the digit
        # covers, and keeps a faint pen's strokes beside a shadow's far stronger edge.
        strong = ink > max(0.25 * float(np.percentile(ink, 99)), _threshold(ink))
        if strong.sum() < 3:
            continue
        # What runs into the border (a table, a shadow) is not a stroke; strokes are inside.
        strong = _inside_picture(strong)
        # On the small copy a thin stroke is a pixel wide: measure on the working copy's ink instead.
        up = np.asarray(
            Image.fromarray(strong.astype(np.uint8) * 255, "L").resize(grey.shape[::-1], Image.Resampling.NEAREST)
        )
        width = stroke_width(up > 0) / factor
        widest = max(widest, int(np.ceil(4 * width)) // 2 * 2 + 1)
    return widest


def _follow_background(small: np.ndarray, rough: np.ndarray, sign: float) -> np.ndarray:
    """The background refined where the rough estimate (a closing or an opening) misses it.

    A closing bridges every dip narrower than its window, so a soft shadow under the digit is
    taken for paper at its brighter rim and the shadow then looks like faint ink. Averaging only
    the pixels that are background (no ink: close to the rough estimate) follows such dips;
    where ink hides the background the rough estimate stays.
    """
    excess = sign * (rough - small)  # >= 0: how far each pixel is from the rough background
    # The background's spread, from the side of the median that ink does not reach (a thick
    # digit can cover a third of the picture and would inflate a symmetric measure).
    typical = float(np.median(excess))
    spread = typical - float(np.percentile(excess, 16)) + 1e-3
    background = (excess < typical + 3 * spread).astype(np.float32)
    weight = ndimage.gaussian_filter(background, 2.0, mode="nearest")
    mean = ndimage.gaussian_filter(small * background, 2.0, mode="nearest") / np.maximum(weight, 1e-6)
    trust = np.clip(weight / 0.5, 0.0, 1.0)  # enough background around to average
    return trust * mean + (1 - trust) * rough


def _lighting_trend(small: np.ndarray) -> np.ndarray:
    """A smooth quadratic surface fitted to the background, ignoring the ink (robust refits)."""
    height, width = small.shape
    basis = _quadratic_basis(height, width)
    # A quadratic has six numbers: every third pixel in each direction is plenty to fit it.
    sample = basis.reshape(height, width, 6)[::3, ::3].reshape(-1, 6)
    values = small[::3, ::3].ravel().astype(np.float64)
    keep = np.ones(values.size, dtype=bool)
    for _ in range(3):
        kept = sample[keep]
        # Least squares through the 6x6 normal equations: the basis is well conditioned (-0.5..0.5)
        # and this is many times faster than an SVD of the whole sample.
        try:
            coefficients = np.linalg.solve(kept.T @ kept, kept.T @ values[keep])
        except np.linalg.LinAlgError:  # a degenerate sample (e.g. a picture one pixel high)
            coefficients = np.linalg.lstsq(kept, values[keep], rcond=None)[0]
        residual = values - sample @ coefficients
        spread = 1.4826 * float(np.median(np.abs(residual[keep]))) + 1e-4
        keep = np.abs(residual) < 2.5 * spread
        if keep.sum() < 6:
            break
    return (basis @ coefficients).reshape(height, width).astype(np.float32)


@functools.lru_cache(maxsize=32)
def _quadratic_basis(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    y, x = y / height - 0.5, x / width - 0.5
    basis = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1).reshape(-1, 6)
    basis.flags.writeable = False  # shared between calls
    return basis


def _threshold(ink: np.ndarray, floor: float = MIN_INK_CONTRAST) -> float:
    """Where ink starts: well above the noise of the background, measured on the picture itself.

    The noise is measured on the quiet part of the map (a digit that fills a small drawing would
    inflate it), unless too little of the picture is quiet to tell.
    """
    step = max(1, min(ink.shape) // 64)  # a sample is enough for a noise level, and much faster
    sample = ink[::step, ::step]
    quiet = sample[sample < QUIET_INK]
    spread = sample if quiet.size < sample.size * 0.2 else quiet
    noise = 1.4826 * float(np.median(np.abs(spread - np.median(spread))))
    return max(NOISE_SIGMAS * noise, floor)


@dataclass(frozen=True)
class InkMap:
    strength: np.ndarray  # 0..1 per pixel, 1 = full ink
    # A faint pen's ink, followed along SHORT_STROKE_LINE only: worth a look along STROKE_LINE once
    # the digits turn out big enough.
    faint: bool = False
    polarity: float = 1.0  # 1: dark ink on light paper; -1: light ink on a dark surface


def ink_map(
    grey: np.ndarray, *, digits_known_big: bool = False, polarity: float | None = None, beyond_paper: bool = True
) -> InkMap | None:
    """The ink in a grey picture, or None when it holds none.

    `digits_known_big`: the digits are at least DETAIL_SIZE pixels tall, so a faint pen's strokes
    are followed along lines of STROKE_LINE pixels (in a picture of small digits such a line would
    cross half a digit). `polarity`: the ink's, where a first look has found it (see InkMap).
    `beyond_paper` False keeps what looks like the table beyond the page (`_paper_edges`) as ink."""
    # A light blur averages the sensor's noise away (a faint pen can be only a few noise levels
    # darker than the paper) while strokes, wider than a pixel or two here, keep their shape.
    # A tiny picture (an MNIST-sized drawing) has no such noise and too few pixels to spare.
    if min(grey.shape) >= SMOOTH_FROM:
        grey = ndimage.gaussian_filter(grey, 0.8, truncate=2.5)
    paper, light_canvas = _backgrounds(grey)
    # The polarity: most of a picture is background, so its median is the background's colour.
    # Real ink lies far from it, on the dark side for dark ink and the light side for light ink;
    # what the wrong polarity finds (paper between strokes, noise) is close to it.
    typical = float(np.median(grey[::3, ::3]))
    best = None
    for sign in (1.0, -1.0):
        if polarity is not None and sign != polarity:
            continue
        if sign < 0 and best is not None and best[0] >= (True, float(grey.max()) - typical):
            # Dark ink that is writing and lies farther from the median than the lightest pixel does:
            # no light ink can rank above it, so the canvas is not even estimated (most photos).
            continue
        if sign > 0:
            # Ink on paper is divided by the paper's brightness so ink in a shadow counts as much as ink in light.
            ink = (paper - grey) / np.maximum(paper, 0.15)
        else:
            canvas = light_canvas()
            ink = grey - canvas
        threshold = _threshold(ink)
        faint = min(grey.shape) >= SMOOTH_FROM and _strongest_inside(ink, threshold) < FAINT_INK * threshold
        if faint:
            # A faint pen: its strokes stand barely above the paper's noise and break into dots at any
            # threshold. Averaged along the strokes' own direction, the noise falls and they stay whole.
            ink = _along_strokes(ink, STROKE_LINE if digits_known_big else SHORT_STROKE_LINE)
            threshold = _threshold(ink, floor=MIN_FOLLOWED_INK_CONTRAST)
        strong = ink > threshold
        edges = _paper_edges(strong) if beyond_paper and strong.any() else None
        if edges is not None:
            ink, strong = np.where(edges, 0.0, ink), strong & ~edges
        if not strong.any():
            continue
        # Judged on the ink inside the picture: what runs into its border in the wrong polarity (the
        # light rim of a page against a dark table) would look as far from the median as real ink,
        # and the edge of a shadow, far darker than a faint pen, would set the scale of its strength.
        # (Not when what is inside is only dirt beside a digit drawn out to the border: under 1% of the
        # ink, a few pixels of noise beside a digit running out of a close-up photo. A number inside a
        # picture beside a table or a shadow is more than that; 10% was tried and lost such pictures.)
        written_inside = _not_at_border(strong)
        inside = written_inside if written_inside.sum() >= 0.01 * strong.sum() else strong
        measured = inside if inside.sum() >= 0.1 * strong.sum() else strong
        full_ink = float(np.percentile(ink[measured], 90))
        if full_ink < threshold * 1.5:
            continue  # nothing stands out of the noise by much: paper texture, not ink
        if sign < 0 and float(np.median(canvas[inside])) > LIGHT_INK_SURFACE:
            continue  # light "ink" on a light surface: the bright side of a shadow's or a page's edge
        distance = sign * (typical - float(np.median(grey[inside])))
        # Digits are written inside the picture: a polarity whose ink mostly runs into the border and
        # is weak (the lit strip of a page's edge between a dark table and a shadow, which can lie
        # farther from a shadowed picture's median than the digits do) loses to one whose ink lies
        # inside, on its own side of the median. (A digit drawn out to a canvas's edge is strong.)
        writing = distance > 0 and (
            written_inside.sum() >= 0.1 * strong.sum() or full_ink >= STRONG_AT_BORDER * threshold
        )
        rank = (writing, distance)
        # Where both polarities look like writing, the one judged second (light ink) must also stand
        # further out of the noise (its full strength, in thresholds) to win: the lit part of a
        # photographed page can lie as far from the median as a pen's ink does, but it is a gradient,
        # a few thresholds strong where real strokes are many.
        best_strength = None if best is None else best[3] / best[2]  # (its full_ink / threshold)
        stands_out = best is None or not (writing and best[0][0]) or full_ink / threshold >= best_strength
        if best is None or (rank > best[0] and stands_out):
            best = (rank, ink, threshold, full_ink, faint and not digits_known_big, sign)
    if best is None:
        return None
    _, ink, threshold, full_ink, faint, sign = best
    # Soft edges as in MNIST: ink fades from the threshold up to the typical ink level.
    low_edge = threshold * 0.75
    return InkMap(np.clip((ink - low_edge) / max(full_ink - low_edge, 1e-6), 0.0, 1.0), faint, sign)


def _strongest_inside(ink: np.ndarray, threshold: float) -> float:
    """How strong the picture's strongest ink is, leaving out what runs into its border: a table beyond
    the page or a shadow's edge is far darker than a faint pen and would hide it."""
    strong = ink > threshold
    if not _rim(strong).any():  # nothing reaches the border (most pictures): nothing to leave out
        return float(np.percentile(ink, 99.5))
    # (`_inside_picture` keeps all of it when everything reaches the border, so something is always left.)
    outside = strong & ~_inside_picture(strong)
    return float(np.percentile(ink[~outside], 99.5))


def _along_strokes(ink: np.ndarray, length: int) -> np.ndarray:
    """Each pixel's ink averaged along a short line through it, in whichever of 8 directions gives most.

    Along a stroke the average keeps the stroke's strength while the noise falls by about the
    square root of the line's length; across paper texture or a gap where the pen skipped it
    stays low or bridges the gap.
    """
    ink = ink.astype(np.float32)
    responses = [ndimage.convolve(ink, kernel, mode="nearest") for kernel in _line_kernels(length)]
    return np.max(responses, axis=0)


@functools.lru_cache(maxsize=2)
def _line_kernels(length: int) -> tuple[np.ndarray, ...]:
    """Anti-aliased line segments `length` pixels long through the centre, at 8 angles, each summing to 1."""
    size = length // 2 * 2 + 1
    centre = size // 2
    kernels = []
    for angle in np.arange(8) * np.pi / 8:
        kernel = np.zeros((size, size), dtype=np.float32)
        for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, 2 * length):
            y, x = centre + t * np.sin(angle), centre + t * np.cos(angle)
            top, left = int(np.floor(y)), int(np.floor(x))
            for row, row_weight in ((top, 1 - (y - top)), (top + 1, y - top)):
                for col, col_weight in ((left, 1 - (x - left)), (left + 1, x - left)):
                    if 0 <= row < size and 0 <= col < size:
                        kernel[row, col] += row_weight * col_weight
        kernel /= kernel.sum()
        kernel.flags.writeable = False  # shared between calls
        kernels.append(kernel)
    return tuple(kernels)


def _rim(array: np.ndarray) -> np.ndarray:
    """The values along a map's four borders, in one array."""
    return np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])


def _inside_picture(strong: np.ndarray) -> np.ndarray:
    """The strong pixels not connected to the picture's border (all of them when every one is)."""
    inside = _not_at_border(strong)
    return inside if inside.any() else strong


def _not_at_border(strong: np.ndarray) -> np.ndarray:
    """The strong pixels not connected to the picture's border."""
    labels, count = ndimage.label(strong)
    at_border = np.zeros(count + 1, dtype=bool)
    at_border[_rim(labels)] = True
    return strong & ~at_border[labels]


def _paper_edges(strong: np.ndarray) -> np.ndarray | None:
    """Where the picture shows what lies beyond the paper (a table, a dark margin), or None.

    Such a region runs along the picture's border (a digit drawn to the edge of a canvas only
    touches it with a stroke's end) and is filled, not drawn: more than ~40% of its box is ink,
    where a digit's strokes cover much less. It is no ink, and left in it would set the scale
    of the real ink's strength.
    """
    labels, count = ndimage.label(strong)
    if count == 0:
        return None
    rim = _rim(labels)
    contact = np.bincount(rim, minlength=count + 1)
    contact[0] = 0
    candidates = np.flatnonzero(contact >= 0.25 * min(strong.shape))
    if candidates.size == 0:
        return None
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    slices = ndimage.find_objects(labels)
    edges = []
    for label in candidates:
        rows, cols = slices[label - 1]
        filled = areas[label] > 0.4 * (rows.stop - rows.start) * (cols.stop - cols.start)
        # A table seen round a corner of the page is an L along two sides: little of its box, but far
        # thicker than any pen's stroke.
        thick = stroke_width(labels[rows, cols] == label) > EDGE_THICKNESS * min(strong.shape)
        if filled or thick:
            edges.append(label)
    if not edges:
        return None
    # Their soft rims go too.
    return ndimage.binary_dilation(np.isin(labels, edges), iterations=2)


def stroke_width(solid: np.ndarray) -> float:
    """The mean width of a mask's strokes: twice its area over its boundary's length."""
    area = float(solid.sum())
    return 2.0 * area / max(area - float(_interior(solid).sum()), 1.0)


def _interior(solid: np.ndarray) -> np.ndarray:
    """The pixels whose four neighbours are in the mask too (outside the picture counts as out):
    `ndimage.binary_erosion` with its default cross, in a few slices (several times faster)."""
    inner = solid.copy()
    inner[1:] &= solid[:-1]
    inner[:-1] &= solid[1:]
    inner[:, 1:] &= solid[:, :-1]
    inner[:, :-1] &= solid[:, 1:]
    inner[[0, -1]] = False
    inner[:, [0, -1]] = False
    return inner


def to_mnist_field(ink: np.ndarray) -> np.ndarray:
    """The cropped ink scaled into 20x20 (aspect kept) and centred by mass in 28x28, as uint8."""
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = normalise_stroke_width(crop, max(crop.shape))
    scale = 20.0 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    scaled = np.asarray(Image.fromarray(crop.astype(np.float32), "F").resize(size, Image.Resampling.BOX))
    peak = float(scaled.max())
    if peak > 0:
        scaled = np.clip(scaled / max(peak, 0.5) * 1.15, 0.0, 1.0)
    field = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - scaled.shape[0]) // 2, (28 - scaled.shape[1]) // 2
    field[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    centre_row, centre_col = ndimage.center_of_mass(field)
    shift_row = int(np.clip(round(13.5 - centre_row), -top, 28 - top - scaled.shape[0]))
    shift_col = int(np.clip(round(13.5 - centre_col), -left, 28 - left - scaled.shape[1]))
    field = np.roll(field, (shift_row, shift_col), axis=(0, 1))
    return np.round(field * 255).astype(np.uint8)


def normalise_stroke_width(crop: np.ndarray, size: int) -> np.ndarray:
    """The ink with strokes near MNIST's width for a digit `size` pixels tall (or wide), shape kept."""
    # Very thin pen strokes would vanish when shrunk to MNIST's 20 pixels: widen them to MNIST's proportion.
    wanted = MNIST_STROKE_RATIO * size
    width = stroke_width(crop > 0.5)
    if width < wanted * 0.6:
        grow = int(round((wanted * 0.8 - width) / 2))
        if grow > 0:
            crop = np.pad(crop, grow)
            crop = ndimage.grey_dilation(crop, footprint=_disk(grow))
    elif width > wanted * 1.6:
        # A marker's strokes nearly close the loops of a 6 or an 8: thin them back to MNIST's width,
        # as long as that keeps most of the digit (an erosion must not wipe out a short stroke).
        shrink = int(round((width - wanted * 1.2) / 2))
        if shrink > 0:
            thinner = ndimage.grey_erosion(crop, footprint=_disk(shrink))
            if (thinner > 0.5).sum() > 0.25 * (crop > 0.5).sum():
                crop = thinner
    return crop


def _disk(radius: int) -> np.ndarray:
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return x * x + y * y <= radius * radius
