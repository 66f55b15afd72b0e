"""How report values read on screen and paper: one place, so the table, PDF and print agree."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd

from .catalog import ColumnKind


def is_missing(value: object) -> bool:
    """None, NaN and pandas' NaT/NA: a ratio with nothing to divide by, a store that never bought."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-likes are not cells
        return False


def format_value(value: object, kind: ColumnKind) -> str:
    if is_missing(value):
        return ""
    if kind == "money":
        return f"{Decimal(value):,.2f}" if not isinstance(value, float) else f"{value:,.2f}"
    if kind == "pct":
        return f"{float(value) * 100:,.1f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "float":
        return f"{float(value):,.2f}"
    if kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    if kind == "bool":
        return "Yes" if value else "No"
    return str(value)


def to_number(value: object) -> float | None:
    """For charts only (never for totals): a plottable float, or None."""
    if is_missing(value):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
