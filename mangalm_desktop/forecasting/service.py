"""Forecasting for the local database: what the GUI, the CLI and the orders package call.

Public, Qt-free functions (long ones take a :class:`TaskContext` for progress and cancel):

- :func:`run_forecast` — fit on the local history, write suggested lines to ``prediction``
  (model + generated_at; older rows of a recomputed store are tombstoned). Only stores whose
  invoices, orders, shelf reports or calls changed since their last prediction are recomputed.
- :func:`suggested_order` — a store's suggested lines (quantity, range, probability, reason),
  re-netted against shelf reports made after the forecast ran.
- :func:`call_list` / :func:`win_back_list` / :func:`todays_calls` — stores ranked by the
  chance they order this week × √(expected order value), and the stores gone quiet (silent
  for more than three usual intervals) on a separate list with the reason and their chance;
  snooze = a call logged with a future next-call date.
- :func:`upsell_for_store` — similar-store suggestions with their evidence.

Predictions are local, derived data: they are not queued in the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from ..db.access import require_store
from ..db.day_sales import OPEN_ORDER_STATES
from ..db.engine import session_scope
from ..db.models import (
    ActivityModelStore,
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
from ..db.store_expected import refresh_store_expected
from ..db.types import utcnow
from ..domain.date_window import is_plausible, latest_date, window_text
from ..domain.enums import InvoiceKind, OrderKind
from ..domain.identity import store_scope
from ..domain.tasks import NULL_TASK, TaskContext
from ..security.roles import Identity, Permission, PermissionDenied, require
from .activity import ActivityModel, fit_activity_model, order_table, store_activity
from .basket import BasketConfig, fit_basket_model
from .calllist import call_priority, product_prices
from .demand import fit_demand_model
from .entries import CallListEntry as CallListEntry  # re-exported: the service's types
from .entries import LazyRows, TodaysCalls
from .features import store_orders, store_stats
from .series import History, build_history, day_number, week_of_day, weekly_matrix
from .suggest import LineInput, cover_days, likely_range, suggest_line
from .today import expected_values, kept_values, order_days, store_rows
from .upsell import UpsellConfig, similar_store_upsell
from .upsell_pairs import purchase_pairs

log = logging.getLogger(__name__)

MODEL_NAME = "mangalm-basket-v2"
LAST_RUN_KEY = "forecast.last_run"  # sync_state row: when run_forecast last finished
HORIZON_WEEKS = 8
MAX_LINES_PER_STORE = 60
SKIP_INVOICE_STATUSES = ("void", "draft")
ACTIVITY_KEY = "store-activity"
"""``activity_model`` row of the activity model the last forecast run fitted."""
ACTIVITY_STALE_DAYS = 7
"""Today uses the stored activity model while it is at most this old (it is trained on 12
weekly cut-offs; a week-old fit describes the book as well). Older, missing or written by
another version: Today fits one itself, and says so."""


@dataclass(frozen=True)
class ForecastSummary:
    stores_total: int
    stores_recomputed: int
    predictions_written: int
    seconds: float
    note: str = ""
    ignored_lines: int = 0
    """History lines left out for a date outside the plausible window."""

    def describe(self) -> str:
        text = (
            f"forecast: {self.stores_recomputed} of {self.stores_total} stores recomputed, "
            f"{self.predictions_written} suggested lines written in {self.seconds:.1f} s"
        )
        text = f"{text} ({self.note})" if self.note else text
        return f"{text}\n{ignored_note(self.ignored_lines)}" if self.ignored_lines else text


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
class UpsellItem:
    product_id: uuid.UUID
    product_name: str
    buyers: int
    neighbours: int
    evidence: str


def ignored_note(n: int) -> str:
    """The summary line for ``n`` history lines left out for an implausible date."""
    return (
        f"{n:,} invoice lines dated outside {window_text()} were ignored "
        "(a typo such as 0001-01-01 or 9999-12-31; correct them in Zoho or re-import)"
    )


def _as_date(value: object) -> dt.date:
    """A date column's value as a date (a datetime keeps its day)."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value  # type: ignore[return-value]


def load_history(session: Session) -> tuple[tuple[History, pd.DataFrame] | None, int]:
    """Invoice lines (credit notes as returns; void/draft invoices skipped) plus lines of
    orders submitted but not yet invoiced (not a scheme's free goods: the store did not ask
    for them, so they are not demand), as a :class:`History` (None when empty), and how
    many lines were left out for a date outside the plausible window (domain.date_window:
    pandas cannot hold 0001 or 9999, and a 1900 or 2099 typo would distort every series)."""
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
            OrderLine.free_goods.is_(False),  # a scheme's free goods: given, not bought
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
    kept = [r for r in rows if is_plausible(_as_date(r[3]))]
    ignored = len(rows) - len(kept)
    if ignored:
        log.warning("forecast: %s", ignored_note(ignored))
    rows = kept
    if not rows:
        return None, ignored
    raw = pd.DataFrame(rows, columns=["store", "product", "invoice", "date", "quantity", "price"])
    raw["date"] = pd.to_datetime(raw["date"])
    history, _ = build_history(raw)
    if len(history.lines) == 0:
        return None, ignored
    return (history, raw), ignored


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
    *,
    identity: Identity | None,
) -> ForecastSummary:
    """Fit on all local history and write the suggested lines of changed stores.

    Anyone signed in may run it (``identity`` required; None = standalone): it fits the stores
    this laptop's replica holds, which the reads below then hand out per store."""
    require(identity, Permission.VIEW_OWN_STORES)
    t0 = time.monotonic()
    today = today or dt.date.today()
    ctx.progress(0, 5, "reading history")
    with session_scope(engine) as session:
        loaded, ignored = load_history(session)
        n_stores = session.scalar(select(func.count()).select_from(Store)) or 0
        changed = _changed_stores(session) if only_changed else None
        planned = _planned_calls(session, today)
        products = {
            p.id: p for p in session.scalars(select(Product).where(Product.deleted.is_(False)))
        }
        stores = {s.id: s for s in session.scalars(select(Store).where(Store.deleted.is_(False)))}
        session.expunge_all()
    if loaded is None:
        return ForecastSummary(
            n_stores, 0, 0, time.monotonic() - t0, "no sales history yet", ignored_lines=ignored
        )
    history, _ = loaded
    store_code = {uuid.UUID(str(s)): i for i, s in enumerate(history.stores)}
    todo = [
        sid
        for sid, st in stores.items()
        if st.active and sid in store_code and (changed is None or sid in changed)
    ]
    origin = int(day_number(pd.Series([pd.Timestamp(today)]))[0]) + 1  # today's sales count
    known = history.before(origin)
    if not todo:
        with session_scope(engine) as session:
            fresh = stored_activity_model(session, today) is not None
        if not fresh:  # nothing to recompute, but Today's chances must not go stale
            ctx.progress(1, 5, "learning which stores order")
            orders = order_table(known)
            _store_activity_model(
                engine, fit_activity_model(orders, origin, 7 * HORIZON_WEEKS), today
            )
        return ForecastSummary(
            n_stores, 0, 0, time.monotonic() - t0, "nothing changed", ignored_lines=ignored
        )
    ctx.check()
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
    # P(line on the next order) is learned from stores that did order; the chance shown is
    # that times P(the store orders within the horizon), so silence lowers it honestly
    orders = order_table(known)
    act = store_activity(orders, origin)
    activity = fit_activity_model(orders, origin, 7 * HORIZON_WEEKS)
    chance = activity.predict(act)["p_horizon"]
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
    past_qty = _past_quantities(known, chosen)
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
                store_chance = float(chance.get(int(row.s), 1.0))
                prob = float(row.prob) * store_chance
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
                        probability=prob,
                        store_chance=store_chance,
                        horizon_weeks=HORIZON_WEEKS,
                    )
                )
                low, high, note = likely_range(
                    prob, past_qty.get((int(row.s), int(row.p)), ()), line.quantity, line.high
                )
                reason = f"{line.reason}; {note}" if note else line.reason
                session.add(
                    Prediction(
                        store_id=sid,
                        product_id=pid,
                        horizon_start=today,
                        horizon_weeks=max(1, math.ceil(cover / 7)),
                        point=max(line.demand, float(row.qty_med or 0)),
                        low=low,
                        high=high,
                        probability=prob,
                        suggested_qty=line.quantity,
                        reason=reason,
                        model=MODEL_NAME,
                        generated_at=now,
                    )
                )
                written += 1
        # each store's expected order as Today reads it, kept in this transaction
        session.flush()
        refresh_store_expected(session.connection())
        run = session.get(SyncState, LAST_RUN_KEY) or SyncState(key=LAST_RUN_KEY)
        run.value = MODEL_NAME
        run.updated_at = now
        session.add(run)
        _put_activity_model(session, activity, today)
    ctx.progress(5, 5, "forecast done")
    return ForecastSummary(
        n_stores, len(todo), written, time.monotonic() - t0, ignored_lines=ignored
    )


def _put_activity_model(session: Session, model: ActivityModel, today: dt.date) -> None:
    row = session.get(ActivityModelStore, ACTIVITY_KEY) or ActivityModelStore(key=ACTIVITY_KEY)
    row.fitted_for = today
    row.horizon_days = model.horizon_days
    row.payload = model.to_bytes()
    row.generated_at = utcnow()
    session.add(row)


def _store_activity_model(engine: Engine, model: ActivityModel, today: dt.date) -> None:
    with session_scope(engine) as session:
        _put_activity_model(session, model, today)


def stored_activity_model(session: Session, today: dt.date) -> ActivityModel | None:
    """The activity model the last forecast run stored, when it is usable for ``today``:
    fitted at most :data:`ACTIVITY_STALE_DAYS` before (not after) it, for Today's horizon,
    and written by this version. None otherwise (the caller fits one and says so)."""
    row = session.get(ActivityModelStore, ACTIVITY_KEY)
    if row is None or row.horizon_days != 7 * HORIZON_WEEKS:
        return None
    if not 0 <= (today - row.fitted_for).days <= ACTIVITY_STALE_DAYS:
        return None
    try:
        return ActivityModel.from_bytes(row.payload)
    except ValueError as exc:
        log.warning("Today: %s; fitting the activity model now", exc)
        return None


def _activity_note(session: Session, today: dt.date, seconds: float) -> str:
    """Why Today fitted the activity model itself, in words (shown beside the call list)."""
    row = session.get(ActivityModelStore, ACTIVITY_KEY)
    if row is None:
        why = "no forecast run has stored them yet"
    elif row.fitted_for > today:
        why = f"the last forecast run was for {row.fitted_for:%d %b %Y}, after this day"
    elif (today - row.fitted_for).days > ACTIVITY_STALE_DAYS:
        why = f"the last forecast run is from {row.fitted_for:%d %b %Y}"
    else:
        why = "the stored ones were written by another version"
    return (
        f"chances to order worked out now ({seconds:.1f} s) because {why}; "
        "Update forecasts stores them"
    )


PAST_QUANTITIES = 10
"""A line's range is read off the store's last this-many quantities of the product."""


def _past_quantities(known: pd.DataFrame, chosen: pd.DataFrame) -> dict[tuple[int, int], list]:
    """The last :data:`PAST_QUANTITIES` order quantities of each chosen (store, product)."""
    keys = pd.MultiIndex.from_arrays([chosen["s"], chosen["p"]])
    k = known[pd.MultiIndex.from_arrays([known["s"], known["p"]]).isin(keys)]
    k = k.sort_values("day", kind="stable").groupby(["s", "p"]).tail(PAST_QUANTITIES)
    return {(int(s), int(p)): g.tolist() for (s, p), g in k.groupby(["s", "p"])["qty"]}


def _latest_shelf(session: Session, store_ids) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    rows = session.execute(
        select(StoreStockReport.store_id, StoreStockReport.product_id, StoreStockReport.quantity)
        .where(StoreStockReport.store_id.in_(list(store_ids)), StoreStockReport.deleted.is_(False))
        .order_by(StoreStockReport.reported_on, StoreStockReport.created_at)
    ).all()
    return {(s, p): q for s, p, q in rows}


def suggested_order(
    engine: Engine, store_id: uuid.UUID, *, identity: Identity | None
) -> list[SuggestionLine]:
    """The store's current suggested lines, most likely first.

    A shelf report made after the forecast ran is netted here (the forecast already netted
    older ones), and the result re-rounded to the pack. An agent gets only their own stores'.
    """
    with session_scope(engine) as session:
        require_store(session, identity, store_id)
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
    *,
    identity: Identity | None,
) -> list[CallListEntry]:
    """Active stores to call today, best first (snoozed ones last or left out); stores gone
    quiet are not here but in :func:`win_back_list`."""
    return todays_calls(engine, today, agent_id, include_snoozed, identity=identity).to_call


def win_back_list(
    engine: Engine,
    today: dt.date | None = None,
    agent_id: uuid.UUID | None = None,
    *,
    identity: Identity | None,
) -> list[CallListEntry]:
    """Stores silent for more than three usual intervals (and 30 days), with the reason."""
    return todays_calls(engine, today, agent_id, include_snoozed=True, identity=identity).win_back


def _own_agent(identity: Identity | None, agent_id: uuid.UUID | None) -> uuid.UUID | None:
    """The agent whose stores a list may show ``identity``: their own for an agent."""
    require(identity, Permission.VIEW_OWN_STORES)
    scope = store_scope(identity)
    if scope is None:
        return agent_id
    if agent_id is not None and agent_id != scope:
        assert identity is not None  # a scope exists only for an agent identity
        raise PermissionDenied(
            f"{identity.username} may see only their own stores' calls, not another agent's.",
            hint="Managers see every agent's Today.",
        )
    return scope


def _order_days(session: Session, today: dt.date) -> pd.DataFrame:
    """One row per (store, day) with an order up to ``today`` (:func:`.today.order_days`)."""
    return order_days(session, min(today, latest_date()))


def _origin(today: dt.date) -> int:
    """The day number Today's features are cut at: tomorrow, so today's orders count."""
    return int(day_number(pd.Series([pd.Timestamp(today)]))[0]) + 1


def _orders_frame(days: pd.DataFrame, store_keys: list[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """:func:`_order_days` as the activity model's order table, and the store codes used, by
    id text. Every store with orders is in it (they all teach the model), not only this
    agent's; ``store_keys`` (id texts) get codes after them."""
    s, uniques = pd.factorize(days["store_id"])
    keys = pd.Index(uniques.astype(str)).append(pd.Index(store_keys, dtype=object)).unique()
    codes = dict(zip(keys, range(len(keys)), strict=True))
    orders = pd.DataFrame(
        {
            "s": s.astype(np.int64),
            "day": np.asarray(day_number(pd.to_datetime(days["date"])), dtype=np.int64),
            "lines": days["lines"].to_numpy(),
            "units": days["units"].to_numpy(),
            "value": days["value"].to_numpy(),
        }
    )
    return orders, codes


def todays_calls(
    engine: Engine,
    today: dt.date | None = None,
    agent_id: uuid.UUID | None = None,
    include_snoozed: bool = False,
    *,
    identity: Identity | None,
) -> TodaysCalls:
    """Both of Today's lists in one pass (see :mod:`.calllist` for the ranking).

    ``agent_id`` None = every agent's stores; an agent ``identity`` gets their own stores only
    (asking for another agent's list is refused). Every store is ranked in columns; an entry
    is made when the list is read (:class:`.entries.LazyRows`)."""
    agent_id = _own_agent(identity, agent_id)
    today = today or dt.date.today()
    with session_scope(engine) as session:
        days = _order_days(session, today)
        stores = store_rows(session, agent_id)
        planned = _planned_calls(session, today)
        priced = bool(session.scalar(select(func.count()).where(Product.price > 0)))
        activity = stored_activity_model(session, today) if len(stores) else None
        orders, codes = _orders_frame(days, stores.key)
        if stores.expected is not None:  # kept with the stores (SQLite: db.store_expected)
            kept, money = kept_values(session, stores, codes)
            values = None
        else:
            values = expected_values(session, set(codes))
        session.expunge_all()
    if not len(stores):
        return TodaysCalls([], [])
    origin = _origin(today)
    act = store_activity(orders, origin)
    note = ""
    if activity is None:  # no usable model from a forecast run: fit one now, visibly
        t0 = time.monotonic()
        activity = fit_activity_model(orders, origin, 7 * HORIZON_WEEKS)
        with session_scope(engine) as session:
            note = _activity_note(session, today, time.monotonic() - t0)
        log.info("Today: %s", note)
    act = act.join(activity.predict(act))
    act["days_since"] -= 1  # the cut-off is tomorrow; "days since" is counted from today
    coded = pd.Index(list(codes))  # position = code (dicts keep their order)
    mine = coded.get_indexer(stores.key).astype(np.int64)
    act = act.reindex(mine)
    cadence = pd.Series(np.array([c or np.nan for c in stores.cadence], dtype=float), index=mine)
    act["gap"] = act["gap"].fillna(cadence)
    no_orders = act["days_since"].isna().to_numpy()
    act[["p_week", "p_horizon"]] = act[["p_week", "p_horizon"]].fillna(0.0)
    act["days_since"] = act["days_since"].fillna(0.0)
    d = orders["day"].to_numpy()
    recent = orders[d >= origin - 90].groupby("s").size()
    before = orders[(d >= origin - 180) & (d < origin - 90)].groupby("s").size()
    if values is None:  # aligned with the listed stores, whose codes are ``mine``
        ev = pd.Series(kept, index=mine)
    else:
        ev, money = values
        ev = pd.Series(ev.to_numpy(), index=coded.get_indexer(ev.index))
    ranked = call_priority(
        act,
        None,
        None,
        horizon_weeks=HORIZON_WEEKS,
        orders_recent=recent,
        orders_before=before,
        values=(ev, money),
    )
    # row of each ranked store in ``stores``; its last order day; its planned call
    row_of = pd.Series(np.arange(len(stores)), index=mine)
    at = row_of.reindex(ranked["s"].to_numpy()).to_numpy()
    last_day = orders.groupby("s")["day"].max().reindex(ranked["s"].to_numpy()).to_numpy()
    # planned calls by id text (hex on SQLite, the dashed form on PostgreSQL)
    by_text = {form: d for sid, d in planned.items() for form in (sid.hex, str(sid))}
    planned_at = [by_text.get(stores.key[int(i)]) for i in at] if by_text else [None] * len(at)
    snoozed = np.array([p is not None for p in planned_at], dtype=bool)
    win = ranked["win_back"].to_numpy(dtype=bool)
    keep = ~win & (include_snoozed | ~snoozed)
    call_rows = np.concatenate([np.flatnonzero(keep & ~snoozed), np.flatnonzero(keep & snoozed)])
    win_rows = np.flatnonzero(win)  # snoozed or not: a win-back store stays on its list
    cols = {c: ranked[c].to_numpy() for c in _RANKED}
    no_orders_at = no_orders[at]

    def entry(r: int, rank: int) -> CallListEntry:
        i = int(at[r])
        last = None if np.isnan(last_day[r]) else int(last_day[r])
        reason = "no orders yet" if no_orders_at[r] else str(cols["reason"][r])
        snooze = planned_at[r]
        return CallListEntry(
            store_id=uuid.UUID(stores.key[i]),
            store_name=stores.name[i],
            rank=rank,
            expected_value=float(cols["expected_value"][r]),
            days_since_order=None if last is None else int(cols["days_since"][r]),
            usual_every_days=float(cols["gap_days"][r]),
            overdue=float(cols["overdue"][r]),
            churn_risk=bool(cols["churn_risk"][r]),
            churn_reason=str(cols["churn_reason"][r]),
            snoozed_until=snooze,
            planned_call=snooze,
            win_back=bool(win[r]),
            reason=reason,
            chance_this_week=float(cols["p_week"][r]),
            chance_in_horizon=float(cols["p_horizon"][r]),
            horizon_weeks=HORIZON_WEEKS,
            value_is_money=priced,
            phone=stores.phone[i],
            locality=", ".join(x for x in (stores.city[i], stores.region[i]) if x) or None,
            outstanding_balance=stores.balance(i),
            last_order=None if last is None else _date_of_day(last),
        )

    def key(rows: np.ndarray) -> Callable[[int], str]:
        return lambda n: stores.key[int(at[rows[n]])]

    return TodaysCalls(
        LazyRows(len(call_rows), lambda n: entry(int(call_rows[n]), n), key(call_rows)),
        LazyRows(len(win_rows), lambda n: entry(int(win_rows[n]), n), key(win_rows)),
        note,
        falling=int(np.count_nonzero(cols["churn_risk"][call_rows])),
    )


_RANKED = (
    "expected_value",
    "days_since",
    "gap_days",
    "overdue",
    "churn_risk",
    "churn_reason",
    "reason",
    "p_week",
    "p_horizon",
)


def _date_of_day(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def upsell_for_store(
    engine: Engine,
    store_id: uuid.UUID,
    today: dt.date | None = None,
    top_n: int = 5,
    *,
    identity: Identity | None,
) -> list[UpsellItem]:
    """Products similar stores buy and this one never bought, with the evidence in words.

    Reads only distinct (store, product) purchases (:mod:`.upsell_pairs`), not the history.
    An agent gets only their own stores'.
    """
    today = today or dt.date.today()
    with session_scope(engine) as session:
        require_store(session, identity, store_id)
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
    "TodaysCalls",
    "call_list",
    "todays_calls",
    "win_back_list",
    "load_history",
    "product_prices",
    "run_forecast",
    "suggested_order",
    "upsell_for_store",
]
