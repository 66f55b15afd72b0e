"""Every network wait of a sync is bounded: a connection that goes silent (a proxy that keeps
the sockets open and passes nothing) ends the run as "offline" in bounded time, with a clear
message, in the service and in ``mangalm sync run``; the session carries server-side limits."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest

from mangalm_desktop.cli.main import main
from mangalm_desktop.sync import connection
from mangalm_desktop.sync.connection import CentralConfig, connect, save_config
from mangalm_desktop.sync.service import sync_once
from mangalm_desktop.sync.state import history
from tests.integration.cutting_proxy import pg_proxy
from tests.integration.sync_support import local_db

pytestmark = pytest.mark.pg

SILENCE_S = 3.0  # the production value is 60 s; the mechanism is the same


@pytest.fixture
def proxy(pg_server, world):
    px = pg_proxy(pg_server)
    yield px
    px.close()


@pytest.fixture
def via_proxy(world, proxy, monkeypatch, tmp_path) -> CentralConfig:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(connection.SyncConnection, "silence_s", SILENCE_S)
    database = urlsplit(world.url).path.lstrip("/")
    cfg = CentralConfig(
        host="127.0.0.1",
        port=proxy.port,
        database=database,
        user=world.agent_a.db_role,
        sslmode="disable",
    )
    save_config(cfg)
    return cfg


def _in_thread(fn, limit_s: float):
    """Run ``fn`` and return (finished, result, seconds); a hang is reported, not waited."""
    out: dict[str, object] = {}

    def run() -> None:
        out["result"] = fn()

    started = time.monotonic()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit_s)
    return not t.is_alive(), out.get("result"), time.monotonic() - started


def test_session_has_timeouts_and_keepalives(via_proxy):
    proxy_cfg = via_proxy
    assert "tcp_user_timeout=60000" in proxy_cfg.conninfo()
    assert "keepalives_idle=30" in proxy_cfg.conninfo()
    with connect(proxy_cfg) as pg:
        settings = dict(
            pg.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('statement_timeout', 'idle_in_transaction_session_timeout')"
            ).fetchall()
        )
    assert settings == {
        "statement_timeout": "600000",
        "idle_in_transaction_session_timeout": "300000",
    }


def test_a_stricter_limit_of_the_role_is_kept(world, via_proxy):
    import psycopg

    from tests.integration.sync_support import as_user

    with psycopg.connect(as_user(world.url, "postgres"), autocommit=True) as c:
        c.execute(f'ALTER ROLE "{world.agent_a.db_role}" SET statement_timeout = 5000')
    with connect(via_proxy) as pg:
        assert pg.execute("SHOW statement_timeout").fetchone()[0] == "5s"


@pytest.mark.parametrize("after_bytes", [0, 600, 4000])
def test_sync_through_a_silent_link_ends_offline_in_bounded_time(
    world, proxy, via_proxy, tmp_path, after_bytes
):
    eng = local_db(tmp_path / "laptop.sqlite")
    proxy.plan = lambda: ("silent", after_bytes)
    done, report, seconds = _in_thread(lambda: sync_once(eng, lambda: connect(via_proxy)), 40)
    assert done, "sync hung on a silent connection"
    assert report.offline and not report.ok
    assert "sent nothing for 3 s" in report.error or "timeout" in report.error.lower()
    assert seconds < 3 * SILENCE_S + 10
    assert history(eng)[-1]["offline"]
    # The link comes back: the next sync completes.
    proxy.plan = None
    assert sync_once(eng, lambda: connect(via_proxy)).ok


def test_cli_sync_run_ends_with_a_clear_message(world, proxy, via_proxy, tmp_path, capsys):
    db = tmp_path / "laptop.sqlite"
    local_db(db).dispose()
    proxy.plan = lambda: ("silent", 2000)
    done, code, seconds = _in_thread(lambda: main(["sync", "run", "--db", str(db), "-q"]), 40)
    assert done, "`mangalm sync run` hung on a silent connection"
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "sent nothing for 3 s" in err
    assert "Traceback" not in err
