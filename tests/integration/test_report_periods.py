"""The per-dialect period and day arithmetic agrees with Python's calendar on both back ends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Date, literal, select

from mangalm_desktop.db.engine import make_engine
from mangalm_desktop.reports import sqlfn
from tests.support.local_db import local_database

# Every day of a leap year and its neighbours' edges.
DAYS = [dt.date(2023, 12, 25) + dt.timedelta(days=i) for i in range(0, 380, 3)]


def _expected_start(d: dt.date, period: str) -> dt.date:
    if period == "day":
        return d
    if period == "week":
        return d - dt.timedelta(days=d.weekday())
    if period == "month":
        return d.replace(day=1)
    if period == "quarter":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return d.replace(month=1, day=1)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def conn(request, tmp_path):
    if request.param == "sqlite":
        eng = local_database(tmp_path / "p.sqlite")
    else:
        eng = make_engine(request.getfixturevalue("pg_url"))
    with eng.connect() as c:
        yield c
    eng.dispose()


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter", "year"])
def test_period_start_matches_calendar(conn, period):
    dialect = conn.dialect.name
    exprs = [sqlfn.period_start(literal(d, Date), period, dialect) for d in DAYS]
    got = conn.execute(select(*exprs)).one()
    for d, value in zip(DAYS, got, strict=True):
        value = dt.date.fromisoformat(value) if isinstance(value, str) else value
        assert value == _expected_start(d, period), (d, period)
        assert sqlfn.to_period(value, period).start_time.date() == value


def test_day_arithmetic(conn):
    dialect = conn.dialect.name
    later = dt.date(2024, 3, 1)
    row = conn.execute(
        select(
            sqlfn.days_between(later, literal(dt.date(2024, 2, 1), Date), dialect),
            sqlfn.days_between(later, literal(dt.date(2024, 3, 31), Date), dialect),
            sqlfn.add_days(literal(dt.date(2024, 2, 26), Date), literal(7), dialect),
        )
    ).one()
    added = dt.date.fromisoformat(row[2]) if isinstance(row[2], str) else row[2]
    assert (row[0], row[1], added) == (29, -30, dt.date(2024, 3, 4))
