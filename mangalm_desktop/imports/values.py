"""Turning cell text into quantities, money and dates, with the reason when it cannot.

Why caches: a million-line export has a few thousand distinct prices and a few hundred distinct
dates, so each distinct string is parsed once. Why date detection: Zoho writes dates in the
organisation's format (2024-03-15, 15/03/2024, 15 Mar 2024, 03/15/2024...), and a file must be
read in one consistent format; when the file's dates fit two formats that give different days
(every day <= 12), guessing would silently swap months, so the import refuses and asks for
``--date-format``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ..domain.date_formats import COMMON_DATE_FORMATS
from ..domain.date_window import is_plausible, window_text
from ..domain.errors import UserError
from .source import Cell

CACHE_LIMIT = 100_000

MAX_QUANTITY = 1_000_000
"""Units on one line: far above any real line (the busiest real history's largest is 80,995),
far below what a 64-bit integer column holds."""
MAX_AMOUNT = Decimal(10) ** 10
"""₹1,000 crore: no price, line or invoice amount of a field sales business comes near it, and
with the scale of 4 it still fits the integer minor units the SQLite money column stores."""
# A plain number ("-1234.50"): nothing for _clean_number to clean, so it is skipped (hot path).
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# An amount with exactly two decimals and at most ten digits before them, plain ("-1234.50") or
# with thousands separators between its digits ("1,234.50", Indian "1,23,456.00", as Zoho and
# Excel write larger amounts): always within MAX_AMOUNT, already at scale 2, and money() drops
# every comma, so its value is the text without commas (the column-wise import).
GROUPED_AMOUNT_2 = re.compile(r"-?[0-9](?:,?[0-9]){0,9}\.[0-9]{2}")


def check_date(day: dt.date) -> dt.date:
    """``day`` if it lies in the plausible window, else :class:`BadValue` saying the window."""
    if not is_plausible(day):
        raise BadValue(f"date {day.isoformat()} is outside the plausible range {window_text()}")
    return day


def check_amount(d: Decimal) -> Decimal:
    """``d`` if its size is plausible for money, else :class:`BadValue`."""
    if abs(d) > MAX_AMOUNT:
        raise BadValue(f"amount {d:,} is out of range (more than {MAX_AMOUNT:,} in one cell)")
    return d


class BadValue(ValueError):
    """A cell that cannot be read; the message is the reason shown in the error report."""


class DateReader:
    """Reads dates in the one format a file uses, detected from the file or given by the user."""

    def __init__(self, fixed_format: str | None = None) -> None:
        self.fixed = fixed_format
        self.candidates: list[str] = [fixed_format] if fixed_format else list(COMMON_DATE_FORMATS)
        self._seen: dict[str, dict[str, dt.date]] = {}
        self._cache: dict[str, dt.date] = {}

    def observe(self, values: Iterable[Cell]) -> None:
        """Narrow the candidate formats with more of the file's date strings."""
        for value in values:
            if isinstance(value, dt.date) or value in self._seen or not value.strip():
                continue
            parsed = self._try_all(value, self.candidates)
            self._seen[value] = parsed
            if parsed:  # a value no remaining format reads is a bad cell, not evidence
                self.candidates = [f for f in self.candidates if f in parsed]

    @property
    def decided(self) -> bool:
        return self.ambiguity() is None

    def ambiguity(self) -> tuple[str, list[str]] | None:
        """An observed value the remaining formats read as different days, with those formats."""
        for value, parsed in self._seen.items():
            days = {parsed[f] for f in self.candidates if f in parsed}
            if len(days) > 1:
                return value, [f for f in self.candidates if f in parsed]
        return None

    def refuse_if_ambiguous(self, file_name: str, column: str) -> None:
        amb = self.ambiguity()
        if amb is None:
            return
        value, formats = amb
        shown = " or ".join(f"'{f}'" for f in formats)
        raise UserError(
            f"{file_name}: the dates in '{column}' are ambiguous: '{value}' could be read as {shown}"
            " and no date in the file tells which",
            hint=f"Rerun with --date-format and one of {shown} (strftime codes).",
        )

    def parse(self, value: Cell) -> dt.date:
        if isinstance(value, dt.date):
            return check_date(value)
        hit = self._cache.get(value)
        if hit is not None:
            return hit
        text = value.strip()
        if not text:
            raise BadValue("missing date")
        parsed = self._try_all(text, self.candidates)
        days = set(parsed.values())
        if not days:
            fmts = ", ".join(self.candidates[:3])
            raise BadValue(f"not a date in the file's format ({fmts})")
        if len(days) > 1:
            raise BadValue(f"ambiguous date; pass --date-format ({', '.join(parsed)})")
        day = check_date(days.pop())
        self._cache[value] = day
        return day

    @staticmethod
    def _try_all(text: str, formats: list[str]) -> dict[str, dt.date]:
        out: dict[str, dt.date] = {}
        for fmt in formats:
            try:
                out[fmt] = dt.datetime.strptime(text.strip(), fmt).date()
            except ValueError:
                continue
        return out


def _clean_number(text: str) -> str:
    if text.isdigit():
        return text
    # Thousands separators (1,234 and Indian 1,23,456), stray spaces and a leading currency mark.
    t = text.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    for mark in ("₹", "Rs.", "INR", "£", "$", "€"):
        if t.startswith(mark):
            t = t[len(mark) :]
        elif t.startswith("-" + mark):
            t = "-" + t[1 + len(mark) :]
    if t.startswith("(") and t.endswith(")"):
        t = "-" + t[1:-1]  # accounting negative
    return t


class NumberReader:
    """Quantities as whole units, money as exact Decimals rounded half-up to the column's scale."""

    def __init__(self) -> None:
        self._qty: dict[str, int] = {}
        self._money: dict[int, dict[Cell, Decimal]] = {s: {} for s in range(0, 7)}
        self._quanta = {s: Decimal(1).scaleb(-s) for s in range(0, 7)}

    def quantity(self, value: Cell) -> int:
        hit = self._qty.get(value)  # type: ignore[arg-type]
        if hit is not None:
            return hit
        if not isinstance(value, str) or not value.strip():
            raise BadValue("missing quantity")
        try:
            d = Decimal(_clean_number(value))
        except InvalidOperation:
            raise BadValue("not a number") from None
        if not d.is_finite():
            raise BadValue("not a number")
        if abs(d) > MAX_QUANTITY:
            raise BadValue(f"quantity {d:,} is out of range (more than {MAX_QUANTITY:,} units)")
        if d != d.to_integral_value():
            raise BadValue("not a whole number of units")
        q = int(d)
        self._qty[value] = q
        return q

    def money(self, value: Cell, scale: int = 2, *, required: bool = True) -> Decimal | None:
        cache = self._money[scale]
        hit = cache.get(value)
        if hit is not None:
            return hit
        if not isinstance(value, str) or not value.strip():
            if required:
                raise BadValue("missing amount")
            return None
        try:
            d = Decimal(value if _PLAIN_NUMBER.fullmatch(value) else _clean_number(value))
        except InvalidOperation:
            raise BadValue("not an amount") from None
        if not d.is_finite():
            raise BadValue("not an amount")
        check_amount(d)
        d = d.quantize(self._quanta[scale], rounding=ROUND_HALF_UP)
        if len(cache) >= CACHE_LIMIT:
            cache.clear()  # line totals are nearly all distinct: keep memory bounded
        cache[value] = d
        return d
