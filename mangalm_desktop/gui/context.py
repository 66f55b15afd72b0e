"""What a view is given: the database engine, the task runner and the window's hooks.

Views get this small object instead of reaching through the main window (no god object): they
run queries with ``ctx.runner.submit(query_fn, ctx.engine, ...)`` and listen to
``ctx.runner.changed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .workers import TaskRunner

if TYPE_CHECKING:  # SQLAlchemy is imported by the worker that opens the database, not at start
    from sqlalchemy import Engine

    from ..security.roles import Identity


@dataclass
class AppContext:
    engine: Engine
    """Set before any view is created (the window may be shown while the database opens)."""
    db_path: Path
    runner: TaskRunner
    today: Callable[[], dt.date] = dt.date.today
    """The "as of" date for days-since and last-12-months figures (tests pin it)."""
    status: Callable[[str], None] = field(default=lambda _msg: None)
    """Shows a transient message in the status bar."""
    identity: Identity | None = None
    """Who is signed in (set by ``gui.signin_dialog.SessionGuard``); None = standalone laptop
    with no central server, where the services run unrestricted (docs/security.md)."""
