"""Open an up-to-date laptop database without importing Alembic (a faster app start).

Importing Alembic costs about as much as the rest of the start-up together. When the file is a
plain SQLite database whose ``alembic_version`` is already the head of the scripts shipped
with the app, there is nothing to migrate or back up, so the app opens it directly. Anything
else — no file, encrypted, older or newer schema, several heads — returns ``None`` and the
caller uses :func:`mangalm_desktop.db.migrate.open_local_database`, which does the full job.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from pathlib import Path

from sqlalchemy import Engine

from .engine import make_engine, sqlite_url

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"
_REVISION = re.compile(r"^revision(?:\s*:\s*[\w\[\] |]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(.+)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


@cache
def script_head() -> str | None:
    """The single head revision of the shipped migration scripts, read as text (or None)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in VERSIONS_DIR.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        rev = _REVISION.search(source)
        if rev is None:
            return None  # a script we cannot read this way: let Alembic decide
        revisions.add(rev.group(1))
        down = _DOWN.search(source)
        if down is not None:
            parents.update(_QUOTED.findall(down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def database_revision(path: Path) -> str | None:
    """The revision stamped in a plain SQLite file, or None (no file, not SQLite, unstamped)."""
    try:
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return None
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except OSError:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return row[0] if row else None


def open_if_current(path: Path) -> Engine | None:
    """An engine on ``path`` if it is already at the scripts' head; else None."""
    path = Path(path)
    head = script_head()
    if head is None or not path.is_file() or database_revision(path) != head:
        return None
    return make_engine(sqlite_url(path))
