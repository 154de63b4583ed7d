"""Scoring the reading engine on the held-out pictures: what it read, and accuracy per family."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.heldout.generator import GAP_KINDS, LENGTHS, NON_DIGIT_KINDS, Picture

FLAGGED = "?"


@dataclass
class Outcome:
    """What the engine made of one picture."""

    picture: Picture = field(repr=False)
    read: str | None  # the number read ("" for no digit found); None when the picture was refused
    confidences: list[float] = field(default_factory=list)
    error: str | None = None  # the ImageError's code (or text) when refused

    def __repr__(self) -> str:
        return f"Outcome({self.picture.name}: wrote {self.picture.text!r}, read {self.read!r})"

    @property
    def correct(self) -> bool:
        if self.read is None:
            return False
        if self.picture.family == "non_digit":
            return self.read == "" or FLAGGED in self.read
        return self.read == self.picture.text

    def confident_digit(self, threshold: float = 0.5) -> bool:
        """Whether a digit (not a flagged piece) was read with a confidence of `threshold` or more."""
        if not self.read:
            return False
        return any(ch != FLAGGED and c >= threshold for ch, c in zip(self.read, self.confidences, strict=False))


def read_pictures(pictures: list[Picture], classifier=None, batch: int = 16) -> tuple[list[Outcome], float]:
    """Every picture through `classifier.read_uploads` (the shared classifier by default).
    Returns the outcomes and the seconds spent reading."""
    if classifier is None:
        from mlcore.inference import shared_classifier
        from mlcore.paths import DEFAULT_MODEL_PATH

        classifier = shared_classifier(str(DEFAULT_MODEL_PATH))
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    for first in range(0, len(pictures), batch):
        chunk = pictures[first : first + batch]
        results = classifier.read_uploads([p.data for p in chunk])
        for picture, result in zip(chunk, results, strict=True):
            if hasattr(result, "digits"):
                outcomes.append(Outcome(picture, result.digits, [float(c) for c in result.confidences]))
            else:
                outcomes.append(Outcome(picture, None, error=getattr(result, "code", None) or str(result)))
    return outcomes, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Row:
    section: str
    group: str
    total: int
    correct: int
    refused: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


SECTIONS = {
    "numbers": "numbers, ordinary pen (whole number exact)",
    "singles": "single digits, ordinary pen",
    "thin_faint_singles": "thin_faint single digits",
    "thin_faint_numbers": "thin_faint numbers (whole number exact)",
    "thick_marker_singles": "thick_marker single digits",
    "thick_marker_numbers": "thick_marker numbers (whole number exact)",
    "non_digits": "no digit: 'no digit found' or a flagged piece",
}


def section_outcomes(outcomes: list[Outcome], section: str) -> list[Outcome]:
    if section == "numbers":
        return [o for o in outcomes if o.picture.family == "ordinary" and o.picture.shape == "number"]
    if section == "singles":
        return [o for o in outcomes if o.picture.family == "ordinary" and o.picture.shape == "single"]
    if section == "non_digits":
        return [o for o in outcomes if o.picture.family == "non_digit"]
    family, shape = section.rsplit("_", 1)
    shape = {"singles": "single", "numbers": "number"}[shape]
    return [o for o in outcomes if o.picture.family == family and o.picture.shape == shape]


def _row(section: str, group: str, chosen: list[Outcome]) -> Row:
    return Row(section, group, len(chosen), sum(o.correct for o in chosen), sum(o.read is None for o in chosen))


def section_rows(outcomes: list[Outcome], section: str) -> list[Row]:
    chosen = section_outcomes(outcomes, section)
    rows = [_row(section, "all", chosen)]
    splits: list[tuple[str, Callable[[Outcome], object], tuple]] = []
    if section.endswith("numbers"):
        splits.append(("gap", lambda o: o.picture.gap, GAP_KINDS))
        splits.append(("length", lambda o: o.picture.length, LENGTHS))
    if section == "non_digits":
        splits.append(("kind", lambda o: o.picture.shape, NON_DIGIT_KINDS))
    if section.endswith("singles"):
        splits.append(("digit", lambda o: o.picture.text, tuple(str(d) for d in range(10))))
    styles = tuple(sorted({o.picture.style for o in chosen}))
    splits.append(("style", lambda o: o.picture.style, styles))
    for name, key, values in splits:
        for value in values:
            part = [o for o in chosen if key(o) == value]
            if part:
                rows.append(_row(section, f"{name}={value}", part))
    return rows


def all_rows(outcomes: list[Outcome]) -> list[Row]:
    return [row for section in SECTIONS for row in section_rows(outcomes, section)]


def format_rows(rows: list[Row]) -> str:
    lines = []
    current = None
    for row in rows:
        if row.section != current:
            current = row.section
            lines.append("")
            lines.append(f"{SECTIONS[current]}")
            lines.append(f"  {'group':<20} {'pictures':>8} {'right':>6} {'accuracy':>9} {'refused':>8}")
        lines.append(f"  {row.group:<20} {row.total:>8} {row.correct:>6} {100 * row.accuracy:>8.1f}% {row.refused:>8}")
    return "\n".join(lines)


def misses(outcomes: list[Outcome], limit: int = 12) -> str:
    """A few wrong readings, for a look: name, truth, what was read."""
    wrong = [o for o in outcomes if not o.correct]
    lines = [f"  {len(wrong)} wrong" + (f"; the first {limit}:" if len(wrong) > limit else ":")] if wrong else []
    for o in wrong[:limit]:
        got = repr(o.read) if o.read is not None else f"refused ({o.error})"
        lines.append(f"    {o.picture.name:<28} {o.picture.style:<13} wrote {o.picture.text!r:<11} read {got}")
    return "\n".join(lines)


def blank_confident(outcomes: list[Outcome], threshold: float = 0.5) -> list[Outcome]:
    return [o for o in outcomes if o.picture.shape == "blank" and o.confident_digit(threshold)]


def summary(outcomes: list[Outcome], seconds: float | None = None) -> dict:
    """Everything the tables show, as plain data (for --json)."""
    sections = {}
    for section in SECTIONS:
        rows = section_rows(outcomes, section)
        sections[section] = {
            "title": SECTIONS[section],
            "groups": {
                row.group: {
                    "pictures": row.total,
                    "right": row.correct,
                    "accuracy": round(row.accuracy, 4),
                    "refused": row.refused,
                }
                for row in rows
            },
        }
    result = {
        "pictures": len(outcomes),
        "sections": sections,
        "blank_pictures_with_a_confident_digit": len(blank_confident(outcomes)),
    }
    if seconds is not None:
        result["reading_seconds"] = round(seconds, 1)
    return result
