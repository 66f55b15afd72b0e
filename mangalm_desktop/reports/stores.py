"""Store health: dormant stores and outstanding balances with ageing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, case, false, func, or_, select

from ..db.models import Agent, Invoice, Order, Store
from ..db.queries import balances
from ..domain.enums import InvoiceKind, OrderState
from . import sqlfn
from .filters import EXCLUDED_INVOICE_STATUSES, ReportFilters, agent_ids, implausible_date

ZERO = Decimal("0.00")

DEFAULT_CADENCE_DAYS = 30
"""Cadence assumed for a store that has none recorded (a monthly buyer)."""

DORMANT_FACTOR = 1.5
"""A store is dormant once it has gone 1.5 cadences without buying: one order skipped by a few
days is ordinary noise, half a cycle more is a store that needs a call."""


def _as_of(f: ReportFilters) -> dt.date:
    return f.date_to or dt.date.today()


def _store_conditions(f: ReportFilters) -> list:
    conds = [Store.deleted == false()]
    if f.region is not None:
        conds.append(Store.region == f.region)
    if f.store is not None:
        conds.append(or_(Store.code == f.store, Store.name == f.store))
    if f.agent is not None:
        conds.append(Store.agent_id.in_(agent_ids(f)))
    return conds


def dormant_stores(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    """Active stores whose last purchase (invoice or live order) is older than their cadence allows.

    ``as of`` is the filter's end date (default today); purchases after it are ignored so a report
    for a past date shows what a manager would have seen then.
    """
    as_of = _as_of(f)
    last_inv = (
        select(Invoice.store_id, func.max(Invoice.invoice_date).label("d"))
        .where(
            Invoice.deleted == false(),
            Invoice.kind == InvoiceKind.INVOICE.value,
            or_(Invoice.status.is_(None), Invoice.status.not_in(EXCLUDED_INVOICE_STATUSES)),
            Invoice.invoice_date <= as_of,
            ~implausible_date(Invoice.invoice_date),
        )
        .group_by(Invoice.store_id)
        .subquery()
    )
    last_ord = (
        select(Order.store_id, func.max(Order.order_date).label("d"))
        .where(
            Order.deleted == false(),
            Order.state.not_in([OrderState.CANCELLED.value, OrderState.DRAFT.value]),
            Order.order_date <= as_of,
        )
        .group_by(Order.store_id)
        .subquery()
    )
    q = (
        select(
            Store.code.label("store_code"),
            Store.name.label("store"),
            Store.region,
            Agent.name.label("agent"),
            Store.call_cadence_days.label("cadence_days"),
            last_inv.c.d.label("last_invoice"),
            last_ord.c.d.label("last_order"),
            Store.opened_on,
        )
        .outerjoin(Agent, Agent.id == Store.agent_id)
        .outerjoin(last_inv, last_inv.c.store_id == Store.id)
        .outerjoin(last_ord, last_ord.c.store_id == Store.id)
        .where(Store.active.is_(True), *_store_conditions(f))
    )
    columns = [
        "store_code",
        "store",
        "region",
        "agent",
        "cadence_days",
        "last_purchase",
        "days_since",
        "allowed_days",
        "days_overdue",
    ]
    df = pd.DataFrame(conn.execute(q).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=columns)
    last = pd.concat(
        [pd.to_datetime(df["last_invoice"]), pd.to_datetime(df["last_order"])], axis=1
    ).max(axis=1)
    # A store that never bought counts from the day it opened (if known).
    since = last.fillna(pd.to_datetime(df["opened_on"]))
    df["last_purchase"] = [None if pd.isna(x) else x.date() for x in last]
    df["cadence_days"] = df["cadence_days"].fillna(DEFAULT_CADENCE_DAYS).astype("int64")
    df["days_since"] = [None if pd.isna(x) else (as_of - x.date()).days for x in since]
    df["allowed_days"] = [int(round(c * DORMANT_FACTOR)) for c in df["cadence_days"]]
    df["days_overdue"] = [
        None if s is None else s - a
        for s, a in zip(df["days_since"], df["allowed_days"], strict=True)
    ]
    dormant = df[[d is None or d > 0 for d in df["days_overdue"]]].copy()
    dormant["_key"] = [-(d if d is not None else 10**9) for d in dormant["days_overdue"]]
    dormant = dormant.sort_values(["_key", "store_code"]).reset_index(drop=True)
    return dormant[columns]


AGEING_BUCKETS: tuple[str, ...] = ("not_due", "d0_30", "d31_60", "d61_90", "d90_plus")


def outstanding_ageing(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    """Unpaid invoice balances per store, aged by days past the due date as of the end date.

    Buckets: not yet due, 0–30, 31–60, 61–90 and over 90 days past due (an invoice without a
    due date is due on its invoice date). Balances are the invoices' balances after the
    collections Zoho has not seen yet (``db.queries.balances``: one way for every balance).
    """
    as_of = _as_of(f)
    dialect = conn.dialect.name
    due = func.coalesce(Invoice.due_date, Invoice.invoice_date)
    age = sqlfn.days_between(as_of, due, dialect)
    pending = balances.pending_allocations(as_of)
    bal = balances.open_balance(pending)

    def bucket(cond: ColumnElement[bool]) -> ColumnElement[Decimal]:
        return func.sum(case((cond, bal), else_=ZERO))

    sums = [
        bucket(age < 0).label("not_due"),
        bucket(and_(age >= 0, age <= 30)).label("d0_30"),
        bucket(and_(age >= 31, age <= 60)).label("d31_60"),
        bucket(and_(age >= 61, age <= 90)).label("d61_90"),
        bucket(age > 90).label("d90_plus"),
        func.sum(bal).label("total"),
        func.count().label("invoices"),
        func.max(age).label("oldest_days"),
    ]
    keys = [
        Store.code.label("store_code"),
        Store.name.label("store"),
        Store.region,
        Agent.name.label("agent"),
        Store.credit_limit,
    ]
    q = (
        select(*keys, *sums)
        .select_from(Invoice)
        .outerjoin(pending, pending.c.invoice_id == Invoice.id)
        .join(Store, Store.id == Invoice.store_id)
        .outerjoin(Agent, Agent.id == Store.agent_id)
        .where(
            Invoice.deleted == false(),
            Invoice.kind == InvoiceKind.INVOICE.value,
            or_(Invoice.status.is_(None), Invoice.status.not_in(EXCLUDED_INVOICE_STATUSES)),
            bal > ZERO,
            Invoice.invoice_date <= as_of,
            ~implausible_date(Invoice.invoice_date),
            *_store_conditions(f),
        )
        .group_by(*keys)
    )
    columns = [
        "store_code",
        "store",
        "region",
        "agent",
        "credit_limit",
        *AGEING_BUCKETS,
        "total",
        "invoices",
        "oldest_days",
        "over_limit",
    ]
    df = pd.DataFrame(conn.execute(q).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=columns)
    # Days past due of the most overdue unpaid invoice; 0 when nothing is overdue yet.
    df["oldest_days"] = df["oldest_days"].astype("int64").clip(lower=0)
    df["over_limit"] = [
        bool(lim is not None and not pd.isna(lim) and tot > lim)
        for tot, lim in zip(df["total"], df["credit_limit"], strict=True)
    ]
    df["_t"] = df["total"].astype(float)
    df = df.sort_values(["_t", "store_code"], ascending=[False, True]).reset_index(drop=True)
    return df[columns]
