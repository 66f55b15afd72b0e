"""Today on the demo company, driven as a person drives it: Ctrl+1, "Update forecasts",
arrow keys and Enter. A store silent for months is on the Win-back list (with its reason and
a small chance), not on the call list; the call list shows ₹, phone, locality, balance and
the last order; Enter on a Win-back row opens that store's suggested order, whose chances
and ranges reflect the silence."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import InvoiceLine, Store

pytestmark = pytest.mark.gui


@pytest.fixture
def qt_messages():
    """Fail on any Qt warning or error printed while the test runs."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    seen: list[str] = []

    def handler(kind, _context, message) -> None:  # noqa: ANN001
        if kind in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            return
        if "propagateSizeHints" in message:  # the offscreen platform's own notice
            return
        seen.append(message)

    old = qInstallMessageHandler(handler)
    yield seen
    qInstallMessageHandler(old)
    assert seen == []


def test_today_sets_a_long_silent_store_apart_for_win_back(
    make_window, demo_db, qtbot, qt_messages
):
    from tests.gui.conftest import AS_OF

    engine, path = demo_db
    w = make_window(engine, path)
    qtbot.keyClick(w, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    view = w.views["today"]
    assert w.current_view() is view
    qtbot.waitUntil(lambda: not view.forecasts.running, timeout=120_000)
    qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            view.refresh_button.isEnabled()
            and view.win_back_model.rowCount() > 0
            and view.rows[0].expected_value > 0
        ),
        timeout=120_000,
    )
    calls = [view.model.index(r, 1).data() for r in range(view.model.rowCount())]
    quiet = [view.win_back_model.index(r, 0).data() for r in range(view.win_back_model.rowCount())]
    assert calls and quiet and not set(calls) & set(quiet)

    # what the database says: the Win-back stores' last order is > 3 usual intervals and
    # > 30 days ago; every store on the call list ordered more recently than that
    with session_scope(engine) as s:
        last = dict(
            s.execute(
                select(Store.name, func.max(InvoiceLine.invoice_date))
                .join(InvoiceLine, InvoiceLine.store_id == Store.id)
                .group_by(Store.name)
            ).all()
        )
    for name in quiet:
        assert (AS_OF - last[name]).days > 30
    header = [view.win_back_model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)]
    why = view.win_back_model.index(0, header.index("Why")).data()
    m = re.match(r"no order for (\d+) days; usually every (\d+) days; (\d+)% likely", why)
    assert m and int(m[1]) > 3 * int(m[2]) and int(m[3]) < 30
    assert int(m[1]) == (AS_OF - last[quiet[0]]).days
    for name in calls:
        assert (AS_OF - last[name]).days < int(m[1])

    # the call list: ₹ expected order, phone, locality, outstanding balance, last order
    header = [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(10)]
    assert "Churn risk" not in header
    row = {h: view.model.index(0, c).data() for c, h in enumerate(header)}
    assert row["Expected order"].startswith("₹")
    assert row["Outstanding"].startswith("₹")
    assert row["Phone"].startswith("+91")
    assert row["Locality"]
    assert re.search(r"\(\d+ days ago\)$", row["Last order"])
    wb_value = view.win_back_model.index(0, 6).data()
    assert wb_value.startswith("₹")
    top_value = int(row["Expected order"].strip("₹").replace(",", ""))
    assert int(wb_value.strip("₹").replace(",", "")) < top_value

    # keys: into the Win-back list, first row, Alt+S → that store's suggested order
    view.win_back_table.setFocus()
    QTest.keyClick(view.win_back_table, Qt.Key.Key_Down)
    QTest.keyClick(view.win_back_table, Qt.Key.Key_Home)
    assert view.selected_store().store_name == quiet[0]
    QTest.keyClick(view.win_back_table, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "predictions" in w.views, timeout=30_000)
    predictions = w.views["predictions"]
    qtbot.waitUntil(lambda: w.current_view() is predictions, timeout=30_000)
    qtbot.waitUntil(
        lambda: (
            bool(predictions.stores)
            and predictions.stores[predictions.store_box.currentIndex()].name == quiet[0]
            and bool(predictions.lines)
        ),
        timeout=30_000,
    )
    # the silence shows in every line: small chances, ranges that honestly start at 0
    for line in predictions.lines:
        assert line.probability < 0.3
        assert line.low == 0 and "range starts at 0" in line.reason
        assert "after such a silence" in line.reason
