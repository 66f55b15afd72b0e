"""The agent reports count calls on this computer's local days: a call at 00:30 in Pune on
1 April belongs to April, though in UTC it was made on 31 March. Agent performance counted by
UTC day while plan-vs-actual counted local days, so the same call fell on different days in
the two reports."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from mangalm_desktop.db import migrate
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, CallLog, Store
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.filters import ReportFilters

from . import reports_data

APRIL = ReportFilters(date_from=dt.date(2024, 4, 1), date_to=dt.date(2024, 4, 30))
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


@pytest.fixture
def in_pune(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_call_just_after_local_midnight_counts_on_its_local_day(in_pune, tmp_path):
    engine = migrate.open_local_database(tmp_path / "r.sqlite")
    reports_data.build(engine)
    before = run_report(engine, "agent-performance", APRIL, identity=None).frame
    calls = dict(zip(before["agent_code"], before["calls_made"], strict=True))

    def add_call(local: dt.datetime) -> dict[str, int]:
        with session_scope(engine) as s:
            bala = s.scalar(select(Agent).where(Agent.code == "A02"))
            store = s.scalar(select(Store).where(Store.agent_id == bala.id))
            at = local.replace(tzinfo=IST).astimezone(dt.UTC)
            s.add(CallLog(store_id=store.id, agent_id=bala.id, called_at=at, outcome="call_back"))
        after = run_report(engine, "agent-performance", APRIL, identity=None).frame
        return dict(zip(after["agent_code"], after["calls_made"], strict=True))

    got = add_call(dt.datetime(2024, 4, 1, 0, 30))  # 31 March in UTC: April's all the same
    assert got == {**calls, "A02": calls["A02"] + 1}
    got = add_call(dt.datetime(2024, 5, 1, 0, 30))  # 30 April in UTC: May's all the same
    assert got == {**calls, "A02": calls["A02"] + 1}
    engine.dispose()
