"""Where a manager's change to centrally managed data goes (schemes; docs/orders.md).

Data that managers own centrally and agents only read (schemes) is written where it lives: a
laptop set up for a central server writes it there, signed in as its own login (a manager's;
the central grants refuse an agent whatever the app does) and receives it back at its next
sync; a standalone laptop keeps it in its own database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from ..db.engine import disposing
from .connection import connect, load_config


@contextmanager
def manager_target(local: Engine) -> Iterator[tuple[Engine, bool]]:
    """(engine to write, is it the central database) for ``local``'s laptop."""
    config = load_config()
    if not config.configured:
        yield local, False
        return
    engine = create_engine(
        "postgresql+psycopg://", creator=lambda: connect(config), poolclass=NullPool
    )
    with disposing(engine):
        yield engine, True
