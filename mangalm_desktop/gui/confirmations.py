"""Confirmations to the store in the GUI: e-mail (through the send queue) and WhatsApp.

- :func:`email_confirmation` queues an order's confirmation (the store's e-mail, PDF attached)
  on the writer and asks the :class:`MailSender` to send what is due at once;
- :func:`share_on_whatsapp` builds the ``wa.me`` link on a worker and opens it in the default
  browser (``QDesktopServices``): WhatsApp opens with the order summary typed in;
- :class:`ConfirmationBar` is what the Orders view shows after an order was submitted in the
  order dialog ("Send confirmation by e-mail" / "Share on WhatsApp"; the call screen can
  embed it too);
- :class:`MailSender` is the background sender: a QTimer submits
  ``messaging.service.send_pending`` to a pool thread — not the single writer, because an
  SMTP conversation can take up to its timeout and must not hold up order saves; its own
  database writes are single-row claims and marks of a few milliseconds. Its status-bar
  button shows the queue and opens it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from ..domain.changes import Changes
from ..messaging import service
from .context import AppContext
from .errors import show_error
from .workers import Worker, Written

log = logging.getLogger(__name__)

TICK_MS = 60_000  # how often the queue is looked at for due confirmations

_senders: dict[int, MailSender] = {}


def shown(parent: QWidget, doing: str) -> Callable[[BaseException], None]:
    """A worker's error callback that shows the error in words."""

    def show(exc: BaseException) -> None:
        show_error(parent, exc, doing)

    return show


def email_confirmation(
    ctx: AppContext,
    parent: QWidget,
    order_id: uuid.UUID,
    on_done: Callable[[service.QueuedMail], None] | None = None,
    *,
    again: bool = False,
) -> Worker:
    """Queue the confirmation of ``order_id`` to the store's e-mail and send it soon; if it was
    sent already, ask before sending another copy."""
    engine, who = ctx.engine, ctx.identity

    def done(w: Written) -> None:
        q: service.QueuedMail = w.value
        what = "queued" if q.created else "already waiting in the queue"
        ctx.status(f"Confirmation of {q.order_number} to {q.recipient}: {what}")
        sender_for(ctx).send_now()
        if on_done is not None:
            on_done(q)

    def failed(exc: BaseException) -> None:
        if isinstance(exc, service.AlreadySent) and not again and _ask_again(parent, exc):
            email_confirmation(ctx, parent, order_id, on_done, again=True)
        elif not isinstance(exc, service.AlreadySent):
            show_error(parent, exc, "e-mailing the confirmation")

    return ctx.runner.submit(
        lambda _c: Written(
            service.queue_order_confirmation(engine, who, order_id, again=again), service.CHANGES
        ),
        write=True,
        on_done=done,
        on_error=failed,
        name="queueing the confirmation",
    )


def _ask_again(parent: QWidget, exc: service.AlreadySent) -> bool:
    box = QMessageBox(parent)
    box.setObjectName("sendAgain")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Confirmation already sent")
    box.setText(str(exc))
    box.setInformativeText("Send the store another copy?")
    again = box.addButton("Send &again", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("&No", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is again


def share_on_whatsapp(ctx: AppContext, parent: QWidget, order_id: uuid.UUID) -> Worker:
    """Open WhatsApp (app or web, in the default browser) on a chat with the store, the order
    summary typed in; the agent presses Send."""
    engine, who = ctx.engine, ctx.identity

    def opened(link: str) -> None:
        if QDesktopServices.openUrl(QUrl(link)):
            ctx.status("WhatsApp opened in the browser with the order summary")
        else:
            show_error(parent, RuntimeError(f"No browser could open {link}"), "opening WhatsApp")

    return ctx.runner.submit(
        lambda _c: service.order_whatsapp_link(engine, who, order_id),
        on_done=opened,
        on_error=shown(parent, "sharing on WhatsApp"),
        name="building the WhatsApp link",
    )


class ConfirmationBar(QFrame):
    """ "Order … submitted — Send confirmation by e-mail / Share on WhatsApp / ×"."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmationBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.ctx = ctx
        self.order_id: uuid.UUID | None = None
        self.label = QLabel("", self)
        self.email_button = QPushButton("Send confirmation &by e-mail", self)
        self.email_button.setObjectName("confirmByEmail")
        self.whatsapp_button = QPushButton("&Share on WhatsApp", self)
        self.whatsapp_button.setObjectName("shareOnWhatsApp")
        self.close_button = QPushButton("Not now", self)
        self.close_button.setObjectName("confirmationBarClose")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.email_button)
        row.addWidget(self.whatsapp_button)
        row.addWidget(self.close_button)
        self.email_button.clicked.connect(lambda: self._email())
        self.whatsapp_button.clicked.connect(lambda: self._whatsapp())
        self.close_button.clicked.connect(lambda: self.hide())
        self.hide()

    def show_for(self, order_id: uuid.UUID, number: str) -> None:
        self.order_id = order_id
        self.label.setText(f"Order {number} submitted. Confirm it to the store:")
        self.email_button.setEnabled(True)
        self.show()

    def _email(self) -> None:
        if self.order_id is not None:
            self.email_button.setEnabled(False)  # once is enough
            email_confirmation(self.ctx, self, self.order_id)

    def _whatsapp(self) -> None:
        if self.order_id is not None:
            share_on_whatsapp(self.ctx, self, self.order_id)


class MailSender(QObject):
    """Sends due confirmations in the background and says how the queue stands."""

    counts_changed = Signal(object)  # service.QueueCounts
    finished = Signal(object)  # service.SendReport

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, tick_ms: int = TICK_MS):
        super().__init__(parent)
        self.ctx = ctx
        self._worker: Worker | None = None
        self._again = False
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        ctx.runner.changed.connect(self._on_changes)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.timer.stop)

    def start(self) -> None:
        self.timer.start()
        self.tick()

    def send_now(self) -> None:
        if self._worker is not None:
            self._again = True  # one more pass after the running one
            return
        self.tick()

    def tick(self) -> None:
        if self._worker is not None or self.ctx.engine is None:
            return
        engine, who = self.ctx.engine, self.ctx.identity
        self._worker = self.ctx.runner.submit(
            lambda task: service.send_pending(engine, who, task=task),
            on_done=self._sent,
            on_error=self._failed,
            on_cancelled=lambda: self._failed(None),
            name="sending order confirmations",
        )

    def _sent(self, report: service.SendReport) -> None:
        self._worker = None
        if report.sent or report.failed or report.retry_later:
            self.ctx.status(report.text())
        self.finished.emit(report)
        self.ctx.runner.changed.emit(service.CHANGES)
        if self._again:
            self._again = False
            self.tick()

    def _failed(self, exc: BaseException | None) -> None:
        self._worker = None
        if exc is not None:
            log.warning("sending confirmations failed: %s", exc)

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("mail_queue"):
            self.refresh_counts()

    def refresh_counts(self) -> None:
        if self.ctx.engine is None:
            return
        engine, who = self.ctx.engine, self.ctx.identity
        self.ctx.runner.submit(
            lambda _c: service.queue_counts(engine, who),
            on_done=self.counts_changed.emit,
            name="counting the mail queue",
        )


def sender_for(ctx: AppContext) -> MailSender:
    sender = _senders.get(id(ctx))
    if sender is None:
        sender = _senders[id(ctx)] = MailSender(ctx)
    return sender


def start_mail_sender(window: QWidget, ctx: AppContext) -> MailSender:
    """Called once by the app: the status-bar button (opens the queue) and the timer."""
    from .mail_dialogs import MailQueueDialog

    sender = sender_for(ctx)
    sender.setParent(window)  # stops and goes with the window
    window.destroyed.connect(lambda *_: _senders.pop(id(ctx), None))
    button = QPushButton("Mail: nothing waiting", window)
    button.setObjectName("mailStatus")
    button.setFlat(True)
    button.setToolTip("Order confirmations by e-mail: open the send queue")
    button.clicked.connect(lambda: MailQueueDialog(ctx, window).open())
    sender.counts_changed.connect(lambda counts: button.setText(counts.text()))
    window.statusBar().addPermanentWidget(button)  # type: ignore[attr-defined]
    window.mail_status_button = button  # type: ignore[attr-defined]
    sender.refresh_counts()
    sender.start()
    return sender
