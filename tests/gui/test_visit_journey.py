"""Issue 19's journey: a morning of visits from Today, synced to central and pushed to Zoho.

The company's data comes from the strict local Zoho server (the bridge pulls stores, items and
invoices into a real PostgreSQL); a manager's no-order reasons are on the central list; the
agent's laptop syncs, and the agent — keys only — makes a visit from Today (the suggested
order, a shelf count, a cheque collected), then a visit to the next store that ends without an
order, with a reason. The laptop syncs; the bridge pushes the sales order and the approved
customer payment to Zoho, and a second bridge run pushes nothing again.

A manager's scheme (5% off) is on central before the laptop syncs: the call screen shows it on
the lines before saving, the order keeps it, and the Zoho sales order carries it as line
discounts.

The cheque, settled against the oldest invoices, reaches central as collected; a manager
approves it on the office laptop; the bridge sends it to Books as a customer payment applied to
those invoices, once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select, update

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import NoOrderReason, Store
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.forecasting.service import run_forecast
from mangalm_desktop.payments.service import approve
from mangalm_desktop.schemes.service import RuleInput, SchemeInput, create_scheme
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.sync.central import add_user, init_central
from mangalm_desktop.sync.service import sync_once
from mangalm_desktop.zoho import bridge
from mangalm_desktop.zoho.clock import ManualClock
from tests.gui.conftest import AS_OF
from tests.gui.test_call_screen import Keys, call_screen, pay_cheque
from tests.integration.sync_support import as_user, central_query
from tests.zoho_server import ZohoServer
from tests.zoho_server.support import T0, central_engine, connect

pytestmark = [pytest.mark.gui, pytest.mark.pg]
WAIT = 30_000


def seed_company(server: ZohoServer) -> None:
    """Three shops that buy every week up to the day before AS_OF, six items."""
    items = [
        server.add_item(f"Item {j:03d}", f"{40 + 5 * j}.50", sku=f"SKU{j:04d}") for j in range(6)
    ]
    for i in range(3):
        acc = server.add_account(
            f"Shop {i:03d}", T0, Account_Number=f"S{i:04d}", Billing_City="Pune",
            Phone=f"+91-20-555{i:04d}",
        )  # fmt: skip
        cust = server.add_contact(f"Shop {i:03d}", crm_account_id=acc["id"])
        for week in range(16):
            day = AS_OF - dt.timedelta(days=2 + 7 * week + i)
            lines = [(items[(i + m) % 6], 6 + 2 * m, items[(i + m) % 6]["rate"]) for m in range(4)]
            server.add_invoice(
                f"INV-{i}-{week:03d}",
                cust,
                day,
                [(it, q, str(r)) for it, q, r in lines],
                T0 + dt.timedelta(minutes=10 * i + week),
            )


def test_a_morning_of_visits_reaches_central_and_zoho_once(pg_url, make_window, qtbot, tmp_path):
    clock = ManualClock()
    with ZohoServer(clock=clock.now) as server:
        seed_company(server)
        central = central_engine(pg_url)
        init_central(pg_url)
        client = connect(server, clock)
        report = bridge.run_once(central, client, ["accounts", "contacts", "items", "invoices"])
        assert [r.error for r in report.results] == [None] * 4
        ravi = add_user(pg_url, "A07", "Ravi Kumar", identity=None)
        meera = add_user(pg_url, "M01", "Meera Shah", manager=True, identity=None)
        create_scheme(  # the manager's scheme, central: 5% off everything this winter
            central,
            None,
            SchemeInput(
                "WINTER5",
                "Winter 5% off",
                "percent",
                AS_OF - dt.timedelta(days=30),
                rules=[RuleInput(1, Decimal("5"))],
            ),
        )
        with session_scope(central) as s:  # the stores are Ravi's; the manager's reasons
            s.execute(update(Store).values(agent_id=ravi.agent_id))
            s.add_all(
                [
                    NoOrderReason(code="stock_enough", label="Enough stock on the shelf", sort_order=10),
                    NoOrderReason(code="owner_absent", label="Owner not in the shop", sort_order=20),
                ]
            )  # fmt: skip

        path = tmp_path / "ravi.sqlite"
        laptop = open_local_database(path)
        connector = lambda: psycopg.connect(as_user(pg_url, ravi.db_role), connect_timeout=5)  # noqa: E731
        assert sync_once(laptop, connector).ok
        ensure_search_schema(laptop, AS_OF)
        run_forecast(laptop, today=AS_OF, identity=None)

        window = make_window(laptop, path)
        window.ctx.identity = Identity("ravi", Role.AGENT, agent_id=ravi.agent_id, agent_code="A07")
        today = window.show_view("today")
        qtbot.waitUntil(lambda: today.model.rowCount() >= 2, timeout=WAIT)
        keys = Keys()

        # 1 — the first store: its suggested order, a shelf count, a cheque for ₹1,000
        first = today.rows[0]
        today.table.setFocus()
        keys.press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: call_screen() is not None and call_screen().ready, timeout=WAIT)
        screen = call_screen()
        assert screen.store_id == first.store_id and screen.lines, "no suggested order"
        assert "overdue" in screen.money.text() or "nothing overdue" in screen.money.text()
        qtbot.waitUntil(lambda: screen.idle and screen.checked is not None, timeout=WAIT)
        scheme_cell = screen.table.item(0, screen.COL_SCHEME).text()
        assert "WINTER5: 5% off" in scheme_cell, scheme_cell  # shown before saving
        assert "schemes ₹" in screen.total_label.text()
        sku = screen.lines[0].product.sku
        keys.type(sku)
        keys.press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.qty_edit, timeout=WAIT)
        keys.press(Qt.Key.Key_Tab)  # the quantity stays; the shelf has 3
        keys.type("3")
        keys.press(Qt.Key.Key_Return)
        pay_cheque(screen, qtbot, keys, "1000", "004512")
        keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: screen.saved_visit is not None, timeout=WAIT)
        visit = screen.saved_visit
        assert visit.order is not None and visit.payment is not None and visit.stock_rows == 1

        # 2 — the next store: no order, "Owner not in the shop"
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)
        window.ctx.runner.wait_idle(WAIT)
        qtbot.waitUntil(lambda: today.model.rowCount() >= 2, timeout=WAIT)
        today.table.setFocus()
        while today.selected_store().store_id == first.store_id:
            keys.press(Qt.Key.Key_Down)
        second = today.selected_store()
        keys.press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: call_screen() is not None and call_screen().ready, timeout=WAIT)
        screen2 = call_screen()
        assert screen2.store_id == second.store_id
        keys.press(Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
        keys.press(Qt.Key.Key_Down)
        keys.press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
        keys.press(Qt.Key.Key_Down)
        assert screen2.reason_box.currentText() == "Owner not in the shop"
        keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: screen2.saved_visit is not None, timeout=WAIT)
        window.ctx.runner.wait_idle(WAIT)

        # 3 — the laptop syncs: everything is central, once
        report = sync_once(laptop, connector)
        assert report.ok and report.parked == 0, report
        order_id = visit.order.order_id
        assert central_query(pg_url, "SELECT state FROM orders WHERE id = %s", order_id) == [
            ("synced",)
        ]
        assert central_query(
            pg_url,
            "SELECT c.outcome, r.code FROM call_log c LEFT JOIN no_order_reason r "
            "ON r.id = c.reason_id ORDER BY c.outcome",
        ) == [("no_order", "owner_absent"), ("ordered", None)]
        assert central_query(pg_url, "SELECT store_id, quantity FROM store_stock_report") == [
            (first.store_id, 3)
        ]
        [(amount, mode, ref, status)] = central_query(
            pg_url, "SELECT amount, mode, reference, status FROM payment"
        )
        assert (amount, mode, ref, status) == (Decimal("1000.00"), "cheque", "004512", "collected")
        settled = central_query(pg_url, "SELECT sum(amount) FROM payment_allocation")
        assert settled == [(Decimal("1000.00"),)]  # the oldest invoices, by "Settle oldest first"

        # the manager approves the cheque on the office laptop
        office = open_local_database(tmp_path / "office.sqlite")
        to_office = lambda: psycopg.connect(as_user(pg_url, meera.db_role), connect_timeout=5)  # noqa: E731
        assert sync_once(office, to_office).ok
        approve(
            office, Identity("meera", Role.MANAGER, agent_id=meera.agent_id), visit.payment.number
        )
        assert sync_once(office, to_office).ok

        lines = central_query(
            pg_url,
            "SELECT s.code, l.scheme_pct FROM order_line l JOIN scheme s ON s.id = l.scheme_id "
            "WHERE l.order_id = %s",
            order_id,
        )
        assert lines and all(x == ("WINTER5", Decimal("5.0000")) for x in lines), lines

        # 4 — the bridge pushes the sales order to Zoho exactly once
        report = bridge.run_once(central, client, ["orders"])
        assert report.results[0].sent == 1, report.as_dict()
        [(number, state)] = central_query(
            pg_url, "SELECT number, state FROM orders WHERE id = %s", order_id
        )
        assert state == "sent_to_zoho" and server.by_reference()[number] == 1
        [so] = server.salesorders
        assert all(li.get("discount") for li in so["line_items"]), so["line_items"]  # the scheme
        bridge.run_once(central, client, ["orders"])
        assert server.by_reference()[number] == 1 and len(server.salesorders) == 1
        # ... and the cheque as a customer payment, exactly once
        res = bridge.run_once(central, client, ["payments"]).results[0]
        assert (res.sent, res.parked) == (1, 0), res
        assert bridge.run_once(central, client, ["payments"]).results[0].sent == 0
        assert server.payments_by_reference() == {visit.payment.number: 1}
        [cp] = server.customerpayments
        assert cp["amount"] == 1000.0 and cp["invoices"], cp
        assert sync_once(laptop, connector).ok  # the laptop learns it is in Zoho
        with session_scope(laptop) as s:
            from mangalm_desktop.db.models import Order

            assert s.scalar(select(Order.state).where(Order.id == order_id)) == "sent_to_zoho"
        window.close()
        laptop.dispose()
        central.dispose()
