"""Client-side rate limiting: stay under Zoho's per-minute limit and a daily budget.

Zoho Books allows 100 requests per minute per organization and 1,000–10,000 a day depending
on the plan (ZOHO_API.md §2.4). Waiting for a 429 would waste requests and, on the daily cap,
lock the organization out for the rest of the day, so the limiter keeps a sliding window of
the last minute's send times and sleeps (on the injected clock) before a request that would
exceed ``per_minute``.

Zoho counts per organization, not per process: every ``--once``, every "Run now" and every
restart is a new process. During a run the window and the day's count therefore live in the
central database (:class:`LimitStore`, set by the bridge): each request reserves its slot in
one committed transaction just before it is sent, so runs one after another in the same minute
share one window, and a run killed half-way has already counted what it sent. Without a store
(a client used on its own) the window is this object's.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from .clock import Clock
from .errors import BudgetExhausted

WINDOW_S = 60.0


def budget_exhausted(budget: int) -> BudgetExhausted:
    return BudgetExhausted(
        f"The daily Zoho request budget ({budget}) is used up.",
        hint="The bridge resumes where it stopped on its next run after midnight "
        "(UTC), or raise 'daily_budget' in the Zoho settings if your plan allows.",
    )


class LimitStore(Protocol):
    def reserve(self, now: float, per_minute: int, daily_budget: int | None) -> float:
        """Count one request sent at ``now`` and return 0, or return how long to wait before
        one fits the window (nothing counted); raise :class:`BudgetExhausted` when the day's
        budget is used up."""
        ...


@dataclass
class RateLimiter:
    clock: Clock
    per_minute: int = 90
    daily_budget: int | None = None
    used_today: int = 0  # counted here only without a store (the store counts centrally)
    waited_s: float = 0.0
    store: LimitStore | None = None
    _times: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> None:
        """Block (on the clock) until one more request fits; raise if the day's budget is gone.
        Call it right before sending: the slot is stamped now."""
        with self._lock:
            while True:
                wait = self._reserve(self.clock.now())
                if wait <= 0:
                    if self.store is None:
                        self.used_today += 1
                    return
                self.waited_s += wait
                self.clock.sleep(wait)

    def _reserve(self, now: float) -> float:
        if self.store is not None:
            return self.store.reserve(now, self.per_minute, self.daily_budget)
        if self.daily_budget is not None and self.used_today >= self.daily_budget:
            raise budget_exhausted(self.daily_budget)
        while self._times and self._times[0] <= now - WINDOW_S:
            self._times.popleft()
        if len(self._times) >= self.per_minute:
            return self._times[0] + WINDOW_S - now
        self._times.append(now)
        return 0.0

    def penalize(self, seconds: float) -> None:
        """After a 429, push the window so no request goes out for ``seconds``."""
        with self._lock:
            self.waited_s += seconds
            self.clock.sleep(seconds)
