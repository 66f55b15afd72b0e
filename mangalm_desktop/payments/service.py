"""Record, approve and reject payments; record promises to pay (docs/collections.md).

:func:`record_payment` works inside the caller's open session and never commits: the call
screen saves order, outcome, shelf stock and payment in ONE local transaction, and the payment's
rows and outbox ops commit or roll back with the rest. :func:`record_payment_now` is the same in
a transaction of its own, for the CLI and the payment dialog.

Every write takes the signed-in :class:`~..security.roles.Identity` (``None`` only on a
standalone laptop with nobody signed in) and checks it here, not in a face: an agent collects
only from its own stores, in its own name; only a manager approves or rejects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ..db import numbering, outbox
from ..db.engine import session_scope
from ..db.models import Agent, Invoice, Payment, PaymentAllocation, PaymentPromise, Store, new_id
from ..db.queries.balances import open_invoices
from ..db.types import utcnow
from ..domain import formatting as fmt
from ..domain.enums import PaymentMode, PaymentStatus, Role
from ..domain.errors import UserError
from ..security import audit
from ..security.roles import Identity, Permission, PermissionDenied, require, require_store_access
from .model import PaymentInput, PaymentResult, PromiseInput, PromiseResult

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
STALE_CHEQUE_DAYS = 90
"""A cheque is valid for three months from its date (RBI rule since 2012): older is stale."""
MAX_AMOUNT = Decimal("100000000")  # ₹10 crore: a typing slip, not a kirana payment
PAYMENT_RECORD = "payment_record"
PAYMENT_APPROVE = "payment_approve"
PAYMENT_REJECT = "payment_reject"
PROMISE_RECORD = "promise_record"


class PaymentInvalid(UserError):
    """The payment has problems that block saving; ``problems`` lists every one in words."""

    def __init__(self, problems: list[str]) -> None:
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"The payment cannot be saved:\n{lines}")
        self.problems = problems


def _store(session: Session, store_id: uuid.UUID) -> Store:
    store = session.get(Store, store_id)
    if store is None or store.deleted:
        raise UserError("That store was not found.", hint="Sync once online, or pick a store.")
    return store


def _collector(
    session: Session, identity: Identity | None, store: Store, wanted: uuid.UUID | None
) -> Agent:
    """Who collected: an agent always itself; a manager (or a standalone laptop) names the
    agent, by default the store's own."""
    require(identity, Permission.COLLECT_PAYMENTS)
    require_store_access(identity, store.agent_id)
    if identity is not None and identity.role is Role.AGENT:
        if wanted is not None and wanted != identity.agent_id:
            raise PermissionDenied(
                f"{identity.username} may record payments only in their own name.",
                hint="Sign in as that agent, or ask a manager.",
            )
        wanted = identity.agent_id
    agent_id = wanted or store.agent_id
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    if agent is None or agent.deleted:
        raise UserError(
            f"{store.name} has no agent to number the receipt for.",
            hint="Give the store an agent, or say which agent collected the payment.",
        )
    return agent


def _mode(value: PaymentMode | str) -> PaymentMode | None:
    try:
        return PaymentMode(str(value).strip().lower().replace(" ", "_"))
    except ValueError:
        return None


def _check(
    session: Session, data: PaymentInput, store: Store, today: dt.date
) -> tuple[PaymentMode, list[str]]:
    problems: list[str] = []
    amount = data.amount
    if not isinstance(amount, Decimal) or not amount.is_finite():
        problems.append("The amount is not a number.")
        amount = ZERO
    elif amount <= ZERO:
        problems.append("The amount must be more than ₹0.")
    elif amount != amount.quantize(CENT):
        problems.append(f"The amount {amount} has more than two decimals (paise).")
    elif amount > MAX_AMOUNT:
        problems.append(f"The amount {fmt.money(amount)} is too large for one receipt.")
    mode = _mode(data.mode)
    if mode is None:
        problems.append(
            f"{data.mode!r} is not a payment mode; use cash, cheque, UPI or bank transfer."
        )
    received = data.received_on or today
    if received > today:
        problems.append(f"The payment date {fmt.day(received)} is in the future.")
    ref = (data.reference or "").strip()
    if len(ref) > 100:
        problems.append("The reference is longer than 100 characters.")
    if mode is PaymentMode.CHEQUE:
        if not ref:
            problems.append("A cheque needs its cheque number (reference).")
        if data.cheque_date is None:
            problems.append("A cheque needs the date written on it.")
        elif (received - data.cheque_date).days > STALE_CHEQUE_DAYS:
            problems.append(
                f"The cheque is dated {fmt.day(data.cheque_date)}, more than three months "
                "before it was received: banks refuse a stale cheque."
            )
    elif data.cheque_date is not None:
        problems.append("Only a cheque has a cheque date.")
    if mode in (PaymentMode.UPI, PaymentMode.BANK_TRANSFER) and not ref:
        what = "UPI transaction id" if mode is PaymentMode.UPI else "bank reference (UTR)"
        problems.append(f"A {mode.value.replace('_', ' ')} payment needs its {what}.")
    problems += _check_allocations(session, data, store, amount)
    return mode or PaymentMode.CASH, problems


def _check_allocations(
    session: Session, data: PaymentInput, store: Store, amount: Decimal
) -> list[str]:
    problems: list[str] = []
    owed = {x.invoice_id: x for x in open_invoices(session, store.id)}
    seen: set[uuid.UUID] = set()
    total = ZERO
    for alloc in data.allocations:
        inv = session.get(Invoice, alloc.invoice_id)
        name = inv.number if inv is not None else str(alloc.invoice_id)
        if inv is None or inv.deleted or inv.store_id != store.id:
            problems.append(f"Invoice {name} is not an invoice of {store.name}.")
            continue
        if alloc.invoice_id in seen:
            problems.append(f"Invoice {name} is settled twice in this payment.")
            continue
        seen.add(alloc.invoice_id)
        if alloc.amount <= ZERO or alloc.amount != alloc.amount.quantize(CENT):
            problems.append(f"The amount for invoice {name} must be more than ₹0, in paise.")
            continue
        open_bal = owed[inv.id].open if inv.id in owed else ZERO
        if alloc.amount > open_bal:
            problems.append(
                f"Invoice {name} has {fmt.money(open_bal)} left to pay; "
                f"{fmt.money(alloc.amount)} is more than that."
            )
        total += alloc.amount
    if total > amount > ZERO:
        problems.append(
            f"The invoices settled add up to {fmt.money(total)}, more than the payment of "
            f"{fmt.money(amount)}."
        )
    return problems


def record_payment(
    session: Session,
    identity: Identity | None,
    data: PaymentInput,
    *,
    today: dt.date | None = None,
) -> PaymentResult:
    """Add a collected payment, its allocations and their outbox ops to ``session``.

    No commit: the caller's transaction keeps or drops it together with whatever else it
    writes. Raises :class:`PaymentInvalid` (every problem in words) or ``PermissionDenied``
    before anything is written; a receipt number is drawn only for a valid payment.
    """
    today = today or dt.date.today()
    store = _store(session, data.store_id)
    agent = _collector(session, identity, store, data.agent_id)
    mode, problems = _check(session, data, store, today)
    if problems:
        raise PaymentInvalid(problems)
    device = numbering.device_code(session)
    payment = Payment(
        id=new_id(),
        number=numbering.allocate(session, agent.code, series=numbering.RECEIPT_SERIES),
        store_id=store.id,
        agent_id=agent.id,
        received_on=data.received_on or today,
        amount=data.amount,
        mode=mode.value,
        reference=(data.reference or "").strip() or None,
        cheque_date=data.cheque_date,
        notes=(data.notes or "").strip() or None,
        status=PaymentStatus.COLLECTED.value,
        device_id=device,
        created_at=utcnow(),
        version=1,
    )
    session.add(payment)
    outbox.enqueue_row(session, payment)
    allocated = ZERO
    for alloc in data.allocations:
        row = PaymentAllocation(
            id=new_id(),
            payment_id=payment.id,
            store_id=store.id,
            invoice_id=alloc.invoice_id,
            amount=alloc.amount,
            version=1,
        )
        session.add(row)
        outbox.enqueue_row(session, row)
        allocated += alloc.amount
    audit.record(
        session,
        actor=identity.username if identity else agent.code,
        action=PAYMENT_RECORD,
        agent_id=agent.id,
        entity="payment",
        entity_id=str(payment.id),
        details={"number": payment.number, "amount": payment.amount, "mode": payment.mode},
        device_id=device,
    )
    return PaymentResult(payment.id, payment.number, payment.status, payment.amount, allocated)


def record_payment_now(
    engine: Engine,
    identity: Identity | None,
    data: PaymentInput,
    *,
    today: dt.date | None = None,
) -> PaymentResult:
    """:func:`record_payment` in a transaction of its own (CLI, payment dialog)."""
    with session_scope(engine) as session:
        return record_payment(session, identity, data, today=today)


def record_promise(
    session: Session,
    identity: Identity | None,
    data: PromiseInput,
    *,
    today: dt.date | None = None,
) -> PromiseResult:
    """Add a promise to pay and its outbox op to ``session`` (no commit, like payments)."""
    today = today or dt.date.today()
    store = _store(session, data.store_id)
    agent = _collector(session, identity, store, data.agent_id)
    problems = []
    if not isinstance(data.amount, Decimal) or not data.amount.is_finite():
        problems.append("The promised amount is not a number.")
    elif data.amount <= ZERO or data.amount != data.amount.quantize(CENT):
        problems.append("The promised amount must be more than ₹0, in paise.")
    if data.due_on < today:
        problems.append(f"The promised date {fmt.day(data.due_on)} has already passed.")
    if problems:
        raise UserError(
            "The promise to pay cannot be saved:\n" + "\n".join(f"- {p}" for p in problems)
        )
    promise = PaymentPromise(
        id=new_id(),
        store_id=store.id,
        agent_id=agent.id,
        promised_on=data.promised_on or today,
        due_on=data.due_on,
        amount=data.amount,
        notes=(data.notes or "").strip() or None,
        created_at=utcnow(),
        version=1,
    )
    session.add(promise)
    outbox.enqueue_row(session, promise)
    return PromiseResult(promise.id, promise.due_on, promise.amount)


def record_promise_now(
    engine: Engine, identity: Identity | None, data: PromiseInput, *, today: dt.date | None = None
) -> PromiseResult:
    with session_scope(engine) as session:
        return record_promise(session, identity, data, today=today)


def find_payment(session: Session, ref: str | uuid.UUID) -> Payment:
    """A payment by receipt number or id."""
    payment: Payment | None = None
    if isinstance(ref, uuid.UUID):
        payment = session.get(Payment, ref)
    else:
        payment = session.scalars(
            select(Payment).where(Payment.number == ref.strip().upper())
        ).first()
    if payment is None or payment.deleted:
        raise UserError(f"No payment {ref} on this computer.", hint="Sync, or check the number.")
    return payment


def _decide(
    engine: Engine,
    identity: Identity | None,
    ref: str | uuid.UUID,
    status: PaymentStatus,
    note: str | None,
) -> PaymentResult:
    with session_scope(engine) as session:
        require(identity, Permission.APPROVE_PAYMENTS)
        payment = find_payment(session, ref)
        if payment.status != PaymentStatus.COLLECTED.value:
            raise UserError(
                f"Payment {payment.number} was already {payment.status} by "
                f"{payment.decided_by or 'the office'}.",
                hint="A decision is final; record a new payment if something changed.",
            )
        base = {
            "status": payment.status,
            "decided_by": payment.decided_by,
            "decided_at": payment.decided_at,
            "decision_note": payment.decision_note,
        }
        payment.status = status.value
        payment.decided_by = identity.username if identity else "standalone"
        payment.decided_at = utcnow()
        payment.decision_note = (note or "").strip() or None
        base_version = payment.version
        payment.version = base_version + 1
        outbox.enqueue_row(session, payment, base_version=base_version, base=base)
        audit.record(
            session,
            actor=payment.decided_by,
            action=PAYMENT_APPROVE if status is PaymentStatus.APPROVED else PAYMENT_REJECT,
            agent_id=identity.agent_id if identity else None,
            entity="payment",
            entity_id=str(payment.id),
            details={"number": payment.number, "note": payment.decision_note},
            device_id=numbering.device_code(session),
        )
        allocated = session.scalar(
            select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
                PaymentAllocation.payment_id == payment.id
            )
        )
        return PaymentResult(
            payment.id, payment.number, payment.status, payment.amount, allocated or ZERO
        )


def approve(
    engine: Engine, identity: Identity | None, ref: str | uuid.UUID, *, note: str | None = None
) -> PaymentResult:
    """A manager accepts a collected payment; the Zoho bridge then sends it to Books."""
    return _decide(engine, identity, ref, PaymentStatus.APPROVED, note)


def reject(
    engine: Engine, identity: Identity | None, ref: str | uuid.UUID, *, reason: str
) -> PaymentResult:
    """A manager refuses a collected payment (a bounced cheque, a wrong amount): its invoices
    are owed again at once. The reason is required and shown to the agent."""
    if not (reason or "").strip():
        raise UserError("Say why the payment is rejected (e.g. 'cheque bounced').")
    return _decide(engine, identity, ref, PaymentStatus.REJECTED, reason)
