"""mlcore.synthesis: deterministic, well-tagged pictures whose boxes and gaps are what they claim."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from mlcore import synthesis


def _digit(label: int) -> np.ndarray:
    """A crude MNIST-like digit drawn in a 28x28 frame (no dataset needed)."""
    img = np.zeros((28, 28), np.uint8)
    if label == 1:
        img[4:24, 13:16] = 255
    elif label == 0:
        yy, xx = np.mgrid[0:28, 0:28]
        r = np.hypot((yy - 14) / 10, (xx - 14) / 7)
        img[(r > 0.75) & (r < 1.05)] = 255
    else:  # a "7": a bar and a slanted leg
        img[4:7, 7:21] = 255
        for y in range(7, 24):
            x = 20 - (y - 7) // 2
            img[y, x - 1 : x + 2] = 255
    return img


DIGITS = [_digit(label) for label in (0, 1, 7)]
LABELS = [0, 1, 7]


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.float32)


def test_same_seed_same_pictures():
    first = synthesis.synthetic_set(DIGITS, LABELS, 6, np.random.default_rng(3), lengths=(1, 3))
    second = synthesis.synthetic_set(DIGITS, LABELS, 6, np.random.default_rng(3), lengths=(1, 3))
    assert [(p.data, p.text, p.boxes) for p in first] == [(p.data, p.text, p.boxes) for p in second]


@pytest.mark.parametrize("picture", synthesis.PICTURE_STYLES)
@pytest.mark.parametrize("gap", synthesis.GAP_KINDS)
def test_boxes_inside_the_picture_left_to_right(picture, gap):
    rng = np.random.default_rng(5)
    pic = synthesis.synthetic_number(
        [DIGITS[2], DIGITS[0], DIGITS[1], DIGITS[2]], [7, 0, 1, 7], rng, picture=picture, gap=gap
    )
    image = Image.open(io.BytesIO(pic.data))
    image.load()  # bytes decode with Pillow
    assert pic.text == "7017" and len(pic.boxes) == 4 and pic.gap == gap and pic.picture == picture
    for left, top, right, bottom in pic.boxes:
        assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height
    assert [b[0] for b in pic.boxes] == sorted(b[0] for b in pic.boxes)
    assert len({b[0] for b in pic.boxes}) == 4


def test_single_digit_has_no_gap_and_its_ink_fills_the_box():
    pic = synthesis.synthetic_digit(DIGITS[0], 0, np.random.default_rng(1), picture="canvas_dark")
    assert pic.text == "0" and pic.gap is None and len(pic.boxes) == 1
    pixels = _decode(pic.data)
    left, top, right, bottom = pic.boxes[0]
    inside = pixels[top:bottom, left:right]
    assert inside.max() > 150  # the white stroke is in the box
    outside = pixels.copy()
    outside[top:bottom, left:right] = 0
    assert outside.max() < 60  # and nowhere else


@pytest.mark.parametrize("pen", synthesis.PEN_STYLES)
def test_touching_digits_join_and_tight_ones_do_not(pen):
    for seed in range(4):
        rng = np.random.default_rng(seed)
        ink, boxes = synthesis.compose_number([DIGITS[0], DIGITS[2], DIGITS[1]], 60, pen, "touching", rng, breaks=False)
        labels, count = ndimage.label(ink > 0.5)
        assert count == 1, f"seed {seed}: touching digits made {count} pieces"
        ink, boxes = synthesis.compose_number([DIGITS[0], DIGITS[1], DIGITS[0]], 60, pen, "tight", rng, breaks=False)
        assert ndimage.label(ink > 0.5)[1] >= 3, f"seed {seed}: tight digits touch"


def test_thin_faint_pen_is_thin_and_low_contrast():
    rng = np.random.default_rng(2)
    thin = synthesis.render_ink(DIGITS[0], 100, "thin_faint", rng, breaks=False)
    thick = synthesis.render_ink(DIGITS[0], 100, "thick_marker", rng)
    assert (thin > 0.5).sum() * 2.5 < (thick > 0.5).sum()
    for seed in range(4):
        pic = synthesis.synthetic_digit(DIGITS[0], 0, np.random.default_rng(seed), pen="thin_faint", picture="scan")
        pixels = _decode(pic.data)
        left, top, right, bottom = pic.boxes[0]
        paper = np.median(pixels)
        darkest = np.percentile(pixels[top:bottom, left:right], 1)
        assert 4 <= paper - darkest <= 55, f"seed {seed}: contrast {paper - darkest}"


def test_set_covers_every_family():
    pictures = synthesis.synthetic_set(DIGITS, LABELS, 48, np.random.default_rng(0), lengths=(1, 4))
    families = {(p.pen, p.picture, p.gap) for p in pictures}
    assert len(families) == 3 * 4 * 4
    assert all(len(p.text) == len(p.boxes) for p in pictures)
    assert {len(p.text) for p in pictures if p.gap is None} == {1}
