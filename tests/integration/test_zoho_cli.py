"""`mangalm zoho auth / run --once / status / retry` end to end through the real CLI entry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Product
from mangalm_desktop.security.secrets import get_secret
from mangalm_desktop.zoho.config import SECRET_REFRESH, config_path
from tests.zoho_server import ZohoServer
from tests.zoho_server.support import central_engine, make_orders, seed_zoho

pytestmark = pytest.mark.pg


def test_cli_auth_run_status_retry(pg_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    engine = central_engine(pg_url)
    with ZohoServer() as server:
        seeded = seed_zoho(server, invoices=25)
        monkeypatch.setenv("MANGALM_ZOHO_CLIENT_SECRET", server.client_secret)
        code = server.new_grant_code()
        assert (
            main(
                [
                    "zoho",
                    "auth",
                    "--client-id",
                    server.client_id,
                    "--org-id",
                    server.org_id,
                    "--dc",
                    "in",
                    "--accounts-url",
                    server.url,
                    "--code",
                    code,
                    "--set",
                    "per_minute=80",
                    "--set",
                    "daily_budget=5000",
                ]
            )
            == 0
        )
        assert get_secret(SECRET_REFRESH) in server.refresh_tokens
        saved = json.loads(config_path().read_text())
        assert saved["per_minute"] == 80 and "secret" not in json.dumps(saved).lower()

        assert main(["zoho", "run", "--once", "--central", pg_url]) == 0
        out = capsys.readouterr().out
        assert "invoices" in out and "created    25" in out

        make_orders(engine, 2)
        with session_scope(engine) as s:  # an item deleted in Zoho: the order gets parked
            s.scalar(select(Product).where(Product.name == "Item 000")).zoho_item_id = "1"
        assert main(["zoho", "run", "--once", "--central", pg_url, "--jobs", "orders"]) == 0
        capsys.readouterr()
        assert main(["zoho", "status", "--central", pg_url, "--json"]) == 0
        st = json.loads(capsys.readouterr().out)
        assert st["counts"]["orders_parked"] == 1 and st["counts"]["orders_sent"] == 1
        assert "Item does not exist." in st["parked"][0]["error"]

        with session_scope(engine) as s:
            s.scalar(select(Product).where(Product.name == "Item 000")).zoho_item_id = seeded[
                "items"
            ][0]["item_id"]
        assert main(["zoho", "retry", "--central", pg_url]) == 0
        assert main(["zoho", "run", "--once", "--central", pg_url, "--jobs", "orders"]) == 0
        assert len(server.salesorders) == 2
        assert main(["zoho", "status", "--central", pg_url]) == 0
        assert "orders_sent          2" in capsys.readouterr().out
        assert main(["zoho", "run", "--once", "--central", pg_url, "--jobs", "nope"]) == 2
    engine.dispose()
