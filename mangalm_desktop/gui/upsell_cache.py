"""Upsell answers kept per (store, forecast run), shared by Predictions and the store card.

The similar-store search reads the whole sales history, so it is far slower than the suggested
lines; the views ask for it after the lines are on screen, and ask this cache first. A forecast
run or new sales history (the tables in :data:`STALE_TABLES`) starts a new "run": answers from
the previous one are dropped, never shown again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from ..domain.changes import Changes
from .context import AppContext

STALE_TABLES = ("prediction", "invoice", "invoice_line", "product")


class UpsellCache(QObject):
    """One per context (see :func:`upsell_cache_for`)."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx.runner)
        self.ctx = ctx
        self.run = 0  # bumps when a forecast run or new history makes the answers stale
        self.answers: dict[tuple[uuid.UUID, int], list[Any]] = {}
        self._asked: dict[tuple[uuid.UUID, int], list[Callable[[list[Any]], None]]] = {}
        self.computed = 0  # how many searches really ran (tests, benchmark)
        ctx.runner.changed.connect(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches(*STALE_TABLES):
            self.run += 1
            self.answers.clear()

    def get(self, store_id: uuid.UUID, on_done: Callable[[list[Any]], None]) -> bool:
        """Call ``on_done(items)`` with ``store_id``'s upsell: at once when cached (returns
        True), else once the search ran on a worker (one search however often it is asked)."""
        key = (store_id, self.run)
        if key in self.answers:
            on_done(self.answers[key])
            return True
        waiting = self._asked.setdefault(key, [])
        waiting.append(on_done)
        if len(waiting) > 1:
            return False  # already running
        from ..forecasting.service import upsell_for_store

        today = self.ctx.today()

        def done(items: list[Any]) -> None:
            self.computed += 1
            if key[1] == self.run:
                self.answers[key] = list(items)
            for callback in self._asked.pop(key, []):
                callback(list(items))

        def failed(exc: BaseException) -> None:
            self._asked.pop(key, None)
            self.ctx.runner.failed.emit("upsell", exc)

        self.ctx.runner.submit(
            lambda _t, engine: upsell_for_store(engine, store_id, today),
            self.ctx.engine,
            on_done=done,
            on_error=failed,
            name="upsell",
        )
        return False


def upsell_cache_for(ctx: AppContext) -> UpsellCache:
    """The context's cache (made on first use; lives as long as its task runner)."""
    for cache in ctx.runner.findChildren(UpsellCache):
        if cache.ctx is ctx:
            return cache
    return UpsellCache(ctx)
