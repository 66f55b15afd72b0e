"""An agent's day on the small demo company, driven through the widgets only (issue 17,
journeys a-c; d is in test_reports_journey.py, e in test_day_seams.py). The database is read
only to check what the clicks and keys did."""

from __future__ import annotations

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintPreviewDialog
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QInputDialog, QMessageBox
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import CallLog, Order, OrderLine, Store
from tests.gui.people import answer_modal, click, click_text, type_and_ok
from tests.gui.test_day_seams import WAIT, open_dialog, orders_showing, submit_from_today

pytestmark = pytest.mark.gui


def set_first_quantity(dialog, qtbot, quantity: int) -> None:
    """Click the first line's Qty cell, F2, type the quantity, Enter."""
    table = dialog.table
    rect = table.visualRect(table.model().index(0, 2))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QTest.keyClick(table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert editor is not table, "F2 opened no editor"
    editor.selectAll()
    QTest.keyClicks(editor, str(quantity))
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines[0].quantity == quantity, timeout=WAIT)
    qtbot.waitUntil(lambda: dialog.idle, timeout=WAIT)


def submit(dialog, qtbot) -> None:
    answer_modal(QMessageBox, lambda box: click_text(box, "Yes"), timeout_s=3)  # credit limit
    QTest.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.result is not None and not dialog.isVisible(), timeout=WAIT)


def test_a_morning_from_today_to_a_printed_order(demo_window, qtbot, tmp_path, monkeypatch):
    window, engine = demo_window
    today = window.show_view("today")
    qtbot.waitUntil(lambda: today.model.rowCount() > 0, timeout=WAIT)
    first = today.rows[0]
    QTest.keyClick(
        today.table, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier
    )  # its suggested order
    qtbot.waitUntil(lambda: "predictions" in window.views, timeout=WAIT)
    predictions = window.views["predictions"]
    qtbot.waitUntil(
        lambda: (
            predictions.shown_store is not None
            and predictions.shown_store.id == first.store_id
            and predictions.accept_button.isEnabled()
        ),
        timeout=WAIT,
    )
    click(predictions.accept_button)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    dialog = open_dialog()
    qtbot.waitUntil(lambda: dialog.ready and len(dialog.lines) > 0, timeout=WAIT)
    n, product = len(dialog.lines), dialog.lines[0].product.id
    set_first_quantity(dialog, qtbot, 7)
    submit(dialog, qtbot)
    number = dialog.result.number

    with session_scope(engine) as s:
        order = s.scalars(select(Order).where(Order.number == number)).one()
        assert order.state == "submitted" and order.store_id == first.store_id
        lines = {
            ln.product_id: ln.quantity
            for ln in s.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        }
        store_name = s.get(Store, first.store_id).name
    assert len(lines) == n and lines[product] == 7

    view = orders_showing(window, qtbot, number)
    out = tmp_path / "morning.pdf"
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), "")
    )
    click(view.buttons["pdf"])
    qtbot.waitUntil(out.exists, timeout=WAIT)
    window.ctx.runner.wait_idle()
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    assert number in text and store_name.split()[0] in text

    click(view.buttons["print"])
    qtbot.waitUntil(
        lambda: any(isinstance(d, QPrintPreviewDialog) and d.isVisible() for d in view.dialogs),
        timeout=WAIT,
    )
    preview = next(d for d in view.dialogs if isinstance(d, QPrintPreviewDialog))
    assert number in preview.windowTitle()
    preview.close()


def test_b_a_call_without_an_order(demo_window, qtbot):
    from mangalm_desktop.gui.call_dialogs import CallDialog

    window, engine = demo_window
    today = window.show_view("today")
    qtbot.waitUntil(lambda: today.model.rowCount() > 0, timeout=WAIT)
    store_id = today.rows[0].store_id
    click(today.call_button)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), CallDialog), timeout=WAIT)
    dialog = QApplication.activeModalWidget()
    dialog.outcome.setFocus()
    for _ in range(dialog.outcome.count()):
        if dialog.outcome.currentText() == "Nothing needed":
            break
        QTest.keyClick(dialog.outcome, Qt.Key.Key_Down)
    assert dialog.outcome.currentText() == "Nothing needed"
    QTest.keyClicks(dialog.notes, "Stocked up at the wholesale market")
    click(dialog.buttons.button(QDialogButtonBox.StandardButton.Save))
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    with session_scope(engine) as s:
        (call,) = s.scalars(
            select(CallLog).where(
                CallLog.store_id == store_id,
                CallLog.notes == "Stocked up at the wholesale market",
            )
        ).all()
        assert call.outcome == "not_needed" and call.order_id is None
    assert not [o for o in s_orders(engine) if o != "invoiced"]


def s_orders(engine) -> list[str]:
    with session_scope(engine) as s:
        return [o.state for o in s.scalars(select(Order))]


def test_c_amend_then_cancel_with_a_reason(demo_window, qtbot):
    window, engine = demo_window
    result = submit_from_today(window, qtbot)
    view = orders_showing(window, qtbot, result.number)
    click(view.buttons["edit"])
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    dialog = open_dialog()
    qtbot.waitUntil(lambda: dialog.ready and dialog.mode == "amend", timeout=WAIT)
    set_first_quantity(dialog, qtbot, 9)
    first_product = dialog.lines[0].product.id
    submit(dialog, qtbot)
    with session_scope(engine) as s:
        order = s.get(Order, result.order_id)
        assert order.version == 2 and order.state == "submitted"
        qty = s.scalars(
            select(OrderLine.quantity).where(
                OrderLine.order_id == order.id, OrderLine.product_id == first_product
            )
        ).one()
    assert qty == 9

    qtbot.waitUntil(lambda: view.detail is not None and view.detail.version == 2, timeout=WAIT)
    asked = answer_modal(QInputDialog, type_and_ok("Shop closed for renovation"))
    click(view.buttons["cancel"])
    assert asked.done
    qtbot.waitUntil(lambda: s_state(engine, result.order_id) == "cancelled", timeout=WAIT)
    with session_scope(engine) as s:
        assert "Cancelled: Shop closed for renovation" in s.get(Order, result.order_id).notes


def s_state(engine, order_id) -> str:
    with session_scope(engine) as s:
        return s.get(Order, order_id).state
