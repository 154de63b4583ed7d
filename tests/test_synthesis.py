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


@pytest.mark.parametrize("kind", synthesis.NON_DIGIT_KINDS)
def test_non_digit_pictures_decode_and_have_nothing_to_read(kind):
    for seed in range(4):
        pic = synthesis.synthetic_non_digit(np.random.default_rng(seed), kind=kind)
        again = synthesis.synthetic_non_digit(np.random.default_rng(seed), kind=kind)
        assert pic == again  # deterministic
        assert pic.text == "" and pic.boxes == [] and pic.gap is None
        assert pic.picture in synthesis.PICTURE_STYLES
        pixels = _decode(pic.data)
        assert min(pixels.shape) >= 100
        if kind in ("printed", "scribble"):
            assert np.ptp(pixels) > 30, f"seed {seed}: no visible marks"


def test_random_non_digit_kinds():
    rng = np.random.default_rng(0)
    pictures = [synthesis.synthetic_non_digit(rng) for _ in range(12)]
    assert all(p.text == "" and p.boxes == [] for p in pictures)


def test_table_shows_beyond_the_page_and_clear_of_the_digits():
    shown = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        ink, boxes = synthesis.compose_number([DIGITS[2], DIGITS[0], DIGITS[1]], 60, "ordinary", "wide", rng)
        data, placed, table = synthesis._render(ink, boxes, False, "paper_photo", "ordinary", rng, scene=("table",))
        image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)
        assert len(placed) == 3
        for left, top, right, bottom in placed:
            assert 0 <= left < right <= image.shape[1] and 0 <= top < bottom <= image.shape[0]
            if table is not None:
                assert table[top:bottom, left:right].max() == 0, f"seed {seed}: the table covers a digit"
        if table is None:
            continue
        shown += 1
        assert 0.03 < table.mean() < 0.35
        # The table is another colour than the paper beside it (the same light falls on both).
        near = ndimage.binary_dilation(table > 0.99, iterations=12) & (table == 0)
        beyond = ndimage.binary_erosion(table > 0.99, iterations=2) & ndimage.binary_dilation(table == 0, iterations=14)
        difference = np.abs(np.median(image[beyond], 0) - np.median(image[near], 0)).sum()
        assert difference > 25, f"seed {seed}: table and paper differ by only {difference}"
    assert shown >= 6


def test_page_edge_keeps_clear_of_the_writing():
    for seed in range(10):
        keep = (100, 80, 300, 200)
        table = synthesis._page_edge(300, 400, keep, np.random.default_rng(seed))
        if table is not None:
            assert table[80:200, 100:300].max() == 0
            assert 0.03 < table.mean() < 0.35
    assert synthesis._page_edge(300, 400, (0, 0, 400, 300), np.random.default_rng(0)) is None


def test_shadow_and_paper_marks_stay_faint_enough():
    rng = np.random.default_rng(4)
    shadow = synthesis._sharp_shadow(240, 320, rng)
    assert 0.59 <= shadow.min() and shadow.max() <= 1.0
    marks = synthesis._paper_marks(240, 320, rng)
    assert 0.8 < marks.min() and marks.max() < 1.15


def test_photo_scenes_keep_pictures_deterministic():
    for scene in [("shadow",), ("marks",), synthesis.SCENE_EXTRAS]:
        ink, boxes = synthesis.compose_number([DIGITS[0], DIGITS[1]], 60, "ordinary", "wide", np.random.default_rng(1))
        first = synthesis._render(ink, boxes, False, "paper_photo", "ordinary", np.random.default_rng(2), scene=scene)
        second = synthesis._render(ink, boxes, False, "paper_photo", "ordinary", np.random.default_rng(2), scene=scene)
        assert first[0] == second[0] and first[1] == second[1]
