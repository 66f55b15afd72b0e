"""Client-side rate limiting: stay under Zoho's per-minute limit and a daily budget.

Zoho Books allows 100 requests per minute per organization and 1,000–10,000 a day depending
on the plan (ZOHO_API.md §2.4). Waiting for a 429 would waste requests and, on the daily cap,
lock the organization out for the rest of the day, so the limiter keeps a sliding window of
the last minute's request times and sleeps (on the injected clock) before a request that
would exceed ``per_minute``. The daily budget is counted by the bridge (it persists the count
in the central database so restarts do not reset it) and enforced here.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from .clock import Clock
from .errors import BudgetExhausted

WINDOW_S = 60.0


@dataclass
class RateLimiter:
    clock: Clock
    per_minute: int = 90
    daily_budget: int | None = None
    used_today: int = 0
    waited_s: float = 0.0
    _times: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> None:
        """Block (on the clock) until one more request fits; raise if the day's budget is gone."""
        with self._lock:
            if self.daily_budget is not None and self.used_today >= self.daily_budget:
                raise BudgetExhausted(
                    f"The daily Zoho request budget ({self.daily_budget}) is used up.",
                    hint="The bridge resumes where it stopped on its next run after midnight "
                    "(UTC), or raise 'daily_budget' in the Zoho settings if your plan allows.",
                )
            while True:
                now = self.clock.now()
                while self._times and self._times[0] <= now - WINDOW_S:
                    self._times.popleft()
                if len(self._times) < self.per_minute:
                    break
                wait = self._times[0] + WINDOW_S - now
                self.waited_s += wait
                self.clock.sleep(wait)
            self._times.append(self.clock.now())
            self.used_today += 1

    def penalize(self, seconds: float) -> None:
        """After a 429, push the window so no request goes out for ``seconds``."""
        with self._lock:
            self.waited_s += seconds
            self.clock.sleep(seconds)
