"""Every CLI command that touches the laptop's business data signs in when a central server is
configured (issue 23, deliver 2), and the central admin and Zoho panel services take an identity
(docs/security.md, "The CLI signs in"). Offline sign-in against the cached verifier, as in
test_core_authorisation.py; central admin against the real (embedded) PostgreSQL."""

from __future__ import annotations

import io
import json
import uuid

import pytest

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Store
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.security import signin
from mangalm_desktop.security.roles import Identity, PermissionDenied
from mangalm_desktop.sync.central import add_user, init_central
from mangalm_desktop.zoho import panel

from .orders_support import seed
from .sync_support import as_user


@pytest.fixture
def laptop(engine, db_path, tmp_path, monkeypatch):
    """A07's laptop, configured for a central server that does not answer (offline sign-in
    with their cached verifier); no password in the environment."""
    s = seed(engine)
    with session_scope(engine) as db:
        other = Agent(id=uuid.uuid4(), code="A08", name="Meena Iyer")
        db.add(other)
        db.flush()
        db.add(Store(id=uuid.uuid4(), code="ST-900", name="Not Yours", agent_id=other.id))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "xdg" / "MangalmSales"
    folder.mkdir(parents=True)
    config = {"host": "127.0.0.1", "port": 1, "user": "mangalm_a07", "sslmode": "disable"}
    (folder / "central.json").write_text(json.dumps(config))
    agent = Identity("A07", Role.AGENT, s.agent_id, "A07")
    signin.sign_in(engine, "A07", "agent-pw", online_check=lambda _u, _p: agent)
    monkeypatch.setenv("MANGALM_USER", "A07")
    monkeypatch.delenv("MANGALM_PASSWORD", raising=False)
    return db_path


@pytest.mark.parametrize(
    "argv",
    [
        ["sync", "conflicts"],
        ["sync", "resolve", "1", "--keep", "mine"],
        ["sync", "hand-over", "1"],
        ["demo", "--small", "--stores", "5", "--force"],  # --db: the laptop's own database
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_commands_on_the_laptops_data_ask_for_the_sign_in(laptop, argv, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a script with no password
    assert main([*argv, "--db", str(laptop)]) == 2
    err = capsys.readouterr().err
    assert "need your sign-in" in err and "Traceback" not in err
    monkeypatch.setattr("sys.stdin", io.StringIO("guess\n"))
    assert main([*argv, "--db", str(laptop)]) == 2
    assert "Wrong user name or password" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["submit", "NO-SUCH"], ["cancel", "NO-SUCH"], ["duplicate", "NO-SUCH", "--agent", "A07"]],
    ids=lambda a: a[0],
)
def test_order_commands_sign_in_before_they_look_the_order_up(laptop, argv, monkeypatch, capsys):
    """These three read the order before the sign-in (an unknown number was answered without
    one); every command now signs in before it reads anything (``cli.common.signed_in``)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["orders", "--db", str(laptop), *argv]) == 2
    err = capsys.readouterr().err
    assert "need your sign-in" in err and "NO-SUCH" not in err and "Traceback" not in err


def test_signed_in_the_sync_conflicts_are_shown(laptop, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("agent-pw\n"))
    assert main(["sync", "conflicts", "--db", str(laptop)]) == 0
    assert "no conflicts" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["resolve", "1", "--keep", "mine"], ["hand-over", "1"]])
def test_signed_in_an_unreachable_server_is_said_in_words(laptop, argv, monkeypatch, capsys):
    monkeypatch.setenv("PGPASSWORD", "db-pw")  # no keyring entry: the connection's own password
    monkeypatch.setattr("sys.stdin", io.StringIO("agent-pw\n"))
    assert main(["sync", *argv, "--db", str(laptop)]) == 2
    err = capsys.readouterr().err
    assert "The central server did not answer" in err and "Traceback" not in err


def test_file_and_status_commands_stay_open(laptop, monkeypatch, capsys) -> None:
    """What shows no business data (schema, encryption, counts of pending changes) or works on
    a file, not the database, needs no sign-in: decided per command in docs/security.md."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["db", "info", "--db", str(laptop)]) == 0
    assert main(["sync", "status", "--db", str(laptop)]) == 0
    assert "pending changes" in capsys.readouterr().out


def test_zoho_panel_needs_a_manager() -> None:
    agent = Identity("A07", Role.AGENT, uuid.uuid4(), "A07")
    with pytest.raises(PermissionDenied, match="may not run zoho"):
        panel.load_panel(identity=agent)


@pytest.mark.pg
def test_central_admin_commands_check_the_logins_identity(pg_url, capsys) -> None:
    """`mangalm central move-store` with an agent's own login is refused by the service in
    words (before: it reached the server with identity None); the admin's login passes."""
    init_central(pg_url)
    agent = add_user(pg_url, "A07", "Anil", password="agent-pw-1", identity=None)
    agent_url = as_user(pg_url, agent.db_role, "agent-pw-1")
    argv = ["central", "move-store", "NO-SUCH", "--to", "A07"]
    assert main([*argv, "--url", agent_url]) == 2
    assert "mangalm_a07 (agent) may not manage users" in capsys.readouterr().err
    assert main([*argv, "--url", pg_url]) == 2  # the admin passes the check; the store is not there
    assert "There is no store with code 'NO-SUCH'" in capsys.readouterr().err
