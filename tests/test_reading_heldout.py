"""The reading engine scored on held-out pictures of handwritten numbers and digits.

The pictures come from tests/heldout/, a generator kept apart from the engine's own tuning
(MNIST test digits only). Each test prints its table: run with `pytest -s` to see them, or
`python -m tests.heldout.report` for the whole table at once.
"""

from __future__ import annotations

import os

import pytest

from tests.heldout import scoring
from tests.heldout.generator import SEED, build_suite
from tests.heldout.ink import GAP_KINDS, LAYOUT_RES

pytestmark = pytest.mark.heldout

NUMBERS_EXACT_MIN = 0.95  # ordinary pen: whole numbers read exactly
SINGLES_MIN = 0.99  # ordinary single digits
THIN_FAINT_SINGLES_MIN = 0.95
THIN_FAINT_NUMBERS_MIN = 0.95  # whole numbers read exactly
THICK_MARKER_SINGLES_MIN = 0.95
THICK_MARKER_NUMBERS_MIN = 0.95  # whole numbers read exactly
NON_DIGITS_MIN = 0.95  # "no digit found", or a flagged piece in what was read
BLANK_CONFIDENCE_MAX = 0.5  # no blank paper may give a digit this sure or surer

MIN_NUMBERS_PER_GAP = 160
MIN_SINGLES = 600


@pytest.fixture(scope="module")
def pictures():
    workers = int(os.environ.get("HELDOUT_WORKERS", min(2, os.cpu_count() or 1)))
    return build_suite(SEED, workers=workers)


@pytest.fixture(scope="module")
def outcomes(pictures):
    found, seconds = scoring.read_pictures(pictures)
    print(f"\nheld-out: read {len(found)} pictures in {seconds:.0f} s")
    return found


def _report(outcomes, section: str) -> float:
    rows = scoring.section_rows(outcomes, section)
    print("\n" + scoring.format_rows(rows))
    listed = scoring.misses(scoring.section_outcomes(outcomes, section))
    if listed:
        print(listed)
    return rows[0].accuracy


def test_the_set_is_big_enough(pictures):
    numbers = [p for p in pictures if p.family == "ordinary" and p.shape == "number"]
    for gap in GAP_KINDS:
        of_gap = [p for p in numbers if p.gap == gap]
        assert len(of_gap) >= MIN_NUMBERS_PER_GAP
        assert {p.length for p in of_gap} == set(range(2, 9))
    assert len([p for p in pictures if p.family == "ordinary" and p.shape == "single"]) >= MIN_SINGLES


def test_numbers_in_ordinary_pen(outcomes):
    accuracy = _report(outcomes, "numbers")
    assert accuracy >= NUMBERS_EXACT_MIN, f"{accuracy:.1%} < {NUMBERS_EXACT_MIN:.0%}"


def test_single_digits(outcomes):
    accuracy = _report(outcomes, "singles")
    assert accuracy >= SINGLES_MIN, f"{accuracy:.1%} < {SINGLES_MIN:.0%}"


def test_thin_faint_single_digits(outcomes):
    accuracy = _report(outcomes, "thin_faint_singles")
    assert accuracy >= THIN_FAINT_SINGLES_MIN, f"{accuracy:.1%} < {THIN_FAINT_SINGLES_MIN:.0%}"


def test_thin_faint_numbers(outcomes):
    accuracy = _report(outcomes, "thin_faint_numbers")
    assert accuracy >= THIN_FAINT_NUMBERS_MIN, f"{accuracy:.1%} < {THIN_FAINT_NUMBERS_MIN:.0%}"


def test_thick_marker_single_digits(outcomes):
    accuracy = _report(outcomes, "thick_marker_singles")
    assert accuracy >= THICK_MARKER_SINGLES_MIN, f"{accuracy:.1%} < {THICK_MARKER_SINGLES_MIN:.0%}"


def test_thick_marker_numbers(outcomes):
    accuracy = _report(outcomes, "thick_marker_numbers")
    assert accuracy >= THICK_MARKER_NUMBERS_MIN, f"{accuracy:.1%} < {THICK_MARKER_NUMBERS_MIN:.0%}"


def test_pictures_without_digits(outcomes):
    accuracy = _report(outcomes, "non_digits")
    assert accuracy >= NON_DIGITS_MIN, f"{accuracy:.1%} < {NON_DIGITS_MIN:.0%}"


def test_blank_paper_never_gives_a_confident_digit(outcomes):
    blank = [o for o in outcomes if o.picture.shape == "blank"]
    confident = scoring.blank_confident(outcomes, BLANK_CONFIDENCE_MAX)
    print(f"\nblank paper: {len(blank)} pictures, {len(confident)} read as a digit with confidence >= 0.5")
    for o in confident:
        print(f"    {o.picture.name}: read {o.read!r} with confidences {[round(c, 3) for c in o.confidences]}")
    assert not confident, f"{len(confident)} blank pictures: {', '.join(o.picture.name for o in confident)}"


def test_the_gaps_are_what_their_tags_say(pictures):
    """The generator's own check: touching neighbours share ink, tight ones never touch."""
    numbers = [p for p in pictures if p.shape == "number"]
    for p in numbers:
        measured, shared = p.details["measured"], p.details["shared"]
        assert len(measured) == p.length - 1
        if p.gap == "touching":
            assert all(area > 0 for area in shared), p.name
        elif p.gap == "tight":
            assert all(area == 0 for area in shared), p.name
            assert all(1 / LAYOUT_RES <= gap <= 3.5 for gap in measured), (p.name, measured)
        else:
            assert all(gap >= 7.0 for gap in measured), (p.name, measured)


def test_the_pictures_are_the_same_every_time(pictures):
    again = build_suite(SEED, scale=0.01)
    first = {p.name: p.data for p in pictures}
    assert all(first[p.name] == p.data for p in again)
