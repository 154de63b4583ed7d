"""A generator of realistic uploads made from MNIST *test* digits.

Each picture imitates what people really send: a phone photo or scan of a digit written on paper
(white, grey or yellowish paper; black or blue pen; thin or thick strokes; uneven light and a
shadow; the digit small and anywhere in a large picture; sensor noise and blur; JPEG or PNG; some
with an EXIF rotation), or a canvas drawing (light on dark, dark on light, or strokes on a
transparent background). The model never sees MNIST's own arrays here, only these pictures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from tests.images import mnist_test_digits

KINDS = ("paper_photo", "scan", "canvas_dark", "canvas_light", "transparent", "rotated_photo")


@dataclass(frozen=True)
class RealisticUpload:
    data: bytes
    label: int
    kind: str


def _stroke(digit: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """The digit's ink (0..1), cropped and scaled to fit `size` pixels, with a pen of random width."""
    rows = np.flatnonzero(digit.max(axis=1) > 0)
    cols = np.flatnonzero(digit.max(axis=0) > 0)
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255.0
    scale = size / max(crop.shape)
    height, width = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    ink = np.asarray(Image.fromarray(crop, "F").resize((width, height), Image.Resampling.BICUBIC))
    ink = np.clip(ink, 0, 1)
    # A pen is either on the paper or not: sharpen the soft MNIST edges, then thin or thicken.
    ink = np.clip((ink - 0.35) * 3.0, 0, 1)
    pen = rng.choice(["thin", "normal", "thick"], p=[0.3, 0.4, 0.3])
    radius = max(1, height // 40)
    if pen == "thin":
        thinner = ndimage.grey_erosion(ink, size=(radius + 1, radius + 1))
        # A thin pen draws the same digit: keep the erosion only where it does not break strokes.
        if (thinner > 0.5).sum() > 0.6 * (ink > 0.5).sum():
            ink = thinner
    elif pen == "thick":
        ink = ndimage.grey_dilation(ink, size=(radius + 2, radius + 2))
    return ndimage.gaussian_filter(ink, 0.6)


def _lighting(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven light: a gradient across the page and a soft shadow somewhere, as a 0..1 gain."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(angle) * x / width + np.sin(angle) * y / height) * rng.uniform(0.1, 0.35)
    gain = 1.0 - (gradient - gradient.min())
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    radius = rng.uniform(0.3, 0.8) * max(height, width)
    shadow = np.exp(-(((y - cy) ** 2 + (x - cx) ** 2) / (2 * radius**2))) * rng.uniform(0.0, 0.35)
    return np.clip(gain - shadow, 0.35, 1.0)


def _place(ink: np.ndarray, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    canvas = np.zeros((height, width), dtype=np.float32)
    top = int(rng.integers(0, height - ink.shape[0] + 1))
    left = int(rng.integers(0, width - ink.shape[1] + 1))
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return canvas


def _encode(image: Image.Image, rng: np.random.Generator, exif_orientation: int | None = None) -> bytes:
    buffer = io.BytesIO()
    options = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        options["exif"] = exif.tobytes()
    if image.mode == "RGBA" or rng.random() < 0.3:
        image.save(buffer, format="PNG", **options)
    else:
        image.save(buffer, format="JPEG", quality=int(rng.integers(60, 95)), **options)
    return buffer.getvalue()


def paper_picture(digit: np.ndarray, rng: np.random.Generator, scan: bool = False) -> Image.Image:
    height, width = int(rng.integers(300, 1200)), int(rng.integers(300, 1200))
    digit_height = int(rng.uniform(0.12, 0.7) * min(height, width))
    ink = _place(_stroke(digit, max(digit_height, 40), rng), height, width, rng)
    paper = np.array(
        [[0.95, 0.95, 0.95], [0.8, 0.8, 0.78], [0.96, 0.92, 0.78], [0.85, 0.87, 0.9]][rng.integers(0, 4)],
        dtype=np.float32,
    ) * rng.uniform(0.8, 1.0)
    pen = np.array([[0.08, 0.08, 0.1], [0.1, 0.15, 0.55], [0.2, 0.2, 0.25]][rng.integers(0, 3)], dtype=np.float32)
    strength = rng.uniform(0.75, 1.0)
    alpha = (ink * strength)[..., None]
    rgb = paper * (1 - alpha) + pen * alpha
    if not scan:
        rgb = rgb * _lighting(height, width, rng)[..., None]
        rgb = ndimage.gaussian_filter(rgb, sigma=(rng.uniform(0, 1.5), rng.uniform(0, 1.5), 0))
    rgb = rgb + rng.normal(0, rng.uniform(0.005, 0.03), rgb.shape).astype(np.float32)
    return Image.fromarray(np.clip(rgb * 255, 0, 255).astype(np.uint8), "RGB")


def canvas_picture(digit: np.ndarray, rng: np.random.Generator, style: str) -> Image.Image:
    size = int(rng.integers(200, 500))
    ink = _place(_stroke(digit, int(size * rng.uniform(0.5, 0.85)), rng), size, size, rng)
    if style == "canvas_dark":  # white strokes on a black canvas
        return Image.fromarray(np.round(ink * 255).astype(np.uint8), "L").convert("RGB")
    if style == "canvas_light":  # dark strokes on a white canvas
        return Image.fromarray(np.round((1 - ink * 0.9) * 255).astype(np.uint8), "L").convert("RGB")
    colour = [(0, 0, 0), (255, 255, 255), (30, 60, 200)][rng.integers(0, 3)]
    rgba = np.zeros((size, size, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def make_upload(digit: np.ndarray, label: int, kind: str, rng: np.random.Generator) -> RealisticUpload:
    if kind in ("paper_photo", "scan"):
        return RealisticUpload(_encode(paper_picture(digit, rng, scan=kind == "scan"), rng), label, kind)
    if kind == "rotated_photo":
        # Stored sideways as phone sensors do, with the EXIF tag that says how to turn it upright.
        orientation, transpose = [
            (6, Image.Transpose.ROTATE_90),
            (8, Image.Transpose.ROTATE_270),
            (3, Image.Transpose.ROTATE_180),
        ][rng.integers(0, 3)]
        upright = paper_picture(digit, rng)
        return RealisticUpload(_encode(upright.transpose(transpose), rng, exif_orientation=orientation), label, kind)
    return RealisticUpload(_encode(canvas_picture(digit, rng, kind), rng), label, kind)


def realistic_uploads(count: int, seed: int = 0) -> list[RealisticUpload]:
    """`count` realistic pictures of MNIST test digits, kinds in turn, reproducible from the seed."""
    images, labels = mnist_test_digits()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(images), size=count, replace=False)
    return [make_upload(images[i], int(labels[i]), KINDS[n % len(KINDS)], rng) for n, i in enumerate(chosen)]
