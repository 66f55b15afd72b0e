"""What every CLI command shares: opening the database (and signing in), printing progress."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from ..db.engine import disposing
from ..db.paths import default_db_path, demo_db_path
from ..domain.errors import UserError
from ..domain.tasks import TaskContext
from ..security.roles import Identity


def add_db_option(parser: argparse.ArgumentParser, *, demo: bool = True) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="local database file (default: $MANGALM_DB, else the user data folder)",
    )
    if demo:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="use the demo company's database (the one `mangalm demo` writes and "
            "`mangalm-desktop --demo` opens)",
        )


def add_today_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--today",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="act as of this day (default: today; on a demo database, the demo's own today)",
    )


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (use YYYY-MM-DD): {text!r}") from None


def open_db(args: argparse.Namespace, *, encrypt_new: bool = True) -> Engine:
    """The --db / --demo / default database: encrypted with the keyring's key when it is
    encrypted or new (unless ``encrypt_new`` is False: demo companies), plain when it is an
    existing plain file (``security.local_store``)."""
    from ..security.local_store import open_store

    demo = bool(getattr(args, "demo", False))
    return open_store(db_path(args), encrypt_new=encrypt_new and not demo)


@contextmanager
def local_db(args: argparse.Namespace, *, encrypt_new: bool = True) -> Iterator[Engine]:
    """:func:`open_db` for one command, disposed when the command ends (however it ends).
    For the commands that need no sign-in (docs/security.md: files, counts, the demo)."""
    with disposing(open_db(args, encrypt_new=encrypt_new)) as engine:
        yield engine


@contextmanager
def signed_in(
    args: argparse.Namespace, *, encrypt_new: bool = True
) -> Iterator[tuple[Engine, Identity | None]]:
    """The database and who runs the command: every command on the laptop's business data
    opens it with ``with signed_in(args) as (engine, identity):``, so it signs in
    (:func:`cli_identity`) before it reads or writes anything, and the engine is disposed
    when the command ends."""
    with local_db(args, encrypt_new=encrypt_new) as engine:
        yield engine, cli_identity(engine)


def db_path(args: argparse.Namespace) -> Path:
    explicit = getattr(args, "db", None)
    if getattr(args, "demo", False):
        return demo_db_path(explicit)
    return default_db_path(explicit)


def as_of(args: argparse.Namespace, engine: Engine) -> dt.date:
    """The day a command acts as of: ``--today``, else the demo's own today on a demo
    database (its history ends the day before), else the real date."""
    from ..demo import demo_today

    given: dt.date | None = getattr(args, "today", None)
    return given or demo_today(engine) or dt.date.today()


class ProgressPrinter:
    """Prints ``message: done/total (pct%)`` on stderr at most every 0.5 s."""

    def __init__(self, stream=None, interval: float = 0.5) -> None:
        self._stream = stream
        self.interval = interval
        self._last = 0.0

    @property
    def stream(self):  # noqa: ANN201 - a text stream
        # sys.stderr looked up when printing, not when this module was first imported: a
        # stream bound at import (e.g. a test's captured stderr) may be closed by now.
        return self._stream if self._stream is not None else sys.stderr

    def __call__(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last < self.interval and done < total:
            return
        self._last = now
        pct = f" ({100 * done / total:.0f}%)" if total else ""
        label = f"{message}: " if message else ""
        end = "\n" if total and done >= total else "\r"
        if self.stream.isatty() or end == "\n":
            self.stream.write(f"{label}{done:,}/{total:,}{pct}{end}")
            self.stream.flush()


def cli_task(quiet: bool = False) -> TaskContext:
    return TaskContext(on_progress=None if quiet else ProgressPrinter())


def password_source():  # noqa: ANN201 - Callable[[str], str] | None
    """How a command gets a secret the OS keyring cannot give: ``PGPASSWORD`` if set, else a
    prompt on the terminal when there is one, else None (the service then says what to do)."""
    env = os.environ.get("PGPASSWORD")
    if env:
        return lambda _prompt: env
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass
    return None


USER_ENV = "MANGALM_USER"
PASSWORD_ENV = "MANGALM_PASSWORD"


def cli_identity(engine: Engine) -> Identity | None:
    """Who runs this command, for the services' permission checks.

    A laptop configured for a central server has accounts: the command signs in like the app
    does — online when the server answers, else against the cached argon2id verifier, with the
    same audited, throttled attempts (``security.session``). The user name is ``$MANGALM_USER``
    or the connection's database user; the password ``$MANGALM_PASSWORD`` (for scripts), else a
    prompt (a line on stdin when there is no terminal); managers with TOTP type the code too.
    A standalone laptop (no connection settings) has no accounts: None, unrestricted, protected
    by the OS login and the encrypted database (docs/security.md).
    """
    from ..security.session import sign_in_audited, verify_second_factor
    from ..sync.connection import load_config
    from ..sync.online_signin import central_online_check

    config = load_config()
    if not config.configured:
        return None
    username = os.environ.get(USER_ENV) or config.user
    password = os.environ.get(PASSWORD_ENV) or _ask(f"Password for {username}: ")
    outcome = sign_in_audited(
        None, engine, username, password, central_online_check(config), purpose="cli"
    )
    identity = outcome.identity
    if outcome.needs_totp:
        code = _ask(f"Authenticator code for {identity.username}: ").strip()
        identity = verify_second_factor(None, engine, identity, code)
    return identity


def _ask(prompt: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise UserError(
            "This computer is set up for a central server, so commands need your sign-in.",
            hint=f"Type the password when asked, or set {PASSWORD_ENV} (and {USER_ENV}) for a "
            "script.",
        )
    return line.rstrip("\n")
