"""Connection settings for the central server: host, database, user, TLS, CA file, password.

The password goes to the OS keyring only (``save_config``); the rest is the small config file.
"Test connection" runs in a worker and says in words what happened (wrong password, server
down, schema too new/old, TLS on or off).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import UserError
from ..security.secrets import get_secret
from ..sync.connection import SSL_MODES, CentralConfig, check_connection, load_config, save_config
from .workers import TaskRunner


class CentralSettingsDialog(QDialog):
    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Central server")
        self.setObjectName("centralSettingsDialog")
        self.runner = runner
        try:
            cfg = load_config()
        except UserError:
            cfg = CentralConfig()
        form = QFormLayout()
        self.host = QLineEdit(cfg.host, self)
        self.host.setPlaceholderText("db.example.com")
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(cfg.port)
        self.database = QLineEdit(cfg.database, self)
        self.user = QLineEdit(cfg.user, self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        has_pw = bool(cfg.configured and get_secret(cfg.secret_key))
        self.password.setPlaceholderText("saved in the keyring" if has_pw else "")
        self.sslmode = QComboBox(self)
        self.sslmode.addItems(list(SSL_MODES))
        self.sslmode.setCurrentText(cfg.sslmode)
        self.insecure = QCheckBox("Allow an insecure connection (no certificate check)", self)
        self.insecure.setObjectName("allowInsecure")
        self.insecure.setToolTip(
            "TLS modes disable, prefer and require do not check who the server is: anyone on "
            "the network can read or change the data and capture the password."
        )
        self.insecure.setChecked(cfg.insecure)
        self.ca = QLineEdit(cfg.sslrootcert, self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca, 1)
        ca_row.addWidget(browse)
        self.minutes = QSpinBox(self)
        self.minutes.setRange(1, 240)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(cfg.sync_minutes)
        form.addRow("Host", self.host)
        form.addRow("Port", self.port)
        form.addRow("Database", self.database)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        form.addRow("TLS", self.sslmode)
        form.addRow("", self.insecure)
        form.addRow("CA certificate", ca_row)
        form.addRow("Sync every", self.minutes)
        self.extra = dict(cfg.extra)

        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test)
        self.result_label = QLabel("", self)
        self.result_label.setObjectName("connectionResult")
        self.result_label.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.test_button)
        layout.addWidget(self.result_label)
        layout.addWidget(buttons)
        self.resize(460, 0)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "CA certificate", "", "PEM (*.pem *.crt);;All (*)"
        )
        if path:
            self.ca.setText(path)

    def config(self) -> CentralConfig:
        return CentralConfig(
            host=self.host.text().strip(),
            port=self.port.value(),
            database=self.database.text().strip(),
            user=self.user.text().strip(),
            sslmode=self.sslmode.currentText(),
            sslrootcert=self.ca.text().strip(),
            sync_minutes=self.minutes.value(),
            extra=self.extra,
            insecure=self.insecure.isChecked(),
        )

    def _password(self, cfg: CentralConfig) -> str | None:
        return self.password.text() or get_secret(cfg.secret_key)

    def test(self) -> None:
        cfg = self.config()
        try:
            cfg.validate()
        except UserError as exc:
            self.result_label.setText(str(exc))
            return
        self.test_button.setEnabled(False)
        self.result_label.setText("Connecting…")
        password = self._password(cfg)

        def done(check) -> None:
            self.test_button.setEnabled(True)
            self.result_label.setText(("✔ " if check.ok else "✘ ") + check.message)

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            self.result_label.setText(f"✘ {exc}")

        self.runner.submit(
            lambda _ctx: check_connection(cfg, password),
            on_done=done,
            on_error=failed,
            name="test connection",
        )

    def save(self) -> None:
        cfg = self.config()
        try:
            save_config(cfg, self.password.text() or None)
        except UserError as exc:
            self.result_label.setText(f"✘ {exc}")
            return
        self.accept()
