"""Beats: the service and its CLI twin on a real SQLite database (issue 19 item 2)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pandas as pd
import pytest
from sqlalchemy import func, select

from mangalm_desktop.beats import days, service
from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Beat, BeatStore, CallLog, Outbox, Store
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.orders import calls
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.orders.service import save_draft, submit
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.filters import ReportFilters
from mangalm_desktop.security.roles import Identity, PermissionDenied

from .orders_support import seed

MONDAY = dt.date(2026, 11, 2)
MANAGER = Identity("meera", Role.MANAGER)


@pytest.fixture
def world(engine):
    s = seed(engine)
    with session_scope(engine) as db:
        other = Agent(id=uuid.uuid4(), code="A08", name="Meena Iyer")
        db.add(other)
        db.flush()
        theirs = Store(id=uuid.uuid4(), code="ST-900", name="Not Yours", agent_id=other.id)
        db.add(theirs)
    agent = Identity("A07", Role.AGENT, s.agent_id, "A07")
    return s, agent, other.id


def _outbox(engine, table: str) -> list[Outbox]:
    with session_scope(engine) as db:
        rows = db.scalars(select(Outbox).where(Outbox.table_name == table).order_by(Outbox.seq))
        return list(rows)


def test_days_parse_and_describe() -> None:
    assert days.parse("Mon,Thu") == 1 | 8
    assert days.parse("monday thursday") == 1 | 8
    assert days.parse("Mon-Fri") == 31
    assert days.parse("daily") == days.ALL_DAYS
    assert days.parse("") == 0
    assert days.describe(1 | 8) == "Mon, Thu"
    assert days.describe(days.ALL_DAYS) == "daily"
    assert days.describe(0) == "no day"
    assert days.includes(8, dt.date(2026, 11, 5))  # a Thursday
    with pytest.raises(UserError, match="not a weekday"):
        days.parse("Mon,Funday")
    with pytest.raises(UserError, match="backwards"):
        days.parse("Fri-Mon")


def test_create_assign_reorder_and_today(engine, world) -> None:
    s, agent, _ = world
    day = dt.date.today()  # calls are logged at the real time
    weekday = days.NAMES[day.weekday()]
    detail = service.create_beat(
        engine, MANAGER, name="  Mysuru   Mon ", agent="a07", days=weekday, region="South"
    )
    assert detail.beat.name == "Mysuru Mon"
    assert detail.beat.days_text == weekday
    detail = service.assign_stores(engine, MANAGER, "mysuru mon", ["ST-002", "ST-001"])
    assert [x.store_code for x in detail.stops] == ["ST-002", "ST-001"]
    assert [x.position for x in detail.stops] == [1, 2]
    # appending a store already on the beat moves it to the end
    detail = service.assign_stores(engine, MANAGER, "Mysuru Mon", ["ST-002"])
    assert [x.store_code for x in detail.stops] == ["ST-001", "ST-002"]
    # one outbox op per row change, each the row after the change (pushed as upserts)
    ops = _outbox(engine, "beat_store")
    assert len(ops) == 4
    last = json.loads(ops[-1].payload)
    assert last["visit_order"] == 2 and last["_base"] == {"visit_order": 1}
    assert ops[-1].base_version == 1  # made as version 1, this edit makes it 2

    # today's beat for the agent, in visit order, with what happened today
    today = service.todays_beat(engine, agent, day)
    assert [x.store_code for x in today.stops] == ["ST-001", "ST-002"]
    assert not any(x.visited for x in today.stops)
    # a draft is a visit, not an order
    draft2 = OrderDraft(store=s.tight_store_id, agent_id=s.agent_id, lines=[LineInput("DAL-1", 10)])
    save_draft(engine, draft2, identity=agent, today=day)
    stop = service.todays_beat(engine, agent, day).stops[1]
    assert (stop.store_code, stop.visited, stop.ordered) == ("ST-002", True, False)
    calls.log_call(
        engine, store="ST-002", agent_id=s.agent_id, outcome="no_answer", today=day, identity=agent
    )
    draft = OrderDraft(store=s.store_id, agent_id=s.agent_id, lines=[LineInput("DAL-1", 10)])
    submit(engine, draft, identity=agent, today=day)
    today = service.todays_beat(engine, agent, day)
    assert [(x.store_code, x.visited, x.ordered) for x in today.stops] == [
        ("ST-001", True, True),
        ("ST-002", True, False),
    ]
    assert today.describe() == "Mysuru Mon: 2 stores, 2 visited, 1 ordered"
    # not on the next day, nor counted a week earlier
    assert service.todays_beat(engine, agent, day + dt.timedelta(days=1)).stops == []
    week_ago = service.todays_beat(engine, agent, day - dt.timedelta(days=7))
    assert [(x.visited, x.ordered) for x in week_ago.stops] == [(False, False)] * 2


def test_replace_moves_between_beats_and_delete(engine, world) -> None:
    service.create_beat(engine, MANAGER, name="Mon", agent="A07", days="Mon")
    service.create_beat(engine, MANAGER, name="Thu", agent="A07", days="Thu")
    service.assign_stores(engine, MANAGER, "Mon", ["ST-001", "ST-002"])
    detail = service.assign_stores(engine, MANAGER, "Thu", ["ST-002"])
    assert [x.store_code for x in detail.stops] == ["ST-002"]
    assert [x.store_code for x in service.show_beat(engine, MANAGER, "Mon").stops] == ["ST-001"]
    with session_scope(engine) as db:  # one membership row per store, ever
        assert db.scalar(select(func.count()).select_from(BeatStore)) == 2
    detail = service.assign_stores(engine, MANAGER, "Mon", ["ST-003"], replace=True)
    assert [x.store_code for x in detail.stops] == ["ST-003"]
    service.update_beat(engine, MANAGER, "Mon", name="Monday", days="Mon-Wed")
    (mon,) = [b for b in service.list_beats(engine, MANAGER) if b.name == "Monday"]
    assert mon.days_text == "Mon, Tue, Wed" and mon.stores == 1
    service.delete_beat(engine, MANAGER, "Monday")
    assert [b.name for b in service.list_beats(engine, MANAGER)] == ["Thu"]
    with session_scope(engine) as db:
        st3 = db.scalar(select(Store.id).where(Store.code == "ST-003"))
        member = db.scalar(select(BeatStore).where(BeatStore.store_id == st3))
        assert member.deleted
    # a deleted beat's name is free again
    service.create_beat(engine, MANAGER, name="Monday", agent="A07")


def test_refusals_change_nothing(engine, world) -> None:
    _, agent, _ = world
    with pytest.raises(PermissionDenied, match="may not manage beats"):
        service.create_beat(engine, agent, name="Mine", agent="A07", days="Mon")
    service.create_beat(engine, MANAGER, name="Mon", agent="A07", days="Mon")
    before = len(_outbox(engine, "beat_store")), len(_outbox(engine, "beat"))
    for attempt in (
        lambda: service.assign_stores(engine, agent, "Mon", ["ST-001"]),
        lambda: service.rename_beat(engine, agent, "Mon", "x"),
        lambda: service.set_visit_days(engine, agent, "Mon", "daily"),
        lambda: service.delete_beat(engine, agent, "Mon"),
        lambda: service.remove_stores(engine, agent, ["ST-001"]),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    # another agent's store; one bad store refuses the whole assignment
    with pytest.raises(UserError, match="ST-900 .* agent A08's store"):
        service.assign_stores(engine, MANAGER, "Mon", ["ST-001", "ST-900"])
    with pytest.raises(UserError, match="no store NOPE"):
        service.assign_stores(engine, MANAGER, "Mon", ["NOPE"])
    with pytest.raises(UserError, match="already a beat called 'mon'"):
        service.create_beat(engine, MANAGER, name="mon", agent="A07")
    with pytest.raises(UserError, match="no agent ZZ"):
        service.create_beat(engine, MANAGER, name="New", agent="ZZ")
    with pytest.raises(UserError, match="needs a name"):
        service.create_beat(engine, MANAGER, name="   ", agent="A07")
    with pytest.raises(UserError, match="not a weekday"):
        service.set_visit_days(engine, MANAGER, "Mon", "Mon,Xyz")
    assert (len(_outbox(engine, "beat_store")), len(_outbox(engine, "beat"))) == before
    assert service.show_beat(engine, MANAGER, "Mon").stops == []


def test_agents_read_only_their_own(engine, world) -> None:
    _, agent, other = world
    service.create_beat(engine, MANAGER, name="Mine", agent="A07", days="Mon")
    service.create_beat(engine, MANAGER, name="Theirs", agent="A08", days="Mon")
    service.assign_stores(engine, MANAGER, "Theirs", ["ST-900"])
    assert [b.name for b in service.list_beats(engine, agent)] == ["Mine"]
    assert [b.name for b in service.list_beats(engine, agent, agent="A08")] == []
    with pytest.raises(UserError, match="no beat Theirs"):
        service.show_beat(engine, agent, "Theirs")
    # an agent asking for another agent's day still gets its own
    today = service.todays_beat(engine, agent, MONDAY, agent="A08")
    assert [b.name for b in today.beats] == ["Mine"]
    # a manager names the agent
    today = service.todays_beat(engine, MANAGER, MONDAY, agent="A08")
    assert [x.store_code for x in today.stops] == ["ST-900"]
    with session_scope(engine) as db:
        assert db.scalar(select(Beat.agent_id).where(Beat.name == "Theirs")) == other


def test_cli_twin(engine, db_path, world, capsys) -> None:
    db = ["--db", str(db_path)]
    assert main(["beats", *db, "create", "Mysuru Mon", "--agent", "A07", "--days", "Mon"]) == 0
    assert "created for A07, visited Mon" in capsys.readouterr().out
    assert main(["beats", *db, "assign", "Mysuru Mon", "ST-002", "ST-001"]) == 0
    out = capsys.readouterr().out
    assert out.index("ST-002") < out.index("ST-001")
    assert main(["beats", *db, "days", "Mysuru Mon", "Mon,Thu"]) == 0
    assert "visited Mon, Thu" in capsys.readouterr().out
    assert main(["beats", *db, "list"]) == 0
    assert "Mysuru Mon  A07     Mon, Thu" in capsys.readouterr().out
    assert main(["beats", *db, "show", "Mysuru Mon"]) == 0
    assert "  1. ST-002  Ganesh Provisions  Mandya" in capsys.readouterr().out
    assert main(["beats", *db, "today", "--agent", "A07", "--today", "2026-11-05"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Thu 05 Nov 2026 — Mysuru Mon: 2 stores, 0 visited")
    assert "  1. to visit ST-002" in out
    assert main(["beats", *db, "rename", "Mysuru Mon", "Mysuru Mon-Thu"]) == 0
    assert main(["beats", *db, "remove", "ST-002"]) == 0
    capsys.readouterr()
    assert main(["beats", *db, "show", "Mysuru Mon-Thu"]) == 0
    assert "ST-002" not in capsys.readouterr().out
    # bad input: words, exit 2, nothing written
    assert main(["beats", *db, "assign", "Mysuru Mon-Thu", "ST-900"]) == 2
    assert "agent A08's store" in capsys.readouterr().err
    assert main(["beats", *db, "create", "X", "--agent", "A07", "--days", "Someday"]) == 2
    assert "not a weekday" in capsys.readouterr().err
    assert main(["beats", *db, "delete", "Mysuru Mon-Thu"]) == 0
    assert main(["beats", *db, "list"]) == 0
    assert "No beats yet" in capsys.readouterr().out


def _call(engine, store_id, agent_id, day: dt.date, outcome: str = "no_answer") -> None:
    noon = dt.datetime.combine(day, dt.time(12)).astimezone().astimezone(dt.UTC)
    with session_scope(engine) as db:
        db.add(CallLog(store_id=store_id, agent_id=agent_id, called_at=noon, outcome=outcome))


def test_plan_vs_actual_report(engine, db_path, world, capsys) -> None:
    """Hand-counted: A07's Monday beat has ST-001 and ST-002, Thursday's ST-003 (closed, so
    never scheduled). Monday: ST-002 called without an order, ST-001 ordered (2 lines, then a
    second order of 1 line), and ST-900 of another agent is not A07's visit. Thursday: an
    off-plan order at ST-002. Tuesday: nothing planned, nothing done (no row)."""
    s, agent, other = world
    thursday = MONDAY + dt.timedelta(days=3)
    service.create_beat(engine, MANAGER, name="Mon", agent="A07", days="Mon")
    service.create_beat(engine, MANAGER, name="Thu", agent="A07", days="Thu")
    service.assign_stores(engine, MANAGER, "Mon", ["ST-001", "ST-002"])
    service.assign_stores(engine, MANAGER, "Thu", ["ST-003"])
    _call(engine, s.tight_store_id, s.agent_id, MONDAY)
    _call(engine, s.store_id, s.agent_id, MONDAY, "ordered")
    with session_scope(engine) as db:
        theirs = db.scalar(select(Store.id).where(Store.code == "ST-900"))
    _call(engine, theirs, other, MONDAY)
    lines = [LineInput("DAL-1", 10), LineInput("TEA-250", 24)]
    first = submit(
        engine,
        OrderDraft(store=s.store_id, agent_id=s.agent_id, lines=lines),
        identity=agent,
        today=MONDAY,
    )
    second = submit(
        engine,
        OrderDraft(store=s.store_id, agent_id=s.agent_id, lines=[LineInput("OIL-1", 12)]),
        identity=agent,
        today=MONDAY,
    )
    off = submit(
        engine,
        OrderDraft(store=s.tight_store_id, agent_id=s.agent_id, lines=[LineInput("DAL-1", 10)]),
        identity=agent,
        today=thursday,
        accept_credit_warning=True,
    )
    filters = ReportFilters(date_from=MONDAY, date_to=thursday, agent="A07")
    result = run_report(engine, "plan-vs-actual", filters, identity=MANAGER)
    rows = result.frame.to_dict("records")
    assert [(r["day"], r["beats"]) for r in rows] == [(thursday, "Thu"), (MONDAY, "Mon")]
    thu, mon = rows
    monday_value = first.total + second.total
    assert {k: mon[k] for k in ("scheduled", "visited", "visited_on_plan", "off_plan")} == {
        "scheduled": 2,
        "visited": 2,
        "visited_on_plan": 2,
        "off_plan": 0,
    }
    assert (mon["productive"], mon["orders"], mon["order_value"]) == (1, 2, monday_value)
    assert mon["strike_rate"] == 0.5 and mon["coverage"] == 1.0
    assert mon["drop_size"] == monday_value  # one productive store
    assert mon["lines_per_call"] == 3.0
    assert {k: thu[k] for k in ("scheduled", "visited", "off_plan", "productive")} == {
        "scheduled": 0,
        "visited": 1,
        "off_plan": 1,
        "productive": 1,
    }
    assert thu["order_value"] == off.total and pd.isna(thu["coverage"])  # nothing planned
    # B's Monday call shows under B, not A07
    everyone = run_report(
        engine, "plan-vs-actual", filters.with_(agent=None), identity=MANAGER
    ).frame
    assert list(everyone["agent_code"]) == ["A07", "A07", "A08"]
    # agents do not run reports
    with pytest.raises(PermissionDenied):
        run_report(engine, "plan-vs-actual", filters, identity=agent)
    # the CLI twin prints the same figures
    args = ["report", "plan-vs-actual", "--db", str(db_path), "--from", "2026-11-02"]
    assert main([*args, "--to", "2026-11-05", "--agent", "A07"]) == 0
    out = capsys.readouterr().out
    assert "A07 02 Nov 2026" in out and "50.0%" in out and "100.0%" in out


def test_a_manager_without_an_agent_named_sees_every_beat_of_the_day(engine, world) -> None:
    service.create_beat(engine, MANAGER, name="Mine", agent="A07", days="Mon")
    service.create_beat(engine, MANAGER, name="Theirs", agent="A08", days="Mon,Tue")
    boss = Identity("meera", Role.MANAGER, uuid.uuid4(), "M01")  # a manager with an agent row
    assert [b.name for b in service.todays_beat(engine, boss, MONDAY).beats] == ["Mine", "Theirs"]
    tuesday = MONDAY + dt.timedelta(days=1)
    assert [b.name for b in service.todays_beat(engine, boss, tuesday).beats] == ["Theirs"]
