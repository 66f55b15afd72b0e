"""The rate-limit window and the day's request count, kept in the central database.

Zoho counts requests per organization, whichever process sends them, so the bridge counts them
where every bridge process looks: two ``sync_state`` rows (``zoho:window``, the send times of
the last minute; ``zoho:budget``, the UTC day and its count). Each request reserves its slot in
one short transaction, serialised across processes by a transaction-level advisory lock, and
committed before the request is sent: a run killed half-way has counted everything it sent
(at most one request more, never fewer), and a run started in the same minute as the last one
waits for the same window.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine, text

from ..db.engine import session_scope
from ..db.types import utcnow
from . import state
from .ratelimit import WINDOW_S, budget_exhausted

LIMIT_LOCK_KEY = 0x5A4F484C  # "ZOHL"


class CentralLimits:
    """A :class:`~.ratelimit.LimitStore` on the central database."""

    def __init__(self, engine: Engine, today: dt.date | None = None) -> None:
        self.engine = engine
        self.today = today  # None = the UTC day at each request

    def reserve(self, now: float, per_minute: int, daily_budget: int | None) -> float:
        today = self.today or utcnow().date()
        with session_scope(self.engine) as s:
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LIMIT_LOCK_KEY})
            used = state.budget_used(s, today)
            if daily_budget is not None and used >= daily_budget:
                raise budget_exhausted(daily_budget)
            row = state.get(s, state.WINDOW)
            times = sorted(
                t
                for t in (json.loads(row.value) if row and row.value else [])
                if t > now - WINDOW_S
            )
            if len(times) >= per_minute:
                return float(times[len(times) - per_minute]) + WINDOW_S - now
            times.append(now)
            state.put(s, state.WINDOW, json.dumps(times))
            state.set_budget_used(s, today, used + 1)
            return 0.0
