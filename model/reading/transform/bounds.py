"""Every number a stage uses is a parameter field that declares the range it makes sense in.

A card edited by hand, or a sweep that wanders, then fails when the parameters are made, naming
the field, instead of producing crops that quietly differ. Relations between fields (a minimum
below a maximum) are checked by each parameter class on top.
"""

from __future__ import annotations

from dataclasses import field, fields
from typing import Any


def bounded(default: Any, low: float, high: float) -> Any:
    """A parameter field whose value (each value, for a tuple) must lie in ``[low, high]``."""
    return field(default=default, metadata={"range": (low, high)})


def check_bounds(params: Any) -> None:
    """Refuse parameters with a value outside its field's range; every field must declare one."""
    for item in fields(params):
        if "range" not in item.metadata:
            raise TypeError(f"{type(params).__name__}.{item.name} declares no range (use bounded())")
        low, high = item.metadata["range"]
        value = getattr(params, item.name)
        for number in value if isinstance(value, tuple) else (value,):
            if isinstance(number, bool) or not isinstance(number, int | float) or not low <= number <= high:
                raise ValueError(f"{type(params).__name__}.{item.name} = {value!r} is outside [{low:g}, {high:g}]")
