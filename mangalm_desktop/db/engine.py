"""Engines and sessions. The engine is always injected: tests and the CLI pass their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

if TYPE_CHECKING:  # imported when a database is opened encrypted, not at start
    import sqlcipher3


def sqlite_url(path: Path | str) -> str:
    return f"sqlite+pysqlite:///{Path(path)}"


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode is durable against application crashes (the WAL is fsynced at
    # checkpoint); FULL also survives power loss, which an order-taking laptop needs.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def checkpoint_wal(engine: Engine) -> None:
    """Move the write-ahead log into the database file and cut it to zero bytes (SQLite).

    Called after bulk work (the demo's half-million rows pass through the WAL first, which then
    stays as large as the database until a checkpoint) and when the app closes, so a killed or
    closed app never leaves hundreds of MB of WAL beside the file. A reader still open keeps
    part of the log; that is harmless (SQLite checkpoints again later).
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def connect_sqlcipher(path: Path | str, key_hex: str) -> sqlcipher3.Connection:
    """Open an SQLCipher connection with a raw 256-bit key (no passphrase derivation)."""
    import sqlcipher3

    if len(key_hex) != 64 or any(c not in "0123456789abcdef" for c in key_hex):
        raise ValueError("the database key must be 64 lowercase hex digits")
    conn = sqlcipher3.connect(str(path), check_same_thread=False)
    conn.execute(f"PRAGMA key = \"x'{key_hex}'\"")  # validated hex above; PRAGMA takes no params
    return conn


def make_encrypted_engine(path: Path | str, key_hex: str, **kwargs: Any) -> Engine:
    """An engine on an SQLCipher-encrypted file; the key never appears in a URL or a log."""
    engine = create_engine(
        "sqlite+pysqlite://",  # the pysqlcipher dialect would re-key from the URL
        creator=lambda: connect_sqlcipher(path, key_hex),
        **kwargs,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def disposing(engine: Engine) -> Iterator[Engine]:
    """An engine used for one job (a CLI command, a bridge run): its pool is disposed when the
    block ends, however it ends, so no connection or file handle outlives the job."""
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def raw_transaction(engine: Engine) -> Iterator[PoolProxiedConnection]:
    """One transaction on a raw DB-API connection (bulk SQL without the ORM, as sync does):
    committed when the block ends, rolled back on any exception (a cancel too), and the
    connection given back to the pool either way."""
    raw = engine.raw_connection()
    try:
        yield raw
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
