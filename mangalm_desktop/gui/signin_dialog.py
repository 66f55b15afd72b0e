"""Sign-in, the lock screen and auto-lock after idle time.

Shown at start when a central connection is configured (not for ``--demo``, ``--self-test`` or a
standalone laptop: with no server there is no account to check, see docs/security.md). The
password check runs on the writer thread (it records the attempt, the failure delay and the
audit entry); the UI thread only shows the answer. Managers and admins who enrolled a TOTP
secret type a 6-digit code as a second step.

The lock screen asks the signed-in person's password again and checks it offline against the
cached argon2 verifier, so unlocking works with no network. :class:`SessionGuard` owns the
idle timer (any key or mouse input restarts it; the minutes live in QSettings under
``security/lock_minutes``, 0 = never) and adds Lock / Sign out / Auto-lock to the File menu.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import UserError
from ..security.roles import Identity
from ..security.session import (
    SignInOutcome,
    record_setting_change,
    sign_in_audited,
    verify_second_factor,
)
from ..security.signin import OnlineCheck
from .settings import settings
from .workers import TaskRunner

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from .context import AppContext

log = logging.getLogger(__name__)

LOCK_MINUTES_KEY = "security/lock_minutes"
DEFAULT_LOCK_MINUTES = 10
MIN_LOCK_MINUTES, MAX_LOCK_MINUTES = 1, 240
"""The auto-lock is always on: between 1 minute and 4 hours of idle time (issue 23)."""


def lock_minutes() -> int:
    """Idle minutes before the lock screen, 1–240.

    A value outside that range in the settings file (0 or -5 used to turn the lock off, and
    nobody saw it) is not honoured: the default applies and a warning is logged.
    """
    raw = settings().value(LOCK_MINUTES_KEY, DEFAULT_LOCK_MINUTES)
    try:
        minutes = int(raw)  # type: ignore[call-overload]  # QSettings gives object
    except (TypeError, ValueError):
        minutes = None
    if minutes is None or not MIN_LOCK_MINUTES <= minutes <= MAX_LOCK_MINUTES:
        log.warning("auto-lock setting %r is out of range; using %d min", raw, DEFAULT_LOCK_MINUTES)
        return DEFAULT_LOCK_MINUTES
    return minutes


def _message(exc: BaseException) -> str:
    if isinstance(exc, UserError):
        return str(exc)
    log.warning("sign-in failed unexpectedly: %s", type(exc).__name__)
    return "Sign-in could not be checked. Try again; if it keeps failing, call support."


class SignInDialog(QDialog):
    """User name + password (then a TOTP code when needed); ``identity`` is set on accept.

    With ``lock_for`` it is the lock screen: the user is fixed and the password is checked
    offline only; "Sign out" then rejects it.
    """

    def __init__(
        self,
        runner: TaskRunner,
        engine: Engine,
        online_check: OnlineCheck | None = None,
        *,
        lock_for: Identity | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.engine = engine
        self.online_check = None if lock_for is not None else online_check
        self.lock_for = lock_for
        self.identity: Identity | None = None
        self._pending: SignInOutcome | None = None
        self.busy = False
        self.setWindowTitle("Mangalm Sales — locked" if lock_for else "Sign in to Mangalm Sales")
        self.setModal(True)

        self.pages = QStackedWidget(self)
        first = QWidget()
        form = QFormLayout(first)
        self.user_edit = QLineEdit()
        self.user_edit.setObjectName("user")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        if lock_for is not None:
            form.addRow(QLabel(f"Locked. {lock_for.username}, enter your password to continue."))
            self.user_edit.setText(lock_for.username)
            self.user_edit.setReadOnly(True)
        form.addRow("&User:", self.user_edit)
        form.addRow("&Password:", self.password_edit)
        self.pages.addWidget(first)
        second = QWidget()
        form2 = QFormLayout(second)
        form2.addRow(QLabel("Enter the 6-digit code from your authenticator app."))
        self.code_edit = QLineEdit()
        self.code_edit.setObjectName("code")
        self.code_edit.setMaxLength(7)
        form2.addRow("&Code:", self.code_edit)
        self.pages.addWidget(second)

        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: palette(link-visited);")
        self.ok_button = QPushButton("Unlock" if lock_for else "Sign in")
        self.ok_button.setDefault(True)
        self.cancel_button = QPushButton("Sign out" if lock_for else "Quit")
        self.ok_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        (self.password_edit if lock_for else self.user_edit).setFocus()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.ok_button.setEnabled(not busy)
        if busy:
            self.error_label.setText("Checking…")

    def submit(self) -> None:
        if self.busy:
            return
        self._set_busy(True)
        if self.pages.currentIndex() == 1 and self._pending is not None:
            self.runner.submit(
                verify_second_factor,
                self.engine,
                self._pending.identity,
                self.code_edit.text(),
                write=True,
                on_done=self._accepted,
                on_error=self._failed,
                name="second factor",
            )
            return
        self.runner.submit(
            sign_in_audited,
            self.engine,
            self.user_edit.text(),
            self.password_edit.text(),
            self.online_check,
            purpose="unlock" if self.lock_for else "sign_in",
            write=True,
            on_done=self._signed_in,
            on_error=self._failed,
            name="sign in",
        )

    def _signed_in(self, outcome: SignInOutcome) -> None:
        self.password_edit.clear()
        if self.lock_for is not None and outcome.identity.username.lower() != (
            self.lock_for.username.lower()
        ):  # pragma: no cover - the user field is read-only
            self._failed(UserError("Only the signed-in user can unlock."))
            return
        if outcome.needs_totp:
            self._pending = outcome
            self.pages.setCurrentIndex(1)
            self._set_busy(False)
            self.error_label.setText("")
            self.code_edit.setFocus()
            return
        self._accepted(outcome.identity)

    def _accepted(self, identity: Identity) -> None:
        self._set_busy(False)
        self.identity = identity
        self.error_label.setText("")
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.password_edit.clear()
        self.code_edit.clear()
        self.error_label.setText(_message(exc))


class IdleFilter(QObject):
    """Restarts ``timer`` on any key, mouse or wheel input anywhere in the application."""

    INPUT = frozenset(
        {
            QEvent.Type.KeyPress,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseMove,
            QEvent.Type.Wheel,
        }
    )

    def __init__(self, timer: QTimer, parent: QObject) -> None:
        super().__init__(parent)
        self.timer = timer

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in self.INPUT and self.timer.isActive():
            self.timer.start()
        return False


class SessionGuard(QObject):
    """Who is signed in to a window: sign-in at start, lock after idle, sign out.

    ``ctx.identity`` is the signed-in person (the services check it); the window is hidden while
    locked or signed out, so nothing is readable on an unattended laptop.
    """

    locked = Signal()
    unlocked = Signal()
    signed_out = Signal()

    def __init__(
        self,
        window: QWidget,
        ctx: AppContext,
        engine: Engine,
        online_check: OnlineCheck | None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = ctx
        self.engine = engine
        self.online_check = online_check
        self.dialog: SignInDialog | None = None
        self._hidden: list[QWidget] = []  # windows hidden by the lock, shown again on unlock
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        self._filter = IdleFilter(self.timer, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._filter)
        self.apply_lock_minutes()
        self._add_actions()

    @property
    def identity(self) -> Identity | None:
        return self.ctx.identity

    def _add_actions(self) -> None:
        self.lock_action = QAction("&Lock", self)
        self.lock_action.setShortcut("Ctrl+L")
        self.lock_action.triggered.connect(self.lock)
        self.sign_out_action = QAction("Sign &out", self)
        self.sign_out_action.triggered.connect(self.sign_out)
        self.lock_minutes_action = QAction("&Auto-lock after…", self)
        self.lock_minutes_action.triggered.connect(self.ask_lock_minutes)
        bar = getattr(self.window, "menuBar", None)
        if bar is None:
            return
        menus = [a.menu() for a in bar().actions() if a.menu() is not None]
        if not menus:
            return
        before = getattr(self.window, "quit_action", None)
        for action in (self.lock_action, self.sign_out_action, self.lock_minutes_action):
            menus[0].insertAction(before, action)
        self.window.addAction(self.lock_action)

    def apply_lock_minutes(self) -> None:
        self.timer.stop()
        self.timer.setInterval(lock_minutes() * 60_000)
        self.timer.start()

    def set_lock_minutes(self, minutes: int) -> None:
        """Change the idle time, 1–240 minutes (audited as a settings change)."""
        if not MIN_LOCK_MINUTES <= int(minutes) <= MAX_LOCK_MINUTES:
            raise UserError(
                f"The auto-lock must be between {MIN_LOCK_MINUTES} and {MAX_LOCK_MINUTES} "
                f"minutes, not {minutes}."
            )
        settings().setValue(LOCK_MINUTES_KEY, int(minutes))
        self.apply_lock_minutes()
        who = self.identity.username if self.identity else "desktop"
        self.ctx.runner.submit(
            record_setting_change,
            self.engine,
            f"desktop:{who}",
            LOCK_MINUTES_KEY,
            int(minutes),
            identity=self.identity,
            write=True,
            name="audit setting",
        )

    def ask_lock_minutes(self) -> None:  # pragma: no cover - a thin input box
        minutes, ok = QInputDialog.getInt(
            self.window,
            "Auto-lock",
            f"Lock the screen after this many idle minutes ({MIN_LOCK_MINUTES}–"
            f"{MAX_LOCK_MINUTES}):",
            lock_minutes(),
            MIN_LOCK_MINUTES,
            MAX_LOCK_MINUTES,
        )
        if ok:
            self.set_lock_minutes(minutes)

    def sign_in(self) -> bool:
        """The start-up sign-in (modal); False when the person quit instead."""
        dialog = SignInDialog(self.ctx.runner, self.engine, self.online_check)
        self.dialog = dialog
        ok = dialog.exec() == QDialog.DialogCode.Accepted and dialog.identity is not None
        self.dialog = None
        if ok:
            self.ctx.identity = dialog.identity
            self.apply_lock_minutes()
        return ok

    def lock(self) -> None:
        """Hide the window and ask for the password again (offline check)."""
        identity = self.identity
        if identity is None or self.dialog is not None:
            return
        self.timer.stop()
        self._hide_windows()
        self.locked.emit()
        dialog = SignInDialog(self.ctx.runner, self.engine, lock_for=identity)
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.dialog = dialog
        dialog.finished.connect(self._lock_finished)
        dialog.open()

    def _lock_finished(self, code: int) -> None:
        dialog, self.dialog = self.dialog, None
        if code == QDialog.DialogCode.Accepted and dialog is not None and dialog.identity:
            hidden, self._hidden = self._hidden, []
            self.window.show()
            for w in hidden:
                if w is not self.window and not _deleted(w):
                    w.show()
            self.apply_lock_minutes()
            self.unlocked.emit()
        else:
            self.sign_out()

    def _hide_windows(self) -> None:
        """Hide every window of the app — report and store windows too, not only the main one
        (they stayed on screen with their data) — and remember them for the unlock."""
        app = QApplication.instance()
        others = [
            w
            for w in (app.topLevelWidgets() if isinstance(app, QApplication) else [])
            if w.isVisible() and not isinstance(w, SignInDialog)
        ]
        self._hidden = [*self._hidden, *(w for w in others if w not in self._hidden)]
        self.window.hide()
        for w in others:
            w.hide()

    def sign_out(self) -> None:
        """Forget who is signed in and show the sign-in again; quitting it closes the app.

        Every other window (reports, store cards) is closed: it holds the previous person's
        data, and the next person may be someone else.
        """
        self.timer.stop()
        self.ctx.identity = None
        self._hide_windows()
        hidden, self._hidden = self._hidden, []
        for w in hidden:
            if w is not self.window and not _deleted(w):
                w.close()
        self.signed_out.emit()
        dialog = SignInDialog(self.ctx.runner, self.engine, self.online_check)
        self.dialog = dialog
        dialog.finished.connect(self._sign_in_again_finished)
        dialog.open()

    def _sign_in_again_finished(self, code: int) -> None:
        dialog, self.dialog = self.dialog, None
        if code == QDialog.DialogCode.Accepted and dialog is not None and dialog.identity:
            self.ctx.identity = dialog.identity
            apply_identity = getattr(self.window, "apply_identity", None)
            if apply_identity is not None:  # another person may have signed in
                apply_identity()
            self.window.show()
            self.apply_lock_minutes()
        else:
            self.window.close()


def _deleted(widget: QWidget) -> bool:
    """True when Qt already destroyed the window (closed with delete-on-close)."""
    from shiboken6 import isValid

    return not isValid(widget)


def sign_in_at_start(window: QWidget, ctx: AppContext, engine: Engine) -> bool:
    """Ask for sign-in when a central connection is configured; False if the person quit.

    A standalone laptop (no connection settings) has no account to check and opens directly:
    it is protected by the OS login and the encrypted database (docs/security.md).
    """
    from ..sync.connection import load_config
    from ..sync.online_signin import central_online_check

    config = load_config()
    if not config.configured:
        return True
    guard = SessionGuard(window, ctx, engine, central_online_check(config))
    window.session_guard = guard  # type: ignore[attr-defined]
    return guard.sign_in()
