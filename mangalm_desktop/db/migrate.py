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
from .engine import connect_sqlcipher, make_encrypted_engine, make_engine, sqlite_url
from .files import make_private, private_dir
from .paths import data_dir

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


def backup_sqlite(path: Path, label: str, key_hex: str | None = None) -> Path:
    """Copy a live SQLite database consistently (backup API, WAL included).

    An encrypted database is copied with the same key, so the backup is encrypted too.
    """
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.backup-{label}-{stamp}{path.suffix}")
    if key_hex is None:
        plain_src, plain_dst = sqlite3.connect(path), sqlite3.connect(target)
        try:
            plain_src.backup(plain_dst)
        finally:
            plain_dst.close()
            plain_src.close()
    else:
        src, dst = connect_sqlcipher(path, key_hex), connect_sqlcipher(target, key_hex)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    make_private(target)
    return target


def _looks_like_sqlite(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _check_key(engine: Engine, path: Path) -> None:
    """Fail with words, not a traceback, when an encrypted file does not open with the key."""
    import sqlcipher3
    from sqlalchemy.exc import DatabaseError

    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    except (DatabaseError, sqlcipher3.DatabaseError) as exc:
        engine.dispose()
        raise UserError(
            f"{path} cannot be opened with this computer's key (wrong key or not encrypted).",
            hint="Sign in on the laptop that created it, or restore it from the central server "
            "by deleting the file and syncing again.",
        ) from exc


def _make_private(path: Path) -> None:
    """The database and its -wal/-shm 0600 (files of older versions were 0644), and the app's
    own data folder 0700; a folder the person chose with --db is left as it is."""
    if path.parent == data_dir():
        private_dir(path.parent)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        make_private(p)


def open_local_database(path: Path, *, create: bool = True, key_hex: str | None = None) -> Engine:
    """Open (and if needed create or upgrade) the laptop's SQLite database.

    With ``key_hex`` the file is SQLCipher-encrypted at rest. An older schema is upgraded only
    after a backup copy is written next to the file; a newer schema is refused without touching
    the file.
    """
    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise UserError(f"{path} is a folder, not a database file.")
        plain = _looks_like_sqlite(path)
        if path.stat().st_size and key_hex is None and not plain:
            raise UserError(
                f"{path} is not a Mangalm database (not an SQLite file).",
                hint="If it is an encrypted database, open it with the app signed in; "
                "otherwise choose another file with --db.",
            )
        if path.stat().st_size and key_hex is not None and plain:
            raise UserError(
                f"{path} is not encrypted but an encrypted database was expected.",
                hint="Run `mangalm db encrypt` to encrypt it in place.",
            )
    elif not create:
        raise UserError(f"No database at {path}.")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"Cannot create the folder for the database: {exc}") from exc

    existed = path.exists() and path.stat().st_size > 0
    if key_hex is None:
        engine = make_engine(sqlite_url(path))
    else:
        engine = make_encrypted_engine(path, key_hex)
        _check_key(engine, path)
    try:
        rev = check_schema(engine)
        head = head_revision()
        if rev == head:
            _make_private(path)
            return engine
        if existed and (rev is not None or inspect(engine).get_table_names()):
            if rev is None:
                raise UserError(
                    f"{path} holds tables but no Mangalm schema version.",
                    hint="It was not made by this app; choose another file with --db.",
                )
            backup = backup_sqlite(path, rev, key_hex)
            log.info("backed up %s to %s before upgrading from %s", path, backup, rev)
        upgrade(engine)
    except Exception:
        engine.dispose()
        raise
    _make_private(path)
    return engine
