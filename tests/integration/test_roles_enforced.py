"""Roles enforced in the service layer: an agent identity is refused with a clear message.

Every check runs the real service against a real SQLite database (orders, store profile,
reports, exports) or before any network (Zoho, central users), and shows that a refusal
changes nothing while the permitted role goes through. ``identity=None`` (standalone laptop)
stays unrestricted, which keeps the other packages' callers working.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, AuditLog, Order, Outbox, Store
from mangalm_desktop.db.store_profile import ProfileEdit, save_store_profile
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.orders import service
from mangalm_desktop.orders.access import order_audit
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.reports.catalog import REPORTS, run_report
from mangalm_desktop.reports.export import export, export_audited
from mangalm_desktop.reports.filters import ReportFilters
from mangalm_desktop.security.roles import Identity, Permission, PermissionDenied
from mangalm_desktop.sync.central import add_user
from mangalm_desktop.zoho import panel
from tests.integration.orders_support import seed


@pytest.fixture
def world(engine):
    s = seed(engine)
    with session_scope(engine) as db:
        other = Agent(id=uuid.uuid4(), code="B02", name="Other Agent")
        db.add(other)
        db.flush()
        theirs = Store(id=uuid.uuid4(), code="ST-900", name="Not Yours", agent_id=other.id)
        db.add(theirs)
    agent = Identity("A07", Role.AGENT, s.agent_id, "A07")
    manager = Identity("M01", Role.MANAGER)
    admin = Identity("root", Role.ADMIN)
    return s, theirs.id, agent, manager, admin


def _count(engine, model) -> int:
    with session_scope(engine) as db:
        return db.scalar(select(func.count()).select_from(model))


def _draft(s, store_id) -> OrderDraft:
    return OrderDraft(store=store_id, agent_id=s.agent_id, lines=[LineInput("DAL-1", 10)])


def test_agent_orders_only_for_own_stores(engine, world):
    s, theirs, agent, manager, _ = world
    with pytest.raises(PermissionDenied, match="A07 is not the agent of this store"):
        service.submit(
            engine, _draft(s, theirs), identity=agent, on_write=order_audit("desktop:A07")
        )
    assert _count(engine, Order) == 0 and _count(engine, Outbox) == 0  # rolled back
    mine = service.submit(
        engine, _draft(s, s.store_id), identity=agent, on_write=order_audit("d:A07")
    )
    assert mine.state == "submitted"
    # A manager may act on any store; the cancel is audited in the same transaction.
    service.cancel(engine, mine.order_id, identity=manager, on_write=order_audit("d:M01"))
    with session_scope(engine) as db:
        actions = db.scalars(select(AuditLog.action).order_by(AuditLog.at)).all()
    assert actions == ["order_submit", "order_cancel"]


def test_agent_edits_only_own_store_profile(engine, world):
    s, theirs, agent, _, _ = world
    edit = ProfileEdit(notes="'; DROP TABLE store; --")
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        save_store_profile(engine, theirs, edit, expected_version=1, identity=agent)
    with session_scope(engine) as db:
        assert db.get(Store, theirs).notes is None
    saved = save_store_profile(engine, s.store_id, edit, expected_version=1, identity=agent)
    assert saved.version == 2
    with session_scope(engine) as db:
        assert db.get(Store, s.store_id).notes == "'; DROP TABLE store; --"


def test_reports_and_exports_need_a_manager(engine, world, tmp_path):
    _, _, agent, manager, _ = world
    name = next(iter(REPORTS))
    with pytest.raises(PermissionDenied, match=r"A07 \(agent\) may not run reports"):
        run_report(engine, name, ReportFilters(), identity=agent)
    result = run_report(engine, name, ReportFilters(), identity=manager)
    out = tmp_path / "r.csv"
    with pytest.raises(PermissionDenied, match="may not export data"):
        export(result, "csv", out, identity=agent)
    with pytest.raises(PermissionDenied):
        export_audited(None, engine, result, "csv", out, identity=agent)
    assert not out.exists() and _count(engine, AuditLog) == 0
    export_audited(None, engine, result, "csv", out, identity=manager, actor="desktop:M01")
    assert out.exists()
    with session_scope(engine) as db:
        entry = db.scalars(select(AuditLog)).one()
    assert (entry.action, entry.actor, entry.entity_id) == ("export", "desktop:M01", name)
    assert _count(engine, Outbox) == 1  # the entry goes to the central audit log too


def test_zoho_and_user_management_are_refused_before_any_connection(world):
    _, _, agent, manager, _ = world
    with pytest.raises(PermissionDenied, match="may not run zoho"):
        panel.run_now(identity=agent)
    with pytest.raises(PermissionDenied, match="may not run zoho"):
        panel.release_parked(identity=agent)
    for who in (agent, manager):
        with pytest.raises(PermissionDenied, match="may not manage users"):
            add_user("postgresql://nowhere.invalid/x", "Z01", "Zed", identity=who)


def test_grants_match_the_documented_roles():
    agent = Identity("a", Role.AGENT, uuid.uuid4())
    assert agent.can(Permission.TAKE_ORDERS) and not agent.can(Permission.RUN_REPORTS)
    assert Identity("m", Role.MANAGER).can(Permission.RUN_ZOHO)
    assert not Identity("m", Role.MANAGER).can(Permission.MANAGE_USERS)
    assert Identity("r", Role.ADMIN).can(Permission.MANAGE_USERS)
