"""Today's entries and lists as plain objects: what the Today view shows, and what
``today_snapshot`` keeps and reads back, without pandas or the models.

Why a module of its own: the Today view shows the list kept from the last load before the
fresh one is worked out, and reading that kept list must not wait for the forecasting stack
(numpy, pandas, the models: ~0.7 s to import at start, issue 21). The fresh list's service
(:mod:`.service`) imports these.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, overload

T = TypeVar("T")


@dataclass(frozen=True)
class CallListEntry:
    """One store on Today: to call, or (``win_back``) gone quiet. ``expected_value`` is in
    money when products have prices, else in units (``value_is_money``); it already counts the
    chance that the store orders at all within ``horizon_weeks``."""

    store_id: uuid.UUID
    store_name: str
    rank: int
    expected_value: float
    days_since_order: int | None
    usual_every_days: float | None
    overdue: float
    churn_risk: bool
    churn_reason: str
    snoozed_until: dt.date | None
    planned_call: dt.date | None
    win_back: bool = False
    reason: str = ""
    chance_this_week: float = 0.0
    chance_in_horizon: float = 0.0
    horizon_weeks: int = 8
    value_is_money: bool = True
    phone: str | None = None
    locality: str | None = None
    outstanding_balance: Decimal | None = None
    last_order: dt.date | None = None


class LazyRows(Sequence[T]):
    """``n`` rows made by ``make(i)`` when first asked for (and kept): a list of 100,000
    call-list entries took seconds to build, and a person sees a screenful."""

    def __init__(
        self, n: int, make: Callable[[int], T], key: Callable[[int], Any] | None = None
    ) -> None:
        self._n = n
        self._make = make
        self._made: dict[int, T] = {}
        self._key = key
        self._where: dict[Any, int] | None = None

    def find(self, key: Any) -> int:
        """The position of the row whose ``key(i)`` is ``key``, -1 if none (no row is made)."""
        if self._key is None:
            raise TypeError("these rows have no key")
        if self._where is None:
            self._where = {self._key(i): i for i in range(self._n)}
        return self._where.get(key, -1)

    def __len__(self) -> int:
        return self._n

    def made(self) -> list[int]:
        """The positions of the rows made so far: what showing the list has cost."""
        return sorted(self._made)

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        row = self._made.get(i)
        if row is None:
            row = self._made[i] = self._make(i)
        return row

    def __iter__(self) -> Iterator[T]:
        return (self[i] for i in range(self._n))

    def __add__(self, other: Sequence[T]) -> list[T]:
        return [*self, *other]

    def __radd__(self, other: Sequence[T]) -> list[T]:
        return [*other, *self]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(other) == self._n and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyRows({self._n} rows)"


@dataclass(frozen=True)
class TodaysCalls:
    """Today's two lists: stores to call, and stores to win back (entries made when read)."""

    to_call: Sequence[CallListEntry]
    win_back: Sequence[CallListEntry]
    note: str = ""
    """Said beside the lists when the chances were not the forecast run's (see
    :func:`stored_activity_model`)."""
    falling: int = 0
    """Stores to call whose orders fell (``churn_risk``), counted without making entries."""

    def position(self, store_id: uuid.UUID) -> int | None:
        """Where ``store_id`` is on the call list (None: not on it), without making entries."""
        rows = self.to_call
        if isinstance(rows, LazyRows):
            at = max(rows.find(store_id.hex), rows.find(str(store_id)))
            return at if at >= 0 else None
        return next((i for i, e in enumerate(rows) if e.store_id == store_id), None)
