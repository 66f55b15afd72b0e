"""Administration of stores on the central database (``mangalm central move-store/edit-store``)
and the exact laptop command for a new login.

Both store commands run with the administrator's URL (the table owner or a manager role) and
change rows with plain UPDATEs, so the central triggers do what they do for any change: the
version and txid are bumped (laptops receive the change), and a move records the scope change
(the old agent's laptop removes the store, the new one receives its whole history). Profile
values are checked by the same rules as the app's store form (:func:`db.store_profile.validate`).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from ..db.store_profile import ProfileEdit, validate
from ..domain.errors import UserError
from ..security.roles import Identity, Permission, require
from .connection import DEFAULT_SSLMODE, INSECURE_MODES, is_local_host, libpq_url

# The editable profile fields, as ``central edit-store`` options name them.
PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(ProfileEdit))


def connect_command(admin_url: str, db_role: str) -> str:
    """The ``mangalm sync connect`` command a person runs on their laptop: the admin URL with
    that person's login and without any password. TLS: the admin URL's mode, verify-full if it
    names none; a verifying mode names the CA file as ``CA.pem`` (the admin's own path means
    nothing on the laptop); a server on this computer (socket, loopback) needs no TLS."""
    parts = urlsplit(libpq_url(admin_url))
    params = dict(parse_qsl(parts.query))
    host = parts.hostname or params.get("host", "")
    shown = f"[{host}]" if ":" in (parts.hostname or "") else (parts.hostname or "")
    netloc = f"{db_role}@{shown}" + (f":{parts.port}" if parts.port else "")
    query = [(k, params[k]) for k in ("host",) if k in params]
    mode = params.get("sslmode") or ("disable" if is_local_host(host) else DEFAULT_SSLMODE)
    query.append(("sslmode", mode))
    if mode in ("verify-ca", "verify-full"):
        query.append(("sslrootcert", "CA.pem"))
    url = urlunsplit(("postgresql", netloc, parts.path, urlencode(query, safe="/"), ""))
    insecure = " --insecure" if mode in INSECURE_MODES and not is_local_host(host) else ""
    return f"mangalm sync connect '{url}'{insecure}"


@dataclass(frozen=True)
class StoreChange:
    """What a store command did, for the CLI to print."""

    code: str
    name: str
    changed: dict[str, tuple[Any, Any]]  # field -> (before, after)


def _store(conn: psycopg.Connection, code: str) -> tuple[uuid.UUID, str, dict[str, Any]]:
    """The store's id, name and (typed: Decimal, not JSON floats) agent and profile values."""
    cols = ", ".join(f'"{c}"' for c in ("agent_id", *PROFILE_FIELDS))
    cur = conn.execute(
        f"SELECT id, name, {cols} FROM store WHERE code = %s AND NOT deleted FOR UPDATE",  # noqa: S608
        (code,),
    )
    row = cur.fetchone()
    if row is None:
        raise UserError(
            f"There is no store with code {code!r}.",
            hint="Store codes are as in the Stores view (e.g. S-0012); they are case-sensitive.",
        )
    names = [d.name for d in cur.description or []]
    return row[0], row[1], dict(zip(names[2:], row[2:], strict=True))


def move_store(
    url: str, store_code: str, agent_code: str, *, identity: Identity | None
) -> StoreChange:
    """Assign a store to another agent (the laptops follow at their next sync).

    ``identity`` needs the manage-users permission: the app's signed-in person, or for the CLI
    the admin URL's own login as the server identifies it (:func:`.online_signin.url_identity`).
    None: a script holding the admin URL; the server's own grants still apply."""
    require(identity, Permission.MANAGE_USERS)
    with psycopg.connect(libpq_url(url)) as conn, conn.transaction():
        store_id, name, row = _store(conn, store_code)
        agent = conn.execute(
            "SELECT id, code, role, active FROM agent WHERE upper(code) = upper(%s) "
            "AND NOT deleted",
            (agent_code,),
        ).fetchone()
        if agent is None:
            raise UserError(
                f"There is no agent with code {agent_code!r}.",
                hint="`mangalm central add-agent CODE --name ...` creates one.",
            )
        if agent[2] != "agent" or not agent[3]:
            raise UserError(f"{agent[1]} is not an active sales agent; stores belong to agents.")
        before = conn.execute(
            "SELECT code FROM agent WHERE id = %s", (row.get("agent_id"),)
        ).fetchone()
        old = before[0] if before else None
        if str(row.get("agent_id")) == str(agent[0]):
            return StoreChange(store_code, name, {})
        conn.execute("UPDATE store SET agent_id = %s WHERE id = %s", (agent[0], store_id))
    return StoreChange(store_code, name, {"agent": (old, agent[1])})


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def edit_store(
    url: str,
    store_code: str,
    changes: dict[str, str],
    *,
    identity: Identity | None,
) -> StoreChange:
    """Change some profile fields of a store (checked as the store form checks them); only
    the given fields are written, so edits made elsewhere to other fields stay."""
    require(identity, Permission.MANAGE_USERS)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise UserError(f"Not a store profile field: {', '.join(sorted(unknown))}.")
    if not changes:
        raise UserError(
            "Nothing to change.", hint="Give at least one of --" + ", --".join(PROFILE_FIELDS)
        )
    with psycopg.connect(libpq_url(url)) as conn, conn.transaction():
        store_id, name, row = _store(conn, store_code)
        current = {f: _text(row.get(f)) for f in PROFILE_FIELDS}
        parsed = validate(ProfileEdit(**{**current, **changes}))
        changed: dict[str, tuple[Any, Any]] = {}
        for f in changes:
            after = getattr(parsed, f)
            before = row.get(f)
            if _same(before, after):
                continue
            changed[f] = (before, after)
        if changed:
            sets = ", ".join(f'"{f}" = %s' for f in changed)
            conn.execute(
                f"UPDATE store SET {sets} WHERE id = %s",  # noqa: S608 - field names from the model
                [after for _, after in changed.values()] + [store_id],
            )
    return StoreChange(store_code, name, changed)


def _same(before: Any, after: Any) -> bool:
    if before is None or after is None:
        return before is None and after is None
    if isinstance(after, Decimal):
        return Decimal(str(before)) == after
    return str(before) == str(after)
