"""Errors shown in words: a message, what to do, and the technical details one click away.

A :class:`~mangalm_desktop.domain.errors.UserError` is shown as its message and hint. Anything
else is a bug: the person sees a plain sentence, and the traceback sits behind "Show details"
with a copy button, so it can be pasted into a support mail. Never a bare traceback dialog.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ..db.errors import explain as explain_db_error
from ..domain.errors import UserError
from .resources import load_ui, ui_child

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorReport:
    message: str
    hint: str
    details: str


def describe(exc: BaseException, doing: str = "") -> ErrorReport:
    """Turn an exception into words for a person plus details for support."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    exc = explain_db_error(exc) or exc
    if isinstance(exc, UserError):
        return ErrorReport(exc.message, exc.hint or "", details)
    what = f"while {doing}" if doing else "in the app"
    message = f"Something went wrong {what}: {type(exc).__name__}: {exc}".rstrip(": ")
    hint = (
        "Nothing you entered was lost. Try again; if it keeps happening, copy the details "
        "and send them to support."
    )
    return ErrorReport(message, hint, details)


class ErrorDialog(QDialog):
    """The Designer form ``ui/error_dialog.ui`` wrapped with its behaviour."""

    def __init__(self, report: ErrorReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        form = load_ui("error_dialog.ui", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(form)
        self.setWindowTitle(form.windowTitle())
        self.resize(form.size())
        self.message_label: QLabel = ui_child(form, QLabel, "messageLabel")
        self.hint_label: QLabel = ui_child(form, QLabel, "hintLabel")
        self.details_text: QPlainTextEdit = ui_child(form, QPlainTextEdit, "detailsText")
        self.details_button: QPushButton = ui_child(form, QPushButton, "detailsButton")
        self.copy_button: QPushButton = ui_child(form, QPushButton, "copyButton")
        close_button: QPushButton = ui_child(form, QPushButton, "closeButton")
        icon_label: QLabel = ui_child(form, QLabel, "iconLabel")
        icon_label.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(40, 40)
        )
        self.message_label.setText(report.message)
        self.hint_label.setText(report.hint)
        self.hint_label.setVisible(bool(report.hint))
        self.details_text.setPlainText(report.details)
        self.details_text.setVisible(False)
        self.details_button.setVisible(bool(report.details))
        self.details_button.toggled.connect(self._toggle_details)
        self.copy_button.clicked.connect(self.copy)
        close_button.clicked.connect(self.accept)

    def _toggle_details(self, shown: bool) -> None:
        self.details_text.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Show details")
        self.adjustSize()

    def copy(self) -> None:
        text = "\n\n".join(
            p for p in (self.report.message, self.report.hint, self.report.details) if p
        )
        QGuiApplication.clipboard().setText(text)


def show_error(parent: QWidget | None, exc: BaseException, doing: str = "") -> ErrorDialog:
    """Show ``exc`` non-modally (tests and the self-test never block on it) and log it."""
    report = describe(exc, doing)
    # a refusal in words is the app working as meant; anything else is a fault to look into
    level = logging.WARNING if isinstance(exc, UserError) else logging.ERROR
    log.log(level, "shown to user: %s", report.message)
    dialog = ErrorDialog(report, parent)
    dialog.setModal(True)
    dialog.show()
    return dialog
