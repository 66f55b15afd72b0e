"""Schemes in the GUI, as a person uses them: the order dialog shows each line's scheme and
reason and the free goods; the Schemes view lists them with validity and rules; a manager (a
standalone laptop here) creates one in the dialog and ends one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import OrderLine, Scheme, SchemeRule, Store
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.schemes.service import RuleInput, SchemeInput, create_scheme
from tests.gui.conftest import AS_OF
from tests.gui.people import answer_modal, click, click_text
from tests.integration.orders_support import dal_ten_plus_one, seed

pytestmark = pytest.mark.gui
NOV1 = dt.date(2026, 11, 1)


@pytest.fixture
def seeded(engine):
    ensure_search_schema(engine)
    sd = seed(engine)
    with session_scope(engine) as s:
        s.get(Store, sd.store_id).region = "Mysuru"
    create_scheme(
        engine,
        None,
        SchemeInput(
            "ATTA-SLAB",
            "Atta winter slabs",
            "slab",
            NOV1,
            dt.date(2026, 11, 30),
            product="ATTA-5",
            regions=["Mysuru"],
            rules=[RuleInput(10, D("5")), RuleInput(25, D("8"))],
        ),
    )
    dal_ten_plus_one(engine, NOV1)
    return sd


@pytest.fixture
def window(make_window, engine, db_path, seeded):
    return make_window(engine, db_path)


def _type(qtbot, widget, text: str, enter: bool = True) -> None:
    widget.setFocus()
    if hasattr(widget, "selectAll"):
        widget.selectAll()
    qtbot.keyClicks(widget, text)
    if enter:
        qtbot.keyClick(widget, Qt.Key.Key_Return)
        qtbot.wait(30)


def _cells(table, row: int) -> list[str]:
    return [
        table.item(row, c).text() if table.item(row, c) else "" for c in range(table.columnCount())
    ]


def test_the_order_dialog_applies_schemes_and_shows_the_reason_per_line(
    window, qtbot, engine, seeded
):
    qtbot.keyClick(
        window,
        Qt.Key.Key_N,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )  # Ctrl+Shift+N: New order (Ctrl+N is the call screen)
    dialog = window.views["orders"].dialogs[-1]
    qtbot.waitUntil(lambda: dialog.ready, timeout=10_000)
    _type(qtbot, dialog.store_edit, "lakshmi")
    _type(qtbot, dialog.product_edit, "ATTA-5")
    _type(qtbot, dialog.qty_edit, "12")
    _type(qtbot, dialog.product_edit, "DAL-1")
    _type(qtbot, dialog.qty_edit, "20")
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3 and dialog.idle, timeout=10_000)
    atta, dal, free = (_cells(dialog.table, r) for r in range(3))
    # 12 × 245.50 = 2,946.00 − 5% (147.30) = 2,798.70
    assert atta[6] == "₹2,798.70"
    assert atta[7] == "5% · ATTA-SLAB: 5% off Mangalm Chakki Atta 5 kg for 10 or more (12 ordered)"
    assert dal[6] == "₹2,799.80" and dal[7] == "DAL-10+1: buy 10 get 1 free (20 bought)"
    assert free[:3] == ["DAL-1", "Toor Dal 1 kg", "2"] and free[6] == "free"
    assert free[7] == "Free · DAL-10+1: buy 10 get 1 free (20 bought)"
    # 2,798.70 + 2,799.80 = 5,598.50; the gift is 2 × 139.99 = 279.98
    text = dialog.totals_label.text()
    assert "free goods worth ₹279.98" in text and "total ₹5,598.50" in text
    # The free row cannot be deleted or edited: Delete on it leaves the order as it is.
    dialog.table.setFocus()
    dialog.table.selectRow(2)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert len(dialog.lines) == 2

    qtbot.keyClick(dialog.product_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    with session_scope(engine) as s:
        rows = s.execute(
            select(OrderLine.quantity, OrderLine.free_goods, OrderLine.scheme_value)
            .where(OrderLine.order_id == dialog.result.order_id)
            .order_by(OrderLine.line_no)
        ).all()
    assert rows == [(12, False, D("147.30")), (20, False, D("0")), (2, True, D("279.98"))]


def test_schemes_view_lists_them_and_a_manager_creates_and_ends_one(window, qtbot, engine, seeded):
    index = [c.view_id for c in window.view_classes].index("schemes")
    rect = window.nav.visualItemRect(window.nav.item(index))  # a click in the navigation
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    view = window.views["schemes"]
    qtbot.waitUntil(lambda: len(view.model.rows) == 2 and view.idle, timeout=10_000)
    rows = {r.code: r for r in view.model.rows}
    assert rows["ATTA-SLAB"].validity == "01 Nov 2026 – 30 Nov 2026"
    assert rows["ATTA-SLAB"].rules_text == "5% off at 10+; 8% off at 25+"
    assert rows["DAL-10+1"].rules_text == "buy 10 get 1 free (same product)"
    assert "ATTA-SLAB — Atta winter slabs" in view.detail.text()

    click(view.new_button)
    dialog = view.dialogs[-1]
    qtbot.waitExposed(dialog)
    _type(qtbot, dialog.code, "PARLE-3", enter=False)
    click(dialog.save_button)  # nothing filled in: said in words, nothing saved
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
    assert "Give the scheme a name" in dialog.error.text()
    assert "Rule 1" not in dialog.error.text() and "Add at least one rule" in dialog.error.text()
    _type(qtbot, dialog.name, "Tea 3% for A and B stores", enter=False)
    dialog.scope.setFocus()
    qtbot.keyClicks(dialog.scope, "Br")  # "Brand"
    _type(qtbot, dialog.scope_value, "Assam", enter=False)
    _type(qtbot, dialog.classes, "A, B", enter=False)
    dialog.rules.setFocus()
    dialog.rules.setCurrentCell(0, 0)
    qtbot.keyClicks(dialog.rules, "1")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    dialog.rules.setCurrentCell(0, 1)
    qtbot.keyClicks(dialog.rules, "3")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    click(dialog.save_button)
    qtbot.waitUntil(lambda: dialog.saved, timeout=10_000)
    qtbot.waitUntil(lambda: len(view.model.rows) == 3 and view.idle, timeout=10_000)
    with session_scope(engine) as s:
        made = s.scalar(select(Scheme).where(Scheme.code == "PARLE-3"))
        rule = s.scalar(select(SchemeRule).where(SchemeRule.scheme_id == made.id))
        assert (made.kind, made.brand, made.store_classes, made.valid_from, made.valid_to) == (
            "percent",
            "Assam",
            "A,B",
            AS_OF,
            None,
        )
        assert (rule.min_qty, rule.discount_pct) == (1, D("3"))

    # End the selected scheme today: asked first, then its last day is today.
    view.table.selectRow([r.code for r in view.model.rows].index("DAL-10+1"))
    asked = answer_modal(QMessageBox, lambda d: click_text(d, "Yes"))
    click(view.end_button)
    assert "End scheme DAL-10+1" in asked.text

    def ended() -> bool:
        with session_scope(engine) as s:
            return s.scalar(select(Scheme.valid_to).where(Scheme.code == "DAL-10+1")) == AS_OF

    qtbot.waitUntil(ended, timeout=10_000)
    # ended today, so it still shows; its status is still active until tomorrow
    qtbot.waitUntil(
        lambda: (
            view.idle and any(r.code == "DAL-10+1" and r.valid_to == AS_OF for r in view.model.rows)
        ),
        timeout=10_000,
    )


def test_amending_an_order_reprices_its_schemes_and_keeps_one_free_line(
    window, qtbot, engine, seeded
):
    from mangalm_desktop.orders import service
    from mangalm_desktop.orders.model import LineInput, OrderDraft

    res = service.submit(
        engine,
        OrderDraft(
            store=seeded.store_id,
            agent_id=seeded.agent_id,
            lines=[LineInput("ATTA-5", 12, D("1")), LineInput("DAL-1", 20)],
        ),
        identity=None,
        today=AS_OF,
    )
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    view = window.views["orders"]
    qtbot.waitUntil(lambda: [r.number for r in view.model.rows] == [res.number], timeout=10_000)
    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.waitUntil(lambda: view.detail is not None and view.detail.number == res.number)
    # the detail pane shows the scheme of each line, and the free goods
    assert [ln.name for ln in view.lines_model.rows][-1] == "Toor Dal 1 kg"
    assert view.lines_model.rows[-1].free_goods
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    dialog = view.dialogs[-1]
    qtbot.waitUntil(
        lambda: dialog.ready and dialog.table.rowCount() == 3 and dialog.idle, timeout=10_000
    )
    # typed lines only (the free one comes back from the check), with the agent's own 1%
    assert [(x.product.sku, x.quantity, x.discount_pct) for x in dialog.lines] == [
        ("ATTA-5", 12, D("1")),
        ("DAL-1", 20, D("0")),
    ]
    dialog.table.setFocus()
    dialog.table.setCurrentCell(0, 2)
    qtbot.keyClick(dialog.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    qtbot.keyClicks(editor, "30")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: dialog.idle and "30 ordered" in _cells(dialog.table, 0)[7], timeout=10_000
    )
    # 30 × 245.50 = 7,365.00 less 1% + 8% = 9% (662.85) = 6,702.15
    assert _cells(dialog.table, 0)[5:8] == [
        "1",
        "₹6,702.15",
        "8% · ATTA-SLAB: 8% off Mangalm Chakki Atta 5 kg for 25 or more (30 ordered)",
    ]
    qtbot.keyClick(dialog.product_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert dialog.result.version == 2
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                OrderLine.line_no, OrderLine.quantity, OrderLine.discount_pct, OrderLine.free_goods
            )
            .where(OrderLine.order_id == res.order_id, OrderLine.deleted.is_(False))
            .order_by(OrderLine.line_no)
        ).all()
    assert rows == [(1, 30, D("9"), False), (2, 20, D("0"), False), (3, 2, D("0"), True)]
