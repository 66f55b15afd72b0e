"""What a store owes after the collections the office has not seen in Zoho yet: one way only.

Zoho Books keeps each invoice's ``balance``; the bridge pulls it into ``invoice.balance``. A
payment collected on a laptop settles invoices long before Books knows (offline, then waiting
for approval, then the bridge's push). So the open balance of an invoice is

    invoice.balance − the allocations of payments not rejected and not yet in Zoho

(``zoho_payment_id`` still empty). When the bridge creates the Books customer payment it lowers
``invoice.balance`` by the same allocations in the same central transaction in which it stores
the Zoho id, so the amount leaves the "pending" side as it enters the invoice's balance and is
never counted twice; the next invoice pull confirms Zoho's figure. The part of a payment no
invoice takes ("on account") is never reflected in an invoice's balance, so it is subtracted
from the store's total as long as the payment is not rejected.

Every figure of a balance (the store card, the credit check, the ageing report, the payment
dialog's open invoices) comes from here (docs/collections.md "Balances").
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Subquery, false, func, or_, select
from sqlalchemy.orm import Session

from ..models import Invoice, Payment, PaymentAllocation, Store

ZERO = Decimal("0.00")
NOT_SALES_STATUSES: tuple[str, ...] = ("void", "draft")
REJECTED = "rejected"


def pending_allocations(as_of: dt.date | None = None) -> Subquery:
    """Per invoice: the amount settled by payments not rejected and not yet in Zoho (received
    on or before ``as_of``, when given: a report as of a past day ignores later payments)."""
    later = [] if as_of is None else [Payment.received_on <= as_of]
    return (
        select(
            PaymentAllocation.invoice_id.label("invoice_id"),
            func.sum(PaymentAllocation.amount).label("pending"),
        )
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(
            PaymentAllocation.deleted == false(),
            Payment.deleted == false(),
            Payment.status != REJECTED,
            Payment.zoho_payment_id.is_(None),
            *later,
        )
        .group_by(PaymentAllocation.invoice_id)
        .subquery("pending_alloc")
    )


def open_balance(pending: Subquery) -> ColumnElement[Decimal]:
    """An invoice's balance after pending collections (join ``pending`` on invoice_id)."""
    return func.coalesce(Invoice.balance, 0) - func.coalesce(pending.c.pending, 0)


def open_invoice_conditions() -> list[ColumnElement[bool]]:
    """Invoices that can be owed: live sales invoices (not credit notes, void or drafts)."""
    return [
        Invoice.deleted == false(),
        Invoice.kind == "invoice",
        or_(Invoice.status.is_(None), Invoice.status.not_in(NOT_SALES_STATUSES)),
    ]


def on_account(store_id: uuid.UUID | None = None) -> Subquery:
    """Per store (or one store): the parts of payments (not rejected) that settle no invoice."""
    one = [] if store_id is None else [Payment.store_id == store_id]
    allocated = (
        select(
            PaymentAllocation.payment_id.label("payment_id"),
            func.sum(PaymentAllocation.amount).label("allocated"),
        )
        .where(PaymentAllocation.deleted == false())
        .group_by(PaymentAllocation.payment_id)
        .subquery("allocated")
    )
    return (
        select(
            Payment.store_id.label("store_id"),
            func.sum(Payment.amount - func.coalesce(allocated.c.allocated, 0)).label("on_account"),
        )
        .outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .where(Payment.deleted == false(), Payment.status != REJECTED, *one)
        .group_by(Payment.store_id)
        .subquery("on_account")
    )


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: uuid.UUID
    number: str
    invoice_date: dt.date
    due_date: dt.date | None
    total: Decimal
    zoho_balance: Decimal  # what Zoho (or the import) says
    pending: Decimal  # settled by collections Zoho has not seen yet
    open: Decimal  # what is still owed

    def days_overdue(self, as_of: dt.date) -> int:
        return (as_of - (self.due_date or self.invoice_date)).days


@dataclass(frozen=True)
class StoreBalance:
    outstanding: Decimal  # open invoice balances − money on account
    overdue: Decimal  # open balances of invoices past their due date
    overdue_invoices: int
    pending_collections: Decimal  # collected, not rejected, not yet in Zoho (all of it)
    on_account: Decimal


def _money(value: object) -> Decimal:
    return ZERO if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def open_invoices(
    session: Session, store_id: uuid.UUID, *, exclude_payment: uuid.UUID | None = None
) -> list[OpenInvoice]:
    """The store's invoices still owed (open balance > 0), oldest first."""
    pending = pending_allocations()
    q = (
        select(
            Invoice.id,
            Invoice.number,
            Invoice.invoice_date,
            Invoice.due_date,
            Invoice.total,
            Invoice.balance,
            pending.c.pending,
        )
        .outerjoin(pending, pending.c.invoice_id == Invoice.id)
        .where(Invoice.store_id == store_id, *open_invoice_conditions())
        .where(open_balance(pending) > ZERO)
        .order_by(func.coalesce(Invoice.due_date, Invoice.invoice_date), Invoice.number)
    )
    out = []
    for r in session.execute(q):
        bal, pend = _money(r.balance), _money(r.pending)
        out.append(
            OpenInvoice(
                r.id, r.number, r.invoice_date, r.due_date, _money(r.total), bal, pend, bal - pend
            )
        )
    return out


def store_balance(session: Session, store_id: uuid.UUID, as_of: dt.date) -> StoreBalance:
    """The store's outstanding and overdue amounts after collections (see the module text)."""
    invoices = open_invoices(session, store_id)
    credit_q = on_account(store_id)
    acc = session.execute(
        select(credit_q.c.on_account).where(credit_q.c.store_id == store_id)
    ).scalar()
    credit = _money(acc)
    pending_total = session.execute(
        select(func.sum(Payment.amount)).where(
            Payment.store_id == store_id,
            Payment.deleted == false(),
            Payment.status != REJECTED,
            Payment.zoho_payment_id.is_(None),
        )
    ).scalar()
    overdue = [x for x in invoices if x.days_overdue(as_of) > 0]
    return StoreBalance(
        outstanding=sum((x.open for x in invoices), ZERO) - credit,
        overdue=sum((x.open for x in overdue), ZERO),
        overdue_invoices=len(overdue),
        pending_collections=_money(pending_total),
        on_account=credit,
    )


def credit_balance(session: Session, store: Store, as_of: dt.date) -> Decimal:
    """What the store owes as far as its credit limit is concerned (the order's credit check
    and the call screen's "credit left" both count this, so they cannot disagree).

    A store with invoice rows owes :func:`store_balance`'s outstanding: a cheque collected in
    the call screen frees credit at once, before the office or Zoho has seen it. A store with no
    invoice rows at all (a new store, or one the office keeps by hand: the demo and the office
    set ``store.outstanding_balance``, the Zoho bridge never does) has nothing to compute from,
    so the stored column is the only figure there is; computing would say it owes nothing and
    let any order through. The column is taken as it is, not lowered by payments on account:
    it cannot tell which collections the office has already counted in it.
    """
    has_invoices = session.scalar(
        select(Invoice.id).where(Invoice.store_id == store.id, Invoice.deleted == false()).limit(1)
    )
    if has_invoices is None:
        return _money(store.outstanding_balance)
    return store_balance(session, store.id, as_of).outstanding
