"""The data model shared by the local SQLite replica and the central PostgreSQL (DESIGN §2).

Rules kept here: UUID primary keys born where the row is born (offline rows never collide);
Zoho ids in their own unique columns; money as :class:`~mangalm_desktop.db.types.Money`
(exact Decimal); quantities as integers in the product's unit; every synced table carries
``version`` (bumped on each change) and ``deleted`` (tombstone) through :class:`Synced`.
Columns the views filter or sort on are indexed here, so the one Alembic history builds them on
both back ends.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import Money, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Synced:
    """Columns every replicated table has (DESIGN §3)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    deleted: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="0"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )


class Agent(Synced, Base):
    __tablename__ = "agent"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default="agent", server_default="agent")
    db_role: Mapped[str | None] = mapped_column(String(63), unique=True)
    zoho_user_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")


class Store(Synced, Base):
    __tablename__ = "store"
    __table_args__ = (
        Index("ix_store_name", "name"),
        Index("ix_store_city", "city"),
        Index("ix_store_region", "region"),
        Index("ix_store_agent_id", "agent_id"),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    zoho_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    zoho_account_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    size_class: Mapped[str | None] = mapped_column(String(2))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))
    call_cadence_days: Mapped[int | None] = mapped_column(Integer)
    credit_limit: Mapped[Decimal | None] = mapped_column(Money())
    outstanding_balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    opened_on: Mapped[dt.date | None] = mapped_column(Date)


class Product(Synced, Base):
    __tablename__ = "product"
    __table_args__ = (
        Index("ix_product_name", "name"),
        Index("ix_product_brand", "brand"),
        Index("ix_product_category", "category"),
        CheckConstraint("pack_size >= 1", name="pack_size_positive"),
    )

    zoho_item_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[str | None] = mapped_column(String(20))
    pack_size: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    case_qty: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[Decimal | None] = mapped_column(Money(4))
    mrp: Mapped[Decimal | None] = mapped_column(Money(4))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    launched_on: Mapped[dt.date | None] = mapped_column(Date)


class Scheme(Synced, Base):
    """A trade promotion, managed centrally and read-only to agents (docs/orders.md "Schemes").

    Scope: one product, a brand, a category, or (none set) every product. ``regions`` and
    ``store_classes`` are comma-separated lists; empty means all. ``valid_to`` is inclusive
    (None: open-ended); ending a scheme sets it. ``kind``: percent | slab | free_goods."""

    __tablename__ = "scheme"
    __table_args__ = (Index("ix_scheme_valid_from", "valid_from"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))
    brand: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    regions: Mapped[str | None] = mapped_column(Text)
    store_classes: Mapped[str | None] = mapped_column(String(100))
    stackable: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchemeRule(Synced, Base):
    """One step of a scheme: from ``min_qty`` on, ``discount_pct`` off, or ``free_qty`` free
    per whole ``min_qty`` (of ``free_product_id``; None: the line's own product)."""

    __tablename__ = "scheme_rule"
    __table_args__ = (
        Index("ix_scheme_rule_scheme_id", "scheme_id"),
        CheckConstraint("min_qty >= 1", name="min_qty_positive"),
        CheckConstraint("free_qty >= 0", name="free_qty_not_negative"),
    )

    scheme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scheme.id"))
    min_qty: Mapped[int] = mapped_column(Integer)
    discount_pct: Mapped[Decimal] = mapped_column(Money(4), default=Decimal("0"))
    free_qty: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    free_product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product.id"))


class Invoice(Synced, Base):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_store_id_invoice_date", "store_id", "invoice_date"),
        Index("ix_invoice_invoice_date", "invoice_date"),
    )

    zoho_invoice_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Zoho's last_modified_time as last pulled: the bridge skips the per-invoice detail request
    # when it is unchanged (overlap windows and resumed runs cost no extra Zoho requests).
    zoho_modified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="invoice", server_default="invoice")
    status: Mapped[str | None] = mapped_column(String(32))
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))
    salesperson: Mapped[str | None] = mapped_column(String(200))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    subtotal: Mapped[Decimal | None] = mapped_column(Money())
    discount_amount: Mapped[Decimal | None] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    balance: Mapped[Decimal | None] = mapped_column(Money())
    purchase_order: Mapped[str | None] = mapped_column(String(100))
    sales_order_number: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))


class InvoiceLine(Synced, Base):
    __tablename__ = "invoice_line"
    __table_args__ = (
        # A unique index, not a table constraint: SQLite cannot drop a constraint's index, and
        # the first sync loads a million lines faster with it built afterwards (sync/pull.py).
        Index("uq_invoice_line_invoice_id_line_no", "invoice_id", "line_no", unique=True),
        # Covering indexes (key columns first, then every column the reports read), so sales
        # reports over a million lines scan an index in group order without touching the table
        # or sorting (SQLite has no hash aggregation); see reports/sales.py and
        # benchmarks/reports_bench.py.
        Index(
            "ix_invoice_line_store_id_invoice_date",
            *("store_id", "invoice_date", "invoice_id", "product_id"),
            *("quantity", "line_total", "deleted"),
        ),
        Index(
            "ix_invoice_line_product_id_invoice_date",
            *("product_id", "invoice_date", "store_id", "invoice_id"),
            *("quantity", "line_total", "deleted"),
        ),
        Index(
            "ix_invoice_line_invoice_date",
            *("invoice_date", "store_id", "product_id", "invoice_id"),
            *("quantity", "line_total", "deleted"),
        ),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    # store_id and invoice_date repeat the invoice's so history queries need no join.
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money(4))
    discount_amount: Mapped[Decimal | None] = mapped_column(Money())
    line_total: Mapped[Decimal] = mapped_column(Money())
    mrp: Mapped[Decimal | None] = mapped_column(Money(4))


class Order(Synced, Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_store_id_order_date", "store_id", "order_date"),
        Index("ix_orders_agent_id_order_date", "agent_id", "order_date"),
        Index("ix_orders_state", "state"),
        # The Orders list sorts newest first over all orders (benchmarks/orders_bench.py).
        Index("ix_orders_order_date_number", "order_date", "number"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="order", server_default="order")
    state: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id"))
    order_date: Mapped[dt.date] = mapped_column(Date)
    requested_delivery_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    discount_pct: Mapped[Decimal] = mapped_column(Money(4), default=Decimal("0"))
    subtotal: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[str | None] = mapped_column(String(64))
    zoho_salesorder_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    zoho_salesorder_number: Mapped[str | None] = mapped_column(String(64))
    zoho_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderLine(Synced, Base):
    __tablename__ = "order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        Index("ix_order_line_product_id", "product_id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    # store_id repeats the order's so Row-Level Security can check a line without a join.
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money(4))
    discount_pct: Mapped[Decimal] = mapped_column(Money(4), default=Decimal("0"))
    line_total: Mapped[Decimal] = mapped_column(Money())
    suggested_qty: Mapped[int | None] = mapped_column(Integer)
    # What schemes gave this line (docs/orders.md "Schemes"). ``discount_pct`` is the whole
    # line discount (the agent's own + ``scheme_pct``); ``scheme_value`` the schemes' rupees,
    # or for a free-goods line (``free_goods``: price 0) the goods' value at list price.
    # ``scheme_id`` is the scheme credited first; ``scheme_split`` the rupees per scheme as
    # JSON ``{"<scheme id>": "12.50"}`` when schemes were stacked. Not a foreign key: a
    # scheme may later leave an agent's replica while its orders stay.
    scheme_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # (server defaults only: bulk writers such as the demo insert lines without these)
    scheme_pct: Mapped[Decimal] = mapped_column(Money(4), server_default="0")
    scheme_value: Mapped[Decimal] = mapped_column(Money(), server_default="0")
    free_goods: Mapped[bool] = mapped_column(Boolean, server_default="0")
    scheme_reason: Mapped[str | None] = mapped_column(Text)
    scheme_split: Mapped[str | None] = mapped_column(Text)


class StoreStockReport(Synced, Base):
    __tablename__ = "store_stock_report"
    __table_args__ = (
        Index("ix_store_stock_report_store_id_product_id", "store_id", "product_id", "reported_on"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))
    reported_on: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoOrderReason(Synced, Base):
    """Why a visit ended without an order: a list managers keep centrally, read-only to agents.

    Synced like products (every agent reads all of it); a reason is retired with
    ``active = false`` rather than deleted, so old calls keep their words."""

    __tablename__ = "no_order_reason"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")


class CallLog(Synced, Base):
    __tablename__ = "call_log"
    __table_args__ = (
        Index("ix_call_log_store_id_called_at", "store_id", "called_at"),
        Index("ix_call_log_agent_id_called_at", "agent_id", "called_at"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))
    called_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    next_call_date: Mapped[dt.date | None] = mapped_column(Date)
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))
    reason_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("no_order_reason.id"))


class Prediction(Synced, Base):
    __tablename__ = "prediction"
    __table_args__ = (
        # covering for Today's expected value per store (store_id first, then what it sums):
        # 500,000 suggested lines at 100,000 stores are summed from the index alone
        Index(
            "ix_prediction_store_id_product_id",
            *("store_id", "product_id", "generated_at"),
            *("deleted", "probability", "suggested_qty"),
        ),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    horizon_start: Mapped[dt.date] = mapped_column(Date)
    horizon_weeks: Mapped[int] = mapped_column(Integer)
    point: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    probability: Mapped[float | None] = mapped_column(Float)
    suggested_qty: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SuggestionFeedback(Synced, Base):
    __tablename__ = "suggestion_feedback"
    __table_args__ = (Index("ix_suggestion_feedback_store_id", "store_id"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    # A loose reference, no foreign key: predictions are computed on the laptop and never
    # leave it, while feedback is pushed centrally. The row carries what the office needs
    # about the suggestion itself (model, generated_at, suggested_qty).
    prediction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    model: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    suggested_qty: Mapped[int] = mapped_column(Integer)
    ordered_qty: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Synced, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(64))


class Payment(Synced, Base):
    """Money collected from a store (docs/collections.md): append-only for agents centrally.

    An agent records it (status ``collected``); a manager approves or rejects it; the Zoho
    bridge pushes approved payments to Books as customer payments (``zoho_payment_id``).
    ``number`` is the receipt number, agent-prefixed like order numbers (db.numbering).
    """

    __tablename__ = "payment"
    __table_args__ = (
        Index("ix_payment_store_id_received_on", "store_id", "received_on"),
        Index("ix_payment_agent_id_received_on", "agent_id", "received_on"),
        Index("ix_payment_status", "status"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    mode: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(100))
    cheque_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="collected", server_default="collected")
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(String(64))
    zoho_payment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    zoho_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentAllocation(Synced, Base):
    """How much of a payment settles one invoice (``store_id`` repeats the payment's for RLS)."""

    __tablename__ = "payment_allocation"
    __table_args__ = (
        UniqueConstraint("payment_id", "invoice_id"),
        Index("ix_payment_allocation_invoice_id", "invoice_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment.id"))
    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"))
    amount: Mapped[Decimal] = mapped_column(Money())


class PaymentPromise(Synced, Base):
    """A store's promise to pay ``amount`` by ``due_on`` (append-only for agents)."""

    __tablename__ = "payment_promise"
    __table_args__ = (
        Index("ix_payment_promise_store_id_due_on", "store_id", "due_on"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id"))
    promised_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Beat(Synced, Base):
    """A route: the stores an agent visits on given weekdays, in visit order (issue 19).

    Managed centrally by managers and read-only to its agent (RLS in ``sync.central_sql``).
    ``visit_days`` is a weekday bit set (Monday = 1, Tuesday = 2 … Sunday = 64; see
    ``beats.days``), so "beats visited on a Thursday" is one ``&`` in SQL on both back ends.
    The agent of a beat never changes (a moved beat would leave the old agent's laptop a copy
    it can no longer see be deleted); a beat for another agent is a new beat.
    """

    __tablename__ = "beat"
    __table_args__ = (Index("ix_beat_agent_id", "agent_id"),)

    name: Mapped[str] = mapped_column(String(100))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent.id"))
    visit_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    region: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class BeatStore(Synced, Base):
    """A store's place on a beat: one row per store ever (``store_id`` unique), so moving a
    store to another beat is an update and leaving its beat a tombstone, never a second row.

    ``beat_id`` is empty on a tombstone written when the store changed agent centrally, so
    the new agent's laptop never receives a row pointing at a beat it cannot see."""

    __tablename__ = "beat_store"
    __table_args__ = (
        UniqueConstraint("store_id"),
        Index("ix_beat_store_beat_id_visit_order", "beat_id", "visit_order"),
    )

    store_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("store.id"))
    beat_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("beat.id"))
    visit_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# ---- local-only bookkeeping (not replicated) ------------------------------------------------


class Outbox(Base):
    """Changes waiting to be pushed; written in the same transaction as the change (DESIGN §3)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_seq", "status", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=new_id)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    op: Mapped[str] = mapped_column(String(32))
    base_version: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncState(Base):
    """Per-table pull cursors and other sync bookkeeping, as key → value."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    number: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ActivityModelStore(Base):
    """The store-activity model (P(a store orders within 7 days / the horizon)) the last
    forecast run fitted, so Today ranks its call list without refitting on every load
    (about 27 s at 100,000 stores). Laptop-only derived data, like ``prediction``: one row
    per ``key``, replaced by each run; ``payload`` holds arrays only (``.npz``, no pickle)."""

    __tablename__ = "activity_model"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    fitted_for: Mapped[dt.date] = mapped_column(Date)
    horizon_days: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NumberSequence(Base):
    """Last order number used per prefix, so a number is never handed out twice."""

    __tablename__ = "number_sequence"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class MailQueue(Base):
    """Order confirmations waiting to be e-mailed to the store, and what became of each
    (``messaging.service``). Laptop-local: never synced, never in the outbox — the order is the
    shared record; this is only the delivery of its confirmation. The message (subject, body,
    PDF) is kept as queued, so a retry sends exactly what the person asked for."""

    __tablename__ = "mail_queue"
    __table_args__ = (
        Index("ix_mail_queue_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_mail_queue_order_id", "order_id"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str] = mapped_column(String(200))
    attachment: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


SYNCED_TABLES: tuple[str, ...] = (
    "agent",
    "store",
    "product",
    "no_order_reason",
    "scheme",
    "scheme_rule",
    "invoice",
    "invoice_line",
    "orders",
    "order_line",
    "store_stock_report",
    "call_log",
    "prediction",
    "suggestion_feedback",
    "audit_log",
    "payment",
    "payment_allocation",
    "payment_promise",
    "beat",
    "beat_store",
)
