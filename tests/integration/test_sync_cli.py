"""The admin and laptop commands end to end: a real server on a TCP port, password auth, sync."""

from __future__ import annotations

import io
import socket

import pytest

from mangalm_desktop.cli.main import main

pytestmark = pytest.mark.pg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_central_start_add_agent_connect_and_sync(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # config file stays in tmp
    pgdir = tmp_path / "central"
    port = _free_port()
    assert main(["central", "start", "--dir", str(pgdir), "--port", str(port)]) == 0
    try:
        out = capsys.readouterr().out
        url = next(line.split("URL: ")[1] for line in out.splitlines() if line.startswith("URL:"))
        password = out.rsplit("Password (shown once here, keep it safe): ", 1)[1].split()[0]
        assert url == f"postgresql://postgres@127.0.0.1:{port}/mangalm"
        monkeypatch.setenv("PGPASSWORD", password)
        assert main(["central", "load-demo", "--small", "--url", url]) == 0
        out = capsys.readouterr().out
        code = out.split("agents: ")[1].split(",")[0].split()[0]
        assert main(["central", "add-agent", code, "--name", "Demo Agent", "--url", url]) == 0
        out = capsys.readouterr().out
        role = out.split("database user: ")[1].split()[0]
        agent_pw = out.split("password:")[1].split()[0]
        monkeypatch.delenv("PGPASSWORD")

        # A wrong password is refused in words, and nothing is saved.
        monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
        agent_url = f"postgresql://{role}@127.0.0.1:{port}/mangalm?sslmode=disable"
        assert main(["sync", "connect", agent_url, "--password-stdin"]) == 1
        assert "password authentication failed" in capsys.readouterr().out

        monkeypatch.setattr("sys.stdin", io.StringIO(agent_pw + "\n"))
        assert main(["sync", "connect", agent_url, "--password-stdin"]) == 0
        assert "NOT encrypted" in capsys.readouterr().out  # sslmode=disable is said plainly
        db = str(tmp_path / "laptop.sqlite")
        assert main(["sync", "run", "--db", db, "-q"]) == 0
        out = capsys.readouterr().out
        assert "received" in out and int(out.split("received ")[1].split()[0].replace(",", "")) > 0
        assert main(["sync", "status", "--db", db]) == 0
        assert "pending changes: 0, conflicts: 0" in capsys.readouterr().out
        monkeypatch.setenv("MANGALM_PASSWORD", agent_pw)  # `sync conflicts` signs in
        assert main(["sync", "conflicts", "--db", db]) == 0
        assert "no conflicts" in capsys.readouterr().out
        # The password never reached the config file.
        config = (tmp_path / "xdg").rglob("central.json")
        assert all(agent_pw not in p.read_text() for p in config)
    finally:
        main(["central", "stop", "--dir", str(pgdir)])
