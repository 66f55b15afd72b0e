"""The online half of sign-in: the central PostgreSQL itself checks the password.

There is no separate user table with password hashes on the server: every person has a login
role (``mangalm central add-agent/add-manager`` creates it), so "the password is right" means
"PostgreSQL let this role in" over the same connection settings sync uses (host, port, TLS mode,
CA file). Who the person is comes from what the server says about that role:

- superuser or CREATEROLE (may create users) → admin;
- member of ``mangalm_manager`` → manager (admin if its ``agent`` row says ``admin``);
- member of ``mangalm_agent`` → agent, with its ``agent`` row (id and code).

A server that cannot be reached raises :class:`OnlineUnavailable` so sign-in falls back to the
offline verifier; a refused password raises :class:`SignInFailed` (never falls back).
"""

from __future__ import annotations

import dataclasses
import uuid

import psycopg

from ..domain.enums import Role
from ..domain.errors import UserError
from ..security.roles import Identity
from ..security.signin import OnlineCheck, OnlineUnavailable, SignInFailed
from .central import role_name
from .central_sql import AGENT_ROLE, MANAGER_ROLE
from .connection import CentralConfig, libpq_url

# SQLSTATE class 28 (invalid authorization) and the libpq messages of a refused login.
_AUTH_MARKERS = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    'role "',  # role "x" does not exist
    "pg_hba.conf",
)

_ROLE_SQL = """
SELECT r.rolsuper OR r.rolcreaterole,
       pg_has_role(session_user, %s, 'MEMBER'),
       pg_has_role(session_user, %s, 'MEMBER')
FROM pg_roles r WHERE r.rolname = session_user
"""
# Only members of the Mangalm groups may read the agent directory.
_AGENT_SQL = "SELECT id, code, role, active FROM agent WHERE db_role = session_user AND NOT deleted"


def db_role_for(username: str) -> str:
    """The login role a user name means: an agent code (``A07``) or the role name itself."""
    name = username.strip()
    if name.lower().startswith("mangalm_") or name == "postgres":
        return name
    return role_name(name)


def _is_auth_failure(exc: psycopg.Error) -> bool:
    if exc.sqlstate and exc.sqlstate.startswith("28"):
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _AUTH_MARKERS)


def identify(conn: psycopg.Connection, username: str) -> Identity:
    """Who the connected role is, as an :class:`Identity` named ``username``."""
    row = conn.execute(_ROLE_SQL, (MANAGER_ROLE, AGENT_ROLE)).fetchone()
    if row is None:  # pragma: no cover - session_user always exists
        raise SignInFailed("Wrong user name or password.")
    admin, manager, agent = row
    agent_id = code = agent_role = active = None
    if manager or agent:
        found = conn.execute(_AGENT_SQL).fetchone()
        if found is not None:
            agent_id, code, agent_role, active = found
    if agent_id is not None and active is False:
        raise SignInFailed(
            f"The account {username} is switched off.", hint="Ask your administrator."
        )
    if admin or (manager and agent_role == Role.ADMIN.value):
        role = Role.ADMIN
    elif manager:
        role = Role.MANAGER
    elif agent:
        role = Role.AGENT
        if agent_id is None:
            raise SignInFailed(
                f"{username} has no agent record on the central server.",
                hint="Ask your administrator to run `mangalm central add-agent` for it.",
            )
    else:
        raise SignInFailed(
            f"{username} is not a Mangalm Sales user on the central server.",
            hint="Ask your administrator to add you as an agent or a manager.",
        )
    return Identity(
        username=username,
        role=role,
        agent_id=agent_id if isinstance(agent_id, uuid.UUID) or agent_id is None else None,
        agent_code=code,
    )


def central_online_check(config: CentralConfig) -> OnlineCheck:
    """An ``online_check`` for :func:`..security.signin.sign_in` using ``config``'s server/TLS."""

    def check(username: str, password: str) -> Identity:
        settings = dataclasses.replace(config, user=db_role_for(username))
        conninfo = settings.conninfo(password)  # raises UserError for bad settings
        try:
            conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            if _is_auth_failure(exc):
                raise SignInFailed("Wrong user name or password.") from exc
            raise OnlineUnavailable(f"The central server did not answer: {exc}") from exc
        with conn:
            try:
                return identify(conn, username)
            except psycopg.Error as exc:
                raise OnlineUnavailable(f"The central server is not set up: {exc}") from exc

    return check


def url_identity(url: str) -> Identity:
    """Who the login in an admin URL is, as the central server says (``mangalm central``).

    The server checks the URL's password; the answer is then checked by the services like a
    signed-in person's (admins may manage users and stores). A login that is neither a
    superuser, a user manager nor a Mangalm user is refused in words."""
    try:
        conn = psycopg.connect(libpq_url(url), autocommit=True)
    except psycopg.OperationalError as exc:
        if _is_auth_failure(exc):
            raise SignInFailed(
                "The central server refused the admin login: wrong user name or password."
            ) from exc
        raise UserError(
            f"The central server did not answer: {exc}".strip(),
            hint="Check --url (or MANGALM_CENTRAL_URL) and that the server runs.",
        ) from exc
    with conn:
        row = conn.execute("SELECT session_user").fetchone()
        user = str(row[0]) if row else ""
        return identify(conn, user)
