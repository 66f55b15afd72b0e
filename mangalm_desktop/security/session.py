"""Sign-in, unlock and settings changes as the GUI/CLI call them: each one audited.

:func:`security.signin.sign_in` decides; this module adds the audit entry (success or failure,
written locally and pushed centrally with the next sync) and the second factor rule, so the
dialogs stay thin and the rules are tested without Qt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from ..db.engine import session_scope
from ..domain.enums import Role
from ..domain.tasks import TaskContext
from . import audit, totp
from .roles import Identity
from .signin import OnlineCheck, SignInFailed, SignInResult, SignInThrottled, sign_in


@dataclass(frozen=True)
class SignInOutcome:
    """A password accepted; ``needs_totp``: the code step must follow before the app opens."""

    result: SignInResult
    needs_totp: bool

    @property
    def identity(self) -> Identity:
        return self.result.identity


def _audit(
    engine: Engine, action: str, username: str, identity: Identity | None, **details: object
) -> None:
    with session_scope(engine) as s:
        audit.record(
            s,
            actor=username,
            action=action,
            agent_id=audit.local_agent_id(s, identity),
            details={k: v for k, v in details.items() if v is not None} or None,
        )


def needs_second_factor(identity: Identity) -> bool:
    """Managers and admins who enrolled a TOTP secret must also type a code."""
    return identity.role in (Role.MANAGER, Role.ADMIN) and totp.is_enrolled(identity.username)


def sign_in_audited(
    ctx: TaskContext | None,
    engine: Engine,
    username: str,
    password: str,
    online_check: OnlineCheck | None = None,
    *,
    purpose: str = "sign_in",
    now: dt.datetime | None = None,
) -> SignInOutcome:
    """Sign in (or unlock, ``purpose="unlock"``) and audit the attempt either way.

    Runs on a worker thread (it writes the failure counter, verifier and audit entry). The
    password is never recorded; a failure records only the user name typed and the reason.
    """
    try:
        result = sign_in(engine, username, password, online_check=online_check, now=now)
    except (SignInFailed, SignInThrottled) as exc:
        _audit(
            engine,
            audit.SIGN_IN_FAILED,
            username.strip()[:200],
            None,
            purpose=purpose,
            reason=type(exc).__name__,
        )
        raise
    identity = result.identity
    _audit(
        engine,
        audit.SIGN_IN_OK,
        identity.username,
        identity,
        purpose=purpose,
        online=result.online,
        role=identity.role.value,
        agent_code=identity.agent_code,
    )
    return SignInOutcome(result, needs_totp=purpose == "sign_in" and needs_second_factor(identity))


def verify_second_factor(
    ctx: TaskContext | None, engine: Engine, identity: Identity, code: str
) -> Identity:
    """Check the TOTP code; a wrong code is audited as a failed sign-in."""
    try:
        totp.verify(identity.username, code)
    except Exception:
        _audit(engine, audit.SIGN_IN_FAILED, identity.username, identity, reason="totp")
        raise
    return identity


def record_setting_change(
    ctx: TaskContext | None,
    engine: Engine,
    actor: str,
    setting: str,
    value: object,
    *,
    identity: Identity | None = None,
    connection: bool = False,
) -> None:
    """Audit a settings (or connection) change; ``value`` must never be a secret."""
    with session_scope(engine) as s:
        audit.record(
            s,
            actor=actor,
            action=audit.CONNECTION_CHANGE if connection else audit.SETTINGS_CHANGE,
            agent_id=audit.local_agent_id(s, identity),
            entity="setting",
            entity_id=setting,
            details={"value": value},
        )
