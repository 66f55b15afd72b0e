"""Order money, exactly as an invoice computes it (pure: no SQL, no Qt).

Rules (docs/orders.md "Money"):
- line gross = quantity × unit price, rounded half-up to the paisa;
- line discount = gross × line discount % / 100, rounded half-up;
- line total = gross − line discount (rounding per line, as Zoho Books does per item);
- order discount = (Σ line totals) × order discount % / 100, rounded half-up;
- order subtotal = Σ gross, discount total = Σ line discounts + order discount,
  total = subtotal − discount total (= Σ line totals − order discount).
Prices are GST-inclusive list prices, so no tax line is added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..domain.formatting import percent_points
from ..domain.money import ZERO, round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineMoney:
    gross: Decimal
    discount: Decimal
    total: Decimal


@dataclass(frozen=True)
class OrderMoney:
    subtotal: Decimal
    line_discounts: Decimal
    order_discount: Decimal
    discount_total: Decimal
    total: Decimal


def check_pct(pct: Decimal, what: str = "Discount") -> str | None:
    """A message when ``pct`` is not a percentage between 0 and 100, else None."""
    if pct < 0 or pct > HUNDRED:
        return f"{what} must be between 0 and 100% (got {percent_points(pct)})."
    return None


def line_money(quantity: int, unit_price: Decimal, discount_pct: Decimal = ZERO) -> LineMoney:
    gross = round_money(Decimal(quantity) * unit_price)
    discount = round_money(gross * discount_pct / HUNDRED)
    return LineMoney(gross=gross, discount=discount, total=gross - discount)


def order_money(lines: list[LineMoney], discount_pct: Decimal = ZERO) -> OrderMoney:
    subtotal = sum((x.gross for x in lines), ZERO)
    line_discounts = sum((x.discount for x in lines), ZERO)
    after_lines = sum((x.total for x in lines), ZERO)
    order_discount = round_money(after_lines * discount_pct / HUNDRED)
    discount_total = line_discounts + order_discount
    return OrderMoney(
        subtotal=subtotal,
        line_discounts=line_discounts,
        order_discount=order_discount,
        discount_total=discount_total,
        total=after_lines - order_discount,
    )


def pack_hint(quantity: int, pack_size: int) -> str | None:
    """A rounding hint when ``quantity`` is not a whole number of packs, else None."""
    if pack_size <= 1 or quantity % pack_size == 0:
        return None
    q = abs(quantity)
    down, up = (q // pack_size) * pack_size, (q // pack_size + 1) * pack_size
    options = f"{down} or {up}" if down else f"{up}"
    return f"{q} is not a whole number of packs of {pack_size}; {options} would be."
