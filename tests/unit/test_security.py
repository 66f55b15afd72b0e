"""Roles, sign-in (online, offline, throttled), TOTP, audit entries."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pyotp
import pytest
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import AuditLog, Outbox, SyncState
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.security import audit, local_key, signin, totp
from mangalm_desktop.security.roles import Identity, Permission, PermissionDenied

AGENT_ID = uuid.uuid4()
ASHA = Identity("asha", Role.AGENT, AGENT_ID, "A01")
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def test_roles_grant_what_the_docs_say():
    manager = Identity("meera", Role.MANAGER)
    admin = Identity("root", Role.ADMIN)
    assert ASHA.can(Permission.TAKE_ORDERS) and not ASHA.can(Permission.RUN_REPORTS)
    assert manager.can(Permission.RUN_ZOHO) and not manager.can(Permission.MANAGE_USERS)
    assert admin.can(Permission.MANAGE_USERS)
    with pytest.raises(PermissionDenied, match="asha \\(agent\\) may not run reports"):
        ASHA.require(Permission.RUN_REPORTS)
    ASHA.require_store_access(AGENT_ID)
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        ASHA.require_store_access(uuid.uuid4())
    manager.require_store_access(uuid.uuid4())


def _online(password_ok: str, identity: Identity = ASHA):
    calls = []

    def check(user: str, password: str) -> Identity:
        calls.append(user)
        if password != password_ok:
            raise signin.SignInFailed("Wrong user name or password.")
        return identity

    return check, calls


def _offline(_u, _p):
    raise signin.OnlineUnavailable()


def test_offline_sign_in_only_after_an_online_one(engine):
    with pytest.raises(signin.SignInFailed, match="not signed in on this computer"):
        signin.sign_in(engine, "asha", "pw-1", online_check=_offline, now=T0)
    check, calls = _online("pw-1")
    t1 = T0 + dt.timedelta(seconds=1)  # the failed attempt above costs a one-second wait
    res = signin.sign_in(engine, "asha", "pw-1", online_check=check, now=t1)
    assert res.online and res.identity == ASHA and calls == ["asha"]
    later = T0 + dt.timedelta(minutes=5)
    res = signin.sign_in(engine, "asha", "pw-1", online_check=_offline, now=later)
    assert not res.online and res.identity == ASHA
    with session_scope(engine) as s:
        stored = s.get(SyncState, "auth:verifier:asha").value
    assert "pw-1" not in stored and json.loads(stored)["hash"].startswith("$argon2id$")


def test_failed_attempts_slow_down_and_reset(engine):
    check, _ = _online("right")
    signin.sign_in(engine, "asha", "right", online_check=check, now=T0)
    t = T0
    for n in range(1, 4):
        with pytest.raises(signin.SignInFailed):
            signin.sign_in(engine, "asha", "wrong", online_check=_offline, now=t)
        delay = signin.failure_delay(n)
        with pytest.raises(signin.SignInThrottled) as exc:
            signin.sign_in(engine, "asha", "right", online_check=_offline, now=t)
        assert 0 < exc.value.wait_seconds <= delay
        t = t + dt.timedelta(seconds=delay)
    assert [signin.failure_delay(n) for n in (0, 1, 2, 3, 7, 20)] == [0, 1, 2, 4, 60, 60]
    assert signin.sign_in(engine, "asha", "right", online_check=_offline, now=t).identity == ASHA
    # the counter was reset: the next failure waits only a second
    with pytest.raises(signin.SignInFailed):
        signin.sign_in(engine, "asha", "wrong", online_check=_offline, now=t)
    t2 = t + dt.timedelta(seconds=1)
    assert signin.sign_in(engine, "asha", "right", online_check=_offline, now=t2).online is False


def test_online_wrong_password_counts_as_failure(engine):
    check, _ = _online("right")
    with pytest.raises(signin.SignInFailed):
        signin.sign_in(engine, "asha", "nope", online_check=check, now=T0)
    with pytest.raises(signin.SignInThrottled):
        signin.sign_in(engine, "asha", "right", online_check=check, now=T0)


def test_empty_credentials_are_refused(engine):
    with pytest.raises(signin.SignInFailed, match="Enter your user name"):
        signin.sign_in(engine, "  ", "x")


def test_totp_enrol_and_verify(memory_keyring):
    uri, png = totp.enrol("meera")
    assert uri.startswith("otpauth://totp/") and "Mangalm" in uri
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    secret = pyotp.parse_uri(uri).secret
    now = 1_800_000_000
    totp.verify("meera", pyotp.TOTP(secret).at(now), for_time=now)
    totp.verify("meera", pyotp.TOTP(secret).at(now - 30), for_time=now)  # one step of drift
    with pytest.raises(UserError, match="not valid"):
        totp.verify("meera", pyotp.TOTP(secret).at(now - 120), for_time=now)
    with pytest.raises(UserError, match="6-digit"):
        totp.verify("meera", "12ab56")
    totp.remove("meera")
    assert not totp.is_enrolled("meera")


def test_local_db_key_is_created_once(memory_keyring):
    k1 = local_key.get_or_create_db_key()
    assert len(k1) == 64 and local_key.get_or_create_db_key() == k1


def test_audit_entry_goes_to_the_outbox_in_the_same_transaction(engine):
    with session_scope(engine) as s:
        entry = audit.record(s, actor="asha", action=audit.EXPORT, details={"report": "sales"})
    with session_scope(engine) as s:
        row = s.scalars(select(AuditLog)).one()
        op = s.scalars(select(Outbox)).one()
    assert row.id == entry.id and op.row_id == entry.id and op.table_name == "audit_log"
    assert json.loads(op.payload)["action"] == "export"
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        audit.record(s, actor="asha", action=audit.ORDER_SUBMIT)
        raise RuntimeError("crash before commit")
    with session_scope(engine) as s:
        assert len(s.scalars(select(AuditLog)).all()) == 1
        assert len(s.scalars(select(Outbox)).all()) == 1
