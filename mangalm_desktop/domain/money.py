"""Money rules: Decimal everywhere, rounded half-up to the paisa as an invoice is."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: object) -> Decimal:
    """Parse a money value (str, int, Decimal) exactly; floats go through ``repr`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        try:
            d = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return d


def round_money(value: Decimal) -> Decimal:
    """Round to two places half-up, the way Zoho Books and Indian GST invoices round."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
