"""Plan vs actual: per agent and day, the beat's stores against the calls and orders made.

Definitions (docs/reports.md):

- scheduled: stores on the agent's beats visited on that weekday. The plan is the beats as they
  are now (beats keep no history), applied to every day of the range;
- visited: stores the agent called (a ``call_log`` row, any outcome) or took an order from that
  day (local days of this computer); visited on plan / off plan split them by the plan;
- productive: visited stores with an order (not a draft, not cancelled) dated that day;
- strike rate: productive / visited; drop size: order value / productive; lines per call:
  order lines / productive; beat coverage: scheduled stores visited / scheduled.

Each source is one filtered query; the few thousand (agent, day, store) facts are combined here
with sets, which keeps money exact (Decimal) and the weekday rule in one place
(:mod:`..beats.days`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, false, func, select

from ..beats import days as weekdays
from ..beats.service import local_day_bounds
from ..db.models import Agent, Beat, BeatStore, CallLog, Order, OrderLine, Store
from ..domain.formatting import day as day_text
from .agents import _live_orders
from .filters import ReportFilters, agent_ids, store_ids

DEFAULT_DAYS = 7
"""Without a start date the report covers the week up to its end date."""

COLUMNS: list[str] = [
    "agent_day",
    "day",
    "agent_code",
    "agent",
    "beats",
    "scheduled",
    "visited",
    "visited_on_plan",
    "off_plan",
    "productive",
    "strike_rate",
    "orders",
    "order_value",
    "drop_size",
    "lines_per_call",
    "coverage",
]

Key = tuple[dt.date, uuid.UUID]  # (day, agent)


def _range(conn: Connection, f: ReportFilters) -> tuple[dt.date, dt.date]:
    hi = f.date_to
    if hi is None:  # the last day anything happened, else today
        last_call = conn.execute(select(func.max(CallLog.called_at))).scalar_one()
        last_order = conn.execute(select(func.max(Order.order_date))).scalar_one()
        known = [d for d in (_as_date(last_call), _as_date(last_order)) if d is not None]
        hi = max(known) if known else dt.date.today()
    lo = f.date_from or hi - dt.timedelta(days=DEFAULT_DAYS - 1)
    return lo, hi


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.astimezone().date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return None


def plan_vs_actual(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    """One row per agent and day with a plan or a visit, newest day first."""
    lo, hi = _range(conn, f)
    agent_conds = [Agent.deleted == false()]
    if f.agent is not None:
        agent_conds.append(Agent.id.in_(agent_ids(f)))
    agents = {
        a.id: (a.code, a.name)
        for a in conn.execute(select(Agent.id, Agent.code, Agent.name).where(*agent_conds))
    }
    sids = store_ids(f)
    in_scope = [] if sids is None else [Store.id.in_(sids)]

    # the plan: (day, agent) -> stores, and the beats' names
    members = conn.execute(
        select(Beat.agent_id, Beat.name, Beat.visit_days, BeatStore.store_id)
        .join(BeatStore, BeatStore.beat_id == Beat.id)
        .join(Store, Store.id == BeatStore.store_id)
        .where(
            Beat.deleted == false(),
            BeatStore.deleted == false(),
            Store.deleted == false(),
            Store.active.is_(True),
            *in_scope,
        )
    ).all()
    plan: dict[Key, set[uuid.UUID]] = defaultdict(set)
    beat_names: dict[Key, set[str]] = defaultdict(set)
    all_days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]
    for agent_id, _name, visit_days, store_id in members:
        if agent_id in agents:
            for day in all_days:
                if weekdays.includes(visit_days, day):
                    plan[(day, agent_id)].add(store_id)
    for agent_id, name, visit_days in conn.execute(
        select(Beat.agent_id, Beat.name, Beat.visit_days).where(Beat.deleted == false())
    ):
        if agent_id in agents:
            for day in all_days:
                if weekdays.includes(visit_days, day):
                    beat_names[(day, agent_id)].add(name)

    # what happened: calls (any outcome) and orders
    visits: dict[Key, set[uuid.UUID]] = defaultdict(set)
    start, end = local_day_bounds(lo)[0], local_day_bounds(hi)[1]
    caller = func.coalesce(CallLog.agent_id, Store.agent_id)
    for agent_id, store_id, called_at in conn.execute(
        select(caller, CallLog.store_id, CallLog.called_at)
        .join(Store, Store.id == CallLog.store_id)
        .where(
            CallLog.deleted == false(),
            CallLog.called_at >= start,
            CallLog.called_at < end,
            *in_scope,
        )
    ):
        called = _as_date(called_at)
        if agent_id in agents and called is not None:
            visits[(called, agent_id)].add(store_id)

    order_f = f.with_(date_from=lo, date_to=hi)
    line_counts = (
        select(OrderLine.order_id, func.count().label("n"))
        .where(OrderLine.deleted == false(), OrderLine.free_goods == false())  # lines taken
        .group_by(OrderLine.order_id)
        .subquery()
    )
    productive: dict[Key, set[uuid.UUID]] = defaultdict(set)
    orders: dict[Key, int] = defaultdict(int)
    value: dict[Key, Decimal] = defaultdict(Decimal)
    lines: dict[Key, int] = defaultdict(int)
    for agent_id, store_id, order_date, total, n in conn.execute(
        select(
            Order.agent_id,
            Order.store_id,
            Order.order_date,
            Order.total,
            func.coalesce(line_counts.c.n, 0),
        )
        .outerjoin(line_counts, line_counts.c.order_id == Order.id)
        .where(*_live_orders(order_f))
    ):
        ordered_on = _as_date(order_date)
        if agent_id not in agents or ordered_on is None:
            continue
        key = (ordered_on, agent_id)
        visits[key].add(store_id)
        productive[key].add(store_id)
        orders[key] += 1
        value[key] += total or Decimal("0")
        lines[key] += int(n)

    rows = []
    for key in sorted(set(plan) | set(visits), key=lambda k: (-k[0].toordinal(), agents[k[1]][0])):
        day, agent_id = key
        code, name = agents[agent_id]
        planned, seen, made = (
            plan.get(key, set()),
            visits.get(key, set()),
            productive.get(key, set()),
        )
        on_plan = len(planned & seen)
        rows.append(
            {
                "agent_day": f"{code} {day_text(day)}",
                "day": day,
                "agent_code": code,
                "agent": name,
                "beats": ", ".join(sorted(beat_names.get(key, set()))),
                "scheduled": len(planned),
                "visited": len(seen),
                "visited_on_plan": on_plan,
                "off_plan": len(seen) - on_plan,
                "productive": len(made),
                "strike_rate": len(made) / len(seen) if seen else None,
                "orders": orders.get(key, 0),
                "order_value": value.get(key, Decimal("0.00")),
                "drop_size": (value[key] / len(made)).quantize(Decimal("0.01")) if made else None,
                "lines_per_call": lines.get(key, 0) / len(made) if made else None,
                "coverage": on_plan / len(planned) if planned else None,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
