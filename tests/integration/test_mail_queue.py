"""Order confirmations through a real local SMTP server (aiosmtpd) with verified TLS.

The server's certificate is issued by a CA made in the test and trusted through the app's own
CA setting (``ca_file``), never by turning verification off. Each case goes through the queue
exactly as the app does (``messaging.service``): queue after submit, send_pending, retry.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import uuid

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import MailQueue, Order, Store
from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.messaging import service
from mangalm_desktop.messaging.settings import MailSettings, load_settings, save_settings
from mangalm_desktop.orders import service as orders
from mangalm_desktop.orders.model import LineInput, OrderDraft
from tests.support.smtp_server import PASSWORD, USER, Recorder, free_port, running_server
from tests.support.tls import make_pki

from .orders_support import seed

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

STORE_MAIL = "owner@srilakshmi.example"
T0 = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("smtp-pki"), hostname="localhost", ca_name="Mail CA")


@pytest.fixture
def shop(engine):
    sd = seed(engine)
    with session_scope(engine) as s:
        s.get(Store, sd.store_id).email = STORE_MAIL
    draft = OrderDraft(
        store=sd.store_id,
        agent_id=sd.agent_id,
        lines=[LineInput("ATTA-5", 12), LineInput("DAL-1", 10)],
    )
    result = orders.submit(engine, draft, identity=None)
    return sd, result


def settings_for(server, pki, **kw) -> MailSettings:
    s = MailSettings(
        host=server.host,
        port=server.port,
        security=server.mode,
        user=USER,
        from_address="orders@mangalm.example",
        ca_file=str(pki.ca_cert),
        timeout_s=10,
        **kw,
    )
    save_settings(s, password=PASSWORD)
    return load_settings()


def rows(engine) -> list[MailQueue]:
    with session_scope(engine) as s:
        out = list(s.scalars(select(MailQueue).order_by(MailQueue.created_at)))
        for r in out:
            s.expunge(r)
        return out


def order_state(engine, order_id) -> str:
    with session_scope(engine) as s:
        return s.get(Order, order_id).state


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_delivered_with_the_pdf(engine, shop, pki, mode):
    sd, result = shop
    with session_scope(engine) as s:  # a name in Devanagari travels in the UTF-8 body
        s.get(Store, sd.store_id).name = "श्री लक्ष्मी Stores"
    with running_server(mode, pki) as server:
        settings = settings_for(server, pki)
        queued = service.queue_order_confirmation(engine, None, result.order_id, now=T0)
        assert queued.created and queued.recipient == STORE_MAIL
        report = service.send_pending(engine, None, settings=settings, now=T0)
    assert report.sent == [result.number], report
    [msg] = server.recorder.messages
    assert msg["To"] == STORE_MAIL
    assert msg["From"] == "orders@mangalm.example"
    assert msg["Subject"] == f"Order {result.number} confirmed — Mangalm Foods Distribution"
    [row] = rows(engine)
    assert msg["Message-ID"].strip() == f"<order-confirmation.{row.id.hex}@mangalm.example>"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"order-{result.number}.pdf"
    pdf = attachment.get_content()
    assert pdf == row.attachment  # byte for byte what was queued
    text = "".join(page.extract_text() for page in PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert result.number in text and "Stores" in text
    body = msg.get_body(("plain",)).get_content()
    assert body.startswith("Dear श्री लक्ष्मी Stores,\n\nThank you for your order.")
    assert "Total: ₹" in body
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert order_state(engine, result.order_id) == "submitted"
    # asking again while it is sent does not queue a copy by itself
    with pytest.raises(UserError, match="already sent"):
        service.queue_order_confirmation(engine, None, result.order_id)


def test_refused_recipient_fails_in_words_without_a_retry_storm(engine, shop, pki):
    _sd, result = shop
    recorder = Recorder(refuse={STORE_MAIL})
    with running_server("starttls", pki, recorder) as server:
        settings = settings_for(server, pki)
        service.queue_order_confirmation(engine, None, result.order_id, now=T0)
        report = service.send_pending(engine, None, settings=settings, now=T0)
        for hours in (1, 5, 24):  # the background sender keeps ticking for a day
            later = service.send_pending(
                engine, None, settings=settings, now=T0 + dt.timedelta(hours=hours)
            )
            assert later.sent == later.failed == later.retry_later == []
    assert recorder.rcpt_asked == [STORE_MAIL]  # asked once, never again
    assert recorder.messages == []
    [row] = rows(engine)
    assert row.status == "failed" and row.attempts == 1 and row.next_attempt_at is None
    assert row.last_error.startswith(f"The mail server refused the recipient {STORE_MAIL} (550")
    assert "will not be retried" in row.last_error
    assert report.failed and report.failed[0].startswith(result.number)
    assert order_state(engine, result.order_id) == "submitted"


def test_dropped_connection_mid_data_is_retried_later_and_delivered_once(engine, shop, pki):
    _sd, result = shop
    recorder = Recorder(drop_data=1)
    with running_server("starttls", pki, recorder) as server:
        settings = settings_for(server, pki)
        service.queue_order_confirmation(engine, None, result.order_id, now=T0)
        first = service.send_pending(engine, None, settings=settings, now=T0)
        [row] = rows(engine)
        assert first.retry_later and not first.sent
        assert row.status == "queued" and row.attempts == 1
        assert "closed the connection before accepting" in row.last_error
        assert row.next_attempt_at == T0 + dt.timedelta(minutes=1)
        # not due yet: nothing is tried
        early = service.send_pending(
            engine, None, settings=settings, now=T0 + dt.timedelta(seconds=30)
        )
        assert early.sent == early.retry_later == []
        second = service.send_pending(
            engine, None, settings=settings, now=T0 + dt.timedelta(minutes=1)
        )
        third = service.send_pending(
            engine, None, settings=settings, now=T0 + dt.timedelta(hours=2)
        )
    assert recorder.dropped == 1
    assert second.sent == [result.number] and third.sent == []
    assert len(recorder.messages) == 1  # delivered once
    [row] = rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_wrong_password_in_words_and_no_secret_in_logs(engine, shop, pki, caplog):
    _sd, result = shop
    wrong = "Wr0ng-Passw0rd-xyz"
    caplog.set_level(logging.DEBUG)
    with running_server("tls", pki) as server:
        settings = settings_for(server, pki)
        save_settings(settings, password=wrong)
        service.queue_order_confirmation(engine, None, result.order_id, now=T0)
        report = service.send_pending(engine, None, settings=settings, now=T0)
        again = service.send_pending(engine, None, settings=settings, now=T0 + dt.timedelta(days=1))
    [row] = rows(engine)
    assert row.status == "failed", row.last_error
    assert row.attempts == 1 and again.failed == []
    assert f"refused the user name or password for {USER} (535" in row.last_error
    assert server.recorder.messages == []
    everything = caplog.text + row.last_error + " ".join(report.failed)
    assert wrong not in everything and PASSWORD not in everything
    # the person fixes the password and presses Retry: delivered
    with running_server("tls", pki) as server2:
        settings = settings_for(server2, pki)
        service.retry(engine, None, row.id, now=T0 + dt.timedelta(days=1))
        fixed = service.send_pending(engine, None, settings=settings, now=T0 + dt.timedelta(days=1))
    assert fixed.sent == [result.number] and len(server2.recorder.messages) == 1


def test_server_down_stays_queued_with_backoff_then_gives_up(engine, shop, pki):
    _sd, result = shop
    settings = MailSettings(
        host="localhost",
        port=free_port(),
        security="starttls",
        user=USER,
        from_address="orders@mangalm.example",
        ca_file=str(pki.ca_cert),
        timeout_s=5,
    )
    save_settings(settings, password=PASSWORD)
    service.queue_order_confirmation(engine, None, result.order_id, now=T0)
    now = T0
    waits = []
    for attempt in range(1, service.MAX_ATTEMPTS + 1):
        report = service.send_pending(engine, None, settings=settings, now=now)
        [row] = rows(engine)
        assert row.attempts == attempt
        assert "Cannot reach the mail server" in row.last_error
        if attempt < service.MAX_ATTEMPTS:
            assert row.status == "queued" and report.retry_later
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert row.status == "failed" and row.last_error.startswith("Gave up after 6 attempts.")
    assert order_state(engine, result.order_id) == "submitted"


def test_certificate_not_trusted_without_the_ca(engine, shop, pki):
    _sd, result = shop
    with running_server("starttls", pki) as server:
        settings = settings_for(server, pki)
        settings.ca_file = ""  # the system roots do not know the test CA
        service.queue_order_confirmation(engine, None, result.order_id, now=T0)
        service.send_pending(engine, None, settings=settings, now=T0)
    [row] = rows(engine)
    assert row.status == "failed" and "could not be verified" in row.last_error
    assert server.recorder.messages == []


def test_no_settings_or_no_password_keeps_it_queued(engine, shop):
    _sd, result = shop
    service.queue_order_confirmation(engine, None, result.order_id, now=T0)
    report = service.send_pending(engine, None, now=T0)
    assert "no mail server is set up" in report.problem
    [row] = rows(engine)
    assert row.status == "queued" and row.attempts == 0


def test_a_claimed_row_is_sent_by_one_sender_only(engine, shop, pki):
    """Two senders (the GUI's timer and the CLI) see the same due row: the one whose claim
    changed the row sends it, the other skips it."""
    _sd, result = shop
    with running_server("starttls", pki) as server:
        settings = settings_for(server, pki)
        queued = service.queue_order_confirmation(engine, None, result.order_id, now=T0)
        assert service._claim(engine, queued.id, T0) is not None  # the other sender's claim
        # a sender that read the row as due just before that claim committed gets nothing
        assert service._claim(engine, queued.id, T0) is None
        report = service.send_pending(engine, None, settings=settings, now=T0)
    assert report.sent == [] and server.recorder.messages == []
    [row] = rows(engine)
    assert row.status == "sending" and row.attempts == 1


def test_queue_rules(engine, shop):
    sd, result = shop
    first = service.queue_order_confirmation(engine, None, result.order_id, now=T0)
    again = service.queue_order_confirmation(engine, None, result.order_id, now=T0)
    assert again.id == first.id and not again.created  # waiting already: no second row
    with pytest.raises(UserError, match="not an e-mail address"):
        service.queue_order_confirmation(engine, None, result.order_id, recipient="not-mail")
    with session_scope(engine) as s:
        s.get(Store, sd.store_id).email = None
    with pytest.raises(UserError, match="has no e-mail address"):
        service.queue_order_confirmation(engine, None, result.order_id, recipient="")
    draft = orders.save_draft(
        engine,
        OrderDraft(store=sd.store_id, agent_id=sd.agent_id, lines=[LineInput("DAL-1", 1)]),
        identity=None,
    )
    with pytest.raises(UserError, match="only a submitted order"):
        service.queue_order_confirmation(engine, None, draft.order_id, recipient=STORE_MAIL)
    with pytest.raises(UserError, match="is draft; only a submitted order"):
        service.order_whatsapp_link(engine, None, draft.order_id, default_country="91")
    with pytest.raises(UserError, match="not found"):
        service.queue_order_confirmation(engine, None, uuid.uuid4(), recipient=STORE_MAIL)
    service.remove(engine, None, first.id)
    assert rows(engine) == []
    assert order_state(engine, result.order_id) == "submitted"


def test_crash_after_the_server_accepted_is_never_resent_by_itself(engine, shop, pki):
    """At-most-once: a sender killed between the server's acceptance and marking the row sent
    leaves it 'sending'; after the lease it is failed in words, never re-sent by the app; a
    person's Retry sends the same message (same Message-ID) again."""
    _sd, result = shop
    recorder = Recorder()
    with running_server("starttls", pki, recorder) as server:
        settings = settings_for(server, pki)
        queued = service.queue_order_confirmation(engine, None, result.order_id, now=T0)
        engine.dispose()
        pid = os.fork()
        if pid == 0:  # the sender that dies mid-send (it inherits the in-memory keyring)
            try:
                service.send_pending(engine, None, settings=settings, now=T0)
            finally:
                os._exit(0)
        recorder.on_accept = lambda: os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        recorder.on_accept = None
        assert len(recorder.messages) == 1  # the server has it
        [row] = rows(engine)
        assert row.status == "sending"
        for minutes in (1, 4):  # within the lease: left alone
            service.send_pending(
                engine, None, settings=settings, now=T0 + dt.timedelta(minutes=minutes)
            )
            assert rows(engine)[0].status == "sending"
        for minutes in (6, 60, 600):
            service.send_pending(
                engine, None, settings=settings, now=T0 + dt.timedelta(minutes=minutes)
            )
        [row] = rows(engine)
        assert row.status == "failed" and row.last_error == service.STALE_WORDS
        assert len(recorder.messages) == 1  # not sent twice by the app
        assert order_state(engine, result.order_id) == "submitted"
        service.retry(engine, None, queued.id, now=T0 + dt.timedelta(hours=11))
        report = service.send_pending(
            engine, None, settings=settings, now=T0 + dt.timedelta(hours=11)
        )
    assert report.sent == [result.number]
    first, second = recorder.messages
    assert first["Message-ID"] == second["Message-ID"]


def test_hand_edited_insecure_remote_settings_send_nothing(engine, shop):
    _sd, result = shop
    service.queue_order_confirmation(engine, None, result.order_id, now=T0)
    settings = MailSettings(
        host="smtp.example.com", port=587, from_address="orders@mangalm.example", insecure=True
    )
    report = service.send_pending(engine, None, settings=settings, now=T0)
    assert "allowed only for a test mail server on this computer" in report.problem
    [row] = rows(engine)
    assert row.status == "queued" and row.attempts == 0


def test_without_a_keyring_nothing_is_saved(monkeypatch):
    import keyring.errors

    from mangalm_desktop.messaging import settings as mail_settings

    def no_keyring(*_a):
        raise keyring.errors.NoKeyringError("no backend")

    monkeypatch.setattr("keyring.set_password", no_keyring)
    s = MailSettings(host="smtp.example.com", from_address="orders@mangalm.example", user="u")
    with pytest.raises(UserError, match="keyring is not available"):
        save_settings(s, password="pw-123")
    assert not mail_settings.settings_path().exists()


def test_agents_confirm_and_see_only_their_own_stores(engine, shop):
    from mangalm_desktop.db.models import Agent
    from mangalm_desktop.domain.enums import Role
    from mangalm_desktop.security.roles import Identity, PermissionDenied

    sd, result = shop
    with session_scope(engine) as s:
        other = Agent(id=uuid.uuid4(), code="A08", name="Someone Else")
        s.add(other)
        s.flush()
        other_id = other.id
    owner = Identity("A07", Role.AGENT, sd.agent_id, "A07")
    stranger = Identity("A08", Role.AGENT, other_id, "A08")
    manager = Identity("M01", Role.MANAGER)
    with pytest.raises(PermissionDenied, match="not the agent of this store"):
        service.queue_order_confirmation(engine, stranger, result.order_id, now=T0)
    with pytest.raises(PermissionDenied):
        service.order_whatsapp_link(engine, stranger, result.order_id)
    assert rows(engine) == []
    queued = service.queue_order_confirmation(engine, owner, result.order_id, now=T0)
    assert [r.id for r in service.list_queue(engine, owner)] == [queued.id]
    assert [r.id for r in service.list_queue(engine, manager)] == [queued.id]
    assert service.list_queue(engine, stranger) == []
    with pytest.raises(PermissionDenied):
        service.retry(engine, stranger, queued.id)
    with pytest.raises(PermissionDenied):
        service.remove(engine, stranger, queued.id)
    assert len(rows(engine)) == 1
