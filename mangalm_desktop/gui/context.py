"""What a view is given: the database engine, the task runner and the window's hooks.

Views get this small object instead of reaching through the main window (no god object): they
run queries with ``ctx.runner.submit(query_fn, ctx.engine, ...)`` and listen to
``ctx.runner.changed``.
"""

from __future__ import annotations

import datetime as dt
import uuid
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

    @property
    def agent_id(self) -> uuid.UUID | None:
        """The signed-in agent: the owner of the orders this person makes (None: standalone,
        or a manager/admin who is not an agent; orders then go to the store's agent)."""
        return self.identity.agent_id if self.identity is not None else None

    @property
    def own_stores_only(self) -> uuid.UUID | None:
        """The agent whose stores alone are shown (an agent without the right to see every
        store), else None: every store."""
        from ..security.roles import Permission

        identity = self.identity
        if identity is None or identity.can(Permission.VIEW_ALL_STORES):
            return None
        return identity.agent_id

    def order_agent(self, store_agent_id: uuid.UUID | None) -> uuid.UUID | None:
        """Whose order it is: the signed-in agent's, else the store's agent."""
        return self.agent_id or store_agent_id
