"""What the payment services take and give back (plain dataclasses, no ORM objects)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from ..domain.enums import PaymentMode

MODE_LABEL: dict[str, str] = {
    PaymentMode.CASH.value: "Cash",
    PaymentMode.CHEQUE.value: "Cheque",
    PaymentMode.UPI.value: "UPI",
    PaymentMode.BANK_TRANSFER.value: "Bank transfer",
}


@dataclass(frozen=True)
class AllocationInput:
    """Settle ``amount`` of invoice ``invoice_id`` with this payment."""

    invoice_id: uuid.UUID
    amount: Decimal


@dataclass
class PaymentInput:
    """A payment as the agent enters it (the dialog, the call screen or the CLI).

    ``agent_id`` None: the signed-in agent (or the store's agent when a manager records it).
    ``reference``: the cheque number, UPI transaction id or bank reference (UTR)."""

    store_id: uuid.UUID
    amount: Decimal
    mode: PaymentMode | str
    received_on: dt.date | None = None
    reference: str | None = None
    cheque_date: dt.date | None = None
    notes: str | None = None
    allocations: list[AllocationInput] = field(default_factory=list)
    agent_id: uuid.UUID | None = None


@dataclass
class PromiseInput:
    """The store promises to pay ``amount`` by ``due_on``."""

    store_id: uuid.UUID
    amount: Decimal
    due_on: dt.date
    notes: str | None = None
    promised_on: dt.date | None = None
    agent_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PaymentResult:
    payment_id: uuid.UUID
    number: str
    status: str
    amount: Decimal
    allocated: Decimal

    @property
    def on_account(self) -> Decimal:
        return self.amount - self.allocated


@dataclass(frozen=True)
class PromiseResult:
    promise_id: uuid.UUID
    due_on: dt.date
    amount: Decimal
