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
from . import once, state
from .client import ZohoClient
from .config import ZohoConfig
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
    """The sales order whose reference is exactly ``reference`` (:func:`.once.find_by_reference`)."""
    return once.find_by_reference(client, once.SALES_ORDER, reference, res)


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
    """Send one order, never twice (:func:`.once.push_once`); it becomes ``sent_to_zoho`` in
    the transaction that stores Zoho's id, and only if it is still ``synced``."""

    def found(so: dict[str, Any]) -> bool:
        return _mark(
            engine,
            order_id,
            state=OrderState.SENT_TO_ZOHO.value,
            zoho_salesorder_id=str(so["salesorder_id"]),
            zoho_salesorder_number=so.get("salesorder_number"),
            zoho_error=None,
        )

    def rejected(message: str) -> None:
        _mark(engine, order_id, zoho_error=message)

    once.push_once(
        engine,
        client,
        once.SALES_ORDER,
        number,
        payload,
        res,
        maybe_since,
        on_found=found,
        on_rejected=rejected,
    )
