"""Beats driven as a manager drives them (issue 19 item 2): Stores ▸ Beats…, a new beat typed
and created, its days ticked, stores added and reordered with the real buttons; Today then
shows the beat of the day in visit order beside the call list; the plan-vs-actual report opens
from the Reports list with its chart. The database is read only to check results."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Beat, BeatStore, Store
from tests.gui.people import answer_modal, click, click_text

pytestmark = pytest.mark.gui

NEW = "A01 Test Monday"


def _members(engine, name: str) -> list[str]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(Store.code)
            .join(BeatStore, BeatStore.store_id == Store.id)
            .join(Beat, Beat.id == BeatStore.beat_id)
            .where(Beat.name == name, BeatStore.deleted.is_(False), Beat.deleted.is_(False))
            .order_by(BeatStore.visit_order)
        ).all()
    return [r[0] for r in rows]


def _open_beats(w, qtbot):
    qtbot.keyClick(w, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    stores = w.views["stores"]
    assert w.current_view() is stores
    click(stores.beats_button)
    dialog = stores.beats_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0 and dialog.detail is not None)
    return dialog


def _click_item(qtbot, widget, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = widget.visualItemRect(widget.item(row))
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_manager_makes_a_beat_and_today_shows_it(demo_window, qtbot):
    w, engine = demo_window
    dialog = _open_beats(w, qtbot)
    demo_beats = dialog.model.rowCount()
    assert demo_beats >= 15  # the demo's agents have beats Monday to Saturday

    # a new beat for the first agent (A01), typed and created
    QTest.keyClicks(dialog.new_name, NEW)
    assert dialog.new_agent.currentText().startswith("A01")
    click(dialog.create_button)
    qtbot.waitUntil(lambda: dialog.detail is not None and dialog.detail.beat.name == NEW)
    assert dialog.model.rowCount() == demo_beats + 1
    assert dialog.stops.count() == 0 and dialog.others.count() > 2

    # visited on Mondays (AS_OF is Tuesday 3 Nov: tick Tuesday too, so Today shows it)
    click(dialog.day_boxes[0])
    click(dialog.day_boxes[1])
    assert dialog.days_button.isEnabled()
    click(dialog.days_button)
    qtbot.waitUntil(lambda: dialog.detail.beat.days_text == "Mon, Tue")

    # two of A01's stores added (selected in this order), then the second moved up
    first, second = dialog.candidates[0], dialog.candidates[2]
    _click_item(qtbot, dialog.others, 0)
    _click_item(qtbot, dialog.others, 2, Qt.KeyboardModifier.ControlModifier)
    click(dialog.add_button)
    qtbot.waitUntil(lambda: dialog.stops.count() == 2)
    assert _members(engine, NEW) == [first.code, second.code]
    _click_item(qtbot, dialog.stops, 1)
    click(dialog.up_button)
    qtbot.waitUntil(lambda: _members(engine, NEW) == [second.code, first.code])
    qtbot.waitUntil(lambda: dialog.stops.item(0).text().startswith(f"1. {second.name}"))
    assert dialog.stops.currentRow() == 0  # the moved store stays selected

    # renamed in place
    dialog.name_edit.selectAll()
    QTest.keyClicks(dialog.name_edit, NEW + " route")
    click(dialog.rename_button)
    qtbot.waitUntil(lambda: dialog.detail.beat.name == NEW + " route")
    assert _members(engine, NEW + " route") == [second.code, first.code]

    # another agent's beat cannot take these stores: the list offers only A01's own
    codes = {c.code for c in dialog.candidates}
    with session_scope(engine) as s:
        a01 = s.scalar(select(Beat.agent_id).where(Beat.name == NEW + " route"))
        own = set(s.scalars(select(Store.code).where(Store.agent_id == a01)))
    assert codes <= own
    dialog.close()
    w.activateWindow()  # back in the main window, as a person clicking on it
    qtbot.waitUntil(w.isActiveWindow)

    # Today: the beat of the day beside the call list, in visit order
    qtbot.keyClick(w, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    today = w.views["today"]
    panel = today.beat_panel
    assert panel.isVisible()

    def mine() -> list[str]:
        return [
            panel.model.index(r, 1).data()
            for r in range(panel.model.rowCount())
            if panel.model.index(r, 5).data() == NEW + " route"
        ]

    qtbot.waitUntil(lambda: mine() == [second.name, first.name])  # reloaded when shown

    # Enter on a stop: the call screen for that store
    rows = [panel.model.index(r, 1).data() for r in range(panel.model.rowCount())]
    panel.table.setFocus()
    QTest.mouseClick(
        panel.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=panel.table.visualRect(panel.model.index(rows.index(second.name), 1)).center(),
    )
    QTest.keyClick(panel.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(getattr(w, "call_screens", [])))
    screen = w.call_screens[-1]
    assert screen.store_id == second.id
    qtbot.waitUntil(lambda: screen.ready and screen.idle, timeout=30_000)
    screen.done(0)
    assert "Today's beat" in panel.summary.text()


def test_deleting_a_beat_asks_first(demo_window, qtbot):
    w, engine = demo_window
    dialog = _open_beats(w, qtbot)
    name = dialog.detail.beat.name
    stores = _members(engine, name)
    assert stores
    answered = answer_modal(QMessageBox, lambda box: click_text(box, "No"))
    click(dialog.delete_button)
    qtbot.waitUntil(lambda: answered.done)
    assert _members(engine, name) == stores
    answered = answer_modal(QMessageBox, lambda box: click_text(box, "Yes"))
    click(dialog.delete_button)
    qtbot.waitUntil(lambda: answered.done)
    assert name in answered.text
    qtbot.waitUntil(lambda: name not in [b.name for b in dialog.beats])
    assert _members(engine, name) == []


def test_plan_vs_actual_opens_from_the_reports_list(demo_window, qtbot):
    w, _engine = demo_window
    qtbot.keyClick(w, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    view = w.views["reports"]
    items = [view.report_list.item(i).text() for i in range(view.report_list.count())]
    row = items.index("Plan vs actual (beats)")
    rect = view.report_list.visualItemRect(view.report_list.item(row))
    QTest.mouseClick(view.report_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    click(view.show_button)
    panel = view.panel
    qtbot.waitUntil(
        lambda: panel.result is not None and panel.result.spec.name == "plan-vs-actual",
        timeout=30_000,
    )
    frame = panel.result.frame
    assert len(frame) > 300  # a year of (agent, day) rows; the table fetches them lazily
    assert panel.model.rowCount() > 0
    assert panel.model.index(0, 0).data() == frame["agent_day"].iloc[0]
    assert frame["scheduled"].sum() > 0 and frame["visited"].sum() > 0
    header = [panel.model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)]
    assert header[:4] == ["Agent, day", "Day", "Agent code", "Agent"]
    assert panel.chart.categories[0] == frame["agent_day"].iloc[0]


def test_a_taken_name_is_refused_in_words_and_nothing_is_written(demo_window, qtbot):
    from PySide6.QtWidgets import QApplication

    from mangalm_desktop.gui.errors import ErrorDialog

    w, engine = demo_window
    dialog = _open_beats(w, qtbot)
    taken = dialog.beats[0].name
    before = dialog.model.rowCount()
    QTest.keyClicks(dialog.new_name, taken.upper())
    click(dialog.create_button)

    def shown():
        return next(
            (
                x
                for x in QApplication.topLevelWidgets()
                if isinstance(x, ErrorDialog) and x.isVisible()
            ),
            None,
        )

    qtbot.waitUntil(lambda: shown() is not None)
    error = shown()
    assert f"There is already a beat called {taken.upper()!r}" in error.report.message
    assert "Traceback" not in error.report.message
    error.close()
    w.ctx.runner.wait_idle()
    with session_scope(engine) as s:
        assert s.query(Beat).filter(Beat.deleted.is_(False)).count() == before
