"""``mangalm db``: where the database is, its schema version, upgrade."""

from __future__ import annotations

import argparse

from ..db import migrate
from .common import add_db_option, db_path, open_db


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="show or upgrade the local database")
    add_db_option(p)
    p.add_argument("action", choices=["info", "upgrade"], nargs="?", default="info")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = open_db(args)  # opening upgrades (after a backup) or refuses a newer schema
    try:
        rev = migrate.current_revision(engine)
        print(f"database: {db_path(args)}")
        print(f"schema:   {rev} (app head {migrate.head_revision()})")
    finally:
        engine.dispose()
    return 0
