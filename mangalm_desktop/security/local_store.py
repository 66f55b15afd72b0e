"""The laptop database, encrypted at rest by default (SQLCipher, key in the OS keyring).

Which files are opened how:

- an existing **encrypted** file: always with this computer's key from the keyring;
- an existing **plain** file (made before encryption, by tests, or a ``--demo`` company): plain,
  as it is; ``mangalm db encrypt`` turns it into an encrypted one;
- a **new** file: encrypted, unless it is a ``--demo`` database (``encrypt_new=False``) or the
  environment sets ``MANGALM_DB_ENCRYPTION=off`` (CI and test runners, whose subprocesses have
  no keyring; never set it on a laptop).

When no keyring is available (a headless Linux box without Secret Service) an encrypted or new
database cannot be opened: the error says so in words, and nothing is written. The key is never
written to a file, a log or the config: losing the keyring entry means the local copy is
unreadable, and the cure is a fresh sync from the central server (docs/security.md).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from ..db.engine import connect_sqlcipher
from ..db.files import make_private
from ..db.migrate import open_local_database
from ..domain.errors import UserError
from .local_key import KEY_NAME, get_or_create_db_key
from .secrets import KeyringUnavailable, get_secret

log = logging.getLogger(__name__)

ENV_SWITCH = "MANGALM_DB_ENCRYPTION"
SQLITE_HEADER = b"SQLite format 3\x00"


def is_plain_sqlite(path: Path) -> bool:
    with Path(path).open("rb") as fh:
        return fh.read(16) == SQLITE_HEADER


def _exists(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def encryption_off_by_environment() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() in ("off", "0", "no", "false")


def _no_keyring(path: Path, exc: Exception, what: str) -> UserError:
    return UserError(
        f"{path} {what}, and the key is kept in the system keyring, which is not available "
        f"here ({type(exc.__cause__ or exc).__name__}).",
        hint="Unlock or install the OS keyring (Secret Service on Linux) and try again. "
        "Nothing was changed.",
    )


def key_for(path: Path, *, encrypt_new: bool = True) -> str | None:
    """The key ``path`` must be opened with, or None for a plain file (see module doc)."""
    path = Path(path)
    if _exists(path):
        if is_plain_sqlite(path):
            return None
        try:
            key = get_secret(KEY_NAME)
        except KeyringUnavailable as exc:
            raise _no_keyring(path, exc, "is encrypted") from exc
        if key is None:
            raise UserError(
                f"{path} is encrypted, but this computer's keyring holds no key for it.",
                hint="It was made on another computer or under another user account. Move it "
                "aside and sync again to get a fresh copy from the central server.",
            )
        return key
    if not encrypt_new or encryption_off_by_environment():
        return None
    try:
        return get_or_create_db_key()
    except KeyringUnavailable as exc:
        raise _no_keyring(path, exc, "would be created encrypted") from exc


def open_store(path: Path, *, encrypt_new: bool = True, create: bool = True) -> Engine:
    """Open (create, upgrade) the laptop database, encrypted or plain as described above."""
    path = Path(path)
    return open_local_database(path, create=create, key_hex=key_for(path, encrypt_new=encrypt_new))


@dataclass(frozen=True)
class EncryptResult:
    path: Path
    plain_backup: Path
    tables: int


def encrypt_database(path: Path) -> EncryptResult:
    """Rewrite a plain database encrypted (``sqlcipher_export``), keeping the original aside.

    The encrypted copy is written next to the file and checked (same tables, same row counts)
    before it replaces the original; the original is renamed ``*.backup-plain-*`` so nothing
    can be lost. That backup is NOT encrypted: delete it once the app opens the database.
    """
    import datetime as dt

    path = Path(path)
    if not _exists(path):
        raise UserError(f"No database at {path}.")
    if not is_plain_sqlite(path):
        raise UserError(f"{path} is already encrypted (or is not a database).")
    try:
        key = get_or_create_db_key()
    except KeyringUnavailable as exc:
        raise _no_keyring(path, exc, "cannot be encrypted") from exc
    tmp = path.with_name(path.name + ".encrypting")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(path) as plain:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tables = [
            r[0]
            for r in plain.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {t: plain.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608 - names from sqlite_master
    plain.close()
    import sqlcipher3

    conn = sqlcipher3.connect(str(path))  # no key: reads the plain file
    try:
        conn.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(tmp), f"x'{key}'"))
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute("DETACH DATABASE encrypted")
    except sqlcipher3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"Encrypting {path} failed: {exc}. Nothing was changed.") from exc
    finally:
        conn.close()
    check = connect_sqlcipher(tmp, key)
    try:
        for table, n in counts.items():
            got = check.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            if got != n:
                raise UserError(
                    f"The encrypted copy of {path} differs in {table} ({got} vs {n} rows); "
                    "nothing was changed."
                )
    finally:
        check.close()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.stem}.backup-plain-{stamp}{path.suffix}")
    path.rename(backup)
    make_private(backup)  # an original from before 0600 files keeps no wider mode
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    tmp.rename(path)
    log.info("encrypted %s (%d tables); plain original kept at %s", path, len(tables), backup)
    return EncryptResult(path, backup, len(tables))


def plain_copies(path: Path) -> list[Path]:
    """Unencrypted copies of the database ``path`` lying beside it: the ``*.backup-plain-*``
    original kept by :func:`encrypt_database`, backups made before upgrades while the file was
    still plain, a ``*.encrypting`` left by an interrupted run. Empty while ``path`` itself is
    plain (then the copies are no worse than the file) or missing."""
    path = Path(path)
    if not _exists(path) or is_plain_sqlite(path):
        return []
    found = []
    for p in sorted(path.parent.glob(f"{path.stem}.backup-*{path.suffix}")):
        if p.is_file() and not p.is_symlink() and _exists(p) and is_plain_sqlite(p):
            found.append(p)
    found.extend(
        p
        for p in path.parent.glob(f"{path.name}.encrypting*")
        if p.is_file() and not p.is_symlink()
    )
    return found


def remove_plain_copies(path: Path) -> list[Path]:
    """Delete :func:`plain_copies` (with their -wal/-shm); returns what was deleted.

    Only once the database itself is encrypted and opens with this computer's key, so the last
    readable copy of unsent work is never the one deleted.
    """
    path = Path(path)
    copies = plain_copies(path)
    if not copies:
        return []
    open_store(path, create=False).dispose()  # raises in words if the key does not open it
    for p in copies:
        for q in (p, Path(f"{p}-wal"), Path(f"{p}-shm")):
            q.unlink(missing_ok=True)
    log.info("removed %d unencrypted copies of %s", len(copies), path)
    return copies
