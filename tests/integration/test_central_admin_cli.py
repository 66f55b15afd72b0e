"""Setting up without help: the exact `sync connect` command from `add-agent`, moving and
editing stores from the CLI (real PostgreSQL), and computers without an OS keyring, where
`central start`, `sync connect` and `sync run` ask on the terminal or say exactly what to do."""

from __future__ import annotations

import io
import shlex
import socket
from decimal import Decimal

import keyring
import psycopg
import pytest
from keyring.backends import fail

from mangalm_desktop.cli.main import main
from mangalm_desktop.sync.service import sync_once
from tests.integration.sync_support import as_user, build_world, local_db

pytestmark = pytest.mark.pg


@pytest.fixture
def world(pg_migrated_url, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    return build_world(pg_migrated_url)


@pytest.fixture
def no_keyring():
    """A computer without an OS keyring (headless Linux without Secret Service)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _central(world, sql: str, *args):
    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as c:
        cur = c.execute(sql, args)
        return cur.fetchall() if cur.description else []


def _tty(monkeypatch, answer: str) -> list[str]:
    """stdin is a terminal and the person types ``answer`` at the password prompt."""
    asked: list[str] = []
    stdin = io.StringIO()
    stdin.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", stdin)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or answer)
    return asked


def test_add_agent_prints_the_exact_sync_connect_command(world, tmp_path, monkeypatch, capsys):
    assert main(["central", "add-agent", "Z09", "--name", "Zara", "--url", world.url]) == 0
    out = capsys.readouterr().out
    command = next(ln.strip() for ln in out.splitlines() if ln.strip().startswith("mangalm sync"))
    argv = shlex.split(command)
    assert argv[:3] == ["mangalm", "sync", "connect"]
    assert argv[3].startswith("postgresql://mangalm_z09@") and ":" not in argv[3].split("@")[0][13:]
    # The person runs exactly that (the password typed when asked) and can sync.
    monkeypatch.setattr("sys.stdin", io.StringIO("any\n"))  # the test server trusts local users
    assert main([*argv[1:], "--password-stdin"]) == 0
    db = str(tmp_path / "zara.sqlite")
    local_db(db).dispose()
    assert main(["sync", "run", "--db", db, "-q"]) == 0


def test_move_store_and_edit_store(world, tmp_path, capsys):
    a_code, b_code = world.agent_a.code, world.agent_b.code
    store = world.stores_a[0]
    code = f"S-{a_code}-0"
    eb = local_db(tmp_path / "b.sqlite")
    assert sync_once(eb, world.connector(world.agent_b)).ok

    assert main(["central", "move-store", code, "--to", b_code, "--url", world.url]) == 0
    assert f"moved {code}" in capsys.readouterr().out
    assert _central(world, "SELECT agent_id FROM store WHERE id = %s", store) == [
        (world.agent_b.agent_id,)
    ]
    report = sync_once(eb, world.connector(world.agent_b))
    assert report.ok and report.pull.gained_stores == [store]

    [(version,)] = _central(world, "SELECT version FROM store WHERE id = %s", store)
    argv = ["central", "edit-store", code, "--phone", "+91 98200 12345"]
    assert main([*argv, "--credit-limit", "80,000", "--url", world.url]) == 0
    out = capsys.readouterr().out
    assert "phone: - -> +91 98200 12345" in out and "credit_limit: 50000.00 -> 80000" in out
    [row] = _central(
        world, "SELECT phone, credit_limit, city, version FROM store WHERE id = %s", store
    )
    assert row == ("+91 98200 12345", Decimal("80000.00"), "Pune", version + 1)

    # Bad input: a clear error, nothing written.
    assert main(["central", "edit-store", code, "--credit-limit", "lots", "--url", world.url]) == 2
    assert "credit limit must be an amount" in capsys.readouterr().err
    assert main(["central", "edit-store", "S-NOPE", "--phone", "1234567", "--url", world.url]) == 2
    assert "no store with code 'S-NOPE'" in capsys.readouterr().err
    assert main(["central", "move-store", code, "--to", "NOBODY", "--url", world.url]) == 2
    assert "no agent with code 'NOBODY'" in capsys.readouterr().err
    assert _central(world, "SELECT version FROM store WHERE id = %s", store) == [(version + 1,)]


def test_sync_connect_and_run_without_a_keyring(world, no_keyring, tmp_path, monkeypatch, capsys):
    url = as_user(world.url, world.agent_a.db_role) + "&sslmode=disable"
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert main(["sync", "connect", url, "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "NOT the password" in out and "PGPASSWORD=... mangalm sync run" in out
    db = str(tmp_path / "a.sqlite")
    local_db(db).dispose()

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: say what to do
    assert main(["sync", "run", "--db", db, "-q"]) == 2
    err = capsys.readouterr().err
    assert "no OS keyring" in err or "keyring is not available" in err
    assert "PGPASSWORD=... mangalm sync run" in err and "Traceback" not in err

    asked = _tty(monkeypatch, "pw")  # in a terminal: asked once, then it syncs
    assert main(["sync", "run", "--db", db, "-q"]) == 0
    assert len(asked) == 1 and world.agent_a.db_role in asked[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_central_start_without_a_keyring_asks_for_the_password(
    tmp_path, no_keyring, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    pgdir = str(tmp_path / "central")
    port = str(_free_port())
    assert main(["central", "start", "--dir", pgdir, "--port", port, "--no-init"]) == 0
    try:
        out = capsys.readouterr().out
        assert "is NOT stored" in out
        password = out.rsplit("Password (shown once here, keep it safe): ", 1)[1].split()[0]
        main(["central", "stop", "--dir", pgdir])

        # Not a terminal and no PGPASSWORD: the exact command to run.
        assert main(["central", "start", "--dir", pgdir, "--port", port, "--no-init"]) == 2
        err = capsys.readouterr().err
        assert f"PGPASSWORD=... mangalm central start --dir {pgdir}" in err

        asked = _tty(monkeypatch, "wrong")
        assert main(["central", "start", "--dir", pgdir, "--port", port, "--no-init"]) == 2
        assert "Wrong superuser password" in capsys.readouterr().err and len(asked) == 1

        asked = _tty(monkeypatch, password)
        assert main(["central", "start", "--dir", pgdir, "--port", port, "--no-init"]) == 0
        assert len(asked) == 1 and "Superuser password" in asked[0]
    finally:
        main(["central", "stop", "--dir", pgdir])


def test_connect_command_keeps_tls_and_never_the_password():
    from mangalm_desktop.sync.admin import connect_command

    remote = "postgresql://admin:s3cret@db.example.com:5432/mangalm?sslmode=verify-full"
    assert connect_command(remote + "&sslrootcert=/etc/ca.pem", "mangalm_a07") == (
        "mangalm sync connect 'postgresql://mangalm_a07@db.example.com:5432/mangalm"
        "?sslmode=verify-full&sslrootcert=CA.pem'"
    )
    assert "verify-full" in connect_command("postgresql://admin@db.example.com/m", "x")
    assert connect_command("postgresql://postgres@127.0.0.1:54329/mangalm", "mangalm_a07") == (
        "mangalm sync connect 'postgresql://mangalm_a07@127.0.0.1:54329/mangalm?sslmode=disable'"
    )
    assert connect_command("postgresql://a:pw@10.0.0.5/m?sslmode=require", "x").endswith(
        "?sslmode=require' --insecure"
    )
