"""How the laptop reaches the central PostgreSQL: a typed config plus a password in the keyring.

The config (host, port, database, user, TLS mode, CA file) is a small JSON file in the user data
folder; the password is only ever in the OS keyring under ``central:<user>@<host>/<db>``.

Every connection is bounded in time, so a sync ends with "offline" instead of hanging:

- connect: ``connect_timeout``;
- a dead link (Wi-Fi gone, NAT entry dropped): TCP keepalives and ``tcp_user_timeout``, so
  the kernel gives up on a peer that stops acknowledging;
- a link that stays up but carries nothing (a stuck proxy or middlebox): :class:`SyncConnection`
  gives up when the server has sent no byte for :data:`SILENCE_S` while an answer is awaited;
- the server side: ``statement_timeout`` and ``idle_in_transaction_session_timeout`` for the
  session (never raising a stricter limit the administrator set for the role), so a statement
  or a transaction of a vanished laptop does not hold locks or the pull horizon for long.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.abc import PQGen
from psycopg.conninfo import make_conninfo

from ..db.files import load_json_settings, save_json_settings
from ..db.paths import data_dir
from ..domain.errors import UserError
from ..security.secrets import get_secret, set_secret

RV = TypeVar("RV")

SSL_MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
CONNECT_TIMEOUT_S = 8
DEFAULT_SSLMODE = "verify-full"

INSECURE_MODES = {
    "disable": "sends everything, your password included, unencrypted",
    "allow": "sends everything unencrypted unless the server insists",
    "prefer": "silently falls back to no encryption when the server (or someone in between) "
    "offers none",
    "require": "encrypts but never checks who the server is",
}
"""TLS modes a network attacker (café Wi-Fi, hotel) defeats, with what each risks. They are
accepted only with an explicit ``insecure`` choice (``--insecure``; the GUI's check box), or
for a server on this computer (a Unix socket or a loopback address), where no network is
crossed (libpq ignores the TLS mode on a socket)."""


def is_local_host(host: str) -> bool:
    """A Unix-socket folder or a loopback address: the connection never leaves the machine."""
    if host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# libpq TCP settings: probe an idle link after 30 s, every 10 s, give up after 3 misses; give up
# on data the peer has not acknowledged for 60 s.
TCP_LIMITS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
SILENCE_S = 60.0  # no byte from the server for this long while waiting: the link is dead
# Server-side limits for the session (milliseconds). Generous: an initial sync streams one
# table in one COPY statement, and the pull keeps its snapshot open while it builds indexes.
SESSION_LIMITS_MS: dict[str, int] = {
    "statement_timeout": 600_000,
    "idle_in_transaction_session_timeout": 300_000,
}


def _watch(gen: PQGen[RV], silence_s: float) -> PQGen[RV]:
    """Pass a psycopg wait generator through, failing when nothing arrives for ``silence_s``.

    psycopg's wait loop wakes every 0.1 s and sends ``Ready.NONE`` when the socket had nothing;
    any readiness means the link moved. Raising ``OperationalError`` makes the caller treat
    the server as unreachable (the sync reports "offline" and retries later).
    """
    last = time.monotonic()
    try:
        state = next(gen)
        while True:
            ready = yield state
            now = time.monotonic()
            if ready:
                last = now
            elif now - last > silence_s:
                gen.close()
                raise LinkSilent(
                    f"the central server sent nothing for {silence_s:.0f} s; the connection "
                    "was given up (a network that stopped passing data)"
                )
            state = gen.send(ready)
    except StopIteration as stop:
        result: RV = stop.value
        return result


class LinkSilent(psycopg.OperationalError):
    """The server sent nothing for too long while an answer was awaited."""


class SyncConnection(psycopg.Connection):
    """A psycopg connection that gives up on a server that goes silent (see :func:`_watch`).

    A silent link leaves the protocol mid-command, so the connection is closed at once: it
    reads as ``broken`` and nothing tries to use it again (a rollback would wait forever)."""

    silence_s: float = SILENCE_S

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        try:
            return super().wait(_watch(gen, self.silence_s), interval=interval, timeout=timeout)
        except LinkSilent:
            self.pgconn.finish()
            raise


def apply_session_limits(conn: psycopg.Connection) -> None:
    """Set the server-side timeouts unless the role already has a stricter (non-zero) one."""
    names = list(SESSION_LIMITS_MS)
    values = [str(SESSION_LIMITS_MS[n]) for n in names]
    with conn.transaction():
        conn.execute(
            "SELECT set_config(s.name, v.value, false) FROM pg_settings s "
            "JOIN unnest(%s::text[], %s::text[]) AS v(name, value) ON v.name = s.name "
            "WHERE s.setting::bigint = 0 OR s.setting::bigint > v.value::bigint",
            (names, values),
        )


def sqlalchemy_url(url: str) -> str:
    """``postgresql://...`` (libpq form) as an SQLAlchemy psycopg URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise UserError(f"Not a PostgreSQL URL: {redact_url(url)}", hint="Use postgresql://host/db")


def libpq_url(url: str) -> str:
    """An SQLAlchemy or libpq URL as a libpq one (what psycopg.connect takes)."""
    if url.startswith("postgresql+psycopg://"):
        return "postgresql://" + url[len("postgresql+psycopg://") :]
    if url.startswith(("postgresql://", "postgres://")):
        return url
    raise UserError(f"Not a PostgreSQL URL: {redact_url(url)}", hint="Use postgresql://host/db")


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    query = [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass
class CentralConfig:
    """The laptop's connection settings (everything but the password)."""

    host: str = ""
    port: int = 5432
    database: str = "mangalm"
    user: str = ""
    sslmode: str = DEFAULT_SSLMODE
    sslrootcert: str = ""
    sync_minutes: int = 5
    extra: dict[str, str] = field(default_factory=dict)
    insecure: bool = False  # the person accepted an unverified TLS mode (INSECURE_MODES)

    @property
    def secret_key(self) -> str:
        return f"central:{self.user}@{self.host}/{self.database}"

    @property
    def configured(self) -> bool:
        return bool(self.host and self.user and self.database)

    def validate(self) -> None:
        if not self.host:
            raise UserError("The central server's host name is empty.")
        if not self.user:
            raise UserError("The database user name is empty.")
        if self.sslmode not in SSL_MODES:
            raise UserError(f"TLS mode must be one of {', '.join(SSL_MODES)}.")
        if self.sslrootcert and not Path(self.sslrootcert).is_file():
            raise UserError(f"The CA certificate file {self.sslrootcert} does not exist.")
        if self.sslmode in ("verify-ca", "verify-full") and not self.sslrootcert:
            raise UserError(f"TLS mode {self.sslmode} needs the CA certificate file.")
        self.refuse_insecure()

    def refuse_insecure(self) -> None:
        """:class:`UserError` for a TLS mode an attacker defeats, unless accepted explicitly."""
        risk = INSECURE_MODES.get(self.sslmode)
        if risk is None or self.insecure or is_local_host(self.host):
            return
        raise UserError(
            f"TLS mode {self.sslmode} {risk}: anyone on the network between this computer and "
            f"{self.host} (café or hotel Wi-Fi) could read or change the company's data and "
            "capture the password. Nothing was saved or sent.",
            hint="Use sslmode=verify-full with the company's CA certificate (sslrootcert=FILE); "
            "only if you accept that risk, add --insecure (in the app: tick 'Allow an insecure "
            "connection').",
        )

    @property
    def insecure_warning(self) -> str | None:
        """What an accepted insecure mode risks, to print when it is saved; None when secure."""
        risk = INSECURE_MODES.get(self.sslmode)
        if risk is None or is_local_host(self.host):
            return None
        return (
            f"WARNING: --insecure: TLS mode {self.sslmode} {risk}; anyone on the network between "
            f"this computer and {self.host} can read or change the data and capture the password."
        )

    def conninfo(self, password: str | None = None) -> str:
        """A libpq connection string (the password, if any, only in memory)."""
        self.validate()
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
            "user": self.user,
            "sslmode": self.sslmode,
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "mangalm-desktop",
            **TCP_LIMITS,
        }
        if self.sslrootcert:
            params["sslrootcert"] = self.sslrootcert
        if password:
            params["password"] = password
        params.update(self.extra)
        return make_conninfo(**params)

    @classmethod
    def from_url(cls, url: str) -> CentralConfig:
        """Settings from a ``postgresql://user@host:port/db?sslmode=...`` URL (password ignored)."""
        parts = urlsplit(libpq_url(url))
        query = dict(parse_qsl(parts.query))
        host = parts.hostname or query.pop("host", "")
        extra = {k: v for k, v in query.items() if k not in ("sslmode", "sslrootcert")}
        return cls(
            host=host,
            port=parts.port or 5432,
            database=(parts.path or "/").lstrip("/") or "postgres",
            user=parts.username or "",
            sslmode=query.get("sslmode", DEFAULT_SSLMODE),
            sslrootcert=query.get("sslrootcert", ""),
            extra=extra,
        )


def config_path() -> Path:
    return data_dir() / "central.json"


def load_config(path: Path | None = None) -> CentralConfig:
    """The saved settings, or empty ones (the app then works standalone)."""
    return load_json_settings(
        path or config_path(), CentralConfig, "connection settings", strict=True
    )


def save_config(
    config: CentralConfig, password: str | None = None, path: Path | None = None
) -> None:
    """Write the settings (never the password) and put the password in the keyring."""
    config.validate()
    save_json_settings(path or config_path(), config)  # 0600, never through a symlink
    if password:
        set_secret(config.secret_key, password)


def open_bounded(conninfo: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A :class:`SyncConnection` with the session limits applied (every network path of a
    sync opens its connection here)."""
    conn = SyncConnection.connect(conninfo, **kwargs)
    try:
        apply_session_limits(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def connect(
    config: CentralConfig, *, password: str | None = None, **kwargs: Any
) -> psycopg.Connection:
    """Open a connection; the password comes from the keyring unless given."""
    if password is None:
        password = get_secret(config.secret_key)
    return open_bounded(config.conninfo(password), **kwargs)


@dataclass(frozen=True)
class ConnectionCheck:
    """Result of "Test connection": what the server said, in words."""

    ok: bool
    message: str
    server_version: str = ""
    schema: str = ""


def check_connection(config: CentralConfig, password: str | None = None) -> ConnectionCheck:
    """Connect, check the schema version, and say what happened (never raises)."""
    from .central import check_central_schema

    try:
        pw = password if password is not None else get_secret(config.secret_key)
        with open_bounded(config.conninfo(pw)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            version = row[0] if row else "?"
            rev = check_central_schema(conn)
            ssl = conn.pgconn.ssl_in_use
    except UserError as exc:
        return ConnectionCheck(False, str(exc))
    except psycopg.Error as exc:
        return ConnectionCheck(False, f"Cannot connect: {str(exc).strip()}")
    tls = "encrypted (TLS)" if ssl else "NOT encrypted"
    return ConnectionCheck(True, f"Connected to PostgreSQL {version}, {tls}.", version, rev)
