"""Approved payments → Books customer payments applied to their invoices, exactly once.

The receipt number goes in ``reference_number`` and :func:`.once.push_once` looks it up before
any create, as the sales orders push does (docs/zoho.md "Payments"). The central transaction
that stores Zoho's ``payment_id`` also lowers the settled invoices' ``balance`` by the amounts
applied, so the collection moves from "pending" to the invoice's own balance at once and is
never counted twice (``db.queries.balances``); the next invoice pull confirms Zoho's figure.
Only ``approved`` payments go: a collected one waits for a manager, a rejected one never goes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, func, select, update
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Invoice, Payment, PaymentAllocation, Store
from ..domain.enums import PaymentStatus
from ..domain.tasks import NULL_TASK, TaskContext
from . import once, state
from .client import ZohoClient
from .config import ZohoConfig
from .mapping import MappingError
from .results import JobResult

log = logging.getLogger(__name__)
Json = dict[str, Any]


def payment_mode(config: ZohoConfig, mode: str) -> str:
    """Our mode → the organization's Books payment mode (a setting, docs/zoho.md)."""
    return str(getattr(config, f"payment_mode_{mode}", mode))


def customerpayment_payload(
    *,
    number: str,
    customer_id: str | None,
    store_name: str,
    payment: Payment,
    invoices: list[tuple[str | None, str, Decimal]],
    config: ZohoConfig,
) -> Json:
    """Our payment → the body of ``POST /customerpayments`` (ZOHO_API.md §2.3b)."""
    if not customer_id:
        raise MappingError(
            f"Store '{store_name}' has no Zoho Books customer id; link it to a Books customer "
            "(pull CRM accounts and Books contacts) and retry."
        )
    missing = [num for zid, num, _ in invoices if not zid]
    if missing:
        raise MappingError(
            "Invoices not in Zoho Books (imported from a file?): " + ", ".join(missing[:10])
        )
    details = [f"Receipt {number}"]
    if payment.mode == "cheque":
        details.append(f"cheque {payment.reference} dated {payment.cheque_date}")
    if payment.notes:
        details.append(payment.notes)
    body: Json = {
        "customer_id": customer_id,
        "payment_mode": payment_mode(config, payment.mode),
        "amount": float(payment.amount),
        "date": payment.received_on.isoformat(),
        "reference_number": number,
        "description": "; ".join(details)[:500],
        "invoices": [
            {"invoice_id": zid, "amount_applied": float(amount)} for zid, _, amount in invoices
        ],
    }
    if config.payment_account_id:
        body["account_id"] = config.payment_account_id
    return body


def payment_counts(s: Session) -> dict[str, int]:
    """Payments for the bridge's status: waiting to be sent, sent, parked, maybe created."""
    approved = Payment.status == PaymentStatus.APPROVED.value
    live = Payment.deleted.is_(False)

    def count(*where: ColumnElement[bool]) -> int:
        return int(s.scalar(select(func.count()).select_from(Payment).where(live, *where)) or 0)

    return {
        "payments_waiting": count(
            approved, Payment.zoho_payment_id.is_(None), Payment.zoho_error.is_(None)
        ),
        "payments_sent": count(Payment.zoho_payment_id.is_not(None)),
        "payments_parked": count(
            approved, Payment.zoho_payment_id.is_(None), Payment.zoho_error.is_not(None)
        ),
        "payments_maybe_created": len(state.maybe_created(s, state.MAYBE_PAYMENT)),
    }


def _waiting(engine: Engine) -> list[uuid.UUID]:
    with session_scope(engine) as s:
        return list(
            s.scalars(
                select(Payment.id)
                .where(
                    Payment.status == PaymentStatus.APPROVED.value,
                    Payment.zoho_payment_id.is_(None),
                    Payment.zoho_error.is_(None),
                    Payment.deleted.is_(False),
                )
                .order_by(Payment.received_on, Payment.number)
            ).all()
        )


def _build(engine: Engine, payment_id: uuid.UUID, config: ZohoConfig) -> tuple[str, Any]:
    with session_scope(engine) as s:
        payment = s.get(Payment, payment_id)
        assert payment is not None
        store = s.get(Store, payment.store_id)
        rows = s.execute(
            select(Invoice.zoho_invoice_id, Invoice.number, PaymentAllocation.amount)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
            .where(PaymentAllocation.payment_id == payment_id, PaymentAllocation.deleted.is_(False))
            .order_by(Invoice.number)
        ).all()
        try:
            body: Any = customerpayment_payload(
                number=payment.number,
                customer_id=store.zoho_customer_id if store else None,
                store_name=store.name if store else "?",
                payment=payment,
                invoices=[(r[0], r[1], r[2]) for r in rows],
                config=config,
            )
        except MappingError as exc:
            body = exc
        return payment.number, body


def _mark_sent(engine: Engine, payment_id: uuid.UUID, rec: Json) -> bool:
    """Store Zoho's id and lower the settled invoices' balances, in one transaction; only for a
    payment still approved and not yet linked (a second bridge or a re-run changes nothing)."""
    with session_scope(engine) as s:
        result = cast(
            "CursorResult[Any]",
            s.execute(
                update(Payment)
                .where(
                    Payment.id == payment_id,
                    Payment.zoho_payment_id.is_(None),
                    Payment.status == PaymentStatus.APPROVED.value,
                )
                .values(
                    zoho_payment_id=str(rec["payment_id"]),
                    zoho_error=None,
                    version=Payment.version + 1,
                )
            ),
        )
        if not result.rowcount:
            return False
        for invoice_id, amount in s.execute(
            select(PaymentAllocation.invoice_id, PaymentAllocation.amount).where(
                PaymentAllocation.payment_id == payment_id, PaymentAllocation.deleted.is_(False)
            )
        ).all():
            s.execute(
                update(Invoice)
                .where(Invoice.id == invoice_id, Invoice.balance.is_not(None))
                .values(balance=Invoice.balance - amount, version=Invoice.version + 1)
            )
        return True


def _park(engine: Engine, payment_id: uuid.UUID, message: str) -> None:
    with session_scope(engine) as s:
        s.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.zoho_payment_id.is_(None))
            .values(zoho_error=message, version=Payment.version + 1)
        )


def push_payments(
    engine: Engine,
    client: ZohoClient,
    ctx: TaskContext = NULL_TASK,
    *,
    res: JobResult | None = None,
    after_each: Callable[[], None] | None = None,
) -> JobResult:
    """Send every approved payment not yet in Books (oldest first)."""
    res = res or JobResult("payments")
    ids = _waiting(engine)
    kind = once.CUSTOMER_PAYMENT
    with session_scope(engine) as s:
        maybe = state.maybe_created(s, kind.maybe_prefix)
        if maybe:
            numbers = set(s.scalars(select(Payment.number).where(Payment.id.in_(ids))).all())
            for number in set(maybe) - numbers:  # no longer waiting: forget it
                state.clear_maybe(s, number, kind.maybe_prefix)
                del maybe[number]
    for done, payment_id in enumerate(ids, start=1):
        ctx.check()
        res.fetched += 1
        number, body = _build(engine, payment_id, client.config)
        if isinstance(body, MappingError):
            _park(engine, payment_id, str(body))
            res.parked += 1
            continue

        def found(rec: Json, pid: uuid.UUID = payment_id) -> bool:
            return _mark_sent(engine, pid, rec)

        def rejected(message: str, pid: uuid.UUID = payment_id) -> None:
            _park(engine, pid, message)

        once.push_once(
            engine,
            client,
            kind,
            number,
            body,
            res,
            maybe.get(number),
            on_found=found,
            on_rejected=rejected,
        )
        ctx.progress(done, len(ids), "customer payments")
        if after_each is not None:
            after_each()
    return res
