"""The central audit log is append-only: checked with raw SQL as agent and manager roles.

An agent may insert entries, which always carry its own agent id and code as actor (the
central guard takes them from the session's role; an entry sent without an agent, e.g. a failed
sign-in, gets them too), never another agent's, and may not update or delete any entry; a manager reads every entry and
cannot change them either. A laptop's sign-in entries reach the central log through a real sync.
"""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from mangalm_desktop.domain.enums import Role
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.security.session import sign_in_audited
from mangalm_desktop.security.signin import SignInFailed
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, build_world, local_db

pytestmark = pytest.mark.pg

INSERT = (
    "INSERT INTO audit_log (id, at, actor, action, agent_id, version, deleted, updated_at) "
    "VALUES (%s, now(), %s, 'sign_in', %s, 1, false, now())"
)


@pytest.fixture
def world(pg_migrated_url):
    return build_world(pg_migrated_url, stores_per_agent=1, invoices_per_store=1, products=2)


def test_agents_append_only_managers_read_all(world):
    a, b = world.agent_a, world.agent_b
    with psycopg.connect(world.url_for(a), autocommit=True) as as_a:
        own = uuid.uuid4()
        as_a.execute(INSERT, (own, "A", a.agent_id))
        as_a.execute(INSERT, (uuid.uuid4(), "someone", None))  # failed sign-in: bound to A
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_a.execute(INSERT, (uuid.uuid4(), "forged", b.agent_id))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_a.execute("UPDATE audit_log SET action = 'nothing' WHERE id = %s", (own,))
        # ``deleted`` is updatable in principle (push locks rows FOR UPDATE) but no policy
        # lets any row be updated.
        assert as_a.execute("UPDATE audit_log SET deleted = true").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_a.execute("DELETE FROM audit_log WHERE id = %s", (own,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_a.execute("TRUNCATE audit_log")
    with psycopg.connect(world.url_for(b), autocommit=True) as as_b:
        as_b.execute(INSERT, (uuid.uuid4(), "B", b.agent_id))
        seen = as_b.execute("SELECT actor FROM audit_log").fetchall()
        assert seen == [(b.code,)]  # not A's entries; the actor is B's own code
    with psycopg.connect(world.url_for(world.manager), autocommit=True) as m:
        actors = sorted(r[0] for r in m.execute("SELECT actor FROM audit_log"))
        assert actors == sorted([a.code, a.code, b.code])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            m.execute("UPDATE audit_log SET actor = 'x'")
        assert m.execute("UPDATE audit_log SET deleted = true").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            m.execute("DELETE FROM audit_log")
    with psycopg.connect(as_user(world.url, "postgres")) as owner:
        count = owner.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'sign_in' AND NOT deleted"
        )
        assert count.fetchone()[0] == 3  # nothing changed or removed


def test_laptop_sign_ins_reach_the_central_log(world, tmp_path):
    a = world.agent_a
    engine = local_db(tmp_path / "laptop.sqlite")
    sync_once(engine, world.connector(a))  # the agent row arrives with the first pull
    t0 = dt.datetime.now(dt.UTC)
    who = Identity(a.code, Role.AGENT, a.agent_id, a.code)

    def online(username: str, password: str) -> Identity:
        if password != "right":
            raise SignInFailed("Wrong user name or password.")
        return who

    with pytest.raises(SignInFailed):
        sign_in_audited(None, engine, a.code, "wrong", online, now=t0)
    sign_in_audited(None, engine, a.code, "right", online, now=t0 + dt.timedelta(seconds=5))
    report = sync_once(engine, world.connector(a))
    assert report.ok, report.error
    with psycopg.connect(world.url_for(world.manager)) as m:
        rows = m.execute("SELECT action, actor, agent_id FROM audit_log ORDER BY at").fetchall()
    # The failed sign-in left the laptop without an agent; centrally it names the session's.
    assert rows == [("sign_in_failed", a.code, a.agent_id), ("sign_in", a.code, a.agent_id)]
