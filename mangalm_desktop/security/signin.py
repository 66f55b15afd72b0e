"""Sign-in: online against the central PostgreSQL, offline against a cached argon2 verifier.

After one successful online sign-in the app keeps an argon2id hash of the password (in the
encrypted local database, never the password itself), so an agent can work in a village with no
network. Failed attempts slow down exponentially per user (1, 2, 4 … 60 s) and the delay
survives a restart, so guessing is slow even offline.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import SyncState
from ..db.types import utcnow
from ..domain.enums import Role
from ..domain.errors import UserError
from .roles import Identity

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MAX_DELAY_S = 60


class SignInFailed(UserError):
    """Wrong user name or password (deliberately not saying which)."""


class SignInThrottled(UserError):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(
            f"Too many failed attempts. Try again in {wait_seconds:.0f} seconds.",
            hint="The wait doubles with each failed attempt.",
        )
        self.wait_seconds = wait_seconds


class OnlineUnavailable(Exception):
    """The central server could not be reached (as opposed to refusing the password)."""


OnlineCheck = Callable[[str, str], Identity]
"""Verifies user + password against the central server and returns who it is; raises
:class:`SignInFailed` for a wrong password, :class:`OnlineUnavailable` when offline."""


@dataclass(frozen=True)
class SignInResult:
    identity: Identity
    online: bool


def _key(kind: str, username: str) -> str:
    return f"auth:{kind}:{username.lower()}"


def failure_delay(failures: int) -> int:
    """Seconds to wait after ``failures`` consecutive failures: 0, 1, 2, 4, … capped at 60."""
    return 0 if failures <= 0 else min(2 ** (failures - 1), MAX_DELAY_S)


def _load(session: Session, kind: str, username: str) -> SyncState | None:
    return session.get(SyncState, _key(kind, username))


def _throttle_check(engine: Engine, username: str, now: dt.datetime) -> None:
    wait = 0.0
    with session_scope(engine) as s:  # commits a re-anchored failure time before raising
        row = _load(s, "failures", username)
        if row is None or not row.number:
            return
        delay = failure_delay(row.number)
        elapsed = (now - row.updated_at).total_seconds()
        if elapsed < 0:
            # The clock was set back since the failure: count the wait from now, so it is never
            # longer than the delay itself (it was 3,660 s after a one-hour change) and ends
            # after at most 60 s of real time, whatever the clock does.
            row.updated_at = now
            elapsed = 0.0
        wait = delay - elapsed
    if wait > 0:
        raise SignInThrottled(wait)


def _record_failure(engine: Engine, username: str, now: dt.datetime) -> None:
    with session_scope(engine) as s:
        row = _load(s, "failures", username)
        if row is None:
            s.add(SyncState(key=_key("failures", username), number=1, updated_at=now))
        else:
            row.number = (row.number or 0) + 1
            row.updated_at = now


def _reset_failures(engine: Engine, username: str) -> None:
    with session_scope(engine) as s:
        row = _load(s, "failures", username)
        if row is not None:
            s.delete(row)


def _cache_verifier(engine: Engine, password: str, identity: Identity) -> None:
    value = json.dumps(
        {
            "hash": _HASHER.hash(password),
            "role": identity.role.value,
            "agent_id": str(identity.agent_id) if identity.agent_id else None,
            "agent_code": identity.agent_code,
        }
    )
    with session_scope(engine) as s:
        row = _load(s, "verifier", identity.username)
        if row is None:
            s.add(SyncState(key=_key("verifier", identity.username), value=value))
        else:
            row.value = value


def _verify_offline(engine: Engine, username: str, password: str) -> Identity:
    import uuid

    with session_scope(engine) as s:
        row = _load(s, "verifier", username)
        stored = json.loads(row.value) if row is not None and row.value else None
    if stored is None:
        raise SignInFailed(
            "This user has not signed in on this computer while online yet.",
            hint="Connect to the network once; afterwards offline sign-in works.",
        )
    try:
        _HASHER.verify(stored["hash"], password)
    except (VerificationError, InvalidHashError) as exc:
        raise SignInFailed("Wrong user name or password.") from exc
    if _HASHER.check_needs_rehash(stored["hash"]):
        pass  # rehashed on the next online sign-in
    return Identity(
        username=username,
        role=Role(stored["role"]),
        agent_id=uuid.UUID(stored["agent_id"]) if stored["agent_id"] else None,
        agent_code=stored["agent_code"],
    )


def sign_in(
    engine: Engine,
    username: str,
    password: str,
    *,
    online_check: OnlineCheck | None = None,
    now: dt.datetime | None = None,
) -> SignInResult:
    """Sign in online when the server answers, else offline from the cached verifier."""
    now = now or utcnow()
    username = username.strip()
    if not username or not password:
        raise SignInFailed("Enter your user name and password.")
    _throttle_check(engine, username, now)
    try:
        if online_check is not None:
            try:
                identity = online_check(username, password)
            except OnlineUnavailable:
                identity = None
            if identity is not None:
                _cache_verifier(engine, password, identity)
                _reset_failures(engine, username)
                return SignInResult(identity, online=True)
        identity = _verify_offline(engine, username, password)
    except SignInFailed:
        _record_failure(engine, username, now)
        raise
    _reset_failures(engine, username)
    return SignInResult(identity, online=False)
