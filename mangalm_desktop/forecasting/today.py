"""What Today reads, in columns: order days, stores, and each store's expected order value.

Why a module of its own: at 100,000 stores Today's first view took 10.8 s (issue 21), almost
all of it in building Python objects per row — a ``uuid.UUID`` and a ``Decimal`` per store and
per suggested line, a ``CallListEntry`` per store. Here rows stay as the driver gives them
(ids as their stored text, money in stored units) and are turned into objects only for the
rows a person looks at (:class:`.entries.LazyRows`).

- :func:`order_days` — one row per (store, day) with an order: from ``store_day_sales``
  (db/day_sales.py, kept by triggers) on SQLite; grouped from the lines on PostgreSQL.
- :func:`store_rows` — the listed stores' columns; on SQLite with each store's expected order
  value as ``db.store_expected`` keeps it (:func:`kept_values`): summing the 5 suggested lines
  per store was 500,000 rows and ~1.3 s of every load at 100,000 stores.
- :func:`expected_values` — Σ P(line) × quantity (× price) per store, summed in SQL now
  (PostgreSQL, where no table keeps them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    cast,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import Cast

from ..db.day_sales import EXCLUDED_STATUSES, OPEN_ORDER_STATES, refresh_day_sales
from ..db.models import Invoice, InvoiceLine, Order, OrderLine, Store
from ..db.search import shown_balance
from ..db.store_expected import KEPT, refresh_store_expected, rounded, sums_query
from ..db.types import money_type
from ..domain.date_window import EARLIEST_DATE
from ..domain.enums import OrderKind


def id_text(column: InstrumentedAttribute[uuid.UUID]) -> Cast[str]:
    """A uuid column read as its stored text: SQLAlchemy would build a ``uuid.UUID`` per row,
    which at 100,000 stores was most of Today's load (issue 21). Within one database the text
    of an id is always written the same way, and sorts as the UUID does (fixed-width hex)."""
    return cast(column, String)


def order_days(session: Session, last: Any) -> pd.DataFrame:
    """One row per (store, day) with an order up to ``last``: lines, units and value (NaN
    without prices), sorted by store and day, ``store_id`` the id's stored text.

    An invoice day counts its lines with quantity > 0; an open order's day its lines; a day
    with both sums them. An implausible date (0001-01-01, 9999-12-31) is left out, in SQL."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return _order_days_grouped(session, last)
    refresh_day_sales(conn)
    rows = conn.exec_driver_sql(
        "SELECT store_id, day, lines, units, value, order_lines, order_units, order_value"
        " FROM store_day_sales WHERE day BETWEEN ? AND ? AND (lines > 0 OR order_lines > 0)"
        " ORDER BY store_id, day",
        (EARLIEST_DATE.isoformat(), last.isoformat()),
    ).all()
    names = ["store_id", "date", "il", "iu", "iv", "ol", "ou", "ov"]
    t = pd.DataFrame.from_records(rows, columns=names)
    n = money_type(InvoiceLine.unit_price).stored_per_unit(conn.dialect)
    has_inv, has_ord = t["il"].to_numpy() > 0, t["ol"].to_numpy() > 0
    # each part's value as its own query gave it (NaN when not above 0), then their sum
    inv = np.where(has_inv, t["iv"].to_numpy(dtype=float) / n, np.nan)
    opn = np.where(has_ord, t["ov"].to_numpy(dtype=float) / n, np.nan)
    inv[~(inv > 0)] = np.nan
    opn[~(opn > 0)] = np.nan
    value = np.where(np.isnan(inv), opn, np.where(np.isnan(opn), inv, inv + opn))
    return pd.DataFrame(
        {
            "store_id": t["store_id"].astype(object),
            "date": t["date"],
            "lines": (t["il"] + t["ol"]).astype(float),
            "units": (t["iu"] + t["ou"]).astype(float),
            "value": value,
        }
    )


def _not_a_sale() -> ColumnElement[bool]:
    """An invoice whose lines are not order days: deleted, void or draft (``db.day_sales``'s
    rule; a line whose invoice is not on this laptop still counts)."""
    return or_(Invoice.deleted.is_(True), Invoice.status.in_(EXCLUDED_STATUSES))


def _order_days_grouped(session: Session, last: Any) -> pd.DataFrame:
    """:func:`order_days` grouped from the lines (PostgreSQL, where no table keeps them)."""
    inv = session.execute(
        select(
            id_text(InvoiceLine.store_id),
            InvoiceLine.invoice_date,
            func.count(),
            func.sum(InvoiceLine.quantity),
            func.sum(InvoiceLine.quantity * func.coalesce(InvoiceLine.unit_price, 0)),
        )
        .outerjoin(Invoice, and_(Invoice.id == InvoiceLine.invoice_id, _not_a_sale()))
        .where(
            InvoiceLine.deleted.is_(False),
            InvoiceLine.quantity > 0,
            InvoiceLine.invoice_date.between(EARLIEST_DATE, last),
            Invoice.id.is_(None),
        )
        .group_by(InvoiceLine.store_id, InvoiceLine.invoice_date)
    ).all()
    opn = session.execute(
        select(
            id_text(OrderLine.store_id),
            Order.order_date,
            func.count(),
            func.sum(OrderLine.quantity),
            func.sum(OrderLine.quantity * func.coalesce(OrderLine.unit_price, 0)),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.deleted.is_(False),
            Order.deleted.is_(False),
            Order.kind == OrderKind.ORDER.value,
            Order.state.in_(OPEN_ORDER_STATES),
            Order.order_date.between(EARLIEST_DATE, last),
        )
        .group_by(OrderLine.store_id, Order.order_date)
    ).all()
    df = pd.DataFrame.from_records(
        [tuple(r) for r in [*inv, *opn]], columns=["store_id", "date", "lines", "units", "value"]
    )
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["value"] = df["value"].where(df["value"] > 0)
    df["units"] = pd.to_numeric(df["units"], errors="coerce").astype(float)
    df["lines"] = df["lines"].astype(float)
    return df.groupby(["store_id", "date"], as_index=False).sum(min_count=1)


@dataclass(frozen=True)
class Expected:
    """The listed stores' kept expected order (``db.store_expected``), aligned with their rows:
    NaN for a store without suggested lines."""

    value: np.ndarray
    units: np.ndarray
    priced: np.ndarray


@dataclass(frozen=True)
class StoreRows:
    """The listed stores' columns as the driver gave them (``balance`` in stored units:
    :meth:`balance` makes the Decimal of one); ``expected`` read with them on SQLite."""

    key: list[str]
    name: list[str]
    cadence: list[int | None]
    phone: list[str | None]
    city: list[str | None]
    region: list[str | None]
    raw_balance: list[Any]
    dialect: Any
    expected: Expected | None = None

    def __len__(self) -> int:
        return len(self.key)

    def balance(self, i: int) -> Any:
        money = money_type(Store.outstanding_balance)
        return money.process_result_value(self.raw_balance[i], self.dialect)


def _raw(conn: Connection, query: Executable) -> list[Any]:
    """``query``'s rows as the driver's tuples: 100,000 result rows cost SQLAlchemy ~1 s more
    than the driver (the columns read here need no conversion, or get it per shown row)."""
    return list(conn.execute(query).cursor.fetchall())


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array(values, dtype=float)  # None → NaN


def store_rows(session: Session, agent_id: uuid.UUID | None) -> StoreRows:
    """Active stores not deleted (one agent's, or all), in the table's order; on SQLite with
    their kept expected order (``db.store_expected``, brought up to date first)."""
    conn = session.connection()
    # what the store owes as the Stores list and the call screen show it (db.search)
    owed, source = shown_balance(conn)
    kept = conn.dialect.name == "sqlite"
    extra: list[Any] = []
    if kept:
        refresh_store_expected(conn)
        source = source.outerjoin(KEPT, KEPT.c.store_id == Store.__table__.c.id)
        extra = [KEPT.c.value, KEPT.c.units, KEPT.c.priced]
    q = (
        select(
            id_text(Store.id),
            *(Store.name, Store.call_cadence_days, Store.phone, Store.city, Store.region),
            type_coerce(owed, Integer),  # as stored: no Decimal per row
            *extra,
        )
        .select_from(source)
        .where(Store.deleted.is_(False), Store.active.is_(True))
    )
    if agent_id is not None:
        q = q.where(Store.agent_id == agent_id)
    rows = _raw(conn, q)
    width = 7 + len(extra)
    cols: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] if rows else [[]] * width
    key, name, cadence, phone, city, region, balance = cols[:7]
    expected = None
    if kept:
        value, units, priced = cols[7:]
        expected = Expected(_floats(value), _floats(units), _floats(priced) > 0)
    return StoreRows(key, name, cadence, phone, city, region, balance, conn.dialect, expected)


def kept_values(
    session: Session, stores: StoreRows, order_keys: Iterable[str]
) -> tuple[np.ndarray, bool]:
    """:func:`expected_values` from the kept sums read with ``stores`` (aligned with them, NaN
    = none), and whether they are money: a suggested line with a price among the listed
    stores or the stores with orders, as :func:`expected_values` decides."""
    kept = stores.expected
    assert kept is not None
    money = bool(kept.priced.any())
    if not money:  # rare: no listed store is priced; the stores with orders count too
        priced = {
            k
            for (k,) in session.connection().exec_driver_sql(
                "SELECT store_id FROM store_expected WHERE priced"
            )
        }
        money = not priced.isdisjoint(order_keys)
    return (kept.value if money else kept.units), money


def expected_values(session: Session, keys: set[str]) -> tuple[pd.Series, bool]:
    """Σ probability × quantity × price per store (index = id text), in money when a
    suggested line of these stores has a price, else Σ probability × quantity (units);
    summed from the lines now (PostgreSQL: SQLite keeps them, :func:`kept_values`)."""
    conn = session.connection()
    rows = _raw(conn, sums_query(conn.dialect))
    mine = [r for r in rows if r[0] in keys]
    money = any(r[3] for r in mine)
    col = 1 if money else 2
    values = pd.Series([rounded(r[col]) for r in mine], index=[r[0] for r in mine])
    return values.astype(float), money
