"""Report filters and their translation into SQL conditions.

Every report takes one :class:`ReportFilters`. Names the user types (region, agent, store,
brand, category, product) are checked against the database first, so a typo is a clear
:class:`UserError` listing what exists instead of an empty report that looks like "no sales".
Conditions are built as SQLAlchemy Core expressions (always parameterized) and use
``IN (SELECT id ...)`` sub-selects rather than joins, so the big ``invoice_line`` scan stays a
single-table scan that SQLite and PostgreSQL can drive from an index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Literal

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select

from ..db.models import Agent, Invoice, InvoiceLine, Product, Store
from ..domain.date_window import EARLIEST_DATE, latest_date
from ..domain.errors import UserError
from ..domain.formatting import day

Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")

EXCLUDED_INVOICE_STATUSES: tuple[str, ...] = ("void", "draft")
"""Zoho statuses that are not sales: a void invoice was cancelled, a draft never sent."""


@dataclass(frozen=True)
class ReportFilters:
    """What a manager narrows a report to. ``None`` means "all"."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    region: str | None = None
    agent: str | None = None  # agent code or name
    brand: str | None = None
    category: str | None = None
    store: str | None = None  # store code or name
    product: str | None = None  # SKU or name
    period: Period = "month"
    top_n: int = 10

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise UserError(
                f"unknown period {self.period!r}", hint=f"choose one of: {', '.join(PERIODS)}"
            )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise UserError(
                f"the date range is empty: {self.date_from} is after {self.date_to}",
                hint="swap --from and --to",
            )
        if self.top_n < 1:
            raise UserError("top N must be at least 1")

    def with_(self, **changes: object) -> ReportFilters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> list[tuple[str, str]]:
        """Label/value pairs for export headers ("Region: North"); unset filters are left out."""
        labels = {
            "date_from": "From",
            "date_to": "To",
            "region": "Region",
            "agent": "Agent",
            "brand": "Brand",
            "category": "Category",
            "store": "Store",
            "product": "Product",
        }
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in labels and value is not None:
                shown = day(value) if isinstance(value, dt.date) else str(value)
                out.append((labels[f.name], shown))
        return out


def _check_exists(conn: Connection, label: str, column, value: str, *alts) -> None:  # noqa: ANN001
    cond = or_(column == value, *(a == value for a in alts))
    if conn.execute(select(func.count()).where(cond)).scalar_one():
        return
    known = conn.execute(select(column).where(column.is_not(None)).distinct().limit(12))
    names = sorted(str(r[0]) for r in known)
    hint = f"known {label}s include: {', '.join(names)}" if names else f"there are no {label}s yet"
    raise UserError(f"no {label} called {value!r}", hint=hint)


def validate(conn: Connection, f: ReportFilters) -> None:
    """Raise :class:`UserError` for a filter value that matches nothing in the database."""
    if f.region is not None:
        _check_exists(conn, "region", Store.region, f.region)
    if f.agent is not None:
        _check_exists(conn, "agent", Agent.code, f.agent, Agent.name)
    if f.store is not None:
        _check_exists(conn, "store", Store.code, f.store, Store.name)
    if f.brand is not None:
        _check_exists(conn, "brand", Product.brand, f.brand)
    if f.category is not None:
        _check_exists(conn, "category", Product.category, f.category)
    if f.product is not None:
        _check_exists(conn, "product", Product.sku, f.product, Product.name)


def agent_ids(f: ReportFilters):  # noqa: ANN201 - a scalar sub-select
    return select(Agent.id).where(or_(Agent.code == f.agent, Agent.name == f.agent))


def store_ids(f: ReportFilters):  # noqa: ANN201 - a sub-select, or None when not narrowed
    """Stores the region/store filters allow (not the agent: sales follow the invoice's agent)."""
    conds = []
    if f.region is not None:
        conds.append(Store.region == f.region)
    if f.store is not None:
        conds.append(or_(Store.code == f.store, Store.name == f.store))
    if not conds:
        return None
    return select(Store.id).where(*conds)


def product_ids(f: ReportFilters):  # noqa: ANN201
    conds = []
    if f.brand is not None:
        conds.append(Product.brand == f.brand)
    if f.category is not None:
        conds.append(Product.category == f.category)
    if f.product is not None:
        conds.append(or_(Product.sku == f.product, Product.name == f.product))
    if not conds:
        return None
    return select(Product.id).where(*conds)


def implausible_date(column) -> ColumnElement[bool]:  # noqa: ANN001 - a date column
    """``column`` outside the plausible window (domain.date_window): a typo such as 0001-01-01
    or 9999-12-31 that reached the database before the importer refused it, or from Zoho or
    central. Reports leave such rows out (pandas cannot even hold those dates)."""
    return or_(column < EARLIEST_DATE, column > latest_date())


def excluded_invoices():  # noqa: ANN201
    """Invoices that are not sales (void, draft, deleted, implausible date); usually tiny."""
    return select(Invoice.id).where(
        or_(
            Invoice.deleted.is_(True),
            Invoice.status.in_(EXCLUDED_INVOICE_STATUSES),
            implausible_date(Invoice.invoice_date),
        )
    )


def last_sale_day(conn: Connection) -> dt.date | None:
    """The last invoiced day in the plausible window, None with no sales.

    The plain ``max`` is an index lookup; only when it is implausible (rare) is the window
    searched, since a WHERE on the column makes SQLite walk the index instead."""
    il = InvoiceLine
    last = _as_date(conn.execute(select(func.max(il.invoice_date))).scalar_one())
    if last is None or EARLIEST_DATE <= last <= latest_date():
        return last
    window = il.invoice_date.between(EARLIEST_DATE, latest_date())
    return _as_date(conn.execute(select(func.max(il.invoice_date)).where(window)).scalar_one())


def _as_date(value: dt.date | str | None) -> dt.date | None:
    """A date column's value (SQLite may hand back the ISO text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def implausible_lines(conn: Connection) -> int:
    """How many live invoice lines the reports leave out for an implausible date.

    Counted through the invoice's indexed date, so the check costs nothing on a big database."""
    il = InvoiceLine
    bad = select(Invoice.id).where(implausible_date(Invoice.invoice_date))
    return conn.execute(
        select(func.count()).where(il.deleted == false(), il.invoice_id.in_(bad))
    ).scalar_one()


def agent_invoices(f: ReportFilters):  # noqa: ANN201
    """Invoices credited to the filtered agent (own sales person, else the store's agent)."""
    return (
        select(Invoice.id)
        .join(Store, Store.id == Invoice.store_id)
        .where(func.coalesce(Invoice.agent_id, Store.agent_id).in_(agent_ids(f)))
    )


def line_conditions(
    f: ReportFilters,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    use_dates: bool = True,
) -> list[ColumnElement[bool]]:
    """WHERE conditions on ``invoice_line`` for the filters (dates may be overridden)."""
    il = InvoiceLine
    lo = date_from if date_from is not None else f.date_from
    hi = date_to if date_to is not None else f.date_to
    conds: list[ColumnElement[bool]] = [
        il.deleted == false(),
        il.invoice_id.not_in(excluded_invoices()),
    ]
    # always bounded by the plausible window, one condition a side (a second range on the
    # same column changed SQLite's plan and tripled top-movers' time)
    lo = max(lo, EARLIEST_DATE) if use_dates and lo is not None else EARLIEST_DATE
    hi = min(hi, latest_date()) if use_dates and hi is not None else latest_date()
    conds.append(il.invoice_date >= lo)
    conds.append(il.invoice_date <= hi)
    sids = store_ids(f)
    if sids is not None:
        conds.append(il.store_id.in_(sids))
    pids = product_ids(f)
    if pids is not None:
        conds.append(il.product_id.in_(pids))
    if f.agent is not None:
        conds.append(il.invoice_id.in_(agent_invoices(f)))
    return conds


def all_of(conds: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(*conds)
