"""Real picture bytes for tests: MNIST test digits drawn the way people upload them."""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image

from mlcore.data import load_mnist_arrays


@functools.lru_cache(maxsize=1)
def mnist_test_digits() -> tuple[np.ndarray, np.ndarray]:
    test = load_mnist_arrays()[1]
    return test.images, test.labels


def mnist_example(digit: int, index: int = 0) -> np.ndarray:
    """The index-th MNIST test image of this digit, (28, 28) uint8, white on black."""
    images, labels = mnist_test_digits()
    return images[np.flatnonzero(labels == digit)[index]]


def encode(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def paper_photo(digit: int, index: int = 0, size: int = 400, image_format: str = "JPEG") -> bytes:
    """A digit in dark ink on light paper, as a photo-like picture (not the raw 28x28 array)."""
    pixels = mnist_example(digit, index)
    ink = (
        np.asarray(Image.fromarray(pixels).resize((size // 2, size // 2), Image.Resampling.BICUBIC), dtype=np.float32)
        / 255
    )
    page = np.full((size, size), 0.93, dtype=np.float32)
    offset = size // 4
    page[offset : offset + size // 2, offset : offset + size // 2] -= 0.8 * ink
    page -= np.linspace(0, 0.15, size, dtype=np.float32)[None, :]  # uneven light
    grey = Image.fromarray(np.clip(page * 255, 0, 255).astype(np.uint8), "L")
    return encode(grey.convert("RGB"), image_format, **({"quality": 90} if image_format == "JPEG" else {}))


def blank_picture(size: int = 200) -> bytes:
    return encode(Image.new("RGB", (size, size), (240, 240, 240)))
