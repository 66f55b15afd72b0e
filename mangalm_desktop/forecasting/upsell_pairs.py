"""What the upsell search reads: who bought what, as distinct (store, product) pairs.

The similar-store search needs only which products each store bought in the last year (and
what the scored store ever bought) — not every invoice line with its date, price and number.
Reading all lines through :func:`..service.load_history` took 20–30 s on the demo company
(most of it turning 400,000 ids into UUID objects), and it ran on the GIL next to the UI
thread, so the suggested lines waited behind it. Here the database does the ``DISTINCT`` and
the ids stay plain values: well under a second on the same data.

The pairs are the purchases :func:`..series.build_history` keeps: lines of non-void,
non-draft invoices with a positive quantity (credit notes are returns), plus the lines of
orders submitted but not yet invoiced. (History also nets a return against the order it
undoes; an order returned in full therefore still counts here as bought — for "stores like
this one buy it" that is the right answer anyway.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import String, func, select, type_coerce, union
from sqlalchemy.orm import Session

from ..db.models import Invoice, InvoiceLine, Order, OrderLine
from ..domain.enums import InvoiceKind, OrderKind

LOOKBACK_DAYS = 365


@dataclass(frozen=True)
class Pairs:
    """``train`` has columns s, p, day (int codes) as ``similar_store_upsell`` takes them."""

    train: pd.DataFrame
    stores: pd.Index  # code -> store id (as the database returns it)
    products: pd.Index
    origin: int  # the day code the search is "as of" (lines before it count)


def _pairs_query(skip_statuses, open_states, since: dt.date | None, until: dt.date, store=None):  # noqa: ANN001, ANN202
    il, inv, ol, o = InvoiceLine, Invoice, OrderLine, Order
    invoices = (
        select(
            type_coerce(il.store_id, String).label("s"),
            type_coerce(il.product_id, String).label("p"),
        )
        .join(inv, inv.id == il.invoice_id)
        .where(
            il.deleted.is_(False),
            inv.deleted.is_(False),
            func.lower(func.coalesce(inv.status, "")).notin_(skip_statuses),
            inv.kind != InvoiceKind.CREDIT_NOTE.value,
            il.quantity > 0,
            il.invoice_date <= until,
        )
    )
    orders = (
        select(
            type_coerce(ol.store_id, String).label("s"),
            type_coerce(ol.product_id, String).label("p"),
        )
        .join(o, o.id == ol.order_id)
        .where(
            ol.deleted.is_(False),
            ol.free_goods.is_(False),  # given by a scheme: the store has not bought it
            o.deleted.is_(False),
            o.kind == OrderKind.ORDER.value,
            o.state.in_(open_states),
            ol.quantity > 0,
            o.order_date <= until,
        )
    )
    if since is not None:
        invoices = invoices.where(il.invoice_date >= since)
        orders = orders.where(o.order_date >= since)
    if store is not None:
        invoices = invoices.where(il.store_id == store)
        orders = orders.where(ol.store_id == store)
    return union(invoices, orders)  # UNION: distinct pairs


def purchase_pairs(
    session: Session,
    store_id: uuid.UUID,
    today: dt.date,
    skip_statuses: tuple[str, ...],
    open_states: tuple[str, ...],
) -> Pairs | None:
    """Pairs bought in the year up to ``today`` by every store, plus everything ``store_id``
    ever bought; None when there is nothing (or the store bought nothing that year)."""
    recent = session.execute(
        _pairs_query(
            skip_statuses, open_states, today - dt.timedelta(days=LOOKBACK_DAYS - 1), today
        )
    ).all()
    ever = session.execute(_pairs_query(skip_statuses, open_states, None, today, store_id)).all()
    if not recent:
        return None
    rows = [*recent, *ever]
    # sorted codes, as build_history gives them: hex text (SQLite) sorts as the dashed form
    s_codes, stores = pd.factorize(pd.Series([str(s) for s, _ in rows]), sort=True)
    p_codes, products = pd.factorize(pd.Series([str(p) for _, p in rows]), sort=True)
    s_raw = rows
    origin = (today - dt.date(1970, 1, 1)).days + 1
    days = np.full(len(s_raw), origin - 1, dtype=np.int32)
    days[len(recent) :] = origin - LOOKBACK_DAYS - 1  # "ever": outside the recent year
    train = pd.DataFrame(
        {"s": s_codes.astype(np.int32), "p": p_codes.astype(np.int32), "day": days}
    )
    return Pairs(
        train,
        pd.Index([uuid.UUID(str(v)) for v in stores]),
        pd.Index([uuid.UUID(str(v)) for v in products]),
        origin,
    )
