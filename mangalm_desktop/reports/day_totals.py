"""Sales per day or per store read from the laptop's per-(store, day) totals, not the lines.

Why: sales by period groups every invoice line of the range; on a million lines even the bare
``GROUP BY`` takes over a second. ``store_day_sales`` (:mod:`..db.day_sales`) holds the same
net sums per store and day, kept by triggers, so the report reads a row per store-day instead.
Sales by store, region and agent (whose base is the per-store sums) read them the same way.

Only where the answer is exactly the line scan's (:func:`.filters.line_conditions`):

- SQLite only (the central PostgreSQL has no such table; reports there scan the lines);
- no product, brand or category filter (the totals are per store, not per product);
- no agent filter: sales follow the invoice's own agent, which a store's total cannot split;
  region and store filters are store ids, which the totals carry;
- no invoice with an implausible date (the line scan leaves its lines out by the invoice's own
  date, which the totals do not keep; such invoices are a rare leftover, see
  :func:`.filters.implausible_date`);
- the table complete: its triggers all there, no "every store" note pending.

Stores whose rows are noted stale (written since the last refresh) are summed from their lines
in the same statement, so the result is exact without writing anything from a report.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Literal

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Subquery,
    Text,
    column,
    exists,
    func,
    select,
    table,
    union_all,
)

from ..db.day_sales import ALL, TRIGGERS
from ..db.models import Invoice, InvoiceLine
from ..db.types import Money
from ..domain.date_window import EARLIEST_DATE, latest_date
from .filters import (
    ReportFilters,
    all_of,
    implausible_date,
    line_conditions,
    product_ids,
    store_ids,
)

DAY_SALES_TABLE = "store_day_sales"
DIRTY_TABLE = "store_day_sales_dirty"

_days = table(
    DAY_SALES_TABLE,
    column("store_id", Text),
    column("day", Date),
    column("net_sales", Money()),
    column("net_quantity", Integer),
    column("net_lines", Integer),
)
_dirty = table(DIRTY_TABLE, column("store_id", Text))


class Answer(Enum):
    """How :func:`daily_sales` can answer a report's filters."""

    LINES = "only the invoice lines"
    TOTALS = "the totals alone"
    TOTALS_AND_STALE_STORES = "the totals, and the lines of the stores written since"


def answer(conn: Connection, f: ReportFilters) -> Answer:
    """Whether the totals answer ``f`` exactly (see the module docstring), and how."""
    if conn.dialect.name != "sqlite":
        return Answer.LINES
    if product_ids(f) is not None or f.agent is not None:
        return Answer.LINES
    # The table, its dirty list and every trigger: a missing trigger (the import's fresh path
    # drops the line triggers; the app's next open remakes them and redoes every store) means
    # writes may have gone unnoted.
    names = (DAY_SALES_TABLE, DIRTY_TABLE, *TRIGGERS)
    marks = ", ".join("?" * len(names))
    found = conn.exec_driver_sql(
        f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})",  # noqa: S608 - marks
        names,
    ).scalar_one()
    if found != len(names):
        return Answer.LINES
    bad = select(Invoice.id).where(implausible_date(Invoice.invoice_date)).limit(1)
    if conn.execute(bad).first() is not None:
        return Answer.LINES
    every, some = conn.execute(
        select(
            exists().where(_dirty.c.store_id == ALL),
            exists().select_from(_dirty),
        )
    ).one()
    if every:
        return Answer.LINES
    # Read in a statement of its own: a store written after this look keeps its rows of the
    # last refresh, i.e. the figures as they were a moment ago, as a line scan run then.
    return Answer.TOTALS_AND_STALE_STORES if some else Answer.TOTALS


Key = Literal["invoice_date", "store_id"]


def sums_by(
    f: ReportFilters, date_from: dt.date | None, date_to: dt.date | None, how: Answer, key: Key
) -> Subquery:
    """(``key``, sales, quantity, lines) per day or per store: what ``sales._grouped`` gives
    over the lines grouped by that column.

    ``how`` is :func:`answer`'s, not ``LINES``. Both bounds are clipped to the plausible
    window, as :func:`.filters.line_conditions` does."""
    lo = max(date_from, EARLIEST_DATE) if date_from is not None else EARLIEST_DATE
    hi = min(date_to, latest_date()) if date_to is not None else latest_date()
    d = _days.c
    stale = select(_dirty.c.store_id)
    kept = select(
        (d.day if key == "invoice_date" else d.store_id).label(key),
        d.net_sales.label("sales"),
        d.net_quantity.label("quantity"),
        d.net_lines.label("lines"),
    ).where(d.day >= lo, d.day <= hi)
    sids = store_ids(f)
    if sids is not None:
        kept = kept.where(d.store_id.in_(sids))
    if how is Answer.TOTALS:  # every row as of the last refresh (even if one is noted since)
        return _summed(kept.subquery("parts"), key)
    kept = kept.where(d.store_id.not_in(stale))
    il = InvoiceLine
    redone = (
        select(
            il.invoice_date if key == "invoice_date" else il.store_id,
            func.sum(il.line_total),
            func.sum(il.quantity),
            func.count(),
        )
        .where(all_of(line_conditions(f, date_from=lo, date_to=hi)), il.store_id.in_(stale))
        .group_by(il.invoice_date if key == "invoice_date" else il.store_id)
    )
    return _summed(union_all(kept, redone).subquery("parts"), key)


def _summed(parts: Subquery, key: Key) -> Subquery:
    p = parts.c
    return (
        select(
            p[key],
            func.sum(p.sales).label("sales"),
            func.sum(p.quantity).label("quantity"),
            func.sum(p.lines).label("lines"),
        )
        .group_by(p[key])
        .subquery("sums")
    )
