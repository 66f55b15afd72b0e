"""The bridge's own central login (``mangalm central add-bridge``): it runs every job, it can do
nothing else, a manager's login gets a clear message instead of a traceback, and the CLI's
exit codes and scheduled mode work with it."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import make_engine, session_scope
from mangalm_desktop.db.models import Order
from mangalm_desktop.security.secrets import set_secret
from mangalm_desktop.sync.connection import libpq_url
from mangalm_desktop.zoho import bridge
from mangalm_desktop.zoho.clock import ManualClock
from mangalm_desktop.zoho.config import SECRET_CLIENT, SECRET_REFRESH, save_config
from tests.zoho_server import Fault, ZohoServer
from tests.zoho_server.roles import bridge_url, manager_url
from tests.zoho_server.support import bridge_config, central_engine, connect, make_orders, seed_zoho

pytestmark = pytest.mark.pg


@pytest.fixture
def admin(pg_url):
    engine = central_engine(pg_url)
    yield engine
    engine.dispose()


def test_bridge_login_runs_every_job_and_nothing_else(pg_url, admin):
    url = bridge_url(pg_url)
    engine = make_engine(url)
    clock = ManualClock()
    with ZohoServer(clock=clock.now) as server:
        seeded = seed_zoho(server, invoices=20)
        client = connect(server, clock)
        report = bridge.run_once(engine, client, ["accounts", "contacts", "items"])
        assert not report.failed, report.as_dict()
        numbers = make_orders(admin, 3)  # orders synced by agents (as the admin here)
        server.delete_invoice(seeded["invoices"][0]["invoice_id"])
        report = bridge.run_once(engine, client)
        assert not report.failed and report.stopped is None, report.as_dict()
        assert sorted(server.by_reference()) == numbers
        assert bridge.status(engine).counts["orders_sent"] == 3
        assert bridge.retry_parked(engine) == 0
    engine.dispose()

    denied = [
        "DELETE FROM store",
        "DELETE FROM invoice",
        "UPDATE orders SET total = 0",
        "UPDATE orders SET store_id = store_id",
        "INSERT INTO orders (id) VALUES (gen_random_uuid())",
        "UPDATE order_line SET quantity = 1",
        "SELECT * FROM agent",
        "SELECT * FROM audit_log",
        "SELECT * FROM outbox",
    ]
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for stmt in denied:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(stmt)
        # Its bookkeeping rows only: a sync_state key outside zoho: is refused by RLS.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO sync_state (key, updated_at) VALUES ('pull:x', now())")
        keys = [r[0] for r in conn.execute("SELECT key FROM sync_state")]
        assert keys and all(k.startswith("zoho:") for k in keys)


def test_manager_login_gets_a_clear_message_not_a_traceback(
    pg_url, admin, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    bridge_url(pg_url)  # central init
    url = manager_url(pg_url)
    with ZohoServer() as server:
        seed_zoho(server, invoices=0)
        save_config(bridge_config(server))
        set_secret(SECRET_CLIENT, server.client_secret)
        set_secret(SECRET_REFRESH, server.new_refresh_token())
        code = main(["zoho", "run", "--once", "--central", url])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err
        assert "cannot do what the Zoho bridge needs" in err and "add-bridge" in err
        assert not server.api_log("/")  # nothing sent to Zoho


def test_cli_add_bridge_once_exit_codes_and_scheduled_mode(
    pg_url, admin, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from mangalm_desktop.sync.central import init_central

    init_central(pg_url)
    assert main(["central", "add-bridge", "--url", pg_url]) == 0
    out = capsys.readouterr().out
    password = out.split("password: ")[1].split()[0]
    from tests.zoho_server.roles import login_url

    url = login_url(pg_url, "mangalm_zoho_bridge", password)
    with ZohoServer() as server:
        seed_zoho(server, invoices=5)
        save_config(bridge_config(server, interval_minutes=0.02, max_attempts=2))
        set_secret(SECRET_CLIENT, server.client_secret)
        set_secret(SECRET_REFRESH, server.new_refresh_token())
        assert main(["zoho", "run", "--once", "--central", url]) == 0
        make_orders(admin, 4)
        capsys.readouterr()

        # A job that fails half-way: partial counts printed, exit code 4.
        server.inject(Fault("503", path="/books/v3/salesorders", method="GET", skip=2, count=99))
        assert main(["zoho", "run", "--once", "--central", url, "--jobs", "orders"]) == 4
        out = capsys.readouterr().out
        assert "sent    2" in out and "ERROR HTTP 503" in out
        server.faults.clear()

        # Scheduled mode, bounded: two runs a second apart, then it stops by itself.
        assert main(["zoho", "run", "--central", url, "--runs", "2"]) == 0
        st = bridge.status(admin)
        assert len(st.runs) == 4 and st.counts["orders_sent"] == 4
        assert [j["job"] for j in st.runs[0]["jobs"]][
            -1
        ] == "payments"  # the last job of a full run
    with session_scope(admin) as s:
        assert set(s.scalars(select(Order.state))) == {"sent_to_zoho"}


def test_zoho_central_saves_the_bridge_login_with_its_password_in_the_keyring(
    pg_url, admin, tmp_path, monkeypatch, capsys
):
    import json

    from mangalm_desktop.security.secrets import get_secret
    from mangalm_desktop.sync.central import add_bridge, init_central
    from mangalm_desktop.zoho.config import SECRET_CENTRAL, config_path

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("MANGALM_CENTRAL_URL", raising=False)
    init_central(pg_url)
    login = add_bridge(pg_url, password="Br1dge-pass", identity=None)
    scheme, _, rest = pg_url.partition("://")
    url = f"{scheme}://{login.db_role}@{rest.partition('@')[2]}"
    with ZohoServer() as server:
        save_config(bridge_config(server))
        monkeypatch.setenv("MANGALM_ZOHO_CENTRAL_PASSWORD", "Br1dge-pass")
        assert main(["zoho", "central", url]) == 0
        assert get_secret(SECRET_CENTRAL) == "Br1dge-pass"
        saved = config_path().read_text()
        assert json.loads(saved)["central_url"] == url and "Br1dge-pass" not in saved
        capsys.readouterr()
        assert main(["zoho", "status"]) == 0  # no --central, no $MANGALM_CENTRAL_URL
        assert "orders_sent" in capsys.readouterr().out
        assert main(["zoho", "central", f"{scheme}://x:secret@host/db"]) == 2  # no passwords
