"""Values passed into and out of the order services (plain dataclasses, no ORM objects)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from ..domain.enums import OrderKind
from ..domain.money import ZERO


@dataclass
class LineInput:
    """One line as typed: a product (id, or SKU) and a quantity in the product's unit.

    ``suggested_qty``/``prediction_id`` are set when the line came from an AI suggestion, so the
    submit can record suggested vs ordered (suggestion_feedback).
    """

    product: uuid.UUID | str
    quantity: int
    discount_pct: Decimal = ZERO
    suggested_qty: int | None = None
    prediction_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Suggestion:
    """A suggested quantity the order was pre-filled with (kept even if the agent deletes it)."""

    product_id: uuid.UUID
    quantity: int
    prediction_id: uuid.UUID | None = None
    reason: str | None = None

    def line(self) -> LineInput:
        """The order line this suggestion pre-fills, remembering where it came from."""
        return LineInput(
            self.product_id,
            self.quantity,
            suggested_qty=self.quantity,
            prediction_id=self.prediction_id,
        )


@dataclass
class OrderDraft:
    """Everything the agent typed for one order. ``store`` is a store id or store code."""

    store: uuid.UUID | str | None
    agent_id: uuid.UUID
    lines: list[LineInput] = field(default_factory=list)
    kind: OrderKind = OrderKind.ORDER
    discount_pct: Decimal = ZERO
    notes: str | None = None
    requested_delivery_date: dt.date | None = None
    order_date: dt.date | None = None
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass(frozen=True)
class Issue:
    """One validation message. ``line`` is the 1-based typed line it is about, if any."""

    code: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class PricedLine:
    product_id: uuid.UUID
    sku: str | None
    name: str
    pack_size: int
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal
    gross: Decimal
    discount: Decimal
    total: Decimal
    suggested_qty: int | None = None
    prediction_id: uuid.UUID | None = None
    # What schemes gave (docs/orders.md "Schemes"): ``discount_pct`` above is the whole line
    # discount, ``scheme_pct`` the schemes' part of it, ``scheme_value`` their rupees (a free
    # line: the goods' value at list price), ``scheme_split`` the rupees per scheme (JSON).
    scheme_id: uuid.UUID | None = None
    scheme_pct: Decimal = ZERO
    scheme_value: Decimal = ZERO
    scheme_reason: str | None = None
    scheme_split: str | None = None
    free_goods: bool = False

    @property
    def own_discount_pct(self) -> Decimal:
        """The agent's own part of the line discount (what an edit of the line starts from)."""
        return self.discount_pct - self.scheme_pct


@dataclass(frozen=True)
class Checked:
    """A validated draft: priced lines and totals, plus what to tell the agent.

    ``errors`` block saving; ``warnings`` (credit limit) need the agent's confirmation;
    ``notices`` (merged duplicates, pack rounding hints) are informational.
    """

    store_id: uuid.UUID | None
    store_name: str | None
    lines: list[PricedLine]
    subtotal: Decimal
    discount_total: Decimal
    order_discount: Decimal
    total: Decimal
    errors: list[Issue]
    warnings: list[Issue]
    notices: list[Issue]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class OrderResult:
    """What a write did: the order touched, its number/state/version and the messages."""

    order_id: uuid.UUID
    number: str
    state: str
    version: int
    total: Decimal
    warnings: list[Issue] = field(default_factory=list)
    notices: list[Issue] = field(default_factory=list)
