"""``mangalm mail``: order confirmations by e-mail, the send queue, and the WhatsApp link.

``configure`` saves the outgoing mail server (host, port, starttls|tls, user, sender, CA file)
in this OS account's settings and the password in the OS keyring; ``test --to ADDR`` sends a
test message; ``send ORDER`` queues an order's confirmation (to the store's e-mail address
unless ``--to``) and sends what is due; ``queue`` lists the queue, ``retry``/``remove`` act on
one row, ``send-pending`` sends what is due (for a scheduled task); ``whatsapp ORDER`` prints
the ``wa.me`` link with the order summary. Like ``sync connect``, ``configure`` and ``test``
touch only this account's own settings and keyring; the queue commands sign in on a laptop set
up for a central server (docs/security.md).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from ..db.engine import session_scope
from ..domain import formatting as fmt
from ..domain.errors import UserError
from ..messaging import service
from ..messaging.settings import (
    DEFAULT_PORTS,
    INSECURE_RISK,
    SECURITY_MODES,
    MailSettings,
    load_settings,
    save_settings,
)
from ..messaging.smtp import SendFailure
from ..orders.queries import find_order
from .common import add_db_option, signed_in


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mail", help="order confirmations: e-mail queue and WhatsApp link")
    actions = p.add_subparsers(dest="mail_action", metavar="ACTION", required=True)

    c = actions.add_parser("configure", help="save the outgoing mail server (password to keyring)")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, default=None, help="default 587 (starttls) / 465 (tls)")
    c.add_argument("--security", choices=SECURITY_MODES, default="starttls")
    c.add_argument("--user", default="", help="the mail account's user name")
    c.add_argument("--from", dest="from_address", required=True, help="the sender address")
    c.add_argument("--ca-file", default="", help="the company CA certificate (PEM), if any")
    c.add_argument("--country", default=None, help="default country code for WhatsApp (91)")
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    c.add_argument(
        "--insecure",
        action="store_true",
        help=f"RISKY, local test server only: {INSECURE_RISK}",
    )
    c.set_defaults(func=run_configure)

    t = actions.add_parser("test", help="send a test message with the saved settings")
    t.add_argument("--to", required=True)
    t.set_defaults(func=run_test)

    s = actions.add_parser("send", help="queue an order's confirmation and send what is due")
    s.add_argument("order", help="order number")
    s.add_argument("--to", default=None, help="recipient (default: the store's e-mail)")
    s.add_argument("--again", action="store_true", help="send another copy of a sent one")
    s.set_defaults(func=run_send)

    q = actions.add_parser("queue", help="list the confirmations and what became of them")
    q.add_argument("--waiting", action="store_true", help="hide the ones already sent")
    q.set_defaults(func=run_queue)

    r = actions.add_parser("retry", help="send a failed or waiting confirmation again now")
    r.add_argument("id", help="queue id (its first characters) or order number")
    r.set_defaults(func=run_retry)

    d = actions.add_parser("remove", help="take a confirmation out of the queue")
    d.add_argument("id", help="queue id (its first characters) or order number")
    d.set_defaults(func=run_remove)

    n = actions.add_parser("send-pending", help="send every confirmation that is due")
    n.set_defaults(func=run_send_pending)

    w = actions.add_parser("whatsapp", help="print the wa.me link with the order summary")
    w.add_argument("order", help="order number")
    w.set_defaults(func=run_whatsapp)
    for parser in (s, q, r, d, n, w):
        add_db_option(parser)


def run_configure(args: argparse.Namespace) -> int:
    old = load_settings()
    settings = MailSettings(
        host=args.host,
        port=args.port or DEFAULT_PORTS[args.security],
        security=args.security,
        user=args.user,
        from_address=args.from_address,
        ca_file=args.ca_file,
        insecure=args.insecure,
        whatsapp_country=args.country or old.whatsapp_country,
    )
    settings.validate()  # before asking for a password
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif settings.user and sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass(f"Password for {settings.user}@{settings.host} (Enter: keep): ")
    path = save_settings(settings, password=password or None)
    if settings.insecure:
        print(f"WARNING: --insecure {INSECURE_RISK}; use it only for a test server here.")
    kept = "saved in the OS keyring" if password else "not changed"
    print(f"mail settings saved to {path}; the password is {kept}")
    return 0


def run_test(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.configured:
        raise UserError("No mail server is set up.", hint="Run mangalm mail configure first.")
    try:
        print(service.send_test_message(settings, args.to))
    except SendFailure as exc:
        raise UserError(str(exc)) from None
    return 0


def _report(report: service.SendReport) -> int:
    print(report.text())
    for line in report.failed:
        print(f"  failed: {line}")
    for line in report.retry_later:
        print(f"  retry later: {line}")
    return 2 if report.failed else 0


def run_send(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as session:
            order_id = find_order(session, args.order)
        queued = service.queue_order_confirmation(
            engine, identity, order_id, recipient=args.to, again=args.again
        )
        what = "queued" if queued.created else f"already waiting ({queued.status})"
        print(f"confirmation of {queued.order_number} to {queued.recipient}: {what}")
        return _report(service.send_pending(engine, identity))


def run_queue(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        rows = service.list_queue(engine, identity, include_sent=not args.waiting)
    if not rows:
        print("the mail queue is empty")
        return 0
    for r in rows:
        when = ""
        if r.status == "queued" and r.next_attempt_at:
            when = f", next attempt {fmt.day_time(r.next_attempt_at.astimezone())}"
        elif r.status == "sent" and r.sent_at:
            when = f", sent {fmt.day_time(r.sent_at.astimezone())}"
        print(
            f"{r.id.hex[:8]}  {r.order_number}  {r.store_name}  {r.recipient}  {r.status}"
            f"  attempts {r.attempts}{when}"
        )
        if r.last_error:
            print(f"          {r.last_error}")
    return 0


def run_retry(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        service.retry(engine, identity, service.find_queue_id(engine, identity, args.id))
        print("queued again; sending what is due")
        return _report(service.send_pending(engine, identity))


def run_remove(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        service.remove(engine, identity, service.find_queue_id(engine, identity, args.id))
    print("removed from the mail queue (the order is unchanged)")
    return 0


def run_send_pending(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        return _report(service.send_pending(engine, identity))


def run_whatsapp(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as session:
            order_id = find_order(session, args.order)
        print(service.order_whatsapp_link(engine, identity, order_id))
    return 0
