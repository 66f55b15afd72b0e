"""Collections in the app, as a person uses it: a store's card → Record payment → the
dialog's real widgets → receipt PDF; the Collections view → Approve / Reject."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QInputDialog
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, Payment, PaymentAllocation, PaymentPromise
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.gui.payment_panel import PaymentDialog
from mangalm_desktop.gui.views.stores import STORE_COLUMNS
from tests.gui.people import answer_modal, type_and_ok
from tests.integration.payments_support import seed_payments

pytestmark = pytest.mark.gui


@pytest.fixture
def seeded(engine):
    ensure_search_schema(engine)
    return seed_payments(engine)


@pytest.fixture
def window(make_window, engine, db_path, seeded):
    return make_window(engine, db_path)


def open_payment_dialog(window, qtbot) -> PaymentDialog:
    view = window.show_view("stores")
    qtbot.waitUntil(lambda: view.model.row_at(0) is not None, timeout=10_000)
    row = next(i for i in range(view.model.rowCount()) if view.model.row_at(i).code == "ST-001")
    view.table.setFocus()
    view.table.selectRow(row)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    detail = view.details[view.model.row_at(row).id]
    qtbot.addWidget(detail)
    qtbot.mouseClick(detail.payment_button, Qt.MouseButton.LeftButton)
    dialog = detail.findChild(PaymentDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.panel.dues is not None, timeout=10_000)
    return dialog


def save_button(dialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Save)


def payments(engine):
    with session_scope(engine) as s:
        return list(s.scalars(select(Payment).order_by(Payment.number)))


def test_record_a_cheque_from_the_store_card_and_save_its_receipt(
    window, qtbot, engine, tmp_path, monkeypatch
):
    dialog = open_payment_dialog(window, qtbot)
    panel = dialog.panel
    assert panel.summary.text().startswith("Sri Lakshmi Stores owes ₹6,700.50; overdue")
    assert panel.invoices.rowCount() == 3
    assert [panel.invoices.item(r, 0).text() for r in range(3)] == ["INV-001", "INV-002", "INV-003"]

    qtbot.keyClicks(panel.amount, "4,000")
    panel.mode.setFocus()
    panel.mode.setCurrentIndex(panel.mode.findData("cheque"))
    assert panel.cheque_date.isEnabled() and panel.reference.isEnabled()
    # No cheque number yet: refused in words, nothing written.
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cheque number" in dialog.error.text(), timeout=10_000)
    assert payments(engine) == []
    assert save_button(dialog).isEnabled()

    qtbot.keyClicks(panel.reference, "004512")
    qtbot.mouseClick(panel.oldest_button, Qt.MouseButton.LeftButton)
    assert [panel.invoices.item(r, 4).text() for r in range(3)] == ["3000.00", "1000.00", ""]
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.receipt_button.isEnabled(), timeout=10_000)
    [p] = payments(engine)
    assert (p.amount, p.mode, p.reference, p.status) == (
        D("4000.00"),
        "cheque",
        "004512",
        "collected",
    )
    assert f"Saved as receipt {p.number}" in dialog.error.text()
    with session_scope(engine) as s:
        settled = dict(
            s.execute(
                select(Invoice.number, PaymentAllocation.amount).join(
                    Invoice, Invoice.id == PaymentAllocation.invoice_id
                )
            ).all()
        )
    assert settled == {"INV-001": D("3000.00"), "INV-002": D("1000.00")}

    target = tmp_path / "receipt.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "PDF"))
    qtbot.mouseClick(dialog.receipt_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(target.exists, timeout=10_000)
    qtbot.waitUntil(lambda: "Receipt saved" in dialog.error.text(), timeout=10_000)
    text = " ".join(" ".join(pg.extract_text() for pg in PdfReader(target).pages).split())
    assert p.number in text and "₹4,000.00" in text and "Cheque no. 004512" in text


def test_a_promise_to_pay_alone(window, qtbot, engine):
    dialog = open_payment_dialog(window, qtbot)
    panel = dialog.panel
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    assert "Type the amount received, or tick 'Promise to pay'" in dialog.error.text()
    panel.promise_check.click()
    qtbot.keyClicks(panel.promise_amount, "2500")
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Promise to pay recorded" in dialog.error.text(), timeout=10_000)
    with session_scope(engine) as s:
        [promise] = s.scalars(select(PaymentPromise)).all()
    assert promise.amount == D("2500.00")
    assert payments(engine) == []


def test_collections_view_approves_and_rejects(window, qtbot, engine, seeded):
    from mangalm_desktop.payments import service
    from mangalm_desktop.payments.model import PaymentInput

    first = service.record_payment_now(
        engine, None, PaymentInput(seeded.store_id, D("100"), "cash"), today=window.ctx.today()
    )
    second = service.record_payment_now(
        engine,
        None,
        PaymentInput(seeded.store_id, D("200"), "upi", reference="UPI-1"),
        today=window.ctx.today(),
    )
    view = window.show_view("collections")
    qtbot.waitUntil(lambda: view.table.rowCount() == 2, timeout=10_000)
    assert "2 payments, ₹300.00" in view.message.text()
    assert not view.approve_button.isEnabled()

    def select(number):
        row = next(i for i, r in enumerate(view.rows) if r.number == number)
        view.table.selectRow(row)

    select(first.number)
    qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=10_000)  # left the queue
    select(second.number)
    answered = answer_modal(QInputDialog, type_and_ok("not received"))
    qtbot.mouseClick(view.reject_button, Qt.MouseButton.LeftButton)
    assert answered.done
    qtbot.waitUntil(lambda: view.table.rowCount() == 0, timeout=10_000)
    with session_scope(engine) as s:
        got = {p.number: (p.status, p.decision_note) for p in s.scalars(select_payments())}
    assert got == {first.number: ("approved", None), second.number: ("rejected", "not received")}
    view.status_combo.setCurrentIndex(view.status_combo.findData(None))  # All
    qtbot.waitUntil(lambda: view.table.rowCount() == 2, timeout=10_000)


def select_payments():
    return select(Payment)


def collect_cash(window, qtbot, amount: str) -> None:
    """Record cash against the oldest invoices from the store card's dialog, as a person does."""
    dialog = open_payment_dialog(window, qtbot)
    qtbot.keyClicks(dialog.panel.amount, amount)
    qtbot.mouseClick(dialog.panel.oldest_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(save_button(dialog), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.receipt_button.isEnabled(), timeout=10_000)
    dialog.close()


def test_the_stores_list_shows_what_is_owed_after_a_collection(window, qtbot, engine):
    """The Outstanding column is the figure the payment dialog and the credit check count: a
    collection lowers it at once, without reopening (it used to stay at the stored figure)."""
    view = window.show_view("stores")
    qtbot.waitUntil(lambda: view.model.row_at(0) is not None, timeout=10_000)
    col = next(i for i, c in enumerate(STORE_COLUMNS) if c.key == "balance")

    def owed() -> str:  # "" while the rows are being fetched again
        for i in range(view.model.rowCount()):
            row = view.model.row_at(i)
            if row is not None and row.code == "ST-001":
                return str(view.model.index(i, col).data())
        return ""

    qtbot.waitUntil(lambda: "6,700.50" in owed(), timeout=10_000)
    collect_cash(window, qtbot, "1,000")
    qtbot.waitUntil(lambda: "5,700.50" in owed(), timeout=10_000)


def test_today_shows_what_is_owed_after_a_collection(window, qtbot, engine, seeded):
    """Today's call list shows the same figure as the Stores list and follows a collection."""
    today = window.show_view("today")

    def owed() -> str:
        for row in today.rows:
            if row.store_id == seeded.store_id:
                return str(row.outstanding_balance)
        return ""

    qtbot.waitUntil(lambda: owed() == "6700.50", timeout=10_000)
    collect_cash(window, qtbot, "1,000")
    qtbot.waitUntil(lambda: owed() == "5700.50", timeout=10_000)
