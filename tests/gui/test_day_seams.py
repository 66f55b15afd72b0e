"""Issue 17's found defects, replayed on the small demo company as a person meets them: each
test clicks the real buttons and presses the real keys, and reads the database only to check.

1 an order for the wrong store after switching stores · 2 cancel without asking · 3 Save PDF
doing nothing · 4 Esc losing an unsaved order · 5 Accept taking one highlighted row and not
opening the draft · 6 the keyboard paths (Alt+S on Today, Tab to Accept, Alt+A on Orders, Enter
on an order and on a report row) · 12 the signed-in agent ignored.
"""

from __future__ import annotations

import uuid

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order, OrderLine, Prediction, Store
from tests.gui.people import answer_modal, click, click_text, type_and_ok

pytestmark = pytest.mark.gui
WAIT = 20_000


# ---- what a person does, step by step ---------------------------------------------------------
def predictions_ready(window, qtbot):
    view = window.show_view("predictions")
    qtbot.waitUntil(lambda: view.store_box.count() > 5 and view.model.rowCount() > 0, timeout=WAIT)
    return view


def lines_of(view) -> int:
    return view.model.rowCount()


def store_lines(engine, store_id: uuid.UUID) -> set[uuid.UUID]:
    with session_scope(engine) as s:
        return set(
            s.scalars(
                select(Prediction.product_id).where(
                    Prediction.store_id == store_id,
                    Prediction.deleted.is_(False),
                    Prediction.suggested_qty > 0,
                )
            )
        )


def orders_of(engine) -> list[Order]:
    with session_scope(engine) as s:
        rows = s.scalars(select(Order).where(Order.state != "invoiced")).all()
        s.expunge_all()
        return rows


def order_lines(engine, order_id) -> list[tuple[uuid.UUID, int]]:
    with session_scope(engine) as s:
        return [
            (ln.product_id, ln.quantity)
            for ln in s.scalars(select(OrderLine).where(OrderLine.order_id == order_id))
        ]


def open_dialog():
    from mangalm_desktop.gui.order_dialog import OrderDialog

    w = QApplication.activeModalWidget()
    return w if isinstance(w, OrderDialog) else None


def submit_from_today(window, qtbot):
    """Today → New order for the selected store (pre-filled) → Ctrl+Enter: the order."""
    today = window.show_view("today")
    qtbot.waitUntil(lambda: today.model.rowCount() > 0, timeout=WAIT)
    rect = today.table.visualRect(today.model.index(0, 1))
    QTest.mouseClick(today.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(today.order_button)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    dialog = open_dialog()
    qtbot.waitUntil(lambda: dialog.ready and len(dialog.lines) > 0, timeout=WAIT)
    qtbot.waitUntil(lambda: dialog.idle, timeout=WAIT)
    answer_modal(QMessageBox, lambda box: click_text(box, "Yes"), timeout_s=3)  # credit limit
    QTest.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.result is not None and not dialog.isVisible(), timeout=WAIT)
    return dialog.result


def activate(window, qtbot) -> None:
    """The person is back in the main window (shortcuts and mnemonics act in the active one)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)


def orders_showing(window, qtbot, number: str):
    activate(window, qtbot)
    view = window.show_view("orders")
    view.search.setFocus()
    QTest.keyClicks(view.search, number)
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.number == number, timeout=WAIT)
    return view


# ---- 1 ----------------------------------------------------------------------------------------
def test_switching_stores_clears_the_lines_and_accept_waits_for_the_chosen_store(
    demo_window, qtbot
):
    window, engine = demo_window
    view = predictions_ready(window, qtbot)
    assert view.accept_button.isEnabled()
    view.store_box.setFocus()
    QTest.keyClick(view.store_box, Qt.Key.Key_Down)
    # at once, before any answer: no old lines, a visible loading state, Accept off
    assert lines_of(view) == 0
    assert "Loading" in view.state_label.text()
    assert not view.accept_button.isEnabled()
    QTest.keyClick(view.store_box, Qt.Key.Key_Down)
    QTest.keyClick(view.store_box, Qt.Key.Key_Down)
    chosen = view.store_box.currentText()
    qtbot.waitUntil(lambda: view.accept_button.isEnabled(), timeout=WAIT)
    with session_scope(engine) as s:
        store = next(st for st in s.scalars(select(Store)) if chosen.startswith(st.name))
        store_id = store.id
    assert lines_of(view) == len(store_lines(engine, store_id))
    before = {o.id for o in orders_of(engine)}
    click(view.accept_button)
    qtbot.waitUntil(lambda: len(orders_of(engine)) == len(before) + 1, timeout=WAIT)
    new = next(o for o in orders_of(engine) if o.id not in before)
    assert new.store_id == store_id
    assert {p for p, _ in order_lines(engine, new.id)} == store_lines(engine, store_id)


# ---- 5 ----------------------------------------------------------------------------------------
def test_accept_takes_every_line_says_so_and_opens_the_draft(demo_window, qtbot):
    window, engine = demo_window
    view = predictions_ready(window, qtbot)
    n = lines_of(view)
    assert n > 1
    assert view.accept_button.text().replace("&", "") == f"Accept all {n} lines into new order"
    click(view.accept_button)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    dialog = open_dialog()
    qtbot.waitUntil(lambda: dialog.ready, timeout=WAIT)
    assert dialog.mode == "draft" and len(dialog.lines) == n
    assert f"with {n} lines" in window.statusBar().currentMessage()
    (order,) = orders_of(engine)
    assert len(order_lines(engine, order.id)) == n
    click(dialog.close_button)  # nothing changed since the draft was saved: closes at once
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)

    # a line the person selected: only that one, and the button says so first
    view = window.show_view("predictions")
    rect = view.table.visualRect(view.model.index(1, 0))
    QTest.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.accept_button.text().replace("&", "") == "Accept 1 line into new order"
    click(view.accept_button)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    assert "with 1 line" in window.statusBar().currentMessage()
    assert "1 lines" not in window.statusBar().currentMessage()
    assert [len(order_lines(engine, o.id)) for o in orders_of(engine)].count(1) == 1
    open_dialog().done(0)


# ---- 2 ----------------------------------------------------------------------------------------
def test_cancel_asks_for_a_reason_and_a_no_keeps_the_order(demo_window, qtbot):
    window, engine = demo_window
    result = submit_from_today(window, qtbot)
    view = orders_showing(window, qtbot, result.number)
    asked = answer_modal(QInputDialog, lambda d: click_text(d, "Cancel"))
    click(view.buttons["cancel"])
    assert asked.done and "Reason (required)" in asked.text
    window.ctx.runner.wait_idle()
    assert orders_of(engine)[0].state == "submitted"

    asked = answer_modal(QInputDialog, type_and_ok("shop shut for Diwali"))
    click(view.buttons["cancel"])
    assert asked.done
    qtbot.waitUntil(lambda: orders_of(engine)[0].state == "cancelled", timeout=WAIT)


# ---- 3 ----------------------------------------------------------------------------------------
def test_save_pdf_button_and_alt_p_write_the_file_and_errors_are_in_words(
    demo_window, qtbot, tmp_path, monkeypatch
):
    from mangalm_desktop.gui.errors import ErrorDialog

    window, engine = demo_window
    result = submit_from_today(window, qtbot)
    view = orders_showing(window, qtbot, result.number)
    target = {"path": str(tmp_path / "by-button.pdf")}
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *a, **k: (target["path"], "")
    )
    click(view.buttons["pdf"])
    qtbot.waitUntil(lambda: (tmp_path / "by-button.pdf").exists(), timeout=WAIT)
    window.ctx.runner.wait_idle()
    assert result.number in PdfReader(tmp_path / "by-button.pdf").pages[0].extract_text()

    target["path"] = str(tmp_path / "by-alt-p")  # no extension typed: .pdf is added
    QTest.keyClick(view.table, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: (tmp_path / "by-alt-p.pdf").exists(), timeout=WAIT)
    window.ctx.runner.wait_idle()
    assert len(PdfReader(tmp_path / "by-alt-p.pdf").pages) >= 1

    target["path"] = str(tmp_path / "no such folder" / "x.pdf")
    click(view.buttons["pdf"])
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, ErrorDialog) and w.isVisible() for w in QApplication.topLevelWidgets()
        ),
        timeout=WAIT,
    )
    shown = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ErrorDialog))
    assert "does not exist" in shown.report.message
    assert "Errno" not in shown.report.message and "Traceback" not in shown.report.message
    assert not (tmp_path / "no such folder").exists()
    shown.close()


# ---- 4 ----------------------------------------------------------------------------------------
def test_esc_on_an_unsaved_order_asks_first(demo_window, qtbot):
    window, engine = demo_window
    today = window.show_view("today")
    qtbot.waitUntil(lambda: today.model.rowCount() > 0, timeout=WAIT)
    click(today.order_button)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    dialog = open_dialog()
    qtbot.waitUntil(lambda: dialog.ready and len(dialog.lines) > 0, timeout=WAIT)
    n = len(dialog.lines)
    asked = answer_modal(QMessageBox, lambda box: click_text(box, "Keep editing"))
    QTest.keyClick(dialog.product_edit, Qt.Key.Key_Escape)
    assert asked.done and f"{n} unsaved lines" in asked.text
    assert dialog.isVisible()

    asked = answer_modal(QMessageBox, lambda box: click_text(box, "Save draft"))
    click(dialog.close_button)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    assert asked.done
    (order,) = orders_of(engine)
    assert order.state == "draft" and len(order_lines(engine, order.id)) == n


# ---- 6 ----------------------------------------------------------------------------------------
def test_the_keyboard_paths(demo_window, qtbot):
    window, engine = demo_window
    today = window.show_view("today")
    qtbot.waitUntil(lambda: today.model.rowCount() > 0, timeout=WAIT)
    first = today.rows[0]
    assert today.table.selectionModel().selectedRows()[0].row() == 0
    # Enter opens the call screen (tests/gui/test_call_screen.py); Alt+S the suggested order
    QTest.keyClick(today.table, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "predictions" in window.views, timeout=WAIT)
    predictions = window.views["predictions"]
    qtbot.waitUntil(lambda: window.current_view() is predictions, timeout=WAIT)
    qtbot.waitUntil(
        lambda: (
            predictions.shown_store is not None and predictions.shown_store.id == first.store_id
        ),
        timeout=WAIT,
    )
    # Tab from the store box (and out of the table) reaches Accept
    predictions.table.setFocus()
    for _ in range(6):
        if predictions.accept_button.hasFocus():
            break
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert predictions.accept_button.hasFocus()
    QTest.keyClick(predictions.accept_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    draft = open_dialog()
    qtbot.waitUntil(lambda: draft.ready, timeout=WAIT)
    QTest.keyClick(draft.product_edit, Qt.Key.Key_Escape)  # saved draft: closes without asking
    qtbot.waitUntil(lambda: not draft.isVisible(), timeout=WAIT)

    # Orders: Enter on the row opens it; Alt+A is "Edit / amend" (Alt+E stays the Edit menu)
    orders = window.show_view("orders")
    qtbot.waitUntil(
        lambda: orders.detail is not None and orders.detail.state == "draft", timeout=WAIT
    )
    orders.table.setFocus()
    QTest.keyClick(orders.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    opened = open_dialog()
    qtbot.waitUntil(lambda: opened.ready, timeout=WAIT)
    QTest.keyClick(opened.product_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not opened.isVisible(), timeout=WAIT)
    activate(window, qtbot)
    QTest.keyClick(orders.table, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    assert open_dialog().order_id == orders.detail.id
    open_dialog().done(0)


# ---- 12 ---------------------------------------------------------------------------------------
def test_the_signed_in_agent_sees_their_stores_and_their_orders_are_theirs(demo_window, qtbot):
    from mangalm_desktop.db.models import Agent
    from mangalm_desktop.domain.enums import Role
    from mangalm_desktop.security.roles import Identity

    window, engine = demo_window
    # the agent of a store on the whole company's list today (not every agent has calls on
    # every demo day)
    everyone = window.show_view("today")
    qtbot.waitUntil(lambda: everyone.model.rowCount() > 0, timeout=WAIT)
    with session_scope(engine) as s:
        agent = s.get(Agent, s.get(Store, everyone.rows[0].store_id).agent_id)
        agent_id, code = agent.id, agent.code
        theirs = {st.id for st in s.scalars(select(Store).where(Store.agent_id == agent_id))}
        active = s.scalars(select(Store).where(Store.active.is_(True))).all()
        mine_active = {st.id for st in active if st.agent_id == agent_id}
    assert 0 < len(mine_active) < len(active)
    # what signing in does (gui.signin_dialog.SessionGuard)
    window.ctx.identity = Identity("asha", Role.AGENT, agent_id=agent_id, agent_code=code)
    window.apply_identity()

    today = window.show_view("today")
    qtbot.waitUntil(
        lambda: today.model.rowCount() > 0 and {e.store_id for e in today.rows} <= theirs,
        timeout=WAIT,
    )
    view = predictions_ready(window, qtbot)
    assert view.store_box.count() == len(mine_active)
    assert {s.id for s in view.stores} == mine_active
    click(view.accept_button)
    qtbot.waitUntil(lambda: open_dialog() is not None, timeout=WAIT)
    (order,) = orders_of(engine)
    assert order.agent_id == agent_id and order.store_id in mine_active
    open_dialog().done(0)
