"""Agent performance with the field-sales measures managers use.

Definitions (per agent, within the date range; region/store filters narrow to those stores):

- scheduled calls: logged calls that came from the call plan (``call_log.scheduled``);
- calls made: every logged call (``unscheduled`` = made − scheduled), on this computer's local
  days (calls are stored in UTC), as the plan-vs-actual report counts them;
- productive calls: calls that produced an order (outcome ``ordered`` or an order attached);
- strike rate: productive calls / calls made;
- order value: total of the agent's orders dated in the range (not drafts, not cancelled);
- drop size: order value / productive calls (value per productive call);
- lines per productive call: order lines of those orders / productive calls;
- coverage: assigned active stores called at least once / assigned active stores;
- suggestion acceptance: suggested lines the store ordered at all / suggested lines, and
  quantity match = Σ min(ordered, suggested) / Σ suggested;
- invoiced: invoice totals credited to the agent (own sales person, else store's agent).

Each measure is one grouped query in the database; pandas merges the few rows per agent.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, case, false, func, or_, select

from ..beats.service import local_day_bounds
from ..db.models import Agent, CallLog, Invoice, Order, OrderLine, Store, SuggestionFeedback
from ..domain.enums import CallOutcome, InvoiceKind, OrderKind, OrderState
from .filters import (
    EXCLUDED_INVOICE_STATUSES,
    ReportFilters,
    agent_ids,
    implausible_date,
    store_ids,
)

ZERO = Decimal("0.00")

COLUMNS: list[str] = [
    "agent_code",
    "agent",
    "assigned_stores",
    "scheduled_calls",
    "calls_made",
    "unscheduled_calls",
    "productive_calls",
    "strike_rate",
    "orders",
    "order_value",
    "drop_size",
    "lines_per_call",
    "stores_covered",
    "coverage",
    "suggested_lines",
    "suggestion_acceptance",
    "quantity_match",
    "invoiced",
]


def _local_day_bounds(f: ReportFilters) -> list:
    """Calls are stored in UTC; the report's days are this computer's local days, as the
    plan-vs-actual report counts them (a call at 00:30 in Pune belongs to that day)."""
    conds = []
    if f.date_from is not None:
        conds.append(CallLog.called_at >= local_day_bounds(f.date_from)[0])
    if f.date_to is not None:
        conds.append(CallLog.called_at < local_day_bounds(f.date_to)[1])
    return conds


def _date_bounds(col, f: ReportFilters) -> list:  # noqa: ANN001
    conds = []
    if f.date_from is not None:
        conds.append(col >= f.date_from)
    if f.date_to is not None:
        conds.append(col <= f.date_to)
    return conds


def _store_scope(col, f: ReportFilters) -> list:  # noqa: ANN001
    sids = store_ids(f)
    return [] if sids is None else [col.in_(sids)]


def _live_orders(f: ReportFilters) -> list:
    return [
        Order.deleted == false(),
        Order.kind == OrderKind.ORDER.value,
        Order.state.not_in([OrderState.CANCELLED.value, OrderState.DRAFT.value]),
        *_date_bounds(Order.order_date, f),
        *_store_scope(Order.store_id, f),
    ]


def _frame(conn: Connection, q) -> pd.DataFrame:  # noqa: ANN001
    rows = conn.execute(q).mappings().all()
    return pd.DataFrame(rows).set_index("agent_id") if rows else pd.DataFrame()


def agent_performance(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    """One row per agent (all active agents, or the filtered one), measures as defined above."""
    agent_conds = [Agent.deleted == false(), Agent.role == "agent"]
    if f.agent is not None:
        agent_conds = [Agent.id.in_(agent_ids(f))]
    agents = pd.DataFrame(
        conn.execute(
            select(Agent.id.label("agent_id"), Agent.code, Agent.name, Agent.active)
            .where(*agent_conds)
            .order_by(Agent.code)
        )
        .mappings()
        .all()
    )
    if agents.empty:
        return pd.DataFrame(columns=COLUMNS)
    agents = agents.set_index("agent_id")

    assigned = _frame(
        conn,
        select(Store.agent_id, func.count().label("assigned_stores"))
        .where(Store.deleted == false(), Store.active.is_(True), *_store_scope(Store.id, f))
        .group_by(Store.agent_id),
    )

    productive = or_(CallLog.outcome == CallOutcome.ORDERED.value, CallLog.order_id.is_not(None))
    own_store = Store.agent_id == CallLog.agent_id
    calls = _frame(
        conn,
        select(
            CallLog.agent_id,
            func.sum(case((CallLog.scheduled.is_(True), 1), else_=0)).label("scheduled_calls"),
            func.count().label("calls_made"),
            func.sum(case((productive, 1), else_=0)).label("productive_calls"),
            func.count(
                func.distinct(case((own_store & Store.active.is_(True), CallLog.store_id)))
            ).label("stores_covered"),
        )
        .join(Store, Store.id == CallLog.store_id)
        .where(
            CallLog.deleted == false(), *_local_day_bounds(f), *_store_scope(CallLog.store_id, f)
        )
        .group_by(CallLog.agent_id),
    )

    orders = _frame(
        conn,
        select(
            Order.agent_id,
            func.count().label("orders"),
            func.sum(Order.total).label("order_value"),
        )
        .where(*_live_orders(f))
        .group_by(Order.agent_id),
    )
    lines = _frame(
        conn,
        select(Order.agent_id, func.count().label("order_lines"))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(OrderLine.deleted == false(), OrderLine.free_goods == false(), *_live_orders(f))
        .group_by(Order.agent_id),
    )

    sf = SuggestionFeedback
    smaller = case((sf.ordered_qty < sf.suggested_qty, sf.ordered_qty), else_=sf.suggested_qty)
    suggestions = _frame(
        conn,
        select(
            Order.agent_id,
            func.count().label("suggested_lines"),
            func.sum(case((sf.ordered_qty > 0, 1), else_=0)).label("accepted_lines"),
            func.sum(smaller).label("matched_qty"),
            func.sum(sf.suggested_qty).label("suggested_qty"),
        )
        .join(Order, Order.id == sf.order_id)
        .where(sf.deleted == false(), sf.suggested_qty > 0, *_live_orders(f))
        .group_by(Order.agent_id),
    )

    # Invoices are summed per (store, sales person) first, then credited (sales person, else the
    # store's agent): a few thousand rows to join instead of every invoice.
    per_store = (
        select(Invoice.store_id, Invoice.agent_id, func.sum(Invoice.total).label("total"))
        .where(
            Invoice.deleted == false(),
            or_(Invoice.status.is_(None), Invoice.status.not_in(EXCLUDED_INVOICE_STATUSES)),
            Invoice.kind.in_([InvoiceKind.INVOICE.value, InvoiceKind.CREDIT_NOTE.value]),
            *_date_bounds(Invoice.invoice_date, f),
            ~implausible_date(Invoice.invoice_date),
            *_store_scope(Invoice.store_id, f),
        )
        .group_by(Invoice.store_id, Invoice.agent_id)
        .subquery()
    )
    inv_agent = func.coalesce(per_store.c.agent_id, Store.agent_id).label("agent_id")
    invoiced = _frame(
        conn,
        select(inv_agent, func.sum(per_store.c.total).label("invoiced"))
        .join(Store, Store.id == per_store.c.store_id)
        .group_by(inv_agent),
    )

    parts = [t for t in (assigned, calls, orders, lines, suggestions, invoiced) if len(t)]
    df = agents.join(parts) if parts else agents
    out = pd.DataFrame(index=df.index)
    out["agent_code"] = df["code"]
    out["agent"] = df["name"]

    def ints(col: str) -> pd.Series:
        if col not in df:
            return pd.Series(0, index=df.index, dtype="int64")
        return df[col].fillna(0).astype("int64")

    def money(col: str) -> list[Decimal]:
        if col not in df:
            return [ZERO] * len(df)
        return [ZERO if v is None or pd.isna(v) else v for v in df[col]]

    def ratio(num, den) -> list[float | None]:  # noqa: ANN001
        return [float(n) / float(d) if d else None for n, d in zip(num, den, strict=True)]

    out["assigned_stores"] = ints("assigned_stores")
    out["scheduled_calls"] = ints("scheduled_calls")
    out["calls_made"] = ints("calls_made")
    out["unscheduled_calls"] = out["calls_made"] - out["scheduled_calls"]
    out["productive_calls"] = ints("productive_calls")
    out["strike_rate"] = ratio(out["productive_calls"], out["calls_made"])
    out["orders"] = ints("orders")
    out["order_value"] = money("order_value")
    pc = out["productive_calls"]
    out["drop_size"] = [
        (v / n).quantize(Decimal("0.01")) if n else None
        for v, n in zip(out["order_value"], pc, strict=True)
    ]
    out["lines_per_call"] = ratio(ints("order_lines"), pc)
    out["stores_covered"] = ints("stores_covered")
    out["coverage"] = ratio(out["stores_covered"], out["assigned_stores"])
    out["suggested_lines"] = ints("suggested_lines")
    out["suggestion_acceptance"] = ratio(ints("accepted_lines"), out["suggested_lines"])
    out["quantity_match"] = ratio(ints("matched_qty"), ints("suggested_qty"))
    out["invoiced"] = money("invoiced")
    return out.reset_index(drop=True)[COLUMNS]
