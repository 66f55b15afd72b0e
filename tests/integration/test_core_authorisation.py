"""Authorisation lives in the orders service, and the CLI signs in on a laptop that has a
central server (issue 23 finding 1, deliver 2)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from sqlalchemy import func, select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, AuditLog, Order, Outbox, Store
from mangalm_desktop.db.types import utcnow
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.security import signin
from mangalm_desktop.security.roles import Identity, PermissionDenied

from .orders_support import seed


@pytest.fixture
def world(engine):
    s = seed(engine)
    with session_scope(engine) as db:
        other = Agent(id=uuid.uuid4(), code="A08", name="Meena Iyer")
        db.add(other)
        db.flush()
        theirs = Store(id=uuid.uuid4(), code="ST-900", name="Not Yours", agent_id=other.id)
        db.add(theirs)
    agent = Identity("A07", Role.AGENT, s.agent_id, "A07")
    return s, theirs.id, other.id, agent


def _orders(engine) -> tuple[int, int]:
    with session_scope(engine) as db:
        return (
            db.scalar(select(func.count()).select_from(Order)),
            db.scalar(select(func.count()).where(Outbox.op == "upsert_order")),
        )


def test_save_draft_checks_the_store(engine, world) -> None:
    s, theirs, _, agent = world
    draft = OrderDraft(store=theirs, agent_id=s.agent_id, lines=[LineInput("DAL-1", 10)])
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        service.save_draft(engine, draft, identity=agent)
    assert _orders(engine) == (0, 0)


def test_no_order_in_another_agents_name(engine, world) -> None:
    s, _, other_id, agent = world
    draft = OrderDraft(store=s.store_id, agent_id=other_id, lines=[LineInput("DAL-1", 10)])
    for write in (service.save_draft, service.submit):
        with pytest.raises(PermissionDenied, match="only in their own name"):
            write(engine, draft, identity=agent)
    assert _orders(engine) == (0, 0)


def test_duplicate_checks_the_source_order(engine, world) -> None:
    s, theirs, other_id, agent = world
    draft = OrderDraft(store=theirs, agent_id=other_id, lines=[LineInput("DAL-1", 10)])
    src = service.submit(engine, draft, identity=None)  # standalone: the office's laptop
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        service.duplicate(engine, src.order_id, agent_id=s.agent_id, identity=agent)
    assert _orders(engine) == (1, 1)


def test_identity_is_a_required_argument() -> None:
    for write in (service.save_draft, service.submit, service.submit_saved, service.amend,
                  service.cancel, service.duplicate):  # fmt: skip
        param = __import__("inspect").signature(write).parameters["identity"]
        assert param.kind is param.KEYWORD_ONLY and param.default is param.empty, write


# ---- the CLI on a laptop configured for a central server ------------------------------------


@pytest.fixture
def central_laptop(engine, db_path, world, tmp_path, monkeypatch):
    """A laptop whose central server is unreachable (offline sign-in) and A07's cached verifier."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "xdg" / "MangalmSales"
    folder.mkdir(parents=True)
    config = {"host": "127.0.0.1", "port": 1, "user": "mangalm_a07", "sslmode": "disable"}
    (folder / "central.json").write_text(json.dumps(config))
    _, _, _, agent = world
    signin.sign_in(engine, "A07", "agent-pw", online_check=lambda _u, _p: agent)
    monkeypatch.setenv("MANGALM_USER", "A07")
    monkeypatch.delenv("MANGALM_PASSWORD", raising=False)
    return db_path


def _create(db, *extra: str) -> list[str]:
    return ["orders", "--db", str(db), "create", "--store", "ST-001", "--line", "DAL-1=10", *extra]


def test_cli_signs_in_and_the_service_refuses_another_agents_name(
    central_laptop, engine, monkeypatch, capsys
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("agent-pw\n"))
    assert main(_create(central_laptop, "--agent", "A08")) == 2
    assert "A07 may take orders only in their own name" in capsys.readouterr().err
    assert _orders(engine) == (0, 0)

    monkeypatch.setattr("sys.stdin", io.StringIO("agent-pw\n"))
    assert main(_create(central_laptop, "--agent", "A07")) == 0
    assert _orders(engine) == (1, 1)
    with session_scope(engine) as db:
        actors = db.scalars(select(AuditLog.actor).where(AuditLog.action == "sign_in")).all()
    assert actors.count("A07") >= 2  # each command's sign-in is audited


def test_cli_wrong_or_missing_password_is_refused_and_throttled(
    central_laptop, engine, monkeypatch, capsys
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("guess\n"))
    assert main(_create(central_laptop, "--agent", "A07")) == 2
    assert "Wrong user name or password" in capsys.readouterr().err
    # More guesses (timed through the service, so a loaded machine cannot outwait a 1 s delay):
    # five more failures, each after its wait; the next wait is 32 s.
    t = utcnow()
    for wait in (1, 2, 4, 8, 16):
        t += dt.timedelta(seconds=wait)
        with pytest.raises(signin.SignInFailed):
            signin.sign_in(engine, "A07", "guess", now=t)
    monkeypatch.setattr("sys.stdin", io.StringIO("agent-pw\n"))
    assert main(_create(central_laptop, "--agent", "A07")) == 2  # same throttle as the app
    assert "Try again in" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(_create(central_laptop, "--agent", "A07")) == 2
    assert "need your sign-in" in capsys.readouterr().err
    assert _orders(engine) == (0, 0)


def test_standalone_cli_stays_open(engine, db_path, world, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "empty-xdg"))
    assert main(_create(db_path, "--agent", "A08", "--store", "ST-900")) == 0
    assert _orders(engine) == (1, 1)


def test_import_service_checks_the_permission(engine, world, tmp_path) -> None:
    from mangalm_desktop.imports.zoho import import_invoices
    from tests.fixtures.imports.make_fixtures import write_csv

    _, _, _, agent = world
    path = tmp_path / "z.csv"
    write_csv(path)
    with pytest.raises(PermissionDenied, match="may not import data"):
        import_invoices(engine, [path], identity=agent)
    manager = Identity("M01", Role.MANAGER)
    assert import_invoices(engine, [path], identity=manager).all_committed


def test_cli_report_and_import_sign_in_too(central_laptop, engine, tmp_path, monkeypatch, capsys):
    from tests.fixtures.imports.make_fixtures import write_csv

    path = tmp_path / "z.csv"
    write_csv(path)
    for argv in (
        ["report", "sales-by-store", "--db", str(central_laptop)],
        ["import", "invoices", str(path), "--db", str(central_laptop), "-q"],
    ):
        monkeypatch.setattr("sys.stdin", io.StringIO("agent-pw\n"))
        assert main(argv) == 2
        assert "A07 (agent) may not" in capsys.readouterr().err
    signin.sign_in(
        engine, "M01", "mgr-pw", online_check=lambda _u, _p: Identity("M01", Role.MANAGER)
    )
    monkeypatch.setenv("MANGALM_USER", "M01")
    monkeypatch.setenv("MANGALM_PASSWORD", "mgr-pw")
    assert main(["report", "sales-by-store", "--db", str(central_laptop)]) == 0


def test_cli_reading_commands_sign_in_too(central_laptop, monkeypatch, capsys) -> None:
    """Reading orders or running the forecast is not a way around the lock either."""
    for argv in (
        ["orders", "--db", str(central_laptop), "list"],
        ["forecast", "--db", str(central_laptop), "-q"],
    ):
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        assert main(argv) == 2, argv
        assert "need your sign-in" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("agent-pw\n"))
    assert main(["orders", "--db", str(central_laptop), "list"]) == 0
