"""Numbers as a person reads them in a baseline file."""
from __future__ import annotations


def plain(value: float) -> int | float:
    """Whole numbers without ``.0`` (counts and register values are integers); others to 3 decimals."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 3)
