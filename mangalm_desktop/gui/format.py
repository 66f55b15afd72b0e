"""How numbers and dates look on screen (Indian digit grouping: ₹12,34,567.00)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def group_indian(whole: int) -> str:
    digits = str(abs(whole))
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        parts = []
        while len(head) > 2:
            parts.insert(0, head[-2:])
            head = head[:-2]
        if head:
            parts.insert(0, head)
        digits = ",".join(parts) + "," + tail
    return ("-" if whole < 0 else "") + digits


def rupees(value: Decimal | None, *, paise: bool = True) -> str:
    if value is None:
        return ""
    q = value.quantize(Decimal("0.01") if paise else Decimal("1"))
    sign = "-" if q < 0 else ""
    q = abs(q)
    whole = int(q)
    text = f"₹{group_indian(whole)}"
    if paise:
        text += f".{int((q - whole) * 100):02d}"
    return sign + text


def day(value: dt.date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def percent(value: float | None) -> str:
    if value is None:
        return "new"
    arrow = "▲" if value > 0.5 else "▼" if value < -0.5 else "▶"
    return f"{arrow} {value:+.0f}%"
