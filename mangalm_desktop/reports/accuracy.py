"""Forecast accuracy: stored predictions against what was actually invoiced.

A prediction says how many units a store will buy of a product over ``horizon_weeks`` weeks
from ``horizon_start``. Its actual is the invoiced quantity (net of credit notes) in exactly
that window. When the forecaster re-ran for the same window, only the latest run counts, so a
refresh does not count twice. Windows that have not ended by the as-of date (the filter's end,
default the last invoice date) are left out: half-observed actuals would look like misses.

WAPE = Σ|actual − forecast| / Σ actual (lower is better); bias = Σ(forecast − actual) / Σ actual
(positive = over-forecast). Everything is summed in the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import (
    Connection,
    Float,
    FromClause,
    Label,
    Select,
    cast,
    false,
    func,
    literal,
    select,
)

from ..db.models import Agent, InvoiceLine, Prediction, Product, Store
from ..domain.errors import UserError
from . import sqlfn
from .filters import (
    ReportFilters,
    agent_ids,
    excluded_invoices,
    last_sale_day,
    product_ids,
    store_ids,
)

ACCURACY_DIMENSIONS: tuple[str, ...] = ("agent", "store", "product", "period")


def _as_of(conn: Connection, f: ReportFilters) -> dt.date:
    if f.date_to is not None:
        return f.date_to
    return last_sale_day(conn) or dt.date.today()


def _latest_windows(f: ReportFilters, as_of: dt.date, dialect: str) -> Select[Any]:
    """The latest prediction of each (store, product, window) the filters allow, among the
    windows fully observed by ``as_of``, in store order."""
    p = Prediction
    end_excl = sqlfn.add_days(p.horizon_start, p.horizon_weeks * 7, dialect)
    ranked = (
        select(
            p.store_id,
            p.product_id,
            p.horizon_start,
            p.point,
            end_excl.label("end_excl"),
            func.row_number()
            .over(
                partition_by=(p.store_id, p.product_id, p.horizon_start, p.horizon_weeks),
                order_by=p.generated_at.desc(),
            )
            .label("rn"),
        )
        .where(p.deleted == false())
        .subquery("ranked")
    )
    r = ranked.c
    # Only windows fully observed by the as-of date: end_excl <= as_of + 1 day.
    conds = [
        r.rn == 1,
        r.end_excl <= literal(as_of + dt.timedelta(days=1), type_=p.horizon_start.type),
    ]
    if f.date_from is not None:
        conds.append(r.horizon_start >= f.date_from)
    if f.date_to is not None:
        conds.append(r.horizon_start <= f.date_to)
    sids = store_ids(f)
    if sids is not None:
        conds.append(r.store_id.in_(sids))
    pids = product_ids(f)
    if pids is not None:
        conds.append(r.product_id.in_(pids))
    if f.agent is not None:
        conds.append(r.store_id.in_(select(Store.id).where(Store.agent_id.in_(agent_ids(f)))))
    return (
        select(r.store_id, r.product_id, r.horizon_start, r.point, r.end_excl)
        .where(*conds)
        .order_by(r.store_id, r.horizon_start)
    )


def forecast_accuracy(conn: Connection, f: ReportFilters, by: str = "agent") -> pd.DataFrame:
    """WAPE and bias of stored predictions, by agent, store, product, or horizon period."""
    if by not in ACCURACY_DIMENSIONS:
        raise UserError(f"cannot group accuracy by {by!r}", hint=f"use {ACCURACY_DIMENSIONS}")
    dialect = conn.dialect.name
    windows = _latest_windows(f, _as_of(conn, f), dialect).subquery("windows")
    w = windows.c
    il = InvoiceLine
    actual = (
        select(func.coalesce(func.sum(il.quantity), 0))
        .where(
            # Looked up by store and date (the store's few lines in the window), with the
            # windows in store order so consecutive lookups read the same index pages. Left to
            # itself SQLite drives the lookup from the product index instead, whose pages each
            # prediction reads afresh: twice the time on a million lines (docs/performance.md).
            il.store_id == w.store_id,
            sqlfn.not_an_index_key(il.product_id, dialect) == w.product_id,
            il.invoice_date >= w.horizon_start,
            il.invoice_date < w.end_excl,
            il.deleted == false(),
            il.invoice_id.not_in(excluded_invoices()),
        )
        .scalar_subquery()
    )
    # Materialized, so each prediction's actual is summed once: the outer query uses it three
    # times (actual, error, absolute error), and a flattened subquery repeats the lookup each time.
    per_pred = (
        select(
            w.store_id,
            w.product_id,
            w.horizon_start,
            w.point.label("forecast"),
            actual.label("actual"),
        )
        .cte("per_prediction")
        .prefix_with("MATERIALIZED")
    )
    pp = per_pred.c
    err = pp.forecast - cast(pp.actual, Float)
    abs_err = func.abs(err)
    src: FromClause
    keys: list[Label[Any]]
    if by == "agent":
        keys = [
            func.coalesce(Agent.code, "(none)").label("agent_code"),
            func.coalesce(Agent.name, "(unassigned)").label("agent"),
        ]
        src = per_pred.join(Store, Store.id == pp.store_id).outerjoin(
            Agent, Agent.id == Store.agent_id
        )
    elif by == "store":
        keys = [Store.code.label("store_code"), Store.name.label("store")]
        src = per_pred.join(Store, Store.id == pp.store_id)
    elif by == "product":
        keys = [Product.sku.label("sku"), Product.name.label("product")]
        src = per_pred.join(Product, Product.id == pp.product_id)
    else:
        keys = [sqlfn.period_start(pp.horizon_start, f.period, dialect).label("period_start")]
        src = per_pred
    q = (
        select(
            *keys,
            func.count().label("predictions"),
            func.sum(pp.forecast).label("forecast"),
            func.sum(pp.actual).label("actual"),
            func.sum(abs_err).label("abs_error"),
            func.sum(err).label("error"),
        )
        .select_from(src)
        .group_by(*keys)
    )
    names = [k.name for k in keys]
    columns = [*names, "predictions", "forecast", "actual", "abs_error", "wape", "bias"]
    if by == "period":
        columns.insert(1, "period")
    df = pd.DataFrame(conn.execute(q).mappings().all())
    if df.empty:
        return pd.DataFrame(columns=columns)
    df["actual"] = df["actual"].astype("int64")
    for c in ("forecast", "abs_error", "error"):
        df[c] = df[c].astype(float).round(6)
    df["wape"] = [a / s if s else None for a, s in zip(df["abs_error"], df["actual"], strict=True)]
    df["bias"] = [e / s if s else None for e, s in zip(df["error"], df["actual"], strict=True)]
    if by == "period":
        periods = [sqlfn.to_period(v, f.period) for v in df["period_start"]]
        df["period_start"] = [x.start_time.date() for x in periods]
        df["period"] = [sqlfn.period_label(x, f.period) for x in periods]
        df = df.sort_values("period_start")
    else:
        df = df.sort_values(names)
    return df.reset_index(drop=True)[columns]
