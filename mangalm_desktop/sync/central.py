"""Setting up and administering the central PostgreSQL (``mangalm central ...``).

``init_central`` runs the shared Alembic history and then the PostgreSQL-only objects of
:mod:`.central_sql`; both are idempotent, so running it again after an app update upgrades the
central database in place. ``add_user`` creates a login role plus its ``agent`` row and returns
what the person needs to connect.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import exc as sa_exc

from ..db import migrate
from ..db.engine import disposing, make_engine
from ..domain.errors import UserError
from ..security.roles import Identity, Permission, require
from .central_guards import role_settings_sql
from .central_sql import AGENT_ROLE, BRIDGE_ROLE, MANAGER_ROLE, central_statements
from .connection import libpq_url, sqlalchemy_url

INIT_LOCK_TIMEOUT = "30s"


def init_central(url: str) -> str:
    """Apply the Alembic history and the sync/RLS objects; return the schema revision."""
    with disposing(make_engine(sqlalchemy_url(url))) as engine:
        try:
            rev = migrate.check_schema(engine)
            if rev != migrate.head_revision():
                migrate.upgrade(engine)
        except sa_exc.OperationalError as exc:
            raise UserError(f"Cannot reach the central database: {exc.orig}") from exc
    try:
        with psycopg.connect(libpq_url(url)) as conn, conn.transaction():
            # Serialise concurrent inits (two admins, or tests) on one advisory lock.
            conn.execute("SELECT pg_advisory_xact_lock(74657)")
            # DDL waiting for a table lock would queue every agent's sync behind it.
            conn.execute(f"SET LOCAL lock_timeout = '{INIT_LOCK_TIMEOUT}'")
            for stmt in central_statements():
                conn.execute(stmt)
    except psycopg.errors.LockNotAvailable as exc:
        raise UserError(
            "The central database is busy: a session holds a lock on a table "
            f"that `central init` must change ({str(exc).strip()}).",
            hint="Try again in a moment; pg_stat_activity shows who holds it.",
        ) from exc
    return migrate.head_revision()


@dataclass(frozen=True)
class NewUser:
    """What ``add-agent`` / ``add-manager`` created and the person needs to connect."""

    agent_id: uuid.UUID
    code: str
    db_role: str
    password: str
    manager: bool


def role_name(code: str) -> str:
    """The database login role for an agent code: ``mangalm_`` + the code in lower case."""
    cleaned = re.sub(r"[^a-z0-9_]", "_", code.strip().lower())
    if not cleaned.strip("_"):
        raise UserError(f"Agent code {code!r} has no letters or digits.")
    return f"mangalm_{cleaned}"[:63]


def add_user(
    url: str,
    code: str,
    name: str,
    *,
    manager: bool = False,
    password: str | None = None,
    email: str | None = None,
    identity: Identity | None,
) -> NewUser:
    """Create (or update) a login role and its ``agent`` row; the password is returned once.

    ``identity`` (the signed-in user, when called from the app) needs the manage-users
    permission (admins). The server enforces it again: only a role with CREATEROLE can run it.
    """
    require(identity, Permission.MANAGE_USERS)
    if not code.strip():
        raise UserError("The agent code is empty.")
    role = role_name(code)
    password = password or secrets.token_urlsafe(18)
    group = MANAGER_ROLE if manager else AGENT_ROLE
    other = AGENT_ROLE if manager else MANAGER_ROLE
    with psycopg.connect(libpq_url(url)) as conn, conn.transaction():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role)))
        conn.execute(
            sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), sql.Identifier(role))
        )
        for stmt in role_settings_sql(reset=manager):  # agents: timeouts (central_guards)
            conn.execute(sql.SQL(stmt).format(sql.Identifier(role)))
        row = conn.execute(
            "SELECT id FROM agent WHERE code = %s OR db_role = %s", (code, role)
        ).fetchone()
        if row:
            agent_id = row[0]
            conn.execute(
                "UPDATE agent SET name = %s, db_role = %s, role = %s, "
                "email = coalesce(%s, email), active = true, deleted = false WHERE id = %s",
                (name, role, "manager" if manager else "agent", email, agent_id),
            )
        else:
            agent_id = uuid.uuid4()
            conn.execute(
                "INSERT INTO agent (id, code, name, email, role, db_role, active, version, "
                "deleted, updated_at) VALUES (%s, %s, %s, %s, %s, %s, true, 1, false, now())",
                (agent_id, code, name, email, "manager" if manager else "agent", role),
            )
    return NewUser(agent_id, code, role, password, manager)


BRIDGE_LOGIN = "mangalm_zoho_bridge"


@dataclass(frozen=True)
class BridgeLogin:
    """What ``add-bridge`` created: the login and its password (shown once)."""

    db_role: str
    password: str


def add_bridge(
    url: str,
    login: str = BRIDGE_LOGIN,
    *,
    password: str | None = None,
    identity: Identity | None,
) -> BridgeLogin:
    """Create (or reset the password of) the Zoho bridge's login, a member of
    ``mangalm_bridge`` only: exactly the grants the bridge needs (``central_sql.bridge_sql``),
    so neither a manager's nor the admin's login has to run it. The password is returned once.
    """
    require(identity, Permission.MANAGE_USERS)
    role = login.strip()
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise UserError(
            f"{login!r} is not a usable login name.",
            hint="Use lower-case letters, digits and underscores, e.g. mangalm_zoho_bridge.",
        )
    password = password or secrets.token_urlsafe(18)
    try:
        _create_bridge_login(url, role, password)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise UserError(
            f"This database login may not create roles ({str(exc).splitlines()[0]}).",
            hint="Run add-bridge with the central database's admin login (--url).",
        ) from exc
    return BridgeLogin(role, password)


def _create_bridge_login(url: str, role: str, password: str) -> None:
    with psycopg.connect(libpq_url(url)) as conn, conn.transaction():
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BRIDGE_ROLE,)).fetchone():
            raise UserError(
                "The central database has no bridge role yet.",
                hint="Run `mangalm central init` (after updating the app) first.",
            )
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(BRIDGE_ROLE), sql.Identifier(role))
        )
        conn.execute(
            sql.SQL("REVOKE {}, {} FROM {}").format(
                sql.Identifier(AGENT_ROLE), sql.Identifier(MANAGER_ROLE), sql.Identifier(role)
            )
        )


def central_revision(conn: psycopg.Connection) -> str | None:
    """The Alembic revision of the central database (None if it was never initialised)."""
    try:
        with conn.transaction():
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return row[0] if row else None


def check_central_schema(
    conn: psycopg.Connection,
    *,
    head: str | None = None,
    known: set[str] | None = None,
) -> str:
    """Refuse to sync across schema versions, in words that say who must update what.

    ``head``/``known`` default to this app's migration history (tests pass others to play a
    client built with one more or one fewer migration).
    """
    head = head or migrate.head_revision()
    known = known if known is not None else migrate.known_revisions()
    rev = central_revision(conn)
    if rev is None:
        raise UserError(
            "The central database has not been set up for Mangalm Sales.",
            hint="Ask your administrator to run `mangalm central init --url ...`.",
        )
    if rev == head:
        return rev
    if rev not in known:
        raise UserError(
            f"The central database uses a newer schema ({rev}) than this app ({head}).",
            hint="Update Mangalm Sales on this computer, then sync again. "
            "Your unsent changes are kept.",
        )
    raise UserError(
        f"This app (schema {head}) is newer than the central database (schema {rev}); "
        "it will not sync with an older central database.",
        hint="Ask your administrator to upgrade it with `mangalm central init --url ...`. "
        "Your unsent changes are kept.",
    )
