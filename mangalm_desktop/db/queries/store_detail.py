"""Everything the store detail window shows, in one call (one worker round trip, < 150 ms).

Weekly sales come from invoice lines (the chart's unit is the week starting Monday), top
products compare the last 13 weeks with the 13 before (the trend), and invoices are listed
newest first with their lines loaded on demand.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from ...domain.identity import Identity
from ..access import require_invoice, require_store
from ..models import Store
from .balances import credit_balance

PAISE = Decimal("0.01")
RUPEE4 = Decimal("0.0001")


def _money(minor: int | None, scale: Decimal = PAISE) -> Decimal:
    return (Decimal(minor or 0) * scale).quantize(scale)


@dataclass(frozen=True)
class StoreProfile:
    id: uuid.UUID
    version: int
    code: str
    name: str
    address: str
    city: str
    region: str
    state: str
    postal_code: str
    contact_name: str
    phone: str
    email: str
    size_class: str
    call_cadence_days: int | None
    credit_limit: Decimal | None
    outstanding_balance: Decimal
    notes: str
    agent: str


@dataclass(frozen=True)
class WeekPoint:
    week: dt.date  # Monday
    value: Decimal
    quantity: int


@dataclass(frozen=True)
class TopProduct:
    product_id: uuid.UUID
    name: str
    brand: str
    quantity_12m: int
    value_12m: Decimal
    recent_qty: int  # last 13 weeks
    previous_qty: int  # the 13 weeks before

    @property
    def trend_pct(self) -> float | None:
        """Change of the last 13 weeks vs the 13 before, in percent (None: nothing before)."""
        if self.previous_qty == 0:
            return None
        return 100.0 * (self.recent_qty - self.previous_qty) / self.previous_qty


@dataclass(frozen=True)
class InvoiceSummary:
    id: uuid.UUID
    number: str
    date: dt.date
    kind: str
    status: str
    total: Decimal
    balance: Decimal
    lines: int


@dataclass(frozen=True)
class InvoiceLineRow:
    line_no: int
    product: str
    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class CallRow:
    called_at: dt.datetime
    outcome: str
    notes: str
    next_call_date: dt.date | None
    agent: str


@dataclass(frozen=True)
class StoreDetail:
    profile: StoreProfile
    as_of: dt.date
    weekly: list[WeekPoint]
    top_products: list[TopProduct]
    invoices: list[InvoiceSummary]
    calls: list[CallRow]
    sales_12m: Decimal
    last_order: dt.date | None


def _profile(conn: Connection, store_id: uuid.UUID) -> StoreProfile | None:
    r = conn.execute(
        text(
            "SELECT s.id, s.version, s.code, s.name, s.address, s.city, s.region, s.state,"
            " s.postal_code, s.contact_name, s.phone, s.email, s.size_class,"
            " s.call_cadence_days, s.credit_limit, s.outstanding_balance, s.notes, a.name"
            " FROM store s LEFT JOIN agent a ON a.id = s.agent_id WHERE s.id = :id"
        ),
        {"id": store_id.hex},
    ).first()
    if r is None:
        return None
    return StoreProfile(
        id=uuid.UUID(hex=r[0]),
        version=r[1],
        code=r[2],
        name=r[3],
        address=r[4] or "",
        city=r[5] or "",
        region=r[6] or "",
        state=r[7] or "",
        postal_code=r[8] or "",
        contact_name=r[9] or "",
        phone=r[10] or "",
        email=r[11] or "",
        size_class=r[12] or "",
        call_cadence_days=r[13],
        credit_limit=_money(r[14]) if r[14] is not None else None,
        outstanding_balance=_money(r[15]),
        notes=r[16] or "",
        agent=r[17] or "",
    )


def load_profile(
    engine: Engine, store_id: uuid.UUID, *, identity: Identity | None
) -> StoreProfile | None:
    """The store's profile; an agent may read only their own stores (PermissionDenied)."""
    with engine.connect() as conn:
        require_store(conn, identity, store_id)
        return _profile(conn, store_id)


def load_store_detail(
    engine: Engine,
    store_id: uuid.UUID,
    as_of: dt.date,
    *,
    identity: Identity | None,
    invoice_limit: int = 500,
) -> StoreDetail | None:
    """The store's profile, weekly sales, top products, invoices and calls; None if unknown.

    An agent may read only their own stores: another's is refused (PermissionDenied)."""
    sid = store_id.hex
    since_12m = (as_of - dt.timedelta(days=365)).isoformat()
    recent = (as_of - dt.timedelta(weeks=13)).isoformat()
    previous = (as_of - dt.timedelta(weeks=26)).isoformat()
    with engine.connect() as conn:
        require_store(conn, identity, store_id)
        profile = _profile(conn, store_id)
        if profile is None:
            return None
        # What the store owes after the collections Zoho has not seen yet: the one way every
        # balance is computed (db.queries.balances, docs/collections.md "Balances").
        with Session(bind=conn) as session:
            store = session.get(Store, store_id)
            assert store is not None  # its profile was just read
            owed = credit_balance(session, store, as_of)
        profile = replace(profile, outstanding_balance=owed)
        weekly = [
            WeekPoint(dt.date.fromisoformat(w), _money(v), int(q or 0))
            for w, v, q in conn.execute(
                text(
                    "SELECT date(invoice_date, '-6 days', 'weekday 1') AS wk, sum(line_total),"
                    " sum(quantity) FROM invoice_line WHERE store_id = :s AND NOT deleted"
                    " AND invoice_date <= :as_of GROUP BY wk ORDER BY wk"
                ),
                {"s": sid, "as_of": as_of.isoformat()},
            )
        ]
        top = [
            TopProduct(
                product_id=uuid.UUID(hex=r[0]),
                name=r[1],
                brand=r[2] or "",
                quantity_12m=int(r[3] or 0),
                value_12m=_money(r[4]),
                recent_qty=int(r[5] or 0),
                previous_qty=int(r[6] or 0),
            )
            for r in conn.execute(
                text(
                    "SELECT l.product_id, p.name, p.brand, sum(l.quantity), sum(l.line_total),"
                    " sum(CASE WHEN l.invoice_date > :recent THEN l.quantity ELSE 0 END),"
                    " sum(CASE WHEN l.invoice_date > :previous AND l.invoice_date <= :recent"
                    "  THEN l.quantity ELSE 0 END)"
                    " FROM invoice_line l JOIN product p ON p.id = l.product_id"
                    " WHERE l.store_id = :s AND NOT l.deleted AND l.invoice_date > :since"
                    " AND l.invoice_date <= :as_of"
                    " GROUP BY l.product_id ORDER BY sum(l.line_total) DESC LIMIT 25"
                ),
                {
                    "s": sid,
                    "since": since_12m,
                    "as_of": as_of.isoformat(),
                    "recent": recent,
                    "previous": previous,
                },
            )
        ]
        invoices = [
            InvoiceSummary(
                id=uuid.UUID(hex=r[0]),
                number=r[1],
                date=dt.date.fromisoformat(r[2]),
                kind=r[3],
                status=r[4] or "",
                total=_money(r[5]),
                balance=_money(r[6]),
                lines=int(r[7] or 0),
            )
            for r in conn.execute(
                text(
                    "SELECT i.id, i.number, i.invoice_date, i.kind, i.status, i.total,"
                    " i.balance, (SELECT count(*) FROM invoice_line l WHERE l.invoice_id = i.id)"
                    " FROM invoice i WHERE i.store_id = :s AND NOT i.deleted"
                    " ORDER BY i.invoice_date DESC, i.number DESC LIMIT :lim"
                ),
                {"s": sid, "lim": invoice_limit},
            )
        ]
        totals = conn.execute(
            text(
                "SELECT sum(CASE WHEN invoice_date > :since THEN total ELSE 0 END),"
                " max(CASE WHEN kind = 'invoice' THEN invoice_date END) FROM invoice"
                " WHERE store_id = :s AND NOT deleted AND kind IN ('invoice', 'credit_note')"
                " AND coalesce(status, '') NOT IN ('void', 'draft') AND invoice_date <= :as_of"
            ),  # the same rule as db.search.refresh_store_stats, so list and detail agree
            {"s": sid, "since": since_12m, "as_of": as_of.isoformat()},
        ).one()
        sales_12m = _money(totals[0])
        last = dt.date.fromisoformat(totals[1]) if totals[1] else None
        calls = [
            CallRow(
                called_at=dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.UTC),
                outcome=r[1],
                notes=r[2] or "",
                next_call_date=dt.date.fromisoformat(r[3]) if r[3] else None,
                agent=r[4] or "",
            )
            for r in conn.execute(
                text(
                    "SELECT c.called_at, c.outcome, c.notes, c.next_call_date, a.name"
                    " FROM call_log c LEFT JOIN agent a ON a.id = c.agent_id"
                    " WHERE c.store_id = :s AND NOT c.deleted ORDER BY c.called_at DESC LIMIT 200"
                ),
                {"s": sid},
            )
        ]
    return StoreDetail(profile, as_of, weekly, top, invoices, calls, sales_12m, last)


def invoice_lines(
    engine: Engine, invoice_id: uuid.UUID, *, identity: Identity | None
) -> list[InvoiceLineRow]:
    """An invoice's lines; an agent may read only their own stores' invoices."""
    with engine.connect() as conn:
        require_invoice(conn, identity, invoice_id)
        rows = conn.execute(
            text(
                "SELECT l.line_no, p.name, p.sku, l.quantity, l.unit_price, l.line_total"
                " FROM invoice_line l JOIN product p ON p.id = l.product_id"
                " WHERE l.invoice_id = :i AND NOT l.deleted ORDER BY l.line_no"
            ),
            {"i": invoice_id.hex},
        ).all()
    return [
        InvoiceLineRow(r[0], r[1], r[2] or "", int(r[3]), _money(r[4], RUPEE4), _money(r[5]))
        for r in rows
    ]
