"""Preprocessing: what the model is shown for real pictures, and how bad files are refused."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mlcore.preprocessing import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    NotAnImageError,
    UnsupportedFormatError,
    decode_image,
    inspect_upload,
)
from mlcore.segmentation import find_number
from tests.images import blank_picture, encode, mnist_example, paper_photo


def model_input(data: bytes) -> np.ndarray | None:
    """The 28x28 picture the model is shown for a one-digit upload, or None when no ink is found."""
    layout = find_number(decode_image(data))
    return None if layout is None else layout.model_input(0, len(layout.pieces))


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims a huge picture: a decompression bomb's calling card."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_an_empty_file_is_refused_as_empty():
    with pytest.raises(EmptyImageError, match="empty"):
        decode_image(b"")


def test_text_is_refused_as_not_a_picture():
    with pytest.raises(NotAnImageError, match="not a picture"):
        decode_image(b"hello, this is a text file pretending to be a PNG")


def test_a_truncated_jpeg_is_refused_as_damaged():
    data = paper_photo(3)
    with pytest.raises(CorruptImageError, match="damaged or truncated"):
        inspect_upload(data[: len(data) // 2])


def test_a_30000_by_30000_png_is_refused_before_decoding():
    bomb = png_header_claiming(30000, 30000)
    with pytest.raises(ImageTooLargeError, match="megapixels are accepted"):
        inspect_upload(bomb)
    with pytest.raises(ImageTooLargeError):
        decode_image(bomb)


def test_a_tiff_is_refused_whatever_its_name():
    with pytest.raises(UnsupportedFormatError, match="TIFF"):
        inspect_upload(encode(Image.new("L", (50, 50), 255), "TIFF"))


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "BMP", "GIF"])
def test_every_accepted_format_is_read(image_format):
    picture = Image.open(io.BytesIO(paper_photo(7, image_format="PNG")))
    data = encode(picture.convert("RGB" if image_format != "GIF" else "P"), image_format)
    assert inspect_upload(data) == image_format
    assert model_input(data) is not None


@pytest.mark.parametrize(
    "picture",
    [
        Image.new("RGB", (300, 200), (255, 255, 255)),
        Image.new("L", (64, 64), 0),
        Image.new("RGBA", (100, 100), (0, 0, 0, 0)),
    ],
    ids=["white", "black", "transparent"],
)
def test_a_uniform_picture_has_no_digit(picture):
    assert model_input(encode(picture)) is None


def test_blank_paper_with_noise_and_uneven_light_has_no_digit():
    rng = np.random.default_rng(0)
    page = 0.9 - np.linspace(0, 0.3, 600)[None, :] + rng.normal(0, 0.02, (400, 600))
    data = encode(Image.fromarray(np.clip(page * 255, 0, 255).astype(np.uint8)), "JPEG", quality=80)
    assert model_input(data) is None
    assert model_input(blank_picture()) is None


def _pixel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in 0..1, allowing a one-pixel shift (centring rounds to whole pixels)."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return min(float(np.abs(np.roll(a, s, axis=(0, 1)) - b).mean() / 255) for s in shifts)


def test_an_mnist_digit_comes_back_nearly_as_it_was():
    original = mnist_example(4, 3)
    prepared = model_input(encode(Image.fromarray(original)))
    assert prepared.shape == (28, 28) and prepared.dtype == np.uint8
    assert _pixel_error(prepared, original) < 0.06


def test_dark_ink_on_paper_and_light_on_dark_give_the_same_input():
    digit = mnist_example(2, 5)
    big = Image.fromarray(digit).resize((280, 280), Image.Resampling.BICUBIC)
    light_on_dark = model_input(encode(big))
    dark_on_light = model_input(encode(Image.fromarray(255 - np.asarray(big))))
    assert _pixel_error(light_on_dark, dark_on_light) < 0.02


def test_the_digit_is_centred_by_mass_in_a_20_pixel_box():
    pixels = model_input(paper_photo(1, size=800))
    rows, cols = np.nonzero(pixels > 30)
    assert rows.max() - rows.min() + 1 <= 21 and cols.max() - cols.min() + 1 <= 21
    mass = pixels.astype(np.float64)
    centre = (np.arange(28) @ mass.sum(axis=1) / mass.sum(), np.arange(28) @ mass.sum(axis=0) / mass.sum())
    assert abs(centre[0] - 13.5) <= 1 and abs(centre[1] - 13.5) <= 1


def test_an_exif_rotated_photo_is_turned_upright_first():
    upright = Image.open(io.BytesIO(paper_photo(7, image_format="PNG")))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    sideways = encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif.tobytes())
    assert _pixel_error(model_input(sideways), model_input(encode(upright))) < 0.03


def test_strokes_on_a_transparent_background_are_read_whatever_their_colour():
    ink = np.asarray(Image.fromarray(mnist_example(5)).resize((200, 200), Image.Resampling.BICUBIC))
    results = []
    for colour in [(0, 0, 0), (255, 255, 255), (20, 40, 200)]:
        rgba = np.zeros((200, 200, 4), dtype=np.uint8)
        rgba[..., :3] = colour
        rgba[..., 3] = ink
        results.append(model_input(encode(Image.fromarray(rgba, "RGBA"))))
    assert _pixel_error(results[0], results[1]) < 0.02 and _pixel_error(results[0], results[2]) < 0.02


def test_a_speck_of_dust_far_from_the_digit_is_ignored():
    page = np.asarray(Image.open(io.BytesIO(paper_photo(3, size=600, image_format="PNG"))).convert("L")).copy()
    clean = model_input(encode(Image.fromarray(page)))
    page[20:26, 560:566] = 20  # a dark speck in a corner
    assert _pixel_error(model_input(encode(Image.fromarray(page))), clean) < 0.01


def test_the_box_says_where_the_digit_is_in_the_picture():
    layout = find_number(decode_image(paper_photo(0, size=800)))
    left, top, right, bottom = layout.original_box(0, len(layout.pieces))
    # paper_photo puts the digit's 28x28 field in the middle half of the page.
    assert 200 <= left < right <= 600 and 200 <= top < bottom <= 600
