"""Orders → Books sales orders, exactly once.

An order moves to ``sent_to_zoho`` only in the transaction that stores Zoho's id, and before
any create the bridge asks Zoho for a sales order whose ``reference_number`` is our order
number; a create that died half-way (timeout, dropped connection, a killed process) is
therefore found, not repeated. A create whose outcome is unknown leaves the order "maybe
created" until Zoho shows it or a long window passes (see :func:`_push_one`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Order, OrderLine, Product, Store
from ..domain.enums import OrderKind, OrderState
from ..domain.tasks import NULL_TASK, TaskContext
from . import state
from .client import ZohoClient
from .config import ZohoConfig
from .errors import ZohoRejected, ZohoUncertain
from .mapping import MappingError, OrderLineInfo, salesorder_payload
from .results import JobResult

log = logging.getLogger(__name__)


def _mark(engine: Engine, order_id: uuid.UUID, **values: Any) -> bool:
    """Update one order if it is still 'synced' (a cancelled order is left alone)."""
    with session_scope(engine) as s:
        result = cast(
            "CursorResult[Any]",
            s.execute(
                update(Order)
                .where(Order.id == order_id, Order.state == OrderState.SYNCED.value)
                .values(version=Order.version + 1, **values)
            ),
        )
        return bool(result.rowcount)


PUSH_CHUNK = 100


def _payloads(
    s: Session, ids: list[uuid.UUID], cfg: ZohoConfig | None = None
) -> dict[uuid.UUID, tuple[str, Any]]:
    """Order id → (number, sales-order payload or the MappingError) for a chunk of orders,
    read with three queries. The state is re-checked at write time (``_mark``)."""
    orders = s.scalars(select(Order).where(Order.id.in_(ids))).all()
    stores = {
        st.id: st
        for st in s.scalars(select(Store).where(Store.id.in_({o.store_id for o in orders})))
    }
    lines: dict[uuid.UUID, list[OrderLineInfo]] = {}
    for ln, p in s.execute(
        select(OrderLine, Product)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id.in_(ids), OrderLine.deleted.is_(False))
        .order_by(OrderLine.order_id, OrderLine.line_no)
    ).all():
        lines.setdefault(ln.order_id, []).append(
            OrderLineInfo(
                p.zoho_item_id,
                p.name,
                ln.quantity,
                ln.unit_price,
                ln.discount_pct,
                free=bool(ln.free_goods),
                # a free line's worth at list price, per unit
                list_price=(ln.scheme_value / ln.quantity)
                if ln.free_goods and ln.quantity
                else None,
                reason=ln.scheme_reason,
            )
        )
    out: dict[uuid.UUID, tuple[str, Any]] = {}
    for order in orders:
        if order.state != OrderState.SYNCED.value:
            continue
        store = stores.get(order.store_id)
        try:
            payload: Any = salesorder_payload(
                number=order.number,
                customer_id=store.zoho_customer_id if store else None,
                store_name=store.name if store else "?",
                order_date=order.order_date,
                delivery_date=order.requested_delivery_date,
                notes=order.notes,
                lines=lines.get(order.id, []),
                order_discount_pct=order.discount_pct,
                line_discount=cfg.line_discount if cfg else "percent",
                free_goods=cfg.free_goods if cfg else "zero_rate",
            )
        except MappingError as exc:
            payload = exc
        out[order.id] = (order.number, payload)
    return out


def find_salesorder(
    client: ZohoClient, reference: str, res: JobResult | None = None
) -> dict[str, Any] | None:
    """The sales order whose reference is exactly ``reference`` (Zoho's filter may be looser).

    Two with one reference mean a duplicate was created in Zoho (by hand, or by a bridge before
    "maybe created" existed): the oldest is used and the run record says so, so a person can
    void the other."""
    reply = client.call("GET", "books", "/salesorders", params={"reference_number": reference})
    matches = [
        so
        for so in (reply.body or {}).get("salesorders") or []
        if so.get("reference_number") == reference
    ]
    if len(matches) > 1:
        matches.sort(key=lambda so: (so.get("created_time") or "", so.get("salesorder_id")))
        message = (
            f"order {reference}: {len(matches)} sales orders in Zoho carry this reference "
            f"({', '.join(str(m.get('salesorder_number')) for m in matches)}); using the "
            "oldest, void the others in Books"
        )
        log.warning(message)
        if res is not None:
            res.warnings.append(message)
    return matches[0] if matches else None


def _created(reply_body: dict[str, Any] | None) -> dict[str, Any]:
    so = (reply_body or {}).get("salesorder")
    if isinstance(so, list):  # the OAS models it as an array (ZOHO_API.md §2.3, unconfirmed)
        so = so[0] if so else None
    if not isinstance(so, dict) or not so.get("salesorder_id"):
        raise ZohoUncertain("create answered without a salesorder_id")
    return so


def push_orders(
    engine: Engine,
    client: ZohoClient,
    ctx: TaskContext = NULL_TASK,
    *,
    res: JobResult | None = None,
    after_each: Callable[[], None] | None = None,
) -> JobResult:
    res = res or JobResult("orders")
    with session_scope(engine) as s:
        ids = s.scalars(
            select(Order.id)
            .where(
                Order.state == OrderState.SYNCED.value,
                Order.zoho_error.is_(None),
                Order.kind == OrderKind.ORDER.value,
                Order.deleted.is_(False),
            )
            .order_by(Order.created_at, Order.number)
        ).all()
        maybe = state.maybe_created(s)
        if maybe:
            # An order no longer waiting (cancelled, sent by hand, deleted) is no longer
            # "maybe created" for the bridge: it will not push it again.
            waiting = set(s.scalars(select(Order.number).where(Order.id.in_(ids))).all())
            for number in set(maybe) - waiting:
                state.clear_maybe(s, number)
                del maybe[number]
    done = 0
    for chunk_start in range(0, len(ids), PUSH_CHUNK):
        chunk = list(ids[chunk_start : chunk_start + PUSH_CHUNK])
        with session_scope(engine) as s:
            payloads = _payloads(s, chunk, client.config)
        for order_id in chunk:
            ctx.check()
            done += 1
            if order_id not in payloads:
                continue
            res.fetched += 1
            number, payload = payloads[order_id]
            if isinstance(payload, MappingError):
                _mark(engine, order_id, zoho_error=str(payload))
                res.parked += 1
                continue
            _push_one(engine, client, order_id, number, payload, res, maybe.get(number))
            ctx.progress(done, len(ids), "sales orders")
            if after_each is not None:
                after_each()
    return res


def _push_one(
    engine: Engine,
    client: ZohoClient,
    order_id: uuid.UUID,
    number: str,
    payload: dict[str, Any],
    res: JobResult,
    maybe_since: float | None,
) -> None:
    """Send one order, never twice.

    Zoho may commit a create after the client gave up on it (a timeout, a lost answer, a killed
    process), later than any lookup a few seconds on would see. So after a create whose outcome
    is unknown the order is kept "maybe created" (``zoho:maybe:<number>`` in the central
    bookkeeping, with the time): this run looks it up a few more times with backoff, later runs
    look it up again, and it is created again only when Zoho still has no such sales order
    ``maybe_created_window_minutes`` after the uncertain create.
    """
    cfg = client.config
    uncertain = False
    so = find_salesorder(client, number, res)
    if so is None and maybe_since is not None:
        age_min = (client.clock.now() - maybe_since) / 60
        if age_min < cfg.maybe_created_window_minutes:
            res.waiting += 1
            return
        res.warnings.append(
            f"order {number}: still not in Zoho {age_min:.0f} min after a create whose outcome "
            "was unknown; creating it again"
        )
    if so is None:
        try:
            reply = client.call("POST", "books", "/salesorders", json=payload, idempotent=False)
            so = _created(reply.body)
        except ZohoRejected as exc:
            _mark(engine, order_id, zoho_error=f"Zoho: {exc.message} (code {exc.code})")
            if maybe_since is not None:
                _clear_maybe(engine, number)
            res.parked += 1
            return
        except ZohoUncertain as exc:
            log.info("order %s: %s; kept as maybe created", number, exc)
            uncertain = True
            with session_scope(engine) as s:
                state.set_maybe(s, number, client.clock.now())
            for attempt in range(cfg.max_attempts - 1):
                client.clock.sleep(min(cfg.backoff_base_s * 2**attempt, cfg.backoff_max_s))
                so = find_salesorder(client, number, res)
                if so is not None:
                    break
            else:
                res.waiting += 1
                res.warnings.append(
                    f"order {number}: create outcome unknown ({exc}); kept as 'maybe created' "
                    "and looked up again on later runs, never created twice"
                )
                return
    if _mark(
        engine,
        order_id,
        state=OrderState.SENT_TO_ZOHO.value,
        zoho_salesorder_id=str(so["salesorder_id"]),
        zoho_salesorder_number=so.get("salesorder_number"),
        zoho_error=None,
    ):
        res.sent += 1
    if maybe_since is not None or uncertain:
        _clear_maybe(engine, number)


def _clear_maybe(engine: Engine, number: str) -> None:
    with session_scope(engine) as s:
        state.clear_maybe(s, number)
