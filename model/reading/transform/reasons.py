"""Why a photo holds no digit, or cannot be read at all: codes, not sentences.

The model says what it found; the bot says it in its user's language (``bot.replies.texts`` maps each
code to a translated message). The values are stable strings, stored with each prediction.
"""

from __future__ import annotations

from enum import StrEnum


class NoDigit(StrEnum):
    TOO_SMALL = "too-small"
    """The image is too small or too thin to hold a digit."""
    BLANK = "blank"
    """No ink: the page looks blank."""
    NOT_PAPER = "not-paper"
    """This does not look like writing on paper."""
    NO_SHAPES = "no-shapes"
    """No digit-sized shapes."""
    TOO_MANY = "too-many"
    """Too many shapes to be a number."""
    NOT_HANDWRITING = "not-handwriting"
    """The shapes are textures (grass, cloth), not pen strokes."""
    LINE_ACROSS = "line-across"
    """The one mark runs across the whole photo: a margin, a fold, a page's edge."""
    NOT_A_DIGIT = "not-a-digit"
    """Shapes, but none of them looks like a digit."""


class Unreadable(StrEnum):
    EMPTY = "empty"
    """The file is empty."""
    NOT_AN_IMAGE = "not-an-image"
    """The file is not an image that can be read."""
    TOO_LARGE = "too-large"
    """The image claims more pixels than are safe to decode."""
    NO_PIXELS = "no-pixels"
    DAMAGED = "damaged"
    """The image file is damaged or truncated."""
