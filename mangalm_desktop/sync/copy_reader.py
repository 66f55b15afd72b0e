"""Read a ``COPY ... TO STDOUT`` in a helper thread, handing rows over in batches.

Why a thread: while SQLite writes one batch (``executemany`` releases the GIL inside
``sqlite3_step``), the next batch is already being received and parsed, so the network, the
server and the SQLite writer overlap instead of taking turns. Memory stays bounded: at most
``depth`` batches wait in the queue.

The connection is used only by the helper thread until :meth:`CopyBatches.close` has joined it.
An error in the thread (a cut connection, a server error) is raised again, unchanged, in the
caller's thread, so callers see the same exception types as with a plain loop.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import psycopg

_DONE = object()
_POLL_SECONDS = 0.2


class CopyBatches:
    """Iterate lists of row tuples from ``COPY`` ``sql``; use as a context manager."""

    def __init__(
        self, pg: psycopg.Connection, sql: str, params: Any, batch_size: int, depth: int = 2
    ) -> None:
        self._pg = pg
        self._sql = sql
        self._params = params
        self._batch_size = batch_size
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="copy-reader", daemon=True)

    def __enter__(self) -> CopyBatches:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _put(self, item: Any) -> bool:
        """Queue ``item`` unless the consumer has gone; False means stop reading."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            batch: list[tuple] = []
            size = self._batch_size
            with self._pg.cursor() as cur, cur.copy(self._sql, self._params) as copy:
                for row in copy.rows():
                    batch.append(row)
                    if len(batch) >= size:
                        if not self._put(batch):
                            raise _Abandoned()
                        batch = []
            if self._put(batch):
                self._put(_DONE)
        except _Abandoned:
            pass
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def __iter__(self) -> Iterator[list[tuple]]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the reader (if still running) and wait for it to let go of the connection."""
        self._stop.set()
        self._thread.join()


class _Abandoned(Exception):
    """The consumer stopped early; leaving the COPY block ends the transfer."""
