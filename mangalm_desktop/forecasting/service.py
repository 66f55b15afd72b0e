"""Forecasting for the local database: what the GUI, the CLI and the orders package call.

Public, Qt-free functions (long ones take a :class:`TaskContext` for progress and cancel):

- :func:`run_forecast` — fit on the local history, write suggested lines to ``prediction``
  (model + generated_at; older rows of a recomputed store are tombstoned). Only stores whose
  invoices, orders, shelf reports or calls changed since their last prediction are recomputed.
- :func:`suggested_order` — a store's suggested lines (quantity, range, probability, reason),
  re-netted against shelf reports made after the forecast ran.
- :func:`call_list` — stores ranked by expected order value × overdue, with churn flag and
  snooze (a call logged with a future next-call date snoozes the store until then).
- :func:`upsell_for_store` — similar-store suggestions with their evidence.

Predictions are local, derived data: they are not queued in the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import (
    CallLog,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Prediction,
    Product,
    Store,
    StoreStockReport,
    SyncState,
)
from ..db.types import utcnow
from ..domain.enums import InvoiceKind, OrderKind, OrderState
from ..domain.tasks import NULL_TASK, TaskContext
from .basket import BasketConfig, fit_basket_model
from .calllist import call_priority, product_prices
from .demand import fit_demand_model
from .features import store_orders, store_stats
from .series import History, build_history, day_number, week_of_day, weekly_matrix
from .suggest import LineInput, cover_days, suggest_line
from .upsell import UpsellConfig, similar_store_upsell
from .upsell_pairs import purchase_pairs

log = logging.getLogger(__name__)

MODEL_NAME = "mangalm-basket-v2"
LAST_RUN_KEY = "forecast.last_run"  # sync_state row: when run_forecast last finished
HORIZON_WEEKS = 8
MAX_LINES_PER_STORE = 60
OPEN_ORDER_STATES = (
    OrderState.SUBMITTED.value,
    OrderState.SYNCED.value,
    OrderState.SENT_TO_ZOHO.value,
)
SKIP_INVOICE_STATUSES = ("void", "draft")


@dataclass(frozen=True)
class ForecastSummary:
    stores_total: int
    stores_recomputed: int
    predictions_written: int
    seconds: float
    note: str = ""

    def describe(self) -> str:
        text = (
            f"forecast: {self.stores_recomputed} of {self.stores_total} stores recomputed, "
            f"{self.predictions_written} suggested lines written in {self.seconds:.1f} s"
        )
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class SuggestionLine:
    """One suggested order line as shown to the agent (and pre-filled into a new order)."""

    prediction_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    sku: str | None
    quantity: int
    low: float
    high: float
    probability: float | None
    shelf_qty: int | None
    pack_size: int
    reason: str


@dataclass(frozen=True)
class CallListEntry:
    store_id: uuid.UUID
    store_name: str
    rank: int
    expected_value: float
    days_since_order: int | None
    usual_every_days: float | None
    overdue: float
    churn_risk: bool
    churn_reason: str
    snoozed_until: dt.date | None
    planned_call: dt.date | None


@dataclass(frozen=True)
class UpsellItem:
    product_id: uuid.UUID
    product_name: str
    buyers: int
    neighbours: int
    evidence: str


def load_history(session: Session) -> tuple[History, pd.DataFrame] | None:
    """Invoice lines (credit notes as returns; void/draft invoices skipped) plus lines of
    orders submitted but not yet invoiced, as a :class:`History`. None when empty."""
    inv = session.execute(
        select(
            InvoiceLine.store_id,
            InvoiceLine.product_id,
            Invoice.number,
            Invoice.kind,
            InvoiceLine.invoice_date,
            InvoiceLine.quantity,
            InvoiceLine.unit_price,
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            InvoiceLine.deleted.is_(False),
            Invoice.deleted.is_(False),
            func.lower(func.coalesce(Invoice.status, "")).notin_(SKIP_INVOICE_STATUSES),
        )
    ).all()
    orders = session.execute(
        select(
            OrderLine.store_id,
            OrderLine.product_id,
            Order.number,
            Order.order_date,
            OrderLine.quantity,
            OrderLine.unit_price,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.deleted.is_(False),
            Order.deleted.is_(False),
            Order.kind == OrderKind.ORDER.value,
            Order.state.in_(OPEN_ORDER_STATES),
        )
    ).all()
    rows = [
        (
            str(s),
            str(p),
            num,
            d,
            -abs(q) if kind == InvoiceKind.CREDIT_NOTE.value else q,
            float(price or 0),
        )
        for s, p, num, kind, d, q, price in inv
    ]
    rows += [
        (str(s), str(p), f"order:{n}", d, q, float(price or 0)) for s, p, n, d, q, price in orders
    ]
    if not rows:
        return None
    raw = pd.DataFrame(rows, columns=["store", "product", "invoice", "date", "quantity", "price"])
    raw["date"] = pd.to_datetime(raw["date"])
    history, _ = build_history(raw)
    if len(history.lines) == 0:
        return None
    return history, raw


def _changed_stores(session: Session) -> set[uuid.UUID]:
    """Stores whose inputs changed after their newest prediction (or that have none)."""
    last_pred = dict(
        session.execute(
            select(Prediction.store_id, func.max(Prediction.generated_at))
            .where(Prediction.deleted.is_(False))
            .group_by(Prediction.store_id)
        ).all()
    )
    latest: dict[uuid.UUID, dt.datetime] = {}
    for table in (InvoiceLine, OrderLine, StoreStockReport, CallLog):
        for sid, at in session.execute(
            select(table.store_id, func.max(table.updated_at)).group_by(table.store_id)
        ):
            if at is not None and (sid not in latest or at > latest[sid]):
                latest[sid] = at
    # a store whose last run suggested nothing has no prediction row: the run time stands in
    run = session.get(SyncState, LAST_RUN_KEY)
    last_run = run.updated_at if run is not None else None
    changed = set()
    for sid, at in latest.items():
        seen = last_pred.get(sid) or last_run
        if seen is None or _aware(at) > _aware(seen):
            changed.add(sid)
    return changed


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _planned_calls(session: Session, today: dt.date) -> dict[uuid.UUID, dt.date]:
    rows = session.execute(
        select(CallLog.store_id, func.max(CallLog.next_call_date))
        .where(CallLog.deleted.is_(False), CallLog.next_call_date.is_not(None))
        .group_by(CallLog.store_id)
    ).all()
    return {sid: d for sid, d in rows if d is not None and d > today}


def run_forecast(
    engine: Engine,
    ctx: TaskContext = NULL_TASK,
    only_changed: bool = True,
    today: dt.date | None = None,
    basket_cfg: BasketConfig | None = None,
) -> ForecastSummary:
    """Fit on all local history and write the suggested lines of changed stores."""
    t0 = time.monotonic()
    today = today or dt.date.today()
    ctx.progress(0, 5, "reading history")
    with session_scope(engine) as session:
        loaded = load_history(session)
        n_stores = session.scalar(select(func.count()).select_from(Store)) or 0
        changed = _changed_stores(session) if only_changed else None
        planned = _planned_calls(session, today)
        products = {
            p.id: p for p in session.scalars(select(Product).where(Product.deleted.is_(False)))
        }
        stores = {s.id: s for s in session.scalars(select(Store).where(Store.deleted.is_(False)))}
        session.expunge_all()
    if loaded is None:
        return ForecastSummary(n_stores, 0, 0, time.monotonic() - t0, "no sales history yet")
    history, _ = loaded
    store_code = {uuid.UUID(str(s)): i for i, s in enumerate(history.stores)}
    todo = [
        sid
        for sid, st in stores.items()
        if st.active and sid in store_code and (changed is None or sid in changed)
    ]
    if not todo:
        return ForecastSummary(n_stores, 0, 0, time.monotonic() - t0, "nothing changed")
    ctx.check()
    origin = int(day_number(pd.Series([pd.Timestamp(today)]))[0]) + 1  # today's sales count
    known = history.before(origin)
    cfg = basket_cfg or BasketConfig(horizon_days=7 * HORIZON_WEEKS)
    ctx.progress(1, 5, "learning what stores reorder")
    model = fit_basket_model(known, origin, cfg)
    ctx.check()
    ctx.progress(2, 5, "weekly demand")
    scored = model.score_all(known, origin)
    n_orders = known.groupby(["s", "p"]).size()
    pairs = n_orders[n_orders >= 2].reset_index()
    ps, pp = pairs["s"].to_numpy(), pairs["p"].to_numpy()
    w0 = int(week_of_day(history.first_day))
    wo = int(week_of_day(origin))
    y = weekly_matrix(known, ps, pp, w0, max(wo - w0, 1)).astype(np.float64)
    dm = fit_demand_model(y, HORIZON_WEEKS)
    point, low, high = dm.forecast(y, HORIZON_WEEKS)
    rate = point.mean(axis=1)
    rate_low = np.maximum(rate - dm.rate_halfwidth(y), 0)
    rate_high = rate + dm.rate_halfwidth(y)
    pair_row = {(int(s), int(p)): i for i, (s, p) in enumerate(zip(ps, pp, strict=True))}
    st = store_stats(store_orders(known), origin)
    ctx.check()

    ctx.progress(3, 5, "suggested orders")
    now = utcnow()
    written = 0
    code_to_store = {i: uuid.UUID(str(s)) for i, s in enumerate(history.stores)}
    code_to_product = {i: uuid.UUID(str(p)) for i, p in enumerate(history.products)}
    todo_codes = {store_code[sid] for sid in todo}
    chosen = scored[(scored["prob"] >= model.threshold) & scored["s"].isin(todo_codes)]
    chosen = chosen.sort_values(["s", "prob"], ascending=[True, False], kind="stable")
    chosen = chosen[chosen.groupby("s").cumcount() < MAX_LINES_PER_STORE]
    with session_scope(engine) as session:
        shelf = _latest_shelf(session, todo)
        session.execute(
            update(Prediction)
            .where(Prediction.store_id.in_(todo), Prediction.deleted.is_(False))
            .values(deleted=True, version=Prediction.version + 1)
        )
        for s_code, group in chosen.groupby("s", sort=False):
            ctx.check()
            sid = code_to_store[int(s_code)]
            store = stores[sid]
            gap = st["store_gap"].get(int(s_code), np.nan)
            plan = planned.get(sid)
            cover = cover_days(
                (plan - today).days if plan else None,
                None if pd.isna(gap) else float(gap),
                store.call_cadence_days,
            )
            for row in group.itertuples(index=False):
                pid = code_to_product[int(row.p)]
                product = products.get(pid)
                if product is None or not product.active:
                    continue
                i = pair_row.get((int(row.s), int(row.p)))
                shelf_qty = shelf.get((sid, pid))
                pair_gap = (
                    (row.last_day - row.first_day) / (row.cnt - 1)
                    if row.cnt and row.cnt > 1
                    else None
                )
                line = suggest_line(
                    LineInput(
                        weekly_point=float(rate[i]) if i is not None else 0.0,
                        weekly_low=float(rate_low[i]) if i is not None else 0.0,
                        weekly_high=float(rate_high[i]) if i is not None else 0.0,
                        typical_qty=float(row.qty_med) if not pd.isna(row.qty_med) else 1.0,
                        usual_every_days=pair_gap,
                        last_bought_days_ago=None
                        if pd.isna(row.days_since)
                        else int(row.days_since) - 1,
                        cover_days=cover,
                        shelf_qty=shelf_qty,
                        pack_size=max(product.pack_size or 1, 1),
                        probability=float(row.prob),
                    )
                )
                session.add(
                    Prediction(
                        store_id=sid,
                        product_id=pid,
                        horizon_start=today,
                        horizon_weeks=max(1, math.ceil(cover / 7)),
                        point=max(line.demand, float(row.qty_med or 0)),
                        low=line.low,
                        high=max(line.high, float(line.quantity)),
                        probability=float(row.prob),
                        suggested_qty=line.quantity,
                        reason=line.reason,
                        model=MODEL_NAME,
                        generated_at=now,
                    )
                )
                written += 1
        run = session.get(SyncState, LAST_RUN_KEY) or SyncState(key=LAST_RUN_KEY)
        run.value = MODEL_NAME
        run.updated_at = now
        session.add(run)
    ctx.progress(5, 5, "forecast done")
    return ForecastSummary(n_stores, len(todo), written, time.monotonic() - t0)


def _latest_shelf(session: Session, store_ids) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    rows = session.execute(
        select(StoreStockReport.store_id, StoreStockReport.product_id, StoreStockReport.quantity)
        .where(StoreStockReport.store_id.in_(list(store_ids)), StoreStockReport.deleted.is_(False))
        .order_by(StoreStockReport.reported_on, StoreStockReport.created_at)
    ).all()
    return {(s, p): q for s, p, q in rows}


def suggested_order(engine: Engine, store_id: uuid.UUID) -> list[SuggestionLine]:
    """The store's current suggested lines, most likely first.

    A shelf report made after the forecast ran is netted here (the forecast already netted
    older ones), and the result re-rounded to the pack.
    """
    with session_scope(engine) as session:
        preds = session.execute(
            select(Prediction, Product)
            .join(Product, Product.id == Prediction.product_id)
            .where(Prediction.store_id == store_id, Prediction.deleted.is_(False))
            .order_by(Prediction.probability.desc())
        ).all()
        reports = session.execute(
            select(
                StoreStockReport.product_id, StoreStockReport.quantity, StoreStockReport.created_at
            )
            .where(StoreStockReport.store_id == store_id, StoreStockReport.deleted.is_(False))
            .order_by(StoreStockReport.reported_on, StoreStockReport.created_at)
        ).all()
        latest = {pid: (q, at) for pid, q, at in reports}
        out = []
        for pred, product in preds:
            qty = int(pred.suggested_qty or 0)
            reason = pred.reason or ""
            shelf = None
            if product.id in latest:
                shelf, at = latest[product.id]
                if _aware(at) > _aware(pred.generated_at):
                    pack = max(product.pack_size or 1, 1)
                    qty = max(0, math.ceil((qty - shelf) / pack) * pack)
                    reason = f"{reason}; shelf has {shelf} (reported after the forecast)"
            out.append(
                SuggestionLine(
                    prediction_id=pred.id,
                    product_id=product.id,
                    product_name=product.name,
                    sku=product.sku,
                    quantity=qty,
                    low=pred.low,
                    high=pred.high,
                    probability=pred.probability,
                    shelf_qty=shelf,
                    pack_size=product.pack_size or 1,
                    reason=reason,
                )
            )
        return out


def call_list(
    engine: Engine,
    today: dt.date | None = None,
    agent_id: uuid.UUID | None = None,
    include_snoozed: bool = False,
) -> list[CallListEntry]:
    """Active stores ranked for today's calls (snoozed ones last or left out)."""
    today = today or dt.date.today()
    with session_scope(engine) as session:
        # only the days each store ordered: cheap enough to run whenever Today is shown
        order_days = (
            session.execute(
                select(InvoiceLine.store_id, InvoiceLine.invoice_date)
                .where(InvoiceLine.deleted.is_(False), InvoiceLine.quantity > 0)
                .distinct()
            ).all()
            + session.execute(
                select(Order.store_id, Order.order_date)
                .where(Order.deleted.is_(False), Order.state.in_(OPEN_ORDER_STATES))
                .distinct()
            ).all()
        )
        q = select(Store).where(Store.deleted.is_(False), Store.active.is_(True))
        if agent_id is not None:
            q = q.where(Store.agent_id == agent_id)
        stores = list(session.scalars(q))
        preds = session.execute(
            select(
                Prediction.store_id,
                Prediction.product_id,
                Prediction.probability,
                Prediction.suggested_qty,
                Product.price,
            )
            .join(Product, Product.id == Prediction.product_id)
            .where(Prediction.deleted.is_(False))
        ).all()
        planned = _planned_calls(session, today)
        session.expunge_all()
    if not stores:
        return []
    idx = {s.id: i for i, s in enumerate(stores)}
    origin = int(day_number(pd.Series([pd.Timestamp(today)]))[0]) + 1
    stats = pd.DataFrame(
        {
            "store_gap": [
                float(s.call_cadence_days) if s.call_cadence_days else np.nan for s in stores
            ],
            "store_days_since_order": np.full(len(stores), np.nan),
        }
    )
    known = pd.DataFrame(
        [(idx[sid], day) for sid, day in order_days if sid in idx and day is not None],
        columns=["s", "date"],
    )
    if len(known):
        known["day"] = day_number(pd.to_datetime(known["date"]))
        known = known[known["day"] < origin].drop_duplicates(["s", "day"])
    if len(known):
        st = store_stats(store_orders(known), origin)
        for i in st.index:
            if not pd.isna(st.at[i, "store_gap"]):
                stats.at[i, "store_gap"] = st.at[i, "store_gap"]
            stats.at[i, "store_days_since_order"] = st.at[i, "store_days_since_order"] - 1
    stats["store_days_since_order"] = stats["store_days_since_order"].fillna(0)
    scored = pd.DataFrame(
        [
            (idx[s], 0, float(pr or 0), int(q or 0), float(price or 0))
            for s, _p, pr, q, price in preds
            if s in idx
        ],
        columns=["s", "p", "prob", "qty", "price"],
    )
    prices = scored["price"].to_numpy() if len(scored) else np.zeros(1)
    scored["p"] = np.arange(len(scored))
    ranked = call_priority(stats, scored, prices if len(scored) else np.zeros(1))
    out = []
    for row in ranked.itertuples(index=False):
        store = stores[int(row.s)]
        snooze = planned.get(store.id)
        if snooze and not include_snoozed:
            continue
        out.append(
            CallListEntry(
                store_id=store.id,
                store_name=store.name,
                rank=0,
                expected_value=float(row.expected_value),
                days_since_order=int(row.days_since),
                usual_every_days=float(row.gap_days),
                overdue=float(row.overdue),
                churn_risk=bool(row.churn_risk),
                churn_reason=str(row.churn_reason),
                snoozed_until=snooze,
                planned_call=snooze,
            )
        )
    out.sort(key=lambda e: e.snoozed_until is not None)  # stable: snoozed ones last
    return [CallListEntry(**{**e.__dict__, "rank": r}) for r, e in enumerate(out)]


def upsell_for_store(
    engine: Engine, store_id: uuid.UUID, today: dt.date | None = None, top_n: int = 5
) -> list[UpsellItem]:
    """Products similar stores buy and this one never bought, with the evidence in words.

    Reads only distinct (store, product) purchases (:mod:`.upsell_pairs`), not the history.
    """
    today = today or dt.date.today()
    with session_scope(engine) as session:
        pairs = purchase_pairs(session, store_id, today, SKIP_INVOICE_STATUSES, OPEN_ORDER_STATES)
        if pairs is None:
            return []
        codes = {sid: i for i, sid in enumerate(pairs.stores)}
        if store_id not in codes:
            return []
        ups = similar_store_upsell(
            pairs.train,
            np.array([codes[store_id]]),
            pairs.origin,
            len(pairs.stores),
            len(pairs.products),
            UpsellConfig(top_n=top_n * 2),
        )
        out = []
        for row in ups.itertuples(index=False):
            pid = pairs.products[row.p]
            product = session.get(Product, pid)
            if product is None or not product.active or product.deleted:
                continue
            out.append(
                UpsellItem(
                    product_id=pid,
                    product_name=product.name,
                    buyers=int(row.buyers),
                    neighbours=int(row.neighbours),
                    evidence=f"bought by {row.buyers} of {row.neighbours} similar stores",
                )
            )
            if len(out) >= top_n:
                break
        return out


__all__ = [
    "CallListEntry",
    "ForecastSummary",
    "SuggestionLine",
    "UpsellItem",
    "call_list",
    "load_history",
    "product_prices",
    "run_forecast",
    "suggested_order",
    "upsell_for_store",
]
