"""Database failures a person can act on, put into words (shared by the CLI and the GUI).

SQLite reports a full disk, a locked or read-only file and a damaged file as OperationalError /
DatabaseError with fixed phrases; the transaction was rolled back in every case, so the message
can honestly say that nothing was written.
"""

from __future__ import annotations

import errno

from ..domain.errors import UserError

_PHRASES: list[tuple[tuple[str, ...], str, str]] = [
    (
        ("database or disk is full", "disk is full"),
        "The disk is full, so nothing was saved.",
        "Free some space on this computer and try again; your earlier data is intact.",
    ),
    (
        ("database is locked", "database table is locked"),
        "The database is busy: another Mangalm program is writing to it.",
        "Wait for it to finish (or close the other window) and try again.",
    ),
    (
        ("readonly database", "read-only", "attempt to write a readonly"),
        "The database file is read-only, so nothing was saved.",
        "Check the file's permissions or choose another file with --db.",
    ),
    (
        ("file is not a database", "database disk image is malformed"),
        "The database file is damaged or not a Mangalm database.",
        "Restore the latest backup copy next to it (mangalm.backup-…), or delete it and sync again.",
    ),
    (
        ("unable to open database file",),
        "The database file cannot be opened.",
        "Check that its folder exists and that you may write there.",
    ),
]


def explain(exc: BaseException) -> UserError | None:
    """A :class:`UserError` for a database/disk failure with a known cause, else ``None``."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return UserError(_PHRASES[0][1], hint=_PHRASES[0][2])
    # Imported here: the GUI loads this module before its window shows, and SQLAlchemy costs
    # about 0.2 s to import — the window must not wait for it.
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    for phrases, message, hint in _PHRASES:
        if any(p in text for p in phrases):
            return UserError(message, hint=hint)
    return None
