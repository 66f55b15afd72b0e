"""Values passed into and out of the visit services (plain dataclasses, no ORM objects)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from ..domain.enums import CallOutcome
from ..orders.model import LineInput, OrderResult, Suggestion
from ..payments.model import PaymentInput, PaymentResult, PromiseInput

OUTCOME_WORDS: dict[CallOutcome, str] = {
    CallOutcome.ORDERED: "Ordered",
    CallOutcome.NO_ORDER: "No order",
    CallOutcome.CALL_BACK: "Call back on a date",
    CallOutcome.NO_ANSWER: "Not reachable",
}
"""The outcomes a visit offers, in the order the call screen lists them."""


@dataclass
class VisitInput:
    """Everything the agent entered on the call screen for one store."""

    store_id: uuid.UUID
    agent_id: uuid.UUID | None
    outcome: CallOutcome
    lines: list[LineInput] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    reason_id: uuid.UUID | None = None
    notes: str | None = None
    next_call_date: dt.date | None = None
    stock: dict[uuid.UUID | str, int] = field(default_factory=dict)
    payment: PaymentInput | None = None  # its store and agent are the visit's
    promise: PromiseInput | None = None  # a promise to pay instead (or as well)
    accept_credit_warning: bool = False


@dataclass(frozen=True)
class VisitResult:
    """What one save wrote."""

    call_id: uuid.UUID
    order: OrderResult | None
    stock_rows: int
    payment: PaymentResult | None


@dataclass(frozen=True)
class Reason:
    id: uuid.UUID
    code: str
    label: str
    active: bool
    sort_order: int
