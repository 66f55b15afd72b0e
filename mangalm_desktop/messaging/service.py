"""The laptop's send queue for order confirmations (``mail_queue``), Qt-free.

The order is the record; the e-mail is only its delivery, so a send never changes the order
and the order stays submitted whatever the mail server says. Each confirmation is a queue row
(order, recipient, status queued → sending → sent | failed, attempts, the last error in words,
the next attempt) holding the message as queued (subject, body, PDF), shown by the GUI's queue
and ``mangalm mail queue``.

**Nothing is sent twice by the app.** A sender first *claims* a row with one conditional
UPDATE (``queued`` and due → ``sending``, attempts + 1) and commits; only the sender whose
UPDATE changed the row talks to the server, so the GUI's timer, a "Send now" and
``mangalm mail send-pending`` running together cannot both send it. After the server accepted
the message the row becomes ``sent``.

**At-most-once across a crash.** If the app dies after the server accepted the message but
before the row says ``sent``, the row stays ``sending``. Once its claim is older than
:data:`LEASE` it is marked ``failed`` with words saying the message may or may not have
reached the store — never re-sent by itself. We chose at-most-once because a second copy of
an order confirmation makes a shopkeeper think he ordered twice, while a missing one is seen
in the queue and sent again by a person (Retry) who can check first. Every copy carries the
same ``Message-ID`` (from the queue row), so a mail program that sees a retried copy can tell
it is the same message.

**Retries.** A transient failure (server unreachable, connection dropped before the message
was accepted, 4xx) leaves the row ``queued`` with the next attempt after a backoff of 1, 2,
4 … 60 minutes; after :data:`MAX_ATTEMPTS` attempts it is ``failed``. A permanent one (5xx
recipient refused, wrong password, certificate not trusted) is ``failed`` at once: no retry
storm against a server that said no. The backoff lives in the table (not in an in-process
retry loop such as tenacity's) because it must survive the app being closed.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Engine, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import MailQueue, Order, Store
from ..db.types import utcnow
from ..domain.changes import Changes
from ..domain.errors import UserError
from ..domain.tasks import NULL_TASK, TaskContext
from ..orders.pdf import CompanyInfo, order_pdf_bytes
from ..orders.queries import OrderDetail, get_order
from ..security.roles import Identity, Permission, require, require_store_access
from .settings import MailSettings, check_address, load_settings
from .smtp import SendFailure, deliver
from .whatsapp import normalise_phone, order_summary, whatsapp_link

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
MAX_ATTEMPTS = 6
LEASE = dt.timedelta(minutes=5)  # a claim older than this belongs to a sender that died
CONFIRMABLE = ("submitted", "synced", "sent_to_zoho", "invoiced")
CHANGES = Changes.of("mail_queue")
STALE_WORDS = (
    "The app stopped while this confirmation was being sent, so it may or may not have "
    "reached the store. It is not sent again by itself: check with the store, then Retry."
)


class AlreadySent(UserError):
    """That confirmation went out already; another copy only when a person asks (``again``)."""


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, 8, 16, 32, then 60 minutes."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass(frozen=True)
class QueuedMail:
    id: uuid.UUID
    order_number: str
    recipient: str
    status: str
    created: bool  # False: that confirmation was already waiting in the queue


@dataclass(frozen=True)
class QueueRow:
    """One line of the visible queue."""

    id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    store_name: str
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass
class SendReport:
    """What one pass over the queue did; ``problem`` when nothing could be tried at all."""

    sent: list[str] = field(default_factory=list)  # order numbers
    failed: list[str] = field(default_factory=list)  # "number: words"
    retry_later: list[str] = field(default_factory=list)
    problem: str | None = None
    changes: Changes = CHANGES

    def text(self) -> str:
        if self.problem:
            return self.problem
        parts = []
        if self.sent:
            parts.append(f"{len(self.sent)} sent")
        if self.retry_later:
            parts.append(f"{len(self.retry_later)} to retry later")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "Confirmations: " + (", ".join(parts) if parts else "nothing due") + "."


@dataclass(frozen=True)
class QueueCounts:
    queued: int = 0
    sending: int = 0
    failed: int = 0
    sent: int = 0

    def text(self) -> str:
        waiting = self.queued + self.sending
        if not waiting and not self.failed:
            return "Mail: nothing waiting"
        bits = []
        if waiting:
            bits.append(f"{waiting} waiting")
        if self.failed:
            bits.append(f"{self.failed} failed")
        return "Mail: " + ", ".join(bits)


@contextmanager
def _session(session_or_engine: Session | Engine) -> Iterator[Session]:
    """The caller's open session (its transaction, no commit here) or a new unit of work."""
    if isinstance(session_or_engine, Session):
        yield session_or_engine
    else:
        with session_scope(session_or_engine) as session:
            yield session


def _authorised_order(
    session: Session, identity: Identity | None, order_id: uuid.UUID, *, confirming: bool = False
) -> Order:
    """The order, if ``identity`` takes orders for its store; ``confirming``: and it is one the
    store may be sent (submitted or later, not a draft or a cancelled order)."""
    require(identity, Permission.TAKE_ORDERS)
    order = session.get(Order, order_id)
    if order is None or order.deleted:
        raise UserError(f"Order {order_id} was not found.")
    store = session.get(Store, order.store_id)
    require_store_access(identity, store.agent_id if store is not None else None)
    if confirming and order.state not in CONFIRMABLE:
        raise UserError(
            f"Order {order.number} is {order.state}; only a submitted order is confirmed or "
            "shared with the store."
        )
    return order


def confirmation_message(detail: OrderDetail, company: CompanyInfo) -> tuple[str, str, str, bytes]:
    """Subject, body, attachment name and the PDF of ``detail``'s confirmation."""
    what = "Return" if detail.kind == "return" else "Order"
    subject = f"{what} {detail.number} confirmed — {company.name}"
    thanks = (
        "These are the goods we take back."
        if detail.kind == "return"
        else "Thank you for your order."
    )
    body = (
        f"Dear {detail.store_name},\n\n{thanks} The confirmation is attached (PDF).\n\n"
        f"{order_summary(detail)}\n\n{company.name}\n"
    )
    return subject, body, f"order-{detail.number}.pdf", order_pdf_bytes(detail, company)


def queue_order_confirmation(
    session_or_engine: Session | Engine,
    identity: Identity | None,
    order_id: uuid.UUID,
    *,
    recipient: str | None = None,
    company: CompanyInfo | None = None,
    again: bool = False,
    now: dt.datetime | None = None,
) -> QueuedMail:
    """Put the confirmation of a submitted order in the send queue (sent by :func:`send_pending`).

    Works inside the caller's open session (the call screen's save: no commit here) or opens
    its own. The recipient is ``recipient`` or the store's e-mail address. Asking again while
    that confirmation still waits returns the waiting one; once it was sent, only ``again``
    queues a second copy (a person asked for it). A store without an e-mail address raises
    :class:`UserError`: a caller inside its own transaction should call this after its save
    (or catch it), so a missing address never undoes the visit."""
    with _session(session_or_engine) as session:
        order = _authorised_order(session, identity, order_id, confirming=True)
        store = session.get(Store, order.store_id)
        address = (recipient or (store.email if store else None) or "").strip()
        if not address:
            raise UserError(
                f"{store.name if store else 'The store'} has no e-mail address, so no "
                "confirmation can be e-mailed.",
                hint="Add the address on the store card (E-mail), or type one; or share the "
                "order on WhatsApp.",
            )
        address = check_address(address, "The store's e-mail address")
        existing = session.scalars(
            select(MailQueue)
            .where(MailQueue.order_id == order.id, MailQueue.recipient == address)
            .order_by(MailQueue.created_at.desc())
        ).first()
        if existing is not None and existing.status in (QUEUED, SENDING):
            return QueuedMail(existing.id, order.number, address, existing.status, False)
        if existing is not None and existing.status == SENT and not again:
            raise AlreadySent(
                f"The confirmation of order {order.number} was already sent to {address}.",
                hint="Send it again only if the store asks (Send again / --again).",
            )
        subject, body, name, pdf = confirmation_message(
            get_order(session, order.id, identity=identity), company or CompanyInfo()
        )
        row = MailQueue(
            id=uuid.uuid4(),
            order_id=order.id,
            recipient=address,
            subject=subject,
            body=body,
            attachment_name=name,
            attachment=pdf,
            status=QUEUED,
            attempts=0,
            next_attempt_at=now or utcnow(),
            created_at=now or utcnow(),
        )
        session.add(row)
        session.flush()
        log.info("confirmation of %s queued", order.number)
        return QueuedMail(row.id, order.number, address, QUEUED, True)


def _message(row: MailQueue, settings: MailSettings) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = row.subject
    msg["From"] = settings.from_address
    msg["To"] = row.recipient
    msg["Date"] = format_datetime(utcnow())
    domain = settings.from_address.rpartition("@")[2] or "mangalm.local"
    msg["Message-ID"] = f"<order-confirmation.{row.id.hex}@{domain}>"
    msg.set_content(row.body)
    msg.add_attachment(
        row.attachment, maintype="application", subtype="pdf", filename=row.attachment_name
    )
    return msg


def _release_stale(session: Session, now: dt.datetime) -> int:
    result = session.execute(
        update(MailQueue)
        .where(MailQueue.status == SENDING, MailQueue.claimed_at < now - LEASE)
        .values(status=FAILED, last_error=STALE_WORDS, next_attempt_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _claim(engine: Engine, queue_id: uuid.UUID, now: dt.datetime) -> MailQueue | None:
    """Mark one due row ``sending`` (one conditional UPDATE, committed) and return it, or None
    when another sender got it first."""
    with session_scope(engine) as session:
        result = session.execute(
            update(MailQueue)
            .where(
                MailQueue.id == queue_id,
                MailQueue.status == QUEUED,
                or_(MailQueue.next_attempt_at.is_(None), MailQueue.next_attempt_at <= now),
            )
            .values(status=SENDING, claimed_at=now, attempts=MailQueue.attempts + 1)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        row = session.get(MailQueue, queue_id)
        assert row is not None
        session.expunge(row)
        return row


def _finish(engine: Engine, row: MailQueue, now: dt.datetime, failure: SendFailure | None) -> str:
    with session_scope(engine) as session:
        values: dict[str, object]
        if failure is None:
            values = {"status": SENT, "sent_at": now, "last_error": None, "next_attempt_at": None}
        elif failure.permanent or row.attempts >= MAX_ATTEMPTS:
            words = failure.message
            if not failure.permanent:
                words = f"Gave up after {row.attempts} attempts. {words}"
            values = {"status": FAILED, "last_error": words, "next_attempt_at": None}
        else:
            values = {
                "status": QUEUED,
                "last_error": failure.message,
                "next_attempt_at": now + backoff(row.attempts),
            }
        session.execute(
            update(MailQueue)
            .where(MailQueue.id == row.id, MailQueue.status == SENDING)
            .values(**values)
        )
        return str(values["status"])


def send_pending(
    engine: Engine,
    identity: Identity | None,
    *,
    settings: MailSettings | None = None,
    now: dt.datetime | None = None,
    limit: int = 20,
    task: TaskContext = NULL_TASK,
) -> SendReport:
    """Send every due confirmation (up to ``limit``), one short transaction per state change
    and none held open while the server talks. Never raises for a send that fails: the row
    says why."""
    require(identity, Permission.TAKE_ORDERS)
    report = SendReport()
    now = now or utcnow()
    with session_scope(engine) as session:
        if _release_stale(session, now):
            log.warning("confirmations left 'sending' by a stopped app marked failed")
        due = list(
            session.scalars(
                select(MailQueue.id)
                .where(
                    MailQueue.status == QUEUED,
                    or_(MailQueue.next_attempt_at.is_(None), MailQueue.next_attempt_at <= now),
                )
                .order_by(MailQueue.created_at)
                .limit(limit)
            )
        )
    if not due:
        return report
    try:
        settings = settings or load_settings()
        if settings.configured:
            settings.validate()  # a hand-edited file asking for an unverified remote server
    except UserError as exc:
        report.problem = f"{exc} The confirmations wait in the queue."
        return report
    if not settings.configured:
        report.problem = (
            f"{len(due)} confirmation(s) wait in the queue: no mail server is set up "
            "(mail settings, or mangalm mail configure)."
        )
        return report
    try:
        password = settings.password()
    except UserError as exc:
        report.problem = f"{exc} The confirmations wait in the queue."
        return report
    if settings.user and not password:
        report.problem = (
            f"No password is saved for the mail user {settings.user}; the confirmations wait "
            "in the queue (mail settings, or mangalm mail configure)."
        )
        return report
    with session_scope(engine) as session:
        numbers: dict[uuid.UUID, str] = {
            qid: number
            for qid, number in session.execute(
                select(MailQueue.id, Order.number)
                .join(Order, Order.id == MailQueue.order_id)
                .where(MailQueue.id.in_(due))
            )
        }
    for done, queue_id in enumerate(due):
        task.check()
        task.progress(done, len(due), "Sending order confirmations")
        row = _claim(engine, queue_id, now)
        if row is None:
            continue  # another sender has it
        failure: SendFailure | None = None
        try:
            deliver(settings, password, _message(row, settings))
        except SendFailure as exc:
            failure = exc
        status = _finish(engine, row, now, failure)
        number = numbers.get(queue_id, "?")
        if status == SENT:
            report.sent.append(number)
        elif status == FAILED:
            report.failed.append(f"{number}: {failure}")
        else:
            report.retry_later.append(f"{number}: {failure}")
    task.progress(len(due), len(due), "Order confirmations sent")
    return report


def send_test_message(settings: MailSettings, to: str, *, password: str | None = None) -> str:
    """Send a short test message to ``to`` now (settings dialog, ``mangalm mail test``); the
    answer in words, or :class:`SendFailure` with the reason."""
    settings.validate()
    msg = EmailMessage()
    msg["Subject"] = "Mangalm Sales: test message"
    msg["From"] = settings.from_address
    msg["To"] = check_address(to, "The test recipient")
    msg["Date"] = format_datetime(utcnow())
    msg.set_content("The mail settings of Mangalm Sales work: order confirmations can be sent.")
    pw = password if password is not None else settings.password()
    deliver(settings, pw, msg)
    security = "STARTTLS" if settings.security == "starttls" else "TLS"
    return f"Test message accepted by {settings.host}:{settings.port} ({security}) for {to}."


def find_queue_id(engine: Engine, identity: Identity | None, text: str) -> uuid.UUID:
    """A queue row by the start of its id (as the CLI prints it) or by its order number."""
    key = text.strip().lower()
    rows = list_queue(engine, identity)
    hits = [r for r in rows if r.id.hex.startswith(key) or r.order_number.lower() == key]
    if not hits:
        raise UserError(f"Nothing in the mail queue matches “{text}”.")
    if len({r.id for r in hits}) > 1 and not all(r.order_number.lower() == key for r in hits):
        raise UserError(f"“{text}” matches more than one confirmation; give more of its id.")
    return hits[0].id  # newest first


def _queue_row(session: Session, identity: Identity | None, queue_id: uuid.UUID) -> MailQueue:
    row = session.get(MailQueue, queue_id)
    if row is None:
        raise UserError("That confirmation is no longer in the queue.")
    _authorised_order(session, identity, row.order_id)
    return row


def retry(
    engine: Engine,
    identity: Identity | None,
    queue_id: uuid.UUID,
    *,
    now: dt.datetime | None = None,
) -> Changes:
    """A person's Retry: a failed or waiting confirmation is due now, with a fresh set of
    attempts. A sent one is not re-sent here (queue it again on purpose)."""
    with session_scope(engine) as session:
        row = _queue_row(session, identity, queue_id)
        if row.status == SENT:
            raise UserError(
                f"That confirmation was already sent to {row.recipient}.",
                hint="To send another copy, use Send again on the order.",
            )
        if row.status == SENDING:
            raise UserError("That confirmation is being sent right now.")
        row.status, row.attempts, row.next_attempt_at = QUEUED, 0, now or utcnow()
    return CHANGES


def remove(engine: Engine, identity: Identity | None, queue_id: uuid.UUID) -> Changes:
    """Take a confirmation out of the queue (the order itself is untouched)."""
    with session_scope(engine) as session:
        row = _queue_row(session, identity, queue_id)
        if row.status == SENDING:
            raise UserError("That confirmation is being sent right now; remove it afterwards.")
        session.execute(delete(MailQueue).where(MailQueue.id == row.id))
    return CHANGES


def list_queue(
    engine: Engine, identity: Identity | None, *, include_sent: bool = True, limit: int = 500
) -> list[QueueRow]:
    """The queue, newest first; an agent sees the confirmations of their own stores."""
    require(identity, Permission.TAKE_ORDERS)
    stmt = (
        select(MailQueue, Order.number, Store.name)
        .join(Order, Order.id == MailQueue.order_id)
        .join(Store, Store.id == Order.store_id)
        .order_by(MailQueue.created_at.desc())
        .limit(limit)
    )
    if not include_sent:
        stmt = stmt.where(MailQueue.status != SENT)
    if identity is not None and not identity.can(Permission.VIEW_ALL_STORES):
        stmt = stmt.where(and_(Store.agent_id == identity.agent_id))
    with session_scope(engine) as session:
        return [
            QueueRow(
                id=q.id,
                order_id=q.order_id,
                order_number=number,
                store_name=store,
                recipient=q.recipient,
                status=q.status,
                attempts=q.attempts,
                last_error=q.last_error,
                next_attempt_at=q.next_attempt_at,
                created_at=q.created_at,
                sent_at=q.sent_at,
            )
            for q, number, store in session.execute(stmt)
        ]


def queue_counts(engine: Engine, identity: Identity | None) -> QueueCounts:
    rows = list_queue(engine, identity, include_sent=True, limit=10_000)
    by = {s: sum(1 for r in rows if r.status == s) for s in (QUEUED, SENDING, FAILED, SENT)}
    return QueueCounts(by[QUEUED], by[SENDING], by[FAILED], by[SENT])


def order_whatsapp_link(
    engine: Engine,
    identity: Identity | None,
    order_id: uuid.UUID,
    *,
    default_country: str | None = None,
) -> str:
    """The ``wa.me`` link that opens a chat with the store with the order summary typed in."""
    if default_country is None:
        try:
            default_country = load_settings().whatsapp_country
        except UserError:
            default_country = "91"
    with session_scope(engine) as session:
        order = _authorised_order(session, identity, order_id, confirming=True)
        detail = get_order(session, order.id, identity=identity)
    phone = normalise_phone(detail.store_phone, default_country or "91")
    return whatsapp_link(phone, order_summary(detail))
