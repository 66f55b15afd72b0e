"""The send queue of order confirmations, and the outgoing mail settings.

:class:`MailQueueDialog` lists every confirmation (order, store, recipient, status, attempts,
the last error in words, the next attempt) with Retry, Remove and Send now; it is reached from
the Orders view ("Mail queue…") and the status bar's mail button. :class:`MailSettingsDialog`
edits host, port, STARTTLS/TLS, user, password (kept only in the OS keyring), sender, CA file,
the risky local-test-server option and the default WhatsApp country, and sends a test message.
"""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..domain import formatting as fmt
from ..domain.changes import Changes
from ..messaging import service
from ..messaging.settings import (
    DEFAULT_PORTS,
    INSECURE_RISK,
    MailSettings,
    load_settings,
    save_settings,
)
from .confirmations import sender_for, shown
from .context import AppContext
from .errors import show_error
from .tablemodels import Column, RowsModel
from .workers import Written

STATUS_TEXT = {
    "queued": "Waiting",
    "sending": "Sending…",
    "sent": "Sent",
    "failed": "Failed",
}


def _when(value) -> str:  # noqa: ANN001 - datetime | None
    return fmt.day_time(value.astimezone()) if value is not None else ""


QUEUE_COLUMNS = [
    Column("order", "Order", lambda r: r.order_number),
    Column("store", "Store", lambda r: r.store_name),
    Column("to", "To", lambda r: r.recipient),
    Column("status", "Status", lambda r: STATUS_TEXT.get(r.status, r.status)),
    Column("attempts", "Attempts", lambda r: str(r.attempts)),
    Column(
        "next",
        "Next attempt / sent",
        lambda r: _when(r.sent_at if r.status == "sent" else r.next_attempt_at),
    ),
    Column(
        "error", "Last error", lambda r: r.last_error or "", tooltip=lambda r: r.last_error or ""
    ),
]


class MailQueueDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mailQueueDialog")
        self.setWindowTitle("Order confirmations — send queue")
        self.resize(980, 420)
        self.ctx = ctx
        self._request = 0
        self.model = RowsModel(QUEUE_COLUMNS, self)
        self.table = QTableView(self)
        self.table.setObjectName("mailQueueTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            len(QUEUE_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch
        )
        self.summary = QLabel("", self)
        self.summary.setObjectName("mailQueueSummary")
        self.retry_button = QPushButton("&Retry", self)
        self.retry_button.setObjectName("mailRetry")
        self.remove_button = QPushButton("Re&move", self)
        self.remove_button.setObjectName("mailRemove")
        self.send_button = QPushButton("&Send now", self)
        self.send_button.setObjectName("mailSendNow")
        self.settings_button = QPushButton("Mail &settings…", self)
        self.settings_button.setObjectName("mailSettings")
        self.close_button = QPushButton("Close", self)
        buttons = QHBoxLayout()
        for b in (self.retry_button, self.remove_button, self.send_button, self.settings_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.retry_button.clicked.connect(lambda: self._act(service.retry, "retrying"))
        self.remove_button.clicked.connect(lambda: self._act(service.remove, "removing"))
        self.send_button.clicked.connect(lambda: sender_for(ctx).send_now())
        self.settings_button.clicked.connect(lambda: MailSettingsDialog(ctx, self).open())
        self.close_button.clicked.connect(self.reject)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        ctx.runner.changed.connect(self._on_changes)
        self._update_buttons()
        self.refresh()

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("mail_queue", "orders"):
            self.refresh()

    def refresh(self) -> None:
        self._request += 1
        request, engine, who = self._request, self.ctx.engine, self.ctx.identity
        self.ctx.runner.submit(
            lambda _c: service.list_queue(engine, who),
            on_done=lambda rows: self._loaded(request, rows),
            on_error=shown(self, "reading the mail queue"),
            name="reading the mail queue",
        )

    def _loaded(self, request: int, rows: list[service.QueueRow]) -> None:
        if request != self._request:
            return
        keep = self.selected()
        self.model.set_rows(rows)
        for i, r in enumerate(rows):
            if keep is not None and r.id == keep.id:
                self.table.selectRow(i)
        waiting = sum(1 for r in rows if r.status in ("queued", "sending"))
        failed = sum(1 for r in rows if r.status == "failed")
        self.summary.setText(
            f"{len(rows)} confirmations: {waiting} waiting, {failed} failed. The orders stay "
            "submitted whatever the mail server says; waiting ones are retried by themselves."
        )
        self._update_buttons()

    def selected(self) -> service.QueueRow | None:
        row = self.table.currentIndex().row()
        return self.model.rows[row] if 0 <= row < len(self.model.rows) else None

    def _update_buttons(self) -> None:
        r = self.selected()
        self.retry_button.setEnabled(r is not None and r.status in ("queued", "failed"))
        self.remove_button.setEnabled(r is not None and r.status != "sending")

    def _act(self, fn, doing: str) -> None:  # noqa: ANN001
        r = self.selected()
        if r is None:
            return
        engine, who, queue_id = self.ctx.engine, self.ctx.identity, r.id

        def done(_w: Written) -> None:
            if fn is service.retry:
                sender_for(self.ctx).send_now()

        self.ctx.runner.submit(
            lambda _c: Written(fn(engine, who, queue_id), service.CHANGES),
            write=True,
            on_done=done,
            on_error=shown(self, f"{doing} the confirmation"),
            name=f"{doing} a confirmation",
        )

    def select_order(self, order_id: uuid.UUID) -> None:
        for i, r in enumerate(self.model.rows):
            if r.order_id == order_id:
                self.table.selectRow(i)
                return


class MailSettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mailSettingsDialog")
        self.setWindowTitle("Mail settings (order confirmations)")
        self.ctx = ctx
        try:
            current = load_settings()
        except Exception as exc:  # damaged file: start empty, say why
            show_error(self, exc, "reading the mail settings")
            current = MailSettings()
        self.host = QLineEdit(current.host, self)
        self.host.setObjectName("mailHost")
        self.security = QComboBox(self)
        self.security.setObjectName("mailSecurity")
        self.security.addItem("STARTTLS (port 587)", "starttls")
        self.security.addItem("TLS from the start (port 465)", "tls")
        self.security.setCurrentIndex(0 if current.security == "starttls" else 1)
        self.port = QSpinBox(self)
        self.port.setObjectName("mailPort")
        self.port.setRange(1, 65535)
        self.port.setValue(current.port)
        self.user = QLineEdit(current.user, self)
        self.user.setObjectName("mailUser")
        self.password = QLineEdit(self)
        self.password.setObjectName("mailPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept in the OS keyring; empty: keep the saved one")
        self.from_edit = QLineEdit(current.from_address, self)
        self.from_edit.setObjectName("mailFrom")
        self.ca_file = QLineEdit(current.ca_file, self)
        self.ca_file.setObjectName("mailCaFile")
        self.ca_file.setPlaceholderText("the company CA certificate (PEM), if the server uses one")
        self.insecure = QCheckBox("Do not verify the certificate (local test server only)", self)
        self.insecure.setObjectName("mailInsecure")
        self.insecure.setToolTip(f"Risky: it {INSECURE_RISK}.")
        self.insecure.setChecked(current.insecure)
        self.country = QLineEdit(current.whatsapp_country, self)
        self.country.setObjectName("mailCountry")
        self.test_to = QLineEdit(self)
        self.test_to.setObjectName("mailTestTo")
        self.test_to.setPlaceholderText("an address to send a test message to")
        self.message = QLabel("", self)
        self.message.setObjectName("mailSettingsMessage")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Mail server", self.host)
        form.addRow("Security", self.security)
        form.addRow("Port", self.port)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        form.addRow("Sender address", self.from_edit)
        form.addRow("CA certificate", self.ca_file)
        form.addRow(QLabel("", self), self.insecure)
        form.addRow("WhatsApp country code", self.country)
        form.addRow("Test message to", self.test_to)
        self.save_button = QPushButton("&Save", self)
        self.save_button.setObjectName("mailSave")
        self.test_button = QPushButton("Send &test", self)
        self.test_button.setObjectName("mailTest")
        self.cancel_button = QPushButton("Cancel", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.security.currentIndexChanged.connect(
            lambda _i: self.port.setValue(DEFAULT_PORTS[self.security.currentData()])
        )
        self.save_button.clicked.connect(lambda: self.save())
        self.test_button.clicked.connect(lambda: self.send_test())
        self.cancel_button.clicked.connect(self.reject)

    def settings(self) -> MailSettings:
        return MailSettings(
            host=self.host.text().strip(),
            port=self.port.value(),
            security=self.security.currentData(),
            user=self.user.text().strip(),
            from_address=self.from_edit.text().strip(),
            ca_file=self.ca_file.text().strip(),
            insecure=self.insecure.isChecked(),
            whatsapp_country=self.country.text().strip() or "91",
        )

    def save(self) -> None:
        settings, password = self.settings(), self.password.text() or None

        def saved(_path: object) -> None:
            self.ctx.status("Mail settings saved")
            sender_for(self.ctx).send_now()  # waiting confirmations go now
            self.accept()

        self.ctx.runner.submit(
            lambda _c: save_settings(settings, password=password),
            on_done=saved,
            on_error=lambda exc: self.message.setText(str(exc)),
            name="saving the mail settings",
        )

    def send_test(self) -> None:
        settings, to = self.settings(), self.test_to.text().strip()
        password = self.password.text() or None
        self.message.setText("Sending a test message…")

        self.ctx.runner.submit(
            lambda _c: service.send_test_message(settings, to, password=password),
            on_done=self.message.setText,
            on_error=lambda exc: self.message.setText(str(exc)),
            name="sending a test message",
        )
