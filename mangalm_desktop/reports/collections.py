"""Collections: money collected by agent, day and mode, and payments waiting for approval.

Payments come from ``payment`` (docs/collections.md); the ageing after collections is the
``ageing`` report, whose balances already take them into account (``db.queries.balances``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, case, false, func, or_, select

from ..db.models import Agent, Payment, Store
from .filters import ReportFilters, agent_ids

ZERO = Decimal("0.00")
MODE_TEXT = {"cash": "Cash", "cheque": "Cheque", "upi": "UPI", "bank_transfer": "Bank transfer"}


def _conditions(f: ReportFilters) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Payment.deleted == false()]
    if f.date_from is not None:
        conds.append(Payment.received_on >= f.date_from)
    if f.date_to is not None:
        conds.append(Payment.received_on <= f.date_to)
    if f.region is not None:
        conds.append(Store.region == f.region)
    if f.store is not None:
        conds.append(or_(Store.code == f.store, Store.name == f.store))
    if f.agent is not None:
        conds.append(Payment.agent_id.in_(agent_ids(f)))
    return conds


def collections_by_agent_day(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    """Per day, agent and mode: payments, amount collected, and how much of it the office has
    approved, still has to decide, or rejected (a bounced cheque is collected, then rejected)."""

    def status_sum(status: str) -> ColumnElement[Decimal]:
        return func.sum(case((Payment.status == status, Payment.amount), else_=ZERO))

    keys: list[ColumnElement[Any]] = [
        Payment.received_on.label("received_on"),
        Agent.code.label("agent_code"),
        Agent.name.label("agent"),
        Payment.mode.label("mode"),
    ]
    q = (
        select(
            *keys,
            func.count().label("payments"),
            func.sum(Payment.amount).label("collected"),
            status_sum("approved").label("approved"),
            status_sum("collected").label("pending"),
            status_sum("rejected").label("rejected"),
        )
        .join(Agent, Agent.id == Payment.agent_id)
        .join(Store, Store.id == Payment.store_id)
        .where(*_conditions(f))
        .group_by(*keys)
        .order_by(Payment.received_on.desc(), Agent.code, Payment.mode)
    )
    columns = [
        "received_on",
        "agent_code",
        "agent",
        "mode",
        "payments",
        "collected",
        "approved",
        "pending",
        "rejected",
    ]
    df = pd.DataFrame(conn.execute(q).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=columns)
    df["mode"] = [MODE_TEXT.get(m, m) for m in df["mode"]]
    return df[columns]


def pending_approval(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    """Payments collected and not yet approved or rejected, oldest first, with their age."""
    as_of = f.date_to or dt.date.today()
    q = (
        select(
            Payment.number.label("receipt"),
            Payment.received_on.label("received_on"),
            Agent.code.label("agent_code"),
            Store.code.label("store_code"),
            Store.name.label("store"),
            Payment.mode.label("mode"),
            Payment.reference.label("reference"),
            Payment.amount.label("amount"),
        )
        .join(Agent, Agent.id == Payment.agent_id)
        .join(Store, Store.id == Payment.store_id)
        .where(Payment.status == "collected", *_conditions(f.with_(date_from=None)))
        .order_by(Payment.received_on, Payment.number)
    )
    columns = [
        "receipt",
        "received_on",
        "days_waiting",
        "agent_code",
        "store_code",
        "store",
        "mode",
        "reference",
        "amount",
    ]
    df = pd.DataFrame(conn.execute(q).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=columns)
    df["days_waiting"] = [(as_of - d).days for d in df["received_on"]]
    df["mode"] = [MODE_TEXT.get(m, m) for m in df["mode"]]
    return df[columns]
