"""Weekday sets of a beat, stored as one integer (Monday = 1, Tuesday = 2 … Sunday = 64).

One integer keeps "the beats visited on a Thursday" a single ``visit_days & 8`` in SQL on
SQLite and PostgreSQL alike; people read and type the days as "Mon, Thu".
"""

from __future__ import annotations

import datetime as dt

from ..domain.errors import UserError

NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALL_DAYS = (1 << 7) - 1

_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def bit(day: dt.date) -> int:
    """The bit of ``day``'s weekday."""
    return 1 << day.weekday()


def includes(days: int, day: dt.date) -> bool:
    return bool(days & bit(day))


def parse(text: str) -> int:
    """ "Mon,Thu" / "mon thu" / "Monday, Thursday" / "Mon-Fri" / "daily" → a bit set.

    An empty text is no day at all (a beat not visited for now). Unknown words are an error
    in words that lists the accepted names.
    """
    value = 0
    cleaned = text.replace(",", " ").replace(";", " ").split()
    for word in cleaned:
        w = word.strip().lower()
        if w in ("daily", "all", "every"):
            value |= ALL_DAYS
        elif "-" in w:
            first, _, last = w.partition("-")
            a, b = _index(first, text), _index(last, text)
            if a > b:
                raise UserError(f"the day range {word!r} runs backwards", hint="write e.g. Mon-Fri")
            for i in range(a, b + 1):
                value |= 1 << i
        else:
            value |= 1 << _index(w, text)
    return value


def _index(word: str, text: str) -> int:
    for i, full in enumerate(_FULL):
        if len(word) >= 2 and full.startswith(word):
            return i
    raise UserError(
        f"not a weekday: {word!r} in {text!r}",
        hint="use Mon, Tue, Wed, Thu, Fri, Sat, Sun (e.g. 'Mon,Thu' or 'Mon-Fri')",
    )


def describe(days: int) -> str:
    """A bit set as "Mon, Thu" ("daily" for all seven, "no day" for none)."""
    if days & ALL_DAYS == ALL_DAYS:
        return "daily"
    names = [n for i, n in enumerate(NAMES) if days & (1 << i)]
    return ", ".join(names) if names else "no day"
