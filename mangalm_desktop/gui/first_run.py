"""First start on a laptop: say what the app is and offer the three ways to begin.

Shown only when no database exists yet at the default place and none was named (``--db``,
``MANGALM_DB``, ``--demo``). The answer decides which database opens; nothing is written before.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class FirstRunChoice(Enum):
    DEMO = "demo"
    CONNECT = "connect"
    EMPTY = "empty"


class FirstRunDialog(QDialog):
    def __init__(self, data_folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Mangalm Sales")
        self.choice = FirstRunChoice.EMPTY
        layout = QVBoxLayout(self)
        title = QLabel("<h2>Welcome to Mangalm Sales</h2>")
        text = QLabel(
            "Your stores, their purchase history and suggested orders, on this laptop — "
            "with or without a network.<br><br>How would you like to start?"
        )
        text.setWordWrap(True)
        where = QLabel(f"<small>Your data will be kept in {data_folder}</small>")
        where.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(text)
        buttons = QDialogButtonBox(self)
        self.demo_button = QPushButton("Explore a demo company")
        self.connect_button = QPushButton("Connect to the company server…")
        self.empty_button = QPushButton("Start empty")
        for button, choice in (
            (self.demo_button, FirstRunChoice.DEMO),
            (self.connect_button, FirstRunChoice.CONNECT),
            (self.empty_button, FirstRunChoice.EMPTY),
        ):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.AcceptRole)
            button.clicked.connect(lambda _=False, c=choice: self._choose(c))
        self.demo_button.setDefault(True)
        layout.addWidget(buttons)
        layout.addWidget(where)

    def _choose(self, choice: FirstRunChoice) -> None:
        self.choice = choice
        self.accept()
