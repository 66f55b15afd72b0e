"""The manager's Zoho panel: status from the central database, Run now, parked orders, busy lock."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order, OrderLine
from mangalm_desktop.security.secrets import set_secret
from mangalm_desktop.zoho import bridge
from mangalm_desktop.zoho.clock import ManualClock
from mangalm_desktop.zoho.config import SECRET_CLIENT, SECRET_REFRESH, save_config
from tests.zoho_server import ZohoServer
from tests.zoho_server.roles import bridge_url
from tests.zoho_server.support import bridge_config, central_engine, connect, make_orders, seed_zoho

pytestmark = [pytest.mark.gui, pytest.mark.pg]


@pytest.fixture
def zoho_world(pg_migrated_url, tmp_path, monkeypatch):
    """The panel works on the central database through the bridge's own login (`central
    add-bridge`), not the admin's or a manager's; the test reads results as the admin."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    central = central_engine(pg_migrated_url)
    monkeypatch.setenv("MANGALM_CENTRAL_URL", bridge_url(pg_migrated_url))
    with ZohoServer() as server:
        seeded = seed_zoho(server, invoices=5)
        bridge.run_once(central, connect(server, ManualClock()), ["accounts", "contacts", "items"])
        save_config(bridge_config(server))
        set_secret(SECRET_CLIENT, server.client_secret)
        set_secret(SECRET_REFRESH, server.new_refresh_token())
        yield central, server, seeded
    central.dispose()


@pytest.fixture
def view(qtbot, runner, engine, db_path):
    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.views.zoho import ZohoView

    v = ZohoView(AppContext(engine=engine, db_path=db_path, runner=runner))
    qtbot.addWidget(v)
    v.show()
    return v


def test_panel_runs_the_bridge_and_releases_parked_orders(zoho_world, view, qtbot):
    central, server, _ = zoho_world
    first, _ = make_orders(central, 2)
    with session_scope(central) as s:  # a line with quantity 0: Zoho refuses the order
        line = s.scalar(
            select(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.number == first, OrderLine.line_no == 1)
        )
        line.quantity = 0
    view.activated()
    qtbot.waitUntil(lambda: "Orders waiting: 2" in view.counts.text(), timeout=20000)
    assert "connected" in view.connection.text() and view.run_button.isEnabled()

    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.message.text().startswith("Done"), timeout=30000)
    assert "1 orders sent, 1 parked" in view.message.text()
    qtbot.waitUntil(lambda: view.parked.rowCount() == 1, timeout=20000)
    assert "Quantity should be greater than zero" in view.parked.item(0, 2).text()
    assert view.runs.rowCount() >= 2 and "invoices" in view.runs.item(0, 3).text()

    with session_scope(central) as s:
        s.get(OrderLine, line.id).quantity = 3
    view.parked.selectRow(0)
    qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1 order(s) will be sent" in view.message.text(), timeout=20000)
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=20000)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Orders sent: 2" in view.counts.text(), timeout=30000)
    assert view.parked.rowCount() == 0 and len(server.salesorders) == 2


def test_panel_says_so_when_another_bridge_runs(zoho_world, view, qtbot):
    central, server, _ = zoho_world
    view.activated()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=20000)
    with bridge.BridgeLock(central):
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Another Zoho bridge" in view.message.text(), timeout=20000)
    assert not server.api_log("/books/v3/invoices")  # nothing was done


def test_panel_without_central_database_explains(view, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MANGALM_CENTRAL_URL", raising=False)
    view.activated()
    qtbot.waitUntil(lambda: "No central database" in view.message.text(), timeout=20000)
    assert not view.run_button.isEnabled()
    assert "not set up" in view.connection.text()


def test_panel_warns_when_the_daily_budget_is_below_a_first_pull(zoho_world, view, qtbot):
    from decimal import Decimal

    from mangalm_desktop.db.models import Invoice, Store
    from tests.zoho_server.support import T0

    central, server, _ = zoho_world
    save_config(bridge_config(server, daily_budget=100))
    with session_scope(central) as s:  # a CSV-imported history of 150 invoices
        store = s.scalars(select(Store).order_by(Store.code)).first()
        for k in range(150):
            s.add(
                Invoice(
                    number=f"H-{k:05d}",
                    store_id=store.id,
                    invoice_date=T0.date(),
                    total=Decimal("1.00"),
                    source="import",
                )
            )
    view.activated()
    qtbot.waitUntil(lambda: "below what the first pull needs" in view.message.text(), timeout=20000)
    assert "The daily budget (100 requests)" in view.message.text()
    assert "Orders maybe created: 0" in view.counts.text()


def test_panel_on_a_managers_login_says_the_bridge_needs_its_own(
    pg_url, tmp_path, monkeypatch, view, qtbot
):
    from tests.zoho_server.roles import bridge_url, manager_url

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    central = central_engine(pg_url)
    bridge_url(pg_url)  # central init
    monkeypatch.setenv("MANGALM_CENTRAL_URL", manager_url(pg_url))
    view.activated()
    qtbot.waitUntil(lambda: "add-bridge" in view.message.text(), timeout=20000)
    assert "cannot do what the Zoho bridge needs" in view.message.text()
    assert "Traceback" not in view.message.text() and not view.run_button.isEnabled()
    central.dispose()
