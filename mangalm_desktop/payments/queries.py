"""Reading payments for the collections list, the CLI and the receipt (Qt-free)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, Select, false, select
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Agent, Invoice, Payment, PaymentAllocation, Store
from ..db.queries.balances import OpenInvoice, StoreBalance, open_invoices, store_balance
from ..domain.enums import Role
from ..domain.errors import UserError
from ..security.roles import Identity, Permission, require, require_store_access


@dataclass(frozen=True)
class PaymentRow:
    payment_id: uuid.UUID
    number: str
    received_on: dt.date
    store_code: str
    store_name: str
    agent_code: str
    amount: Decimal
    mode: str
    reference: str | None
    cheque_date: dt.date | None
    status: str
    decided_by: str | None
    decision_note: str | None
    zoho_payment_id: str | None
    zoho_error: str | None


@dataclass(frozen=True)
class AllocationRow:
    invoice_number: str
    invoice_date: dt.date
    amount: Decimal


@dataclass(frozen=True)
class PaymentDetail:
    row: PaymentRow
    store_address: str | None
    store_phone: str | None
    agent_name: str
    notes: str | None
    allocations: list[AllocationRow]

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), Decimal("0.00"))


def _select() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Payment.id,
            Payment.number,
            Payment.received_on,
            Store.code,
            Store.name,
            Agent.code,
            Payment.amount,
            Payment.mode,
            Payment.reference,
            Payment.cheque_date,
            Payment.status,
            Payment.decided_by,
            Payment.decision_note,
            Payment.zoho_payment_id,
            Payment.zoho_error,
        )
        .join(Store, Store.id == Payment.store_id)
        .join(Agent, Agent.id == Payment.agent_id)
        .where(Payment.deleted == false())
    )


def list_payments(
    engine: Engine,
    identity: Identity | None,
    *,
    status: str | None = None,
    store_id: uuid.UUID | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 2000,
) -> list[PaymentRow]:
    """Payments newest first; an agent sees those of its own stores only."""
    require(identity, Permission.COLLECT_PAYMENTS)
    q = _select()
    if identity is not None and identity.role is Role.AGENT:
        q = q.where(Store.agent_id == identity.agent_id)
    if status:
        q = q.where(Payment.status == status)
    if store_id is not None:
        q = q.where(Payment.store_id == store_id)
    if date_from is not None:
        q = q.where(Payment.received_on >= date_from)
    if date_to is not None:
        q = q.where(Payment.received_on <= date_to)
    q = q.order_by(Payment.received_on.desc(), Payment.number.desc()).limit(limit)
    with session_scope(engine) as s:
        return [PaymentRow(*r) for r in s.execute(q)]


def payment_detail(
    session: Session, identity: Identity | None, payment_id: uuid.UUID
) -> PaymentDetail:
    """One payment with its store, agent and the invoices it settles (for the receipt)."""
    require(identity, Permission.COLLECT_PAYMENTS)
    r = session.execute(_select().where(Payment.id == payment_id)).one_or_none()
    payment = session.get(Payment, payment_id)
    if r is None or payment is None:
        raise UserError("That payment was not found on this computer.")
    store = session.get(Store, payment.store_id)
    agent = session.get(Agent, payment.agent_id)
    assert store is not None and agent is not None  # foreign keys
    require_store_access(identity, store.agent_id)
    allocs = session.execute(
        select(Invoice.number, Invoice.invoice_date, PaymentAllocation.amount)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .where(PaymentAllocation.payment_id == payment_id, PaymentAllocation.deleted == false())
        .order_by(Invoice.invoice_date, Invoice.number)
    )
    return PaymentDetail(
        row=PaymentRow(*r),
        store_address=", ".join(x for x in (store.address, store.city) if x) or None,
        store_phone=store.phone,
        agent_name=agent.name,
        notes=payment.notes,
        allocations=[AllocationRow(*a) for a in allocs],
    )


@dataclass(frozen=True)
class StoreDues:
    """What the payment panel and ``payments invoices`` show for one store."""

    store_id: uuid.UUID
    store_name: str
    invoices: list[OpenInvoice]
    balance: StoreBalance


def store_dues(
    session: Session, identity: Identity | None, store_id: uuid.UUID, today: dt.date
) -> StoreDues:
    """A store's open invoices and balance after collections; an agent only its own stores."""
    require(identity, Permission.COLLECT_PAYMENTS)
    store = session.get(Store, store_id)
    if store is None or store.deleted:
        raise UserError("That store was not found.")
    require_store_access(identity, store.agent_id)
    return StoreDues(
        store.id,
        store.name,
        open_invoices(session, store_id),
        store_balance(session, store_id, today),
    )
