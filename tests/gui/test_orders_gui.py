"""Orders GUI: an order typed with the keyboard only, the list, detail, actions, dialogs."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QInputDialog
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import AuditLog, CallLog, Order, Outbox, StoreStockReport
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.gui.order_print import make_printer, paint_pdf
from mangalm_desktop.orders import pdf, queries, service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from tests.gui.people import answer_modal, click, type_and_ok
from tests.integration.orders_support import seed

pytestmark = pytest.mark.gui


@pytest.fixture
def seeded(engine):
    ensure_search_schema(engine)
    return seed(engine)


@pytest.fixture
def window(make_window, engine, db_path, seeded):
    return make_window(engine, db_path)


def focused():
    return QApplication.focusWidget()


def type_into_focus(qtbot, text: str, enter: bool = True) -> None:
    widget = focused()
    assert widget is not None
    qtbot.keyClicks(widget, text)
    if enter:
        qtbot.keyClick(focused(), Qt.Key.Key_Return)
        qtbot.wait(30)  # let the queued events run, as between a person's keystrokes


def open_new_order(window, qtbot, keyboard: bool = True):
    if keyboard:
        before = window.views.get("orders")
        count = len(before.dialogs) if before else 0
        qtbot.keyClick(  # Ctrl+N is the call screen (docs/visits.md)
            window,
            Qt.Key.Key_N,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        view = window.views["orders"]
        assert len(view.dialogs) == count + 1 or count == 0
        dialog = view.dialogs[-1]
    else:
        dialog = window.views["orders"].new_order()
    qtbot.waitUntil(lambda: dialog.ready, timeout=10_000)
    return window.views["orders"], dialog


def test_keyboard_only_order_from_store_search_to_submitted(window, qtbot, engine, seeded):
    view, dialog = open_new_order(window, qtbot)
    assert focused() is dialog.store_edit
    type_into_focus(qtbot, "lakshmi")
    assert dialog.store is not None and dialog.store.code == "ST-001"
    assert focused() is dialog.product_edit

    type_into_focus(qtbot, "dal-1")  # by SKU
    assert focused() is dialog.qty_edit
    assert "pack of 10" in dialog.pack_label.text()
    focused().selectAll()
    qtbot.keyClicks(focused(), "7")
    assert "7 is not a whole number of packs of 10; 10 would be." in dialog.pack_label.text()
    focused().selectAll()
    type_into_focus(qtbot, "20")
    assert focused() is dialog.product_edit

    type_into_focus(qtbot, "chakki atta")  # by part of the name
    focused().selectAll()
    qtbot.keyClicks(focused(), "8")
    qtbot.keyClick(focused(), Qt.Key.Key_Tab)  # to the line discount
    assert focused() is dialog.line_disc
    focused().selectAll()
    type_into_focus(qtbot, "5")
    assert [(x.product.sku, x.quantity, x.discount_pct) for x in dialog.lines] == [
        ("DAL-1", 20, D(0)),
        ("ATTA-5", 8, D(5)),
    ]
    # 20 × 139.99 = 2,799.80; 8 × 245.50 = 1,964.00 − 5 % (98.20) = 1,865.80 → 4,665.60
    assert "total ₹4,665.60" in dialog.totals_label.text()

    # Tab through to the notes and type them, keyboard only
    for _ in range(20):
        if focused() is dialog.notes_edit:
            break
        qtbot.keyClick(focused(), Qt.Key.Key_Tab)
    assert focused() is dialog.notes_edit
    qtbot.keyClicks(focused(), "Leave at the back door")
    qtbot.keyClick(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    res = dialog.result
    assert res.state == "submitted" and res.total == D("4665.60")
    with session_scope(engine) as s:
        o = queries.get_order(s, res.order_id, identity=None)
        ops = s.scalars(select(Outbox).where(Outbox.row_id == res.order_id)).all()
    assert [(x.sku, x.quantity) for x in o.lines] == [("DAL-1", 20), ("ATTA-5", 8)]
    assert o.notes == "Leave at the back door" and len(ops) == 1
    with session_scope(engine) as s:
        [entry] = s.scalars(select(AuditLog)).all()
    assert (entry.action, entry.actor, entry.entity_id) == ("order_submit", "desktop", str(o.id))
    assert json.loads(ops[0].payload)["order"]["number"] == res.number
    # the list refreshed through the change signal and shows it
    qtbot.waitUntil(lambda: any(r.number == res.number for r in view.model.rows), timeout=10_000)
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.number == res.number)
    assert "total ₹4,665.60" in view.detail_totals.text()


def draft_dialog(window, qtbot):
    view, dialog = open_new_order(window, qtbot)
    type_into_focus(qtbot, "ST-001")
    return view, dialog


def messages_after_check(dialog, qtbot) -> list[tuple[str, str]]:
    dialog._check_timer.start(0)
    qtbot.waitUntil(lambda: dialog.idle and dialog.checked is not None, timeout=10_000)
    qtbot.wait(10)
    qtbot.waitUntil(lambda: dialog.idle, timeout=10_000)
    return dialog.message_list


def type_into(qtbot, widget, text: str, enter: bool = True) -> None:
    """Type into a given field (the keyboard-only flow is proven by the test above)."""
    if hasattr(widget, "selectAll"):
        widget.selectAll()
    qtbot.keyClicks(widget, text)
    if enter:
        qtbot.keyClick(widget, Qt.Key.Key_Return)
        qtbot.wait(30)


def test_every_validation_message_is_shown(window, qtbot, engine, seeded):
    view, dialog = open_new_order(window, qtbot)
    type_into(qtbot, dialog.store_edit, "no such store")
    assert ("error", "No store matches “no such store”.") in dialog.message_list
    dialog.store_edit.clear()
    qtbot.keyClick(dialog.store_edit, Qt.Key.Key_Return)
    assert ("error", "Choose a store for the order.") in messages_after_check(dialog, qtbot)

    type_into(qtbot, dialog.store_edit, "Ganesh")  # limit 15,000 with 12,000 outstanding
    assert dialog.store.code == "ST-002"
    type_into(qtbot, dialog.product_edit, "zzz")
    assert ("error", "No product matches “zzz”.") in dialog.message_list
    dialog.product_edit.clear()
    type_into(qtbot, dialog.product_edit, "ATTA-5")
    type_into(qtbot, dialog.qty_edit, "16")
    type_into(qtbot, dialog.product_edit, "ATTA-5")
    dialog.qty_edit.setValue(0)
    type_into(qtbot, dialog.line_disc, "3")  # same product, other discount: a second line
    assert [(x.quantity, x.discount_pct) for x in dialog.lines] == [(16, D(0)), (0, D(3))]
    dialog.delivery_check.setChecked(True)
    dialog.delivery_edit.setDate(dialog.delivery_edit.date().addDays(-5))
    msgs = messages_after_check(dialog, qtbot)
    assert (
        "error",
        "Line 2: Quantity of ATTA-5 Mangalm Chakki Atta 5 kg must be at least 1 "
        "(got 0); record returned goods as a separate return.",
    ) in msgs
    assert any(k == "error" and t.startswith("Requested delivery date") for k, t in msgs)
    assert (
        "warning",
        "Credit limit exceeded for Ganesh Provisions: outstanding balance "
        "₹12,000.00 + open orders ₹0.00 + this order ₹3,928.00 = ₹15,928.00, over the "
        "limit of ₹15,000.00 by ₹928.00.",
    ) in msgs
    dialog.order_disc.setValue(0)

    # fix the errors; the credit warning asks for confirmation, a "no" keeps the order open
    dialog.table.selectRow(1)
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert len(dialog.lines) == 1
    dialog.delivery_check.setChecked(False)
    asked: list[str] = []
    dialog.confirm_credit = lambda text: asked.append(text) or False
    dialog.submit()
    qtbot.waitUntil(lambda: bool(asked) and dialog.idle, timeout=10_000)
    assert "Credit limit exceeded for Ganesh Provisions" in asked[0]
    assert dialog.result is None and dialog.isVisible()
    dialog.confirm_credit = lambda text: True
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert dialog.result.state == "submitted" and dialog.result.total == D("3928.00")

    # return orders: zero quantity has its own message
    _, dialog = open_new_order(window, qtbot, keyboard=False)
    type_into(qtbot, dialog.store_edit, "ST-001")
    dialog.return_check.setChecked(True)
    type_into(qtbot, dialog.product_edit, "OIL-1")
    type_into(qtbot, dialog.qty_edit, "0")
    msgs = messages_after_check(dialog, qtbot)
    assert [(x.product.sku, x.quantity) for x in dialog.lines] == [("OIL-1", 0)]
    assert ("error", "Line 1: Quantity of OIL-1 Groundnut Oil 1 L must not be 0.") in msgs
    dialog.lines[0].quantity = 2
    dialog._refresh_table()
    assert "total -₹378.67" in dialog.totals_label.text()
    assert messages_after_check(dialog, qtbot) == [
        (
            "notice",
            "Line 1: OIL-1 Groundnut Oil 1 L: 2 is not a whole number of packs of 12; 12 would be.",
        )
    ]
    # duplicate lines merged / pack hint come back from the service as notices
    dialog.return_check.setChecked(False)
    dialog.lines.append(type(dialog.lines[0])(dialog.lines[0].product, 5))
    dialog._refresh_table()
    msgs = messages_after_check(dialog, qtbot)
    assert (
        "notice",
        "Line 1: OIL-1 Groundnut Oil 1 L was on lines 1, 2; merged into one line of 7.",
    ) in msgs
    assert (
        "notice",
        "Line 1: OIL-1 Groundnut Oil 1 L: 7 is not a whole number of packs of 12; 12 would be.",
    ) in msgs
    # a draft is saved regardless of notices and keeps the dialog open for more typing
    dialog.save_draft()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert dialog.result.state == "draft" and dialog.isVisible()
    assert dialog.mode == "draft" and dialog.order_id == dialog.result.order_id


def submit_directly(engine, seeded, **kw) -> service.OrderResult:
    return service.submit(
        engine,
        OrderDraft(
            store=seeded.store_id,
            agent_id=seeded.agent_id,
            lines=[LineInput("ATTA-5", 4), LineInput("DAL-1", 10)],
            **kw,
        ),
        identity=None,
    )


def show_orders(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    view = window.views["orders"]
    qtbot.waitUntil(lambda: view.model.total is not None, timeout=10_000)
    return view


def test_list_filters_detail_and_actions(window, qtbot, engine, seeded, tmp_path, monkeypatch):
    a = submit_directly(engine, seeded)
    b = service.save_draft(
        engine,
        OrderDraft(store="ST-002", agent_id=seeded.agent_id, lines=[LineInput("TEA-250", 24)]),
        identity=None,
    )
    view = show_orders(window, qtbot)
    assert view.count_label.text() == "2 orders"
    view.state.setCurrentIndex(view.state.findText("Draft"))
    qtbot.waitUntil(lambda: [r.number for r in view.model.rows] == [b.number])
    view.state.setCurrentIndex(0)
    view.search.setText("lakshmi")
    qtbot.waitUntil(lambda: [r.number for r in view.model.rows] == [a.number])
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.number == a.number)
    assert [ln.sku for ln in view.lines_model.rows] == ["ATTA-5", "DAL-1"]

    out = tmp_path / "a.pdf"
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), "")
    )
    click(view.buttons["pdf"])
    qtbot.waitUntil(lambda: out.exists() and out.stat().st_size > 0, timeout=10_000)
    window.ctx.runner.wait_idle()
    assert a.number in PdfReader(out).pages[0].extract_text()

    view.duplicate_selected()
    window.ctx.runner.wait_idle()
    view.search.setText("")
    qtbot.waitUntil(lambda: view.model.total == 3, timeout=10_000)

    view.table.selectRow([r.number for r in view.model.rows].index(a.number))
    qtbot.waitUntil(lambda: view.detail.number == a.number)
    dialog = view.edit_selected()
    qtbot.waitUntil(lambda: dialog.ready, timeout=10_000)
    assert dialog.mode == "amend" and dialog.submit_button.text().startswith("&Amend")
    dialog.lines[0].quantity = 8
    dialog._refresh_table()
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert dialog.result.version == 2

    qtbot.waitUntil(
        lambda: (
            view.detail is not None and view.detail.id == a.order_id and view.detail.version == 2
        ),
        timeout=10_000,
    )
    asked = answer_modal(QInputDialog, type_and_ok("shop shut"))
    click(view.buttons["cancel"])
    assert asked.done and "Reason (required)" in asked.text
    window.ctx.runner.wait_idle()
    with session_scope(engine) as s:
        assert s.get(Order, a.order_id).state == "cancelled"

    # sent to Zoho: no edit, no cancel
    z = submit_directly(engine, seeded)
    with session_scope(engine) as s:
        s.get(Order, z.order_id).state = "sent_to_zoho"
    view.refresh()
    qtbot.waitUntil(lambda: any(r.id == z.order_id for r in view.model.rows), timeout=10_000)
    view.table.selectRow([r.id for r in view.model.rows].index(z.order_id))
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.id == z.order_id)
    assert not view.buttons["edit"].isEnabled() and not view.buttons["cancel"].isEnabled()
    assert view.edit_selected() is None


def open_call_dialog(view, qtbot, key: str):
    """Click the orders view's "Log call…" / "Shelf stock…" button; the dialog it opened."""
    before = list(view.dialogs)
    click(view.buttons[key])
    qtbot.waitUntil(lambda: view.dialogs and view.dialogs[-1] not in before, timeout=10_000)
    dialog = view.dialogs[-1]
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)
    return dialog


def save_button(dialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Save)


def step_date(qtbot, date_edit, days: int) -> None:
    """Move the day of a date field with the arrow keys, as a person does."""
    date_edit.setFocus()
    qtbot.keyClick(date_edit, Qt.Key.Key_Home)  # the cursor on the day
    key = Qt.Key.Key_Up if days > 0 else Qt.Key.Key_Down
    for _ in range(abs(days)):
        qtbot.keyClick(date_edit, key)


def choose_outcome(qtbot, call, text: str) -> None:
    call.outcome.setFocus()
    qtbot.keyClick(call.outcome, Qt.Key.Key_Home)
    for _ in range(call.outcome.count()):
        if call.outcome.currentText() == text:
            return
        qtbot.keyClick(call.outcome, Qt.Key.Key_Down)
    assert call.outcome.currentText() == text


def test_call_and_stock_dialogs(window, qtbot, engine, seeded):
    submit_directly(engine, seeded)
    view = show_orders(window, qtbot)
    qtbot.waitUntil(lambda: view.detail is not None, timeout=10_000)
    call = open_call_dialog(view, qtbot, "call")
    choose_outcome(qtbot, call, "Call back on a date")
    assert call.next_check.isChecked()
    step_date(qtbot, call.next_date, -3)  # tomorrow - 3 days: in the past
    click(save_button(call))
    qtbot.waitUntil(lambda: "is in the past" in call.error.text(), timeout=10_000)
    assert save_button(call).isEnabled() and call.isVisible()
    step_date(qtbot, call.next_date, 10)
    qtbot.keyClicks(call.notes, "owner travelling")
    click(save_button(call))
    qtbot.waitUntil(lambda: call.saved, timeout=10_000)

    stock = open_call_dialog(view, qtbot, "stock")
    qtbot.waitUntil(lambda: bool(stock.products), timeout=10_000)
    type_into(qtbot, stock.product, "atta")
    type_into(qtbot, stock.qty, "3")
    assert stock.list.count() == 1 and "ATTA-5" in stock.list.item(0).text()
    type_into(qtbot, stock.product, "nope")
    type_into(qtbot, stock.qty, "1")
    assert stock.error.text() == "No product matches “nope”."
    click(save_button(stock))
    qtbot.waitUntil(lambda: stock.saved, timeout=10_000)
    assert window.ctx.runner.wait_idle()
    with session_scope(engine) as s:
        [c] = s.scalars(select(CallLog)).all()
        [r] = s.scalars(select(StoreStockReport)).all()
    assert c.outcome == "call_back" and c.notes == "owner travelling" and c.order_id is not None
    assert r.quantity == 3


def test_saving_twice_quickly_logs_one_call(window, qtbot, engine, seeded):
    """The write runs off the UI thread: a second Save while it is in flight is ignored."""
    submit_directly(engine, seeded)
    view = show_orders(window, qtbot)
    qtbot.waitUntil(lambda: view.detail is not None, timeout=10_000)
    call = open_call_dialog(view, qtbot, "call")
    qtbot.keyClicks(call.notes, "took the order")
    click(save_button(call))
    qtbot.keyClick(call, Qt.Key.Key_Return)  # impatient: Enter on the dialog (Save is default)
    qtbot.waitUntil(lambda: call.saved, timeout=10_000)
    assert window.ctx.runner.wait_idle()
    with session_scope(engine) as s:
        [c] = s.scalars(select(CallLog)).all()
    assert c.notes == "took the order"


def test_enter_in_the_stock_dialog_adds_rows_and_never_saves(window, qtbot, engine, seeded):
    """Enter in the product field with no match (no completion list open) does not save."""
    submit_directly(engine, seeded)
    view = show_orders(window, qtbot)
    qtbot.waitUntil(lambda: view.detail is not None, timeout=10_000)
    stock = open_call_dialog(view, qtbot, "stock")
    qtbot.waitUntil(lambda: bool(stock.products), timeout=10_000)
    type_into(qtbot, stock.product, "nope")
    type_into(qtbot, stock.product, "")
    assert window.ctx.runner.wait_idle()
    assert stock.isVisible() and not stock.saved
    assert "No stock to record" not in stock.error.text()


def test_printing_paints_every_pdf_page(qapp, engine, seeded, tmp_path):
    from mangalm_desktop.db.engine import session_scope as scope

    res = service.submit(
        engine,
        OrderDraft(store=seeded.store_id, agent_id=seeded.agent_id, lines=[LineInput("ATTA-5", 4)]),
        identity=None,
    )
    with scope(engine) as s:
        data = pdf.order_pdf_bytes(queries.get_order(s, res.order_id, identity=None))
    printer = make_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert paint_pdf(printer, data) == len(PdfReader(__import__("io").BytesIO(data)).pages)
    assert len(PdfReader(out).pages) == 1


def test_order_list_is_fetched_lazily(window, qtbot, engine, seeded):
    import datetime as dt
    import uuid

    from sqlalchemy import insert

    from mangalm_desktop.gui.orders_model import PAGE

    with session_scope(engine) as s:
        s.execute(
            insert(Order),
            [
                {
                    "id": uuid.uuid4(),
                    "number": f"A07-BUL-{i:06d}",
                    "state": "synced",
                    "store_id": seeded.store_id,
                    "agent_id": seeded.agent_id,
                    "order_date": dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
                    "total": D("10.00"),
                }
                for i in range(2 * PAGE + 50)
            ],
        )
    view = show_orders(window, qtbot)
    qtbot.waitUntil(lambda: view.model.total == 2 * PAGE + 50, timeout=10_000)
    assert len(view.model.rows) == PAGE  # only the first page was read
    assert view.count_label.text() == f"{2 * PAGE + 50:,} orders"
    assert view.model.rows[0].order_date >= view.model.rows[-1].order_date
    while view.model.canFetchMore():
        view.model.fetchMore()
        qtbot.waitUntil(lambda: not view.model.loading, timeout=10_000)
    assert len(view.model.rows) == 2 * PAGE + 50 and view.model.exhausted
    assert len({r.number for r in view.model.rows}) == 2 * PAGE + 50


def test_new_order_from_suggestions_records_feedback(window, qtbot, engine, seeded):
    import datetime as dt

    from mangalm_desktop.db.models import Prediction, SuggestionFeedback

    p = seeded.products
    with session_scope(engine) as s:
        for sku, q in [("TEA-250", 24), ("DAL-1", 10)]:
            s.add(
                Prediction(
                    store_id=seeded.store_id,
                    product_id=p[sku],
                    horizon_start=dt.date(2026, 11, 3),
                    horizon_weeks=2,
                    point=1.0,
                    low=0.0,
                    high=2.0,
                    suggested_qty=q,
                    model="tsb",
                    reason="usually",
                )
            )
    view = show_orders(window, qtbot)
    dialog = view.new_order(seeded.store_id)  # as the store detail / call list would
    qtbot.waitUntil(lambda: dialog.ready and len(dialog.lines) == 2, timeout=10_000)
    assert "pre-filled from the suggested order" in dialog.store_info.text()
    assert [(x.product.sku, x.quantity, x.suggested_qty) for x in dialog.lines] == [
        ("TEA-250", 24, 24),
        ("DAL-1", 10, 10),
    ]
    dialog.table.selectRow(1)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)  # the agent drops the dal
    dialog.lines[0].quantity = 48  # and doubles the tea
    dialog._refresh_table()
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    with session_scope(engine) as s:
        rows = s.scalars(select(SuggestionFeedback)).all()
        got = sorted((r.product_id == p["TEA-250"], r.suggested_qty, r.ordered_qty) for r in rows)
    assert got == [(False, 10, 0), (True, 24, 48)]


def test_print_opens_a_preview_of_the_confirmation(window, qtbot, engine, seeded):
    from PySide6.QtPrintSupport import QPrintPreviewDialog

    submit_directly(engine, seeded)
    view = show_orders(window, qtbot)
    qtbot.waitUntil(lambda: view.detail is not None, timeout=10_000)
    view.print_selected()
    qtbot.waitUntil(
        lambda: any(isinstance(d, QPrintPreviewDialog) and d.isVisible() for d in view.dialogs),
        timeout=10_000,
    )
    preview = next(d for d in view.dialogs if isinstance(d, QPrintPreviewDialog))
    assert view.detail.number in preview.windowTitle()
    preview.close()
