"""Sign-in dialog, TOTP step, lock screen and idle auto-lock, typed into with pytest-qt.

The online check here is a plain function (the real one against PostgreSQL is covered by
tests/integration/test_signin_online.py); what is tested is the dialog's behaviour, the offline
unlock against the real argon2 verifier, and the audit entries in the real SQLite database.
"""

from __future__ import annotations

import uuid

import pyotp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import AuditLog
from mangalm_desktop.domain.enums import Role
from mangalm_desktop.gui.signin_dialog import (
    LOCK_MINUTES_KEY,
    SessionGuard,
    SignInDialog,
    lock_minutes,
)
from mangalm_desktop.security import totp
from mangalm_desktop.security.roles import Identity
from mangalm_desktop.security.signin import SignInFailed

pytestmark = pytest.mark.gui

AGENT = Identity("A07", Role.AGENT, uuid.uuid4(), "A07")
MANAGER = Identity("M01", Role.MANAGER, None, "M01")
PASSWORDS = {"A07": "agent-pw", "M01": "mgr-pw"}


def fake_central(username: str, password: str) -> Identity:
    who = {"A07": AGENT, "M01": MANAGER}.get(username)
    if who is None or PASSWORDS[username] != password:
        raise SignInFailed("Wrong user name or password.")
    return who


def _actions(engine) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        rows = s.execute(select(AuditLog.action, AuditLog.actor).order_by(AuditLog.at)).all()
    return [tuple(r) for r in rows]


def _type_and_submit(qtbot, dialog: SignInDialog, user: str | None, password: str) -> None:
    if user is not None:
        dialog.user_edit.clear()
        qtbot.keyClicks(dialog.user_edit, user)
    qtbot.keyClicks(dialog.password_edit, password)
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)


def test_wrong_then_right_password(qtbot, runner, engine):
    dialog = SignInDialog(runner, engine, fake_central)
    qtbot.addWidget(dialog)
    dialog.show()
    _type_and_submit(qtbot, dialog, "A07", "nope")
    assert "Wrong user name or password" in dialog.error_label.text()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.password_edit.text() == ""  # never left in the field
    # The failure delay (1 s) is enforced: an immediate retry is throttled, in words.
    _type_and_submit(qtbot, dialog, None, "agent-pw")
    assert "Try again in" in dialog.error_label.text()
    qtbot.wait(1100)
    _type_and_submit(qtbot, dialog, None, "agent-pw")
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.identity == AGENT
    actions = _actions(engine)
    assert [a for a, _ in actions].count("sign_in_failed") == 2
    assert actions[-1] == ("sign_in", "A07")


def test_manager_with_totp_needs_the_code(qtbot, runner, engine):
    uri, png = totp.enrol("M01")
    assert png.startswith(b"\x89PNG")
    secret = pyotp.parse_uri(uri).secret
    dialog = SignInDialog(runner, engine, fake_central)
    qtbot.addWidget(dialog)
    dialog.show()
    _type_and_submit(qtbot, dialog, "M01", "mgr-pw")
    assert dialog.pages.currentIndex() == 1 and dialog.identity is None
    qtbot.keyClicks(dialog.code_edit, "000000" if pyotp.TOTP(secret).now() != "000000" else "1")
    qtbot.keyClick(dialog.code_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert dialog.identity is None and "not valid" in dialog.error_label.text()
    qtbot.keyClicks(dialog.code_edit, pyotp.TOTP(secret).now())
    qtbot.keyClick(dialog.code_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.identity is not None, timeout=10_000)
    assert dialog.identity == MANAGER


def test_idle_lock_unlocks_offline_and_sign_out(qtbot, runner, engine, make_window, db_path):
    window = make_window(engine, db_path)
    # One online sign-in caches the verifier; the lock screen then checks offline only.
    first = SignInDialog(runner, engine, fake_central)
    qtbot.addWidget(first)
    first.show()
    _type_and_submit(qtbot, first, "A07", "agent-pw")
    window.ctx.identity = first.identity
    guard = SessionGuard(window, window.ctx, engine, online_check=None)
    guard.timer.setInterval(50)  # the idle time, shortened for the test
    guard.timer.start()
    qtbot.waitUntil(lambda: guard.dialog is not None, timeout=5_000)
    assert not window.isVisible()
    lock = guard.dialog
    assert lock.user_edit.isReadOnly() and lock.user_edit.text() == "A07"
    _type_and_submit(qtbot, lock, None, "wrong")
    assert guard.dialog is lock and not window.isVisible()
    qtbot.wait(1100)
    with qtbot.waitSignal(guard.unlocked, timeout=10_000):
        _type_and_submit(qtbot, lock, None, "agent-pw")
    assert window.isVisible() and window.ctx.identity == AGENT
    # Sign out: the identity is forgotten and the window hidden until someone signs in.
    guard.sign_out()
    assert window.ctx.identity is None and not window.isVisible()
    again = guard.dialog
    _type_and_submit(qtbot, again, "A07", "agent-pw")
    qtbot.waitUntil(lambda: window.isVisible(), timeout=5_000)
    assert window.ctx.identity == AGENT
    purposes = [a for a, _ in _actions(engine)]
    assert purposes.count("sign_in") == 3 and purposes.count("sign_in_failed") == 1


def test_lock_minutes_setting_is_kept_and_audited(qtbot, runner, engine, make_window, db_path):
    window = make_window(engine, db_path)
    guard = SessionGuard(window, window.ctx, engine, online_check=None)
    menu_texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Lock" in menu_texts and "Sign &out" in menu_texts
    guard.set_lock_minutes(3)
    assert lock_minutes() == 3 and guard.timer.interval() == 180_000
    qtbot.waitUntil(lambda: ("settings_change", "desktop:desktop") in _actions(engine))
    guard.set_lock_minutes(240)  # 1–240: the lock can no longer be turned off (issue 23)
    assert guard.timer.isActive() and guard.timer.interval() == 240 * 60_000
    from mangalm_desktop.gui.settings import settings

    assert int(settings().value(LOCK_MINUTES_KEY)) == 240


def test_standalone_laptop_opens_without_sign_in(
    qtbot, engine, make_window, db_path, tmp_path, monkeypatch
):
    from mangalm_desktop.gui.signin_dialog import sign_in_at_start

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    window = make_window(engine, db_path)
    assert sign_in_at_start(window, window.ctx, engine)  # no central.json: no dialog
    assert window.ctx.identity is None and not hasattr(window, "session_guard")


@pytest.mark.pg
def test_start_up_sign_in_against_the_central_server(
    qtbot, engine, make_window, db_path, tmp_path, monkeypatch, pg_url
):
    """A configured central connection: the start-up dialog signs in online as the agent."""
    from PySide6.QtCore import QTimer

    from mangalm_desktop.gui.signin_dialog import sign_in_at_start
    from mangalm_desktop.sync.connection import CentralConfig, save_config
    from tests.integration.sync_support import as_user, build_world

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    world = build_world(pg_url, stores_per_agent=1, invoices_per_store=1, products=2)
    cfg = CentralConfig.from_url(as_user(world.url, world.agent_a.db_role))
    cfg.sslmode = "disable"
    save_config(cfg, world.agent_a.password)
    window = make_window(engine, db_path)

    def type_in() -> None:
        dialog = window.session_guard.dialog
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(50, type_in)
            return
        qtbot.keyClicks(dialog.user_edit, world.agent_a.code)
        qtbot.keyClicks(dialog.password_edit, world.agent_a.password)
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)

    QTimer.singleShot(50, type_in)
    assert sign_in_at_start(window, window.ctx, engine)
    who = window.ctx.identity
    assert who.role is Role.AGENT and who.agent_id == world.agent_a.agent_id
    assert ("sign_in", world.agent_a.code) in _actions(engine)
