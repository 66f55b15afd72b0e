"""Schema versions: create, upgrade (after a backup copy), refuse what is newer than the app.

The same Alembic history runs on SQLite (the laptop) and PostgreSQL (central).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from ..domain.errors import SchemaTooNewError, UserError
from .engine import make_engine, sqlite_url

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def check_schema(engine: Engine) -> str | None:
    """Return the database's revision; raise :class:`SchemaTooNewError` if the app can't know it."""
    rev = current_revision(engine)
    if rev is not None and rev not in known_revisions():
        raise SchemaTooNewError(
            f"This database was written by a newer version of Mangalm Sales (schema {rev}).",
            hint="Install the latest version of the app; the database was left untouched.",
        )
    return rev


def backup_sqlite(path: Path, label: str) -> Path:
    """Copy a live SQLite database consistently (sqlite3 backup API, WAL included)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.backup-{label}-{stamp}{path.suffix}")
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def _looks_like_sqlite(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def open_local_database(path: Path, *, create: bool = True) -> Engine:
    """Open (and if needed create or upgrade) the laptop's SQLite database.

    An older schema is upgraded only after a backup copy is written next to the file; a newer
    schema is refused without touching the file.
    """
    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise UserError(f"{path} is a folder, not a database file.")
        if path.stat().st_size and not _looks_like_sqlite(path):
            raise UserError(
                f"{path} is not a Mangalm database (not an SQLite file).",
                hint="Choose another file with --db, or move this one away.",
            )
    elif not create:
        raise UserError(f"No database at {path}.")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"Cannot create the folder for the database: {exc}") from exc

    existed = path.exists() and path.stat().st_size > 0
    engine = make_engine(sqlite_url(path))
    try:
        rev = check_schema(engine)
        head = head_revision()
        if rev == head:
            return engine
        if existed and (rev is not None or inspect(engine).get_table_names()):
            if rev is None:
                raise UserError(
                    f"{path} holds tables but no Mangalm schema version.",
                    hint="It was not made by this app; choose another file with --db.",
                )
            backup = backup_sqlite(path, rev)
            log.info("backed up %s to %s before upgrading from %s", path, backup, rev)
        upgrade(engine)
    except Exception:
        engine.dispose()
        raise
    return engine
