"""The call screen, driven as a person drives it: keys into whatever has the focus.

The first test is issue 19's measure: a 20-line order from Today to saved without the mouse,
with the keystrokes counted (every key pressed, a chord such as Ctrl+Enter counting once) and
the time from the first key to the saved visit printed.
"""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import (
    CallLog,
    NoOrderReason,
    Order,
    OrderLine,
    Outbox,
    Payment,
    PaymentAllocation,
    Product,
    StoreStockReport,
)
from tests.gui.people import answer_modal

pytestmark = pytest.mark.gui
WAIT = 20_000


class Keys:
    """A person at the keyboard: every key goes to the focused widget, and is counted."""

    def __init__(self) -> None:
        self.count = 0

    def type(self, text: str) -> None:
        QTest.keyClicks(QApplication.focusWidget(), text)
        self.count += len(text)
        QApplication.processEvents()

    def press(self, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        QTest.keyClick(QApplication.focusWidget(), key, modifier)
        self.count += 1
        QApplication.processEvents()


def call_screen():
    from mangalm_desktop.gui.call_screen import CallScreen

    for w in QApplication.topLevelWidgets():
        if isinstance(w, CallScreen) and w.isVisible():
            return w
    return None


def open_from_today(window, qtbot, keys: Keys):
    today = window.show_view("today")
    qtbot.waitUntil(lambda: today.model.rowCount() > 0, timeout=WAIT)
    entry = today.selected_store()
    today.table.setFocus()  # Ctrl+1 (the Today view) puts the cursor in the call list
    keys.press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: call_screen() is not None, timeout=WAIT)
    screen = call_screen()
    qtbot.waitUntil(lambda: screen.ready, timeout=WAIT)
    assert screen.store_id == entry.store_id
    return screen, entry


def test_a_20_line_order_from_today_without_the_mouse(demo_window, qtbot, capsys):
    window, engine = demo_window
    keys = Keys()
    started = time.perf_counter()
    screen, entry = open_from_today(window, qtbot, keys)
    assert QApplication.focusWidget() is screen.product_edit
    assert "Outstanding" in screen.money.text() and screen.past.text().startswith("<b>Last")
    prefilled = [x.product.sku for x in screen.lines]
    with session_scope(engine) as s:
        others = [
            sku
            for sku in s.scalars(
                select(Product.sku).where(Product.active.is_(True)).order_by(Product.sku)
            )
            if sku not in prefilled
        ]
    # keep at most 20 suggested lines (Delete on the extra ones), then type all 20 lines by SKU
    while len(screen.lines) > 20:
        if QApplication.focusWidget() is not screen.table:
            keys.press(Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
        keys.press(Qt.Key.Key_End)
        keys.press(Qt.Key.Key_Delete)
    if QApplication.focusWidget() is not screen.product_edit:
        keys.press(Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    skus = ([x.product.sku for x in screen.lines] + others)[:20]
    for n, sku in enumerate(skus):
        keys.type(sku)
        keys.press(Qt.Key.Key_Return)  # product → quantity
        qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.qty_edit, timeout=WAIT)
        keys.type(str(n + 1))
        if n < 5:  # the first five were counted on the shelf too: Tab, the count
            keys.press(Qt.Key.Key_Tab)
            assert QApplication.focusWidget() is screen.shelf_edit
            keys.type(str(n))
        keys.press(Qt.Key.Key_Return)  # the line is added; back in the product box
        assert QApplication.focusWidget() is screen.product_edit
    assert len(screen.lines) == 20
    assert "20 lines" in screen.total_label.text()
    keys.press(Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)  # next call: a week from today
    qtbot.waitUntil(screen.next_check.isChecked, timeout=WAIT)  # a mnemonic animates its click
    answered = answer_modal(QMessageBox, lambda box: QTest.keyClick(box, Qt.Key.Key_Y), 5)
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # save
    qtbot.waitUntil(lambda: screen.saved_visit is not None, timeout=WAIT)
    seconds = time.perf_counter() - started
    count = keys.count + (1 if answered.done else 0)  # Y on the credit-limit question
    result = screen.saved_visit
    with capsys.disabled():
        print(
            f"\n20-line order from Today to saved: {count} keystrokes, {seconds:.1f} s "
            f"(credit question: {answered.done}; offscreen, loaded shared machine)"
        )
    assert not screen.isVisible()
    with session_scope(engine) as s:
        order = s.get(Order, result.order.order_id)
        lines = list(s.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
        call = s.get(CallLog, result.call_id)
        shelf = sorted(
            s.scalars(
                select(StoreStockReport.quantity).where(
                    StoreStockReport.store_id == entry.store_id,
                    StoreStockReport.created_at >= call.called_at,
                )
            )
        )
        ops = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.row_id == order.id))
    assert order.state == "submitted" and order.store_id == entry.store_id
    assert sorted(x.quantity for x in lines) == list(range(1, 21))
    assert (call.outcome, call.order_id) == ("ordered", order.id)
    assert call.next_call_date is not None
    assert shelf == [0, 1, 2, 3, 4]
    assert ops == 1


def pay_cheque(screen, qtbot, keys: Keys, amount: str, number: str) -> None:
    keys.press(Qt.Key.Key_Y, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.tabs.currentIndex() == 1, timeout=WAIT)
    panel = screen.pay_panel
    qtbot.waitUntil(lambda: panel.dues is not None, timeout=WAIT)  # its invoices are shown
    keys.press(Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is panel.amount
    keys.type(amount)
    keys.press(Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is panel.mode
    while panel.mode.currentText() != "Cheque":
        keys.press(Qt.Key.Key_Down)
    keys.press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is panel.reference
    keys.type(number)
    assert panel.cheque_date.isEnabled()
    for _ in range(8):  # Tab on to "Settle oldest first", Space presses it
        if QApplication.focusWidget() is panel.oldest_button:
            break
        keys.press(Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is panel.oldest_button
    keys.press(Qt.Key.Key_Space)


def calls_of(engine, store_id) -> int:
    with session_scope(engine) as s:
        return s.scalar(
            select(func.count()).select_from(CallLog).where(CallLog.store_id == store_id)
        )


def submitted_orders(engine, store_id) -> int:
    with session_scope(engine) as s:
        return s.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.store_id == store_id, Order.state == "submitted")
        )


def test_no_order_with_a_reason_by_keys(demo_window, qtbot):
    window, engine = demo_window
    keys = Keys()
    screen, entry = open_from_today(window, qtbot, keys)
    orders_before = submitted_orders(engine, entry.store_id)
    keys.press(Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is screen.outcome_box
    keys.press(Qt.Key.Key_Down)  # Ordered → No order
    assert screen.reason_box.isEnabled()
    keys.press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    keys.press(Qt.Key.Key_Down)  # the second reason
    chosen = screen.reason_box.currentText()
    # ... but paid ₹2,500 by cheque: Alt+Y the payment tab, Alt+A amount, Alt+M mode, Alt+R ref
    pay_cheque(screen, qtbot, keys, "2500", "004512")
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.saved_visit is not None, timeout=WAIT)
    with session_scope(engine) as s:
        call = s.get(CallLog, screen.saved_visit.call_id)
        reason = s.get(NoOrderReason, call.reason_id)
        payment = s.scalar(
            select(Payment).where(Payment.id == screen.saved_visit.payment.payment_id)
        )
        settled = s.scalars(
            select(PaymentAllocation.amount).where(PaymentAllocation.payment_id == payment.id)
        ).all()
    assert call.outcome == "no_order" and reason.label == chosen and call.order_id is None
    assert (payment.amount, payment.mode, payment.reference) == (D("2500"), "cheque", "004512")
    assert payment.store_id == entry.store_id and D(0) < sum(settled, D(0)) <= D("2500")
    assert submitted_orders(engine, entry.store_id) == orders_before  # no order made


def test_ctrl_n_on_stores_opens_the_call_and_esc_asks_before_losing_lines(demo_window, qtbot):
    window, engine = demo_window
    stores = window.show_view("stores")
    qtbot.waitUntil(lambda: stores.model.rowCount() > 0, timeout=WAIT)
    stores.table.setFocus()
    stores.table.selectRow(2)
    chosen = stores.model.row_at(2)
    calls_before = calls_of(engine, chosen.id)
    QTest.keyClick(stores.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: call_screen() is not None, timeout=WAIT)
    screen = call_screen()
    qtbot.waitUntil(lambda: screen.ready, timeout=WAIT)
    assert screen.store_id == chosen.id and chosen.name in screen.title.text()
    QTest.keyClicks(screen.product_edit, "a")
    QTest.keyClick(screen.product_edit, Qt.Key.Key_Return)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # a line typed
    asked = answer_modal(QMessageBox, lambda box: QTest.keyClick(box, Qt.Key.Key_N), 5)
    QTest.keyClick(screen.product_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: asked.done, timeout=WAIT)
    assert screen.isVisible() and "without saving" in asked.text  # kept
    asked = answer_modal(QMessageBox, lambda box: QTest.keyClick(box, Qt.Key.Key_Y), 5)
    QTest.keyClick(screen.product_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not screen.isVisible(), timeout=WAIT)
    assert calls_of(engine, chosen.id) == calls_before  # closing saved nothing
