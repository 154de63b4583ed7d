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


def number_photo(text: str, size: tuple[int, int] = (900, 400), index: int = 0) -> bytes:
    """A number in dark ink on light paper, as a photo-like JPEG: MNIST test digits side by side.

    The digits stand apart with clear gaps (a third of a digit's width), so a test of the product does not
    hang on how well the engine separates touching digits. Each place takes another example of its digit.
    """
    width, height = size
    digit_size = int(min(height * 0.6, width / (len(text) * 1.4 + 0.6)))
    gap = int(digit_size * 0.4)
    page = np.full((height, width), 0.93, dtype=np.float32)
    left = (width - len(text) * digit_size - (len(text) - 1) * gap) // 2
    top = (height - digit_size) // 2
    for place, character in enumerate(text):
        pixels = mnist_example(int(character), index + place)
        ink = np.asarray(
            Image.fromarray(pixels).resize((digit_size, digit_size), Image.Resampling.BICUBIC), dtype=np.float32
        )
        x = left + place * (digit_size + gap)
        page[top : top + digit_size, x : x + digit_size] -= 0.8 * ink / 255
    page -= np.linspace(0, 0.12, width, dtype=np.float32)[None, :]  # uneven light
    grey = Image.fromarray(np.clip(page * 255, 0, 255).astype(np.uint8), "L")
    return encode(grey.convert("RGB"), "JPEG", quality=90)
