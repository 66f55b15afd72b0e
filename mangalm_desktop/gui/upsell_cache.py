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
        self._running: tuple[uuid.UUID, int] | None = None
        self._newest: tuple[uuid.UUID, int] | None = None
        self._kept: set[tuple[uuid.UUID, int]] = set()
        ctx.runner.changed.connect(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches(*STALE_TABLES):
            self.run += 1
            self.answers.clear()

    def get(
        self, store_id: uuid.UUID, on_done: Callable[[list[Any]], None], *, latest_only: bool = True
    ) -> bool:
        """Call ``on_done(items)`` with ``store_id``'s upsell: at once when cached (returns
        True), else once the search ran on a worker. Only the newest store asked for is
        searched next; callers for stores skipped meanwhile are not called (they were for a
        store no longer on screen). ``latest_only=False`` (a store card that stays open) is
        always served."""
        key = (store_id, self.run)
        if key in self.answers:
            on_done(self.answers[key])
            return True
        self._asked.setdefault(key, []).append(on_done)
        if latest_only:
            self._newest = key
        else:
            self._kept.add(key)
        if self._running is None:
            self._start(key)
        return False

    def _start(self, key: tuple[uuid.UUID, int]) -> None:
        """One search at a time: a person flicking through stores queues only the last one
        (the searches in between would all read the whole history for nothing)."""
        from ..forecasting.service import upsell_for_store

        self._running = key
        store_id, today, identity = key[0], self.ctx.today(), self.ctx.identity

        def finish(items: list[Any] | None, exc: BaseException | None) -> None:
            self._running = None
            if exc is None:
                self.computed += 1
                if key[1] == self.run:
                    self.answers[key] = list(items or [])
                for callback in self._asked.pop(key, []):
                    callback(list(items or []))
            else:
                self._asked.pop(key, None)
                self.ctx.runner.failed.emit("upsell", exc)
            # drop what nobody waits for any more; serve the newest request still unanswered
            self._kept.discard(key)
            newest = self._newest
            self._asked = {k: v for k, v in self._asked.items() if k == newest or k in self._kept}
            if self._asked:
                self._start(newest if newest in self._asked else next(iter(self._asked)))

        self.ctx.runner.submit(
            lambda _t, engine: upsell_for_store(engine, store_id, today, identity=identity),
            self.ctx.engine,
            on_done=lambda items: finish(items, None),
            on_error=lambda exc: finish(None, exc),
            name="upsell",
        )


def upsell_cache_for(ctx: AppContext) -> UpsellCache:
    """The context's cache (made on first use; lives as long as its task runner)."""
    for cache in ctx.runner.findChildren(UpsellCache):
        if cache.ctx is ctx:
            return cache
    return UpsellCache(ctx)
