"""The few date expressions SQLite and PostgreSQL spell differently.

Reports aggregate in the database on both back ends (the laptop's SQLite and a manager's
connection to the central PostgreSQL), so period bucketing and day arithmetic are written once
here per dialect and everything else stays portable SQLAlchemy Core.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Date, Integer, cast, func, literal
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

PANDAS_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
"""pandas period frequency per report period; weeks run Monday to Sunday (ISO)."""

YEAR_AGO_STEPS = {"day": None, "week": 52, "month": 12, "quarter": 4, "year": 1}
"""How many periods back "the same period last year" is (days use the calendar date)."""


def period_start(col, period: str, dialect: str) -> ColumnElement:  # noqa: ANN001
    """The first day of the period containing ``col`` (a DATE column)."""
    if dialect == "postgresql":
        if period == "day":
            return col
        return cast(func.date_trunc(period, col), Date)
    if period == "day":
        return col
    if period == "week":  # back to Monday: go 6 days back, then forward to the next Monday
        return func.date(col, "-6 days", "weekday 1")
    if period == "month":
        return func.strftime("%Y-%m-01", col)
    if period == "quarter":
        month = cast(func.strftime("%m", col), Integer)
        first = ((month - 1) // 3) * 3 + 1
        return func.printf("%s-%02d-01", func.strftime("%Y", col), first)
    if period == "year":
        return func.strftime("%Y-01-01", col)
    raise ValueError(period)


def days_between(later: dt.date, col, dialect: str) -> ColumnElement:  # noqa: ANN001
    """Whole days from ``col`` to the date ``later`` (positive when ``col`` is earlier)."""
    if dialect == "postgresql":
        return literal(later, Date) - col
    return cast(func.julianday(later.isoformat()) - func.julianday(col), Integer)


def add_days(col, days, dialect: str) -> ColumnElement:  # noqa: ANN001
    """``col`` plus ``days`` (an integer expression) as a DATE."""
    if dialect == "postgresql":
        return col + days
    return func.date(col, func.printf("%+d days", days))


def to_period(value: object, period: str) -> pd.Period:
    """A period start as returned by SQL (date or ISO text) → pandas Period."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return pd.Period(value, freq=PANDAS_FREQ[period])


def year_ago(p: pd.Period, period: str) -> pd.Period:
    steps = YEAR_AGO_STEPS[period]
    if steps is None:
        d = p.start_time.date()
        try:
            d = d.replace(year=d.year - 1)
        except ValueError:  # 29 February → 28 February
            d = d.replace(year=d.year - 1, day=28)
        return pd.Period(d, freq="D")
    return p - steps


def period_label(p: pd.Period, period: str) -> str:
    if period == "day":
        return p.start_time.date().isoformat()
    if period == "week":
        iso = p.start_time.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if period == "month":
        return p.strftime("%Y-%m")
    if period == "quarter":
        return f"{p.year}-Q{p.quarter}"
    return str(p.year)


def not_an_index_key(col, dialect: str) -> ColumnElement:  # noqa: ANN001
    """``col`` unchanged, but on SQLite written ``+col`` so the planner does not drive a lookup
    from an index on it (SQLite's documented way to steer a plan); other dialects get ``col``."""
    if dialect == "sqlite":
        return UnaryExpression(col, operator=operators.custom_op("+"), type_=col.type)
    return col
