"""How money, quantities, percentages and dates read, everywhere: screen, chart axis, CLI and PDF.

One module so a figure reads the same on every face (issue 17): rupees with the ₹ sign and
Indian digit grouping (``₹1,23,45,678.90`` — groups of two above the thousands), lakh and
crore for the short form on chart axes (``₹4.5 L``, ``₹1.23 Cr``), percentages with one
decimal (``-5.0%``, never ``-5.0000%``) and dates as en-IN reads them (``06 Dec 2026``).

Amounts are rounded half-up to the paisa from their exact Decimal (floats go through ``repr`` so
``0.1`` stays ``0.1``), as :mod:`.money` rounds an invoice. Files keep numbers as numbers:
XLSX cells are typed and carry the en-IN number formats in :data:`XLSX_FORMATS`; only text
goes through these functions. Qt-free, so the CLI, reports and PDFs use it as the GUI does.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

RUPEE = "₹"
LAKH = 100_000
CRORE = 10_000_000

Kind = Literal["text", "date", "money", "int", "pct", "float", "bool"]
"""What a report column holds; picks the text form and the XLSX number format."""

# Excel's own "₹ English (India)" currency format: en-IN (LCID 4009) groups lakh and crore.
XLSX_MONEY = "[$₹-4009]#,##,##0.00;-[$₹-4009]#,##,##0.00"
XLSX_FORMATS: dict[str, str] = {
    "money": XLSX_MONEY,
    "int": "#,##,##0",
    "float": "#,##,##0.00",
    "pct": "0.0%",
    "date": "dd mmm yyyy",
}


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA: a ratio with nothing to divide by, a store that never bought.

    Duck-typed (a missing value is the one not equal to itself) so the domain needs no pandas.
    """
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pandas.NA: its truth is ambiguous, which only NA is
        return True
    except (ValueError, InvalidOperation):  # arrays are not cells; a signalling Decimal NaN
        return isinstance(value, Decimal)


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # numpy's float64 too, whose repr is "np.float64(0.5)"
        return Decimal(repr(float(value)))
    if isinstance(value, int):
        return Decimal(int(value))
    return Decimal(str(value))


def group_indian(whole: int) -> str:
    """``12345678`` → ``1,23,45,678``: the last three digits, then groups of two."""
    digits = str(abs(int(whole)))
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ("-" if whole < 0 else "") + ",".join([*groups, tail])


def number(value: object, decimals: int = 0) -> str:
    """A plain number with Indian grouping, rounded half-up: ``1234567.891`` → ``12,34,567.89``."""
    if is_missing(value):
        return ""
    d = _decimal(value)
    if not d.is_finite():
        return "∞" if d > 0 else "-∞"
    q = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    q = abs(q)
    whole = int(q)
    text = group_indian(whole)
    if decimals > 0:
        text += "." + f"{q:f}".split(".")[1]
    return sign + text


def money(value: object, *, paise: bool = True, symbol: bool = True) -> str:
    """``12345678.9`` → ``₹1,23,45,678.90``; ``-1234.5`` → ``-₹1,234.50``; missing → ``""``."""
    if is_missing(value):
        return ""
    text = number(value, 2 if paise else 0)
    if not symbol:
        return text
    return f"-{RUPEE}{text[1:]}" if text.startswith("-") else f"{RUPEE}{text}"


def price(value: object) -> str:
    """A unit price: to the paisa, or to four places when it has fractions of a paisa."""
    if is_missing(value):
        return ""
    d = _decimal(value)
    if d == d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        return money(d)
    text = number(d, 4)
    return f"-{RUPEE}{text[1:]}" if text.startswith("-") else f"{RUPEE}{text}"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def short(value: object, *, symbol: bool = False, decimals: int = 0) -> str:
    """The axis form: ``4500000`` → ``45 L``, ``12345678`` → ``1.23 Cr``, below a lakh in full.

    ``decimals`` applies below a lakh only (axes of small amounts step by less than one).
    """
    if is_missing(value):
        return ""
    d = _decimal(value)
    a = abs(d)
    if a >= CRORE:
        text = _trim(number(d / CRORE, 2)) + " Cr"
    elif a >= LAKH:
        text = _trim(number(d / LAKH, 2)) + " L"
    else:
        text = number(d, decimals)
    if text == "-0":
        text = "0"
    if not symbol:
        return text
    return f"-{RUPEE}{text[1:]}" if text.startswith("-") else f"{RUPEE}{text}"


def money_short(value: object, *, decimals: int = 0) -> str:
    """``short`` with the rupee sign: ``₹45 L``, ``₹1.23 Cr``, ``-₹12,500``."""
    return short(value, symbol=True, decimals=decimals)


def axis(value: object, kind: Kind, *, decimals: int = 0) -> str:
    """A chart-axis tick for a column of ``kind``: ``₹4.5 L`` for money, ``25%`` for a ratio."""
    if kind == "money":
        return money_short(value, decimals=decimals)
    if kind == "pct":
        return percent(value, decimals=0)
    return short(value, decimals=decimals)


def quantity(value: object) -> str:
    """Units: ``123456`` → ``1,23,456``; a fractional quantity keeps up to two decimals."""
    if is_missing(value):
        return ""
    d = _decimal(value)
    if d == d.to_integral_value():
        return number(d)
    return _trim(number(d, 2))


def percent(fraction: object, *, decimals: int = 1, signed: bool = False) -> str:
    """A fraction as a percentage: ``-0.05`` → ``-5.0%``; ``signed`` puts ``+`` on gains."""
    if is_missing(fraction):
        return ""
    text = number(_decimal(fraction) * 100, decimals)
    zero = text.lstrip("-").strip("0.") == ""
    if zero:
        text = text.lstrip("-")  # -0.0% reads as a loss that is not there
    elif signed and not text.startswith("-"):
        text = "+" + text
    return text + "%"


def pct_number(pct: Decimal) -> str:
    """A percentage held as percent points, bare: ``Decimal("2.50")`` → ``2.5`` (an edit cell)."""
    text = f"{pct.normalize():f}"
    return "0" if text in ("-0", "0") else text


def percent_points(pct: object) -> str:
    """A percentage held as percent points: ``Decimal("5.00")`` → ``5%``, ``2.50`` → ``2.5%``."""
    if is_missing(pct):
        return ""
    return pct_number(_decimal(pct)) + "%"


def trend(pct: float | None) -> str:
    """A change in percent points with its arrow: ``12.4`` → ``▲ +12%``; None (no base) → new."""
    if pct is None or is_missing(pct):
        return "new"
    arrow = "▲" if pct > 0.5 else "▼" if pct < -0.5 else "▶"
    return f"{arrow} {percent(pct / 100, decimals=0, signed=True)}"


def day(value: dt.date | None) -> str:
    """en-IN day: ``06 Dec 2026`` (day first, month in words: never read as 12 June)."""
    if value is None or is_missing(value):
        return ""
    return value.strftime("%d %b %Y")


def day_time(value: dt.datetime | None) -> str:
    """``06 Dec 2026 14:05`` (24-hour clock)."""
    if value is None or is_missing(value):
        return ""
    return value.strftime("%d %b %Y %H:%M")


def cell(value: object, kind: Kind) -> str:
    """One report cell as text (table, CLI, PDF and print agree); missing → empty."""
    if is_missing(value):
        return ""
    if kind == "money":
        return money(value)
    if kind == "pct":
        return percent(value)
    if kind == "int":
        return number(value)
    if kind == "float":
        return number(value, 2)
    if kind == "date":
        if isinstance(value, dt.datetime):
            return day(value.date())
        return day(value) if isinstance(value, dt.date) else str(value)[:10]
    if kind == "bool":
        return "Yes" if value else "No"
    return str(value)


def to_number(value: object) -> float | None:
    """For charts only (never for totals): a plottable float, or None."""
    if is_missing(value):
        return None
    try:
        return float(value)  # type: ignore[arg-type]  # numbers, numpy scalars, Decimal
    except (TypeError, ValueError):
        return None
