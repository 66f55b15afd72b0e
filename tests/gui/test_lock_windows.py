"""Lock and sign-out hide every window, not only the main one; the auto-lock is bounded and
its changes audited (issue 23 finding 2). Real windows, opened and locked as a person does."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import AuditLog
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.gui.reporting.window import ReportWindow
from mangalm_desktop.gui.settings import settings
from mangalm_desktop.gui.signin_dialog import (
    DEFAULT_LOCK_MINUTES,
    LOCK_MINUTES_KEY,
    SessionGuard,
    SignInDialog,
    lock_minutes,
)
from mangalm_desktop.gui.views.store_detail import StoreDetailWindow
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.security.signin import SignInFailed
from tests.gui.test_signin_gui import _type_and_submit

pytestmark = pytest.mark.gui

MANAGER = Identity("M01", Role.MANAGER, None, "M01")


def fake_central(username: str, password: str) -> Identity:
    if username != "M01" or password != "mgr-pw":
        raise SignInFailed("Wrong user name or password.")
    return MANAGER


def _app_windows(kind: type) -> list:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind)]


def test_lock_and_sign_out_hide_every_window(qtbot, runner, make_window, demo_db) -> None:
    engine, path = demo_db
    window = make_window(engine, path)
    first = SignInDialog(runner, engine, fake_central)
    qtbot.addWidget(first)
    first.show()
    _type_and_submit(qtbot, first, "M01", "mgr-pw")
    window.ctx.identity = first.identity
    guard = SessionGuard(window, window.ctx, engine, online_check=None)

    # A store card (Enter on a store) and a report in its own window ("Open in new window").
    stores = window.show_view("stores")
    qtbot.waitUntil(lambda: stores.idle and stores.model.rowCount() > 0, timeout=10_000)
    window.activateWindow()  # the sign-in dialog had the focus
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    stores.table.setFocus()
    stores.table.selectRow(0)
    qtbot.keyClick(stores.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(stores.details) == 1, timeout=10_000)
    (store_window,) = stores.details.values()
    assert isinstance(store_window, StoreDetailWindow)
    reports = window.show_view("reports")
    qtbot.mouseClick(reports.window_button, Qt.MouseButton.LeftButton)
    (report_window,) = _app_windows(ReportWindow)
    qtbot.addWidget(report_window)
    assert report_window.isVisible() and store_window.isVisible() and window.isVisible()

    # Ctrl+L, as a person presses it.
    window.activateWindow()
    guard.lock_action.trigger()
    qtbot.waitUntil(lambda: guard.dialog is not None, timeout=5_000)
    assert not window.isVisible()
    assert not report_window.isVisible() and not store_window.isVisible()
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert shown == [guard.dialog]  # the lock screen is all there is

    with qtbot.waitSignal(guard.unlocked, timeout=10_000):
        _type_and_submit(qtbot, guard.dialog, None, "mgr-pw")
    assert window.isVisible() and report_window.isVisible() and store_window.isVisible()

    # Sign out (File menu): the windows holding the previous person's data are closed.
    guard.sign_out_action.trigger()
    assert window.ctx.identity is None and not window.isVisible()
    assert not report_window.isVisible()
    assert not _app_windows(StoreDetailWindow) or not store_window.isVisible()
    again = guard.dialog
    _type_and_submit(qtbot, again, "M01", "mgr-pw")
    qtbot.waitUntil(lambda: window.isVisible(), timeout=5_000)
    assert not report_window.isVisible()  # not brought back for whoever signs in next


def _audited(engine) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        rows = s.execute(select(AuditLog.action, AuditLog.entity_id)).all()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("stored", [0, -5, 100_000, "never"])
def test_lock_setting_out_of_range_is_not_honoured(stored, qtbot, make_window, engine, db_path):
    settings().setValue(LOCK_MINUTES_KEY, stored)
    assert lock_minutes() == DEFAULT_LOCK_MINUTES
    window = make_window(engine, db_path)
    window.ctx.identity = MANAGER
    guard = SessionGuard(window, window.ctx, engine, online_check=None)
    assert guard.timer.isActive() and guard.timer.interval() == DEFAULT_LOCK_MINUTES * 60_000


def test_lock_setting_is_bounded_and_changes_audited(qtbot, make_window, engine, db_path) -> None:
    window = make_window(engine, db_path)
    window.ctx.identity = MANAGER
    guard = SessionGuard(window, window.ctx, engine, online_check=None)
    for bad in (0, -5, 241):
        with pytest.raises(UserError, match="between 1 and 240"):
            guard.set_lock_minutes(bad)
    assert guard.timer.isActive()
    guard.set_lock_minutes(240)
    assert lock_minutes() == 240 and guard.timer.interval() == 240 * 60_000
    qtbot.waitUntil(lambda: ("settings_change", LOCK_MINUTES_KEY) in _audited(engine))
