"""Confirmations to the store, clicked as a person: after submit in the order dialog, from the
Orders view, the send queue (Retry, Remove) and the mail settings dialog — against a real local
SMTP server (aiosmtpd, STARTTLS with the test CA trusted through the app's CA setting)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import MailQueue, Order, Store
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.gui.confirmations import start_mail_sender
from mangalm_desktop.gui.mail_dialogs import MailQueueDialog, MailSettingsDialog
from mangalm_desktop.messaging.settings import MailSettings, load_settings, save_settings
from mangalm_desktop.security.secrets import get_secret
from tests.gui.people import answer_modal, click, click_text
from tests.integration.orders_support import seed
from tests.support.smtp_server import PASSWORD, USER, Recorder, running_server
from tests.support.tls import make_pki

pytestmark = [
    pytest.mark.gui,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

STORE_MAIL = "owner@srilakshmi.example"


@pytest.fixture
def seeded(engine):
    ensure_search_schema(engine)
    sd = seed(engine)
    with session_scope(engine) as s:
        store = s.get(Store, sd.store_id)
        store.email, store.phone = STORE_MAIL, "098450 12345"
    return sd


@pytest.fixture
def window(make_window, engine, db_path, seeded):
    return make_window(engine, db_path)


@pytest.fixture
def pki(tmp_path):
    return make_pki(tmp_path / "pki", hostname="localhost")


@pytest.fixture
def opened(monkeypatch):
    """The one patch: QDesktopServices.openUrl (no browser here); the URLs it was given."""
    urls: list[str] = []

    def open_url(url):
        urls.append(url.toString(url.ComponentFormattingOption.FullyEncoded))
        return True

    monkeypatch.setattr("PySide6.QtGui.QDesktopServices.openUrl", open_url)
    return urls


def submit_order(window, qtbot):
    qtbot.keyClick(
        window,
        Qt.Key.Key_N,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )  # Ctrl+Shift+N: New order (Ctrl+N is the call screen)
    view = window.views["orders"]
    dialog = view.dialogs[-1]
    qtbot.waitUntil(lambda: dialog.ready, timeout=10_000)
    qtbot.keyClicks(dialog.store_edit, "lakshmi")
    qtbot.keyClick(dialog.store_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.store is not None)
    qtbot.keyClicks(dialog.product_edit, "dal-1")
    qtbot.keyClick(dialog.product_edit, Qt.Key.Key_Return)
    dialog.qty_edit.selectAll()
    qtbot.keyClicks(dialog.qty_edit, "20")
    qtbot.keyClick(dialog.qty_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(dialog.lines) == 1)
    click(dialog.submit_button)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert dialog.result.state == "submitted"
    return view, dialog.result


def visible_queues(window):
    return [w for w in window.findChildren(MailQueueDialog) if w.isVisible()]


def configure(server, pki):
    save_settings(
        MailSettings(
            host=server.host,
            port=server.port,
            security="starttls",
            user=USER,
            from_address="orders@mangalm.example",
            ca_file=str(pki.ca_cert),
            timeout_s=10,
        ),
        password=PASSWORD,
    )


def queue_rows(engine):
    with session_scope(engine) as s:
        return [(q.recipient, q.status, q.attempts) for q in s.scalars(select(MailQueue))]


def test_after_submit_email_and_whatsapp(window, qtbot, engine, pki, opened):
    recorder = Recorder()
    with running_server("starttls", pki, recorder) as server:
        configure(server, pki)
        start_mail_sender(window, window.ctx)
        view, result = submit_order(window, qtbot)
        bar = view.confirmation_bar
        qtbot.waitUntil(bar.isVisible)
        assert result.number in bar.label.text()
        click(bar.email_button)
        qtbot.waitUntil(lambda: len(recorder.messages) == 1, timeout=15_000)
        qtbot.waitUntil(lambda: queue_rows(engine) == [(STORE_MAIL, "sent", 1)], timeout=10_000)
        [msg] = recorder.messages
        assert msg["To"] == STORE_MAIL and result.number in msg["Subject"]
        [pdf] = list(msg.iter_attachments())
        assert pdf.get_content().startswith(b"%PDF")
        qtbot.waitUntil(
            lambda: window.mail_status_button.text() == "Mail: nothing waiting", timeout=10_000
        )
        click(bar.whatsapp_button)
        qtbot.waitUntil(lambda: len(opened) == 1, timeout=10_000)
        # from the Orders view, the same order again: asked first; "No" sends nothing ...
        qtbot.waitUntil(lambda: view.detail is not None and view.detail.number == result.number)
        no = answer_modal(QMessageBox, lambda box: click_text(box, "No"))
        click(view.buttons["email"])
        qtbot.waitUntil(lambda: no.done, timeout=10_000)
        assert "already sent" in no.text and len(queue_rows(engine)) == 1
        # ... "Send again" sends one more copy
        yes = answer_modal(QMessageBox, lambda box: click_text(box, "Send again"))
        click(view.buttons["email"])
        qtbot.waitUntil(lambda: yes.done, timeout=10_000)
        qtbot.waitUntil(lambda: queue_rows(engine) == [(STORE_MAIL, "sent", 1)] * 2, timeout=15_000)
        assert len(recorder.messages) == 2
        # the status bar's mail button opens the queue with both
        click(window.mail_status_button)
        qtbot.waitUntil(lambda: len(visible_queues(window)) == 1)
        [queue] = visible_queues(window)
        qtbot.waitUntil(lambda: len(queue.model.rows) == 2, timeout=10_000)
        assert {r.status for r in queue.model.rows} == {"sent"}
        click(queue.close_button)
    parts = urlsplit(opened[0])
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/919845012345")
    [text] = parse_qs(parts.query)["text"]
    assert text.startswith(f"Order {result.number} for Sri Lakshmi Stores")
    assert "Toor Dal 1 kg × 20" in text
    with session_scope(engine) as s:
        assert s.get(Order, result.order_id).state == "submitted"


def test_orders_view_queue_retry_and_remove(window, qtbot, engine, pki, opened):
    recorder = Recorder(refuse={STORE_MAIL})
    with running_server("starttls", pki, recorder) as server:
        configure(server, pki)
        view, result = submit_order(window, qtbot)
        click(view.confirmation_bar.close_button)
        assert not view.confirmation_bar.isVisible()
        qtbot.waitUntil(lambda: view.detail is not None and view.detail.number == result.number)
        qtbot.waitUntil(lambda: view.buttons["email"].isEnabled())
        click(view.buttons["email"])
        qtbot.waitUntil(lambda: queue_rows(engine) == [(STORE_MAIL, "failed", 1)], timeout=15_000)
        click(view.buttons["mailqueue"])
        dialog = view.dialogs[-1]
        qtbot.waitUntil(lambda: len(dialog.model.rows) == 1, timeout=10_000)
        row = dialog.model.rows[0]
        assert row.status == "failed" and "refused the recipient" in row.last_error
        assert "1 failed" in dialog.summary.text()
        dialog.table.selectRow(0)
        assert dialog.retry_button.isEnabled()
        recorder.refuse.clear()  # the store fixed its mailbox
        click(dialog.retry_button)
        qtbot.waitUntil(lambda: queue_rows(engine) == [(STORE_MAIL, "sent", 1)], timeout=15_000)
        qtbot.waitUntil(lambda: dialog.model.rows and dialog.model.rows[0].status == "sent")
        assert len(recorder.messages) == 1
        dialog.table.selectRow(0)
        assert not dialog.retry_button.isEnabled()  # a sent one is not re-sent by Retry
        click(dialog.remove_button)
        qtbot.waitUntil(lambda: queue_rows(engine) == [], timeout=10_000)
        qtbot.waitUntil(lambda: dialog.model.rows == [])
        click(view.buttons["whatsapp"])
        qtbot.waitUntil(lambda: len(opened) == 1, timeout=10_000)
    assert opened[0].startswith("https://wa.me/919845012345?text=Order%20")


def test_settings_dialog_saves_and_sends_a_test(window, qtbot, pki):
    recorder = Recorder()
    with running_server("starttls", pki, recorder) as server:
        qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # Orders
        view = window.views["orders"]
        click(view.buttons["mailqueue"])
        queue = view.dialogs[-1]
        click(queue.settings_button)

        def shown():
            return [w for w in queue.findChildren(MailSettingsDialog) if w.isVisible()]

        qtbot.waitUntil(lambda: len(shown()) == 1)
        [dialog] = shown()
        qtbot.keyClicks(dialog.host, server.host)
        dialog.port.selectAll()
        qtbot.keyClicks(dialog.port, str(server.port))
        qtbot.keyClicks(dialog.user, USER)
        qtbot.keyClicks(dialog.password, PASSWORD)
        qtbot.keyClicks(dialog.from_edit, "not an address")
        qtbot.keyClicks(dialog.ca_file, str(pki.ca_cert))
        click(dialog.save_button)
        qtbot.waitUntil(lambda: "is not an e-mail address" in dialog.message.text())
        assert dialog.isVisible()
        dialog.from_edit.selectAll()
        qtbot.keyClicks(dialog.from_edit, "orders@mangalm.example")
        qtbot.keyClicks(dialog.test_to, "me@mangalm.example")
        click(dialog.test_button)
        qtbot.waitUntil(lambda: "Test message accepted" in dialog.message.text(), timeout=15_000)
        assert [m["To"] for m in recorder.messages] == ["me@mangalm.example"]
        click(dialog.save_button)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    saved = load_settings()
    assert (saved.host, saved.port, saved.user, saved.security) == (
        server.host,
        server.port,
        USER,
        "starttls",
    )
    assert get_secret(f"smtp:{USER}@{server.host}") == PASSWORD
