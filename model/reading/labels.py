"""What a label may be: ASCII digits only, as many as the transform can read in one photo.

``str.isdigit`` accepts "²" and "٣" (and fullwidth digits), which ``int`` then refuses or reads as
something else; one such label from one user would stop retraining for all.
Every place a label enters (a button, a typed reply, storage, the retraining export)
checks it here.
"""

from __future__ import annotations

import re

from model.reading.transform.segment import SegmentParams

MAX_DIGITS = SegmentParams().max_digits
_LABEL = re.compile(f"[0-9]{{1,{MAX_DIGITS}}}", re.ASCII)


def is_label(text: str) -> bool:
    return _LABEL.fullmatch(text) is not None
