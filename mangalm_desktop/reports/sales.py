"""Sales reports: by period with growth, by dimension, top movers.

Sales are invoice lines (the system of record is Zoho Books invoicing), net of credit notes
(which carry negative quantities and totals), excluding void and draft invoices and tombstones.
All totals are summed in the database; pandas only shapes the few aggregated rows (filling
empty periods, lining up last year's figure) and never loops over invoice lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from sqlalchemy import Connection, case, func, select

from ..db.models import Agent, Invoice, InvoiceLine, Product, Store
from ..domain.errors import UserError
from . import sqlfn
from .filters import ReportFilters, all_of, line_conditions

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


def _date_bounds(conn: Connection, f: ReportFilters) -> tuple[dt.date, dt.date] | None:
    """The filter's dates, or the first/last sale date matching the other filters."""
    lo, hi = f.date_from, f.date_to
    if lo is None or hi is None:
        row = conn.execute(
            select(func.min(InvoiceLine.invoice_date), func.max(InvoiceLine.invoice_date)).where(
                all_of(line_conditions(f))
            )
        ).one()
        if row[0] is None:
            return None
        lo = lo or row[0]
        hi = hi or row[1]
    return lo, hi


def sales_by_period(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    """Sales per whole period, with growth vs the previous period and vs the same period a year ago.

    The range is widened to whole periods (a month report from the 10th starts on the 1st), so
    every row compares like with like.
    """
    columns = [
        "period_start",
        "period",
        "sales",
        "quantity",
        "invoices",
        "lines",
        "prev_sales",
        "growth_prev",
        "last_year_sales",
        "growth_last_year",
    ]
    bounds = _date_bounds(conn, f)
    if bounds is None:
        return pd.DataFrame(columns=columns)
    freq = sqlfn.PANDAS_FREQ[f.period]
    first = pd.Period(bounds[0], freq=freq)
    last = pd.Period(bounds[1], freq=freq)
    earliest = min(first - 1, sqlfn.year_ago(first, f.period))
    lo = earliest.start_time.date()
    hi = last.end_time.date()
    il = InvoiceLine
    pstart = sqlfn.period_start(il.invoice_date, f.period, conn.dialect.name).label("p")
    q = (
        select(
            pstart,
            func.sum(il.line_total).label("sales"),
            func.sum(il.quantity).label("quantity"),
            func.count(func.distinct(il.invoice_id)).label("invoices"),
            func.count().label("lines"),
        )
        .where(all_of(line_conditions(f, date_from=lo, date_to=hi)))
        .group_by(pstart)
    )
    got = {sqlfn.to_period(r.p, f.period): r for r in conn.execute(q)}

    def sales_of(p: pd.Period) -> Decimal:
        r = got.get(p)
        return r.sales if r is not None else ZERO

    rows = []
    for p in pd.period_range(first, last, freq=freq):
        r = got.get(p)
        cur = sales_of(p)
        prev = sales_of(p - 1)
        ly = sales_of(sqlfn.year_ago(p, f.period))
        rows.append(
            {
                "period_start": p.start_time.date(),
                "period": sqlfn.period_label(p, f.period),
                "sales": cur,
                "quantity": int(r.quantity) if r is not None else 0,
                "invoices": int(r.invoices) if r is not None else 0,
                "lines": int(r.lines) if r is not None else 0,
                "prev_sales": prev,
                "growth_prev": growth(cur, prev),
                "last_year_sales": ly,
                "growth_last_year": growth(cur, ly),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _with_share(df: pd.DataFrame) -> pd.DataFrame:
    total = sum(df["sales"], ZERO) if len(df) else ZERO
    df["share"] = [float(s / total) if total else None for s in df["sales"]]
    return df


def _agg_cols():  # noqa: ANN202
    il = InvoiceLine
    return (
        func.sum(il.line_total).label("sales"),
        func.sum(il.quantity).label("quantity"),
        func.count(func.distinct(il.invoice_id)).label("invoices"),
        func.count().label("lines"),
    )


def sales_by(conn: Connection, f: ReportFilters, by: str) -> pd.DataFrame:
    """Sales totals per store, product, brand, category, region or agent, largest first."""
    if by not in SALES_DIMENSIONS:
        raise UserError(f"cannot group sales by {by!r}", hint=f"use one of {SALES_DIMENSIONS}")
    il = InvoiceLine
    where = all_of(line_conditions(f))
    if by == "store":
        keys = [Store.code.label("store_code"), Store.name.label("store"), Store.region]
        q = select(*keys, *_agg_cols()).join(Store, Store.id == il.store_id)
    elif by == "product":
        keys = [Product.sku, Product.name.label("product"), Product.brand, Product.category]
        q = select(*keys, *_agg_cols()).join(Product, Product.id == il.product_id)
    elif by in ("brand", "category"):
        col = getattr(Product, by)
        keys = [func.coalesce(col, "(none)").label(by)]
        q = select(*keys, *_agg_cols()).join(Product, Product.id == il.product_id)
    elif by == "region":
        keys = [func.coalesce(Store.region, "(none)").label("region")]
        q = select(*keys, *_agg_cols()).join(Store, Store.id == il.store_id)
    else:  # agent: the invoice's sales person, else the store's assigned agent
        agent_id = func.coalesce(Invoice.agent_id, Store.agent_id)
        keys = [
            func.coalesce(Agent.code, "(none)").label("agent_code"),
            func.coalesce(Agent.name, "(unassigned)").label("agent"),
        ]
        q = (
            select(*keys, *_agg_cols())
            .join(Invoice, Invoice.id == il.invoice_id)
            .join(Store, Store.id == il.store_id)
            .outerjoin(Agent, Agent.id == agent_id)
        )
    q = q.where(where).group_by(*keys)
    df = pd.DataFrame(conn.execute(q).mappings().all())
    names = [k.name for k in keys] + ["sales", "quantity", "invoices", "lines"]
    if df.empty:
        return pd.DataFrame(columns=[*names, "share"])
    df = df[names]
    df["quantity"] = df["quantity"].astype("int64")
    df = df.sort_values("sales", ascending=False, kind="stable").reset_index(drop=True)
    return _with_share(df)


def movers_windows(conn: Connection, f: ReportFilters) -> tuple[dt.date, dt.date, dt.date]:
    """(previous window start, current window start, current window end) for top movers."""
    hi = f.date_to
    if hi is None:
        hi = conn.execute(
            select(func.max(InvoiceLine.invoice_date)).where(all_of(line_conditions(f)))
        ).scalar_one()
        if hi is None:
            hi = dt.date.today()
    lo = f.date_from or hi - dt.timedelta(days=DEFAULT_MOVERS_DAYS - 1)
    days = (hi - lo).days + 1
    return lo - dt.timedelta(days=days), lo, hi


def top_movers(conn: Connection, f: ReportFilters, by: str = "product") -> pd.DataFrame:
    """The ``top_n`` biggest rises and falls in sales: the date range vs the equally long one before."""
    if by not in MOVER_DIMENSIONS:
        raise UserError(f"cannot rank movers by {by!r}", hint=f"use one of {MOVER_DIMENSIONS}")
    prev_lo, cur_lo, hi = movers_windows(conn, f)
    il = InvoiceLine
    in_cur = il.invoice_date >= cur_lo
    cur = func.sum(case((in_cur, il.line_total), else_=ZERO)).label("current_sales")
    prev = func.sum(case((~in_cur, il.line_total), else_=ZERO)).label("previous_sales")
    if by == "product":
        keys = [Product.sku, Product.name.label("product")]
        q = select(*keys, cur, prev).join(Product, Product.id == il.product_id)
    elif by in ("brand", "category"):
        keys = [func.coalesce(getattr(Product, by), "(none)").label(by)]
        q = select(*keys, cur, prev).join(Product, Product.id == il.product_id)
    elif by == "store":
        keys = [Store.code.label("store_code"), Store.name.label("store")]
        q = select(*keys, cur, prev).join(Store, Store.id == il.store_id)
    else:
        keys = [func.coalesce(Store.region, "(none)").label("region")]
        q = select(*keys, cur, prev).join(Store, Store.id == il.store_id)
    q = q.where(all_of(line_conditions(f, date_from=prev_lo, date_to=hi))).group_by(*keys)
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
