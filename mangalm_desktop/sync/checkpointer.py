"""Write-ahead-log checkpoints in a helper thread while a bulk load keeps writing.

Why: in WAL mode every page is written twice, to the WAL at commit and to the database file
at a checkpoint, and with ``synchronous=NORMAL`` each checkpoint waits for both files to reach
the disk. SQLite normally checkpoints inside the committing call, so a first sync of a million
rows and their indexes stalls on ``fsync`` once per commit. Here the writer's automatic
checkpoints are turned off and a second connection runs PASSIVE checkpoints (they never block
or wait for the writer) next to it, so the disk works while the CPU does. Durability and crash
safety are SQLite's own, unchanged: only *who* runs the checkpoint and when differs.
:meth:`BackgroundCheckpointer.stop` runs one last checkpoint, so nothing is left behind in
the WAL that the normal automatic checkpoint would have moved.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.25


class BackgroundCheckpointer:
    """PASSIVE checkpoints every :data:`INTERVAL_SECONDS` until :meth:`stop`."""

    def __init__(self, engine: Engine, writer_cursor: Any) -> None:
        self._engine = engine
        self._writer = writer_cursor
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raw = self._engine.raw_connection()
        try:
            cur = raw.cursor()
            while not self._stop.wait(INTERVAL_SECONDS):
                cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except Exception:  # a missed checkpoint only delays work; the final one catches up
            log.exception("background WAL checkpoint failed")
        finally:
            raw.close()

    def stop(self) -> None:
        """Join the helper, restore automatic checkpoints and catch up in this thread."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._writer.execute("PRAGMA wal_autocheckpoint=1000")
        self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
