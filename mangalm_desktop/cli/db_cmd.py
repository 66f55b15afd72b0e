"""``mangalm db``: where the database is, its schema version, upgrade, encrypt."""

from __future__ import annotations

import argparse
import sys

from ..db import migrate
from ..domain.errors import UserError
from .common import add_db_option, db_path, local_db


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="show or upgrade the local database")
    add_db_option(p)
    p.add_argument(
        "action",
        choices=["info", "upgrade", "encrypt", "remove-plain-copies"],
        nargs="?",
        default="info",
        help="encrypt: rewrite a plain database encrypted (key in the OS keyring); "
        "remove-plain-copies: delete the unencrypted backups left beside an encrypted one",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "encrypt":
        return run_encrypt(args)
    if args.action == "remove-plain-copies":
        return run_remove_plain(args)
    with local_db(args) as engine:  # opening upgrades (after a backup) or refuses a newer schema
        rev = migrate.current_revision(engine)
        print(f"database: {db_path(args)}")
        print(f"schema:   {rev} (app head {migrate.head_revision()})")
        print(f"storage:  {'encrypted (SQLCipher)' if _encrypted(args) else 'NOT encrypted'}")
    _warn_plain_copies(args)
    return 0


def _warn_plain_copies(args: argparse.Namespace) -> None:
    from ..security.local_store import plain_copies

    copies = plain_copies(db_path(args))
    if not copies:
        return
    print(
        f"WARNING: {len(copies)} UNENCRYPTED cop{'y' if len(copies) == 1 else 'ies'} of this "
        "database lie beside it; anyone with the disk can read them:",
        file=sys.stderr,
    )
    for p in copies:
        print(f"  {p}", file=sys.stderr)
    db = f" --db {db_path(args)}" if args.db else ""
    print(
        f"Once the app opens the database, remove them with:\n  mangalm db remove-plain-copies{db}",
        file=sys.stderr,
    )


def run_remove_plain(args: argparse.Namespace) -> int:
    from ..security.local_store import is_plain_sqlite, remove_plain_copies

    path = db_path(args)
    if path.is_file() and is_plain_sqlite(path):
        raise UserError(
            f"{path} itself is NOT encrypted; its copies are kept.",
            hint="Run `mangalm db encrypt` first.",
        )
    gone = remove_plain_copies(path)
    for p in gone:
        print(f"deleted {p}")
    print(f"{len(gone)} unencrypted cop{'y' if len(gone) == 1 else 'ies'} removed")
    return 0


def _encrypted(args: argparse.Namespace) -> bool:
    from ..security.local_store import is_plain_sqlite

    return not is_plain_sqlite(db_path(args))


def run_encrypt(args: argparse.Namespace) -> int:
    from ..security.local_store import encrypt_database

    result = encrypt_database(db_path(args))
    print(f"encrypted {result.path} ({result.tables} tables); the key is in the OS keyring")
    print(f"the unencrypted original was kept at {result.plain_backup}")
    print("delete it once the app opens the database (it is NOT encrypted)")
    _warn_plain_copies(args)
    return 0
