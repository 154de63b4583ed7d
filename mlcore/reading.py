"""What reading a picture gives: the number written in it, digit by digit, left to right.

A picture may hold one digit or a whole number (an amount, a meter reading, an account number).
Each digit found comes with its box in the original picture, its confidence and the 10 class
probabilities. A piece of ink the model cannot read as one digit (a fragment, two digits it could
not separate, a letter, a scribble) is *flagged*: it keeps its place in the number as "?" rather
than being guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# What a flagged piece shows in the number's text.
FLAGGED = "?"


@dataclass(frozen=True)
class DigitReading:
    """One digit of the number, or one flagged piece (`digit` None)."""

    digit: int | None  # None: a piece that is not readable as one digit (flagged, not guessed)
    confidence: float  # the probability of `digit`; for a flagged piece, of its likeliest digit
    probabilities: list[float]  # the 10 digit probabilities; what they leave of 1 is "not one digit"
    box: tuple[int, int, int, int]  # (left, top, right, bottom) in the upright original picture's pixels
    model_input: np.ndarray  # the (28, 28) uint8 picture the model saw, white ink on black

    @property
    def flagged(self) -> bool:
        return self.digit is None

    @property
    def text(self) -> str:
        return FLAGGED if self.digit is None else str(self.digit)


@dataclass(frozen=True)
class NumberReading:
    """Everything read in one picture. No readings at all means "no digit found"."""

    readings: tuple[DigitReading, ...] = ()
    picture_size: tuple[int, int] | None = None  # the upright original's (width, height): the boxes' space
    preprocess_ms: float = 0.0  # decoding, finding the digits and preparing them
    inference_ms: float = 0.0  # the model's share

    @property
    def found(self) -> bool:
        return bool(self.readings)

    @property
    def digits(self) -> str:
        """The number as text, "?" for each flagged piece; "" when no digit was found."""
        return "".join(reading.text for reading in self.readings)

    @property
    def digit(self) -> int | None:
        """The digit when the picture holds exactly one readable digit, else None."""
        if len(self.readings) == 1 and not self.readings[0].flagged:
            return self.readings[0].digit
        return None

    @property
    def flagged(self) -> bool:
        return any(reading.flagged for reading in self.readings)

    @property
    def confidence(self) -> float | None:
        """How sure the whole number is: every digit must be right, so the product of theirs."""
        if not self.readings:
            return None
        return float(np.prod([reading.confidence for reading in self.readings]))

    @property
    def confidences(self) -> list[float]:
        return [reading.confidence for reading in self.readings]

    @property
    def probabilities(self) -> list[list[float]]:
        return [reading.probabilities for reading in self.readings]

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return [reading.box for reading in self.readings]
