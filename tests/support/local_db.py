"""A new, empty laptop database for a test without running the migrations again.

Creating the schema through Alembic costs 0.3–0.5 s a database on the CI machine and about 250
tests start from an empty laptop database (the ``engine`` fixture, ``sync_support.local_db``).
The first call migrates one file the way the app does (``open_local_database``); every later
call copies that file and opens the copy with ``open_local_database`` too, which finds it at the
head revision. Tests of creating and upgrading a database (``test_migrations.py``,
``test_local_store.py``) call ``open_local_database`` on a new path themselves.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import Engine

from mangalm_desktop.db.migrate import open_local_database

_template: Path | None = None


def _migrated_template() -> Path:
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="mangalm-empty-db-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "empty.sqlite"
        open_local_database(path).dispose()  # closing the last connection folds the WAL in
        _template = path
    return _template


def local_database(path: Path) -> Engine:
    """``open_local_database(path)``; a missing file starts as a copy of the migrated, empty
    (plain SQLite) template instead of being migrated again."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_template(), path)
    return open_local_database(path)
