"""``mangalm db``: where the database is, its schema version, upgrade, encrypt."""

from __future__ import annotations

import argparse

from ..db import migrate
from .common import add_db_option, db_path, open_db


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="show or upgrade the local database")
    add_db_option(p)
    p.add_argument(
        "action",
        choices=["info", "upgrade", "encrypt"],
        nargs="?",
        default="info",
        help="encrypt: rewrite a plain database encrypted (key in the OS keyring)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "encrypt":
        return run_encrypt(args)
    engine = open_db(args)  # opening upgrades (after a backup) or refuses a newer schema
    try:
        rev = migrate.current_revision(engine)
        print(f"database: {db_path(args)}")
        print(f"schema:   {rev} (app head {migrate.head_revision()})")
        print(f"storage:  {'encrypted (SQLCipher)' if _encrypted(args) else 'NOT encrypted'}")
    finally:
        engine.dispose()
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
    return 0
