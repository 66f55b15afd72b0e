"""Sales reports: by period with growth, by dimension, top movers.

Sales are invoice lines (the system of record is Zoho Books invoicing), net of credit notes
(which carry negative quantities and totals), excluding void and draft invoices and tombstones.
All totals are summed in the database; pandas only shapes the few aggregated rows (filling
empty periods, lining up last year's figure) and never loops over invoice lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Label, case, func, or_, select, union_all

from ..db.models import Agent, Invoice, InvoiceLine, Product, Store
from ..domain.errors import UserError
from . import day_totals, sqlfn
from .filters import ReportFilters, all_of, last_sale_day, line_conditions

ZERO = Decimal("0.00")

SALES_DIMENSIONS: tuple[str, ...] = ("store", "product", "brand", "category", "region", "agent")
MOVER_DIMENSIONS: tuple[str, ...] = ("product", "store", "brand", "category", "region")

DEFAULT_MOVERS_DAYS = 28
"""Without a date range, top movers compares the last four weeks with the four before."""


def growth(current: Decimal | None, previous: Decimal | None) -> float | None:
    """Relative change as a fraction (0.25 = +25 %); ``None`` when there is nothing to compare."""
    if current is None or previous is None or previous == 0:
        return None
    return float((current - previous) / abs(previous))


def _grouped(f: ReportFilters, keys: list, **bounds: object):  # noqa: ANN202 - a subquery
    """Step one of every sales query: line totals grouped by raw key columns.

    Grouping by a column that leads one of invoice_line's covering indexes (store_id,
    product_id, invoice_date) lets SQLite read the index in order and aggregate without a sort;
    the outer query then rolls the few resulting rows up to region, brand, month...
    """
    il = InvoiceLine
    return (
        select(
            *keys,
            func.sum(il.line_total).label("sales"),
            func.sum(il.quantity).label("quantity"),
            func.count().label("lines"),
        )
        .where(all_of(line_conditions(f, **bounds)))  # type: ignore[arg-type]
        .group_by(*keys)
        .subquery()
    )


def _sums_by(
    conn: Connection,
    f: ReportFilters,
    key: day_totals.Key,
    from_day_totals: bool,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
):  # noqa: ANN202 - a subquery
    """Sales per day or per store: from the per-(store, day) totals where they answer ``f``
    exactly (:mod:`.day_totals`), else :func:`_grouped` over the lines; ``from_day_totals=False``
    always scans the lines (the tests compare the two)."""
    lo = date_from if date_from is not None else f.date_from
    hi = date_to if date_to is not None else f.date_to
    how = day_totals.answer(conn, f) if from_day_totals else day_totals.Answer.LINES
    if how is not day_totals.Answer.LINES:
        return day_totals.sums_by(f, lo, hi, how, key)
    return _grouped(f, [getattr(InvoiceLine, key)], date_from=lo, date_to=hi)


def _sums(sub) -> tuple:  # noqa: ANN001
    return (
        func.sum(sub.c.sales).label("sales"),
        func.sum(sub.c.quantity).label("quantity"),
        func.sum(sub.c.lines).label("lines"),
    )


def sales_by_period(
    conn: Connection, f: ReportFilters, *, from_day_totals: bool = True
) -> pd.DataFrame:
    """Sales per whole period, with growth vs the previous period and vs the same period a year ago.

    The range is widened to whole periods at the start (a month report from the 10th starts on
    the 1st), so every row compares like with like. An end date inside its period makes that
    last period partial: it is labelled "(partial, to 3 Nov)" and compared with the same number
    of first days of the previous period and of last year's. Without dates it spans the first
    to the last sale.

    The day sums come from the per-(store, day) totals where they answer exactly, else from
    the invoice lines (:func:`_sums_by`).
    """
    columns = [
        "period_start",
        "period",
        "sales",
        "quantity",
        "lines",
        "prev_sales",
        "growth_prev",
        "last_year_sales",
        "growth_last_year",
    ]
    freq = sqlfn.PANDAS_FREQ[f.period]
    first = pd.Period(f.date_from, freq=freq) if f.date_from else None
    last = pd.Period(f.date_to, freq=freq) if f.date_to else None
    lo = min(first - 1, sqlfn.year_ago(first, f.period)).start_time.date() if first else None
    hi = f.date_to  # not widened: sales after the end date belong to no row
    daily = _sums_by(conn, f, "invoice_date", from_day_totals, date_from=lo, date_to=hi)
    pstart = sqlfn.period_start(daily.c.invoice_date, f.period, conn.dialect.name).label("p")
    q = select(pstart, *_sums(daily)).group_by(pstart)
    got = {sqlfn.to_period(r.p, f.period): r for r in conn.execute(q)}
    if not got:
        return pd.DataFrame(columns=columns)
    first = first or min(got)
    last = last or max(got)

    def sales_of(p: pd.Period) -> Decimal:
        r = got.get(p)
        return r.sales if r is not None else ZERO

    # The end date inside the last period (a month report on 3 November): that period is
    # partial, labelled so, and compared with the same number of days of the periods before.
    cut = f.date_to if f.date_to is not None and f.date_to < last.end_time.date() else None
    first_days: dict[pd.Period, Decimal] = {}
    if cut is not None:
        days = (cut - last.start_time.date()).days
        windows = [last - 1, sqlfn.year_ago(last, f.period)]
        bounds = [
            (w.start_time.date(), w.start_time.date() + dt.timedelta(days=days)) for w in windows
        ]
        day_sales = conn.execute(
            select(daily.c.invoice_date, daily.c.sales).where(
                or_(*(daily.c.invoice_date.between(a, b) for a, b in bounds))
            )
        ).all()
        for w, (a, b) in zip(windows, bounds, strict=True):
            first_days[w] = sum(
                (v or ZERO for d, v in day_sales if a <= _day(d) <= min(b, w.end_time.date())),
                ZERO,
            )

    rows = []
    for p in pd.period_range(first, last, freq=freq):
        r = got.get(p)
        cur = sales_of(p)
        partial = cut is not None and p == last
        prev = first_days[p - 1] if partial else sales_of(p - 1)
        ly = sqlfn.year_ago(p, f.period)
        ly = first_days[ly] if partial else sales_of(ly)
        label = sqlfn.period_label(p, f.period)
        if partial:
            label = f"{label} (partial, to {cut:%d %b})"
        rows.append(
            {
                "period_start": p.start_time.date(),
                "period": label,
                "sales": cur,
                "quantity": int(r.quantity) if r is not None else 0,
                "lines": int(r.lines) if r is not None else 0,
                "prev_sales": prev,
                "growth_prev": growth(cur, prev),
                "last_year_sales": ly,
                "growth_last_year": growth(cur, ly),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _day(value: object) -> dt.date:
    """A grouped invoice date as a date (SQLite may hand back the ISO text)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _with_share(df: pd.DataFrame) -> pd.DataFrame:
    total = sum(df["sales"], ZERO) if len(df) else ZERO
    df["share"] = [float(s / total) if total else None for s in df["sales"]]
    return df


def _agent_query(f: ReportFilters, per_store):  # noqa: ANN001, ANN202
    """Sales per agent: the store's agent, corrected for invoices sold by someone else.

    Joining every line to its invoice is the slow way (a lookup per line). Instead the totals per
    store are credited to the store's agent, then the lines of the few invoices whose own sales
    person differs are moved from that agent to the invoice's: exact, and fast when stores keep
    their agent.
    """
    il = InvoiceLine
    base = select(
        Store.agent_id.label("agent_id"),
        per_store.c.sales,
        per_store.c.quantity,
        per_store.c.lines,
    ).join(Store, Store.id == per_store.c.store_id)
    other = (
        select(Invoice.id)
        .join(Store, Store.id == Invoice.store_id)
        .where(
            Invoice.agent_id.is_not(None),
            or_(Store.agent_id.is_(None), Invoice.agent_id != Store.agent_id),
        )
    )
    moved = (
        select(
            Invoice.agent_id.label("to_agent"),
            Store.agent_id.label("from_agent"),
            func.sum(il.line_total).label("sales"),
            func.sum(il.quantity).label("quantity"),
            func.count().label("lines"),
        )
        .select_from(il)
        .join(Invoice, Invoice.id == il.invoice_id)
        .join(Store, Store.id == il.store_id)
        .where(il.invoice_id.in_(other), *line_conditions(f))
        .group_by(Invoice.agent_id, Store.agent_id)
        .subquery()
    )
    gain = select(moved.c.to_agent, moved.c.sales, moved.c.quantity, moved.c.lines)
    loss = select(moved.c.from_agent, -moved.c.sales, -moved.c.quantity, -moved.c.lines)
    parts = union_all(base, gain, loss).subquery()
    keys = [
        func.coalesce(Agent.code, "(none)").label("agent_code"),
        func.coalesce(Agent.name, "(unassigned)").label("agent"),
    ]
    q = (
        select(*keys, *_sums(parts))
        .select_from(parts)
        .outerjoin(Agent, Agent.id == parts.c.agent_id)
        .group_by(*keys)
    )
    return keys, q


def sales_by(
    conn: Connection, f: ReportFilters, by: str, *, from_day_totals: bool = True
) -> pd.DataFrame:
    """Sales totals per store, product, brand, category, region or agent, largest first.

    Per store, region and agent the store sums come from the per-(store, day) totals where they
    answer exactly, else from the invoice lines (:func:`_sums_by`)."""
    if by not in SALES_DIMENSIONS:
        raise UserError(f"cannot group sales by {by!r}", hint=f"use one of {SALES_DIMENSIONS}")
    il = InvoiceLine
    keys: list[Label[Any]]
    if by in ("store", "region"):
        sub = _sums_by(conn, f, "store_id", from_day_totals)
        if by == "store":
            keys = [
                Store.code.label("store_code"),
                Store.name.label("store"),
                Store.region.label("region"),
            ]
        else:
            keys = [func.coalesce(Store.region, "(none)").label("region")]
        q = select(*keys, *_sums(sub)).join(Store, Store.id == sub.c.store_id).group_by(*keys)
    elif by in ("product", "brand", "category"):
        sub = _grouped(f, [il.product_id])
        if by == "product":
            keys = [
                Product.sku.label("sku"),
                Product.name.label("product"),
                Product.brand.label("brand"),
                Product.category.label("category"),
            ]
        else:
            keys = [func.coalesce(getattr(Product, by), "(none)").label(by)]
        q = select(*keys, *_sums(sub)).join(Product, Product.id == sub.c.product_id)
        q = q.group_by(*keys)
    else:
        keys, q = _agent_query(f, _sums_by(conn, f, "store_id", from_day_totals))
    df = pd.DataFrame(conn.execute(q).mappings().all())
    names = [k.name for k in keys] + ["sales", "quantity", "lines"]
    if df.empty:
        return pd.DataFrame(columns=[*names, "share"])
    df = df[names]
    df = df[df["lines"] != 0].copy()  # an agent whose moved lines cancel out entirely
    df["quantity"] = df["quantity"].astype("int64")
    df["lines"] = df["lines"].astype("int64")
    df["_s"] = df["sales"].astype(float)
    df = df.sort_values(["_s", *names[:1]], ascending=[False, True], kind="stable")
    df = df.drop(columns="_s").reset_index(drop=True)
    return _with_share(df)


def movers_windows(conn: Connection, f: ReportFilters) -> tuple[dt.date, dt.date, dt.date]:
    """(previous window start, current window start, current window end) for top movers."""
    hi = f.date_to
    if hi is None:  # the last invoiced day (an index lookup, whatever the other filters)
        hi = last_sale_day(conn) or dt.date.today()
    lo = f.date_from or hi - dt.timedelta(days=DEFAULT_MOVERS_DAYS - 1)
    days = (hi - lo).days + 1
    return lo - dt.timedelta(days=days), lo, hi


def top_movers(conn: Connection, f: ReportFilters, by: str = "product") -> pd.DataFrame:
    """The ``top_n`` biggest rises and falls in sales: the date range vs the equally long one before."""
    if by not in MOVER_DIMENSIONS:
        raise UserError(f"cannot rank movers by {by!r}", hint=f"use one of {MOVER_DIMENSIONS}")
    prev_lo, cur_lo, hi = movers_windows(conn, f)
    il = InvoiceLine
    key = il.store_id if by in ("store", "region") else il.product_id
    in_cur = il.invoice_date >= cur_lo
    sub = (
        select(
            key,
            func.sum(case((in_cur, il.line_total), else_=ZERO)).label("cur"),
            func.sum(case((~in_cur, il.line_total), else_=ZERO)).label("prev"),
        )
        .where(all_of(line_conditions(f, date_from=prev_lo, date_to=hi)))
        .group_by(key)
        .subquery()
    )
    cur = func.sum(sub.c.cur).label("current_sales")
    prev = func.sum(sub.c.prev).label("previous_sales")
    keys: list[Label[Any]]
    if by == "product":
        keys = [Product.sku.label("sku"), Product.name.label("product")]
    elif by in ("brand", "category"):
        keys = [func.coalesce(getattr(Product, by), "(none)").label(by)]
    elif by == "store":
        keys = [Store.code.label("store_code"), Store.name.label("store")]
    else:
        keys = [func.coalesce(Store.region, "(none)").label("region")]
    dim = Store if by in ("store", "region") else Product
    q = select(*keys, cur, prev).join(dim, dim.id == sub.c[key.name]).group_by(*keys)
    names = [k.name for k in keys]
    columns = ["direction", "rank", *names, "current_sales", "previous_sales", "change", "growth"]
    df = pd.DataFrame(conn.execute(q).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=columns)
    df["change"] = [c - p for c, p in zip(df["current_sales"], df["previous_sales"], strict=True)]
    df["growth"] = [
        growth(c, p) for c, p in zip(df["current_sales"], df["previous_sales"], strict=True)
    ]
    df["_chg"] = df["change"].astype(float)
    ups = df[df["_chg"] > 0].sort_values(["_chg", *names], ascending=[False] + [True] * len(names))
    downs = df[df["_chg"] < 0].sort_values(["_chg", *names])
    ups = ups.head(f.top_n).assign(direction="up")
    downs = downs.head(f.top_n).assign(direction="down")
    ups["rank"] = range(1, len(ups) + 1)
    downs["rank"] = range(1, len(downs) + 1)
    out = pd.concat([ups, downs], ignore_index=True)
    return out[columns].reset_index(drop=True)
