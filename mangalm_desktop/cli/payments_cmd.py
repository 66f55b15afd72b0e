"""``mangalm payments``: collections from the command line (the GUI's twin, docs/collections.md).

record / promise / list / show / approve / reject / receipt / invoices. Invoices settled are
``--settle INVOICE=AMOUNT`` (repeatable); without one the whole payment stays on account.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select

from ..db.engine import session_scope
from ..db.models import Agent, Invoice, Store
from ..domain import formatting as fmt
from ..domain.errors import UserError
from ..payments import queries, receipt, service
from ..payments.model import MODE_LABEL, AllocationInput, PaymentInput, PromiseInput
from .common import add_db_option, add_today_option, as_of, iso_date, signed_in


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "").replace("₹", "").strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    top = sub.add_parser("payments", help="record, approve and print payments collected")
    add_db_option(top)
    add_today_option(top)
    psub = top.add_subparsers(dest="payments_cmd", metavar="ACTION", required=True)

    p = psub.add_parser("record", help="record a payment collected from a store")
    p.add_argument("--store", required=True, help="store code")
    p.add_argument("--amount", required=True, type=_amount)
    p.add_argument("--mode", required=True, help="cash, cheque, upi or bank_transfer")
    p.add_argument("--reference", help="cheque number, UPI transaction id or bank UTR")
    p.add_argument("--cheque-date", type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD", help="received on")
    p.add_argument("--settle", action="append", default=[], metavar="INVOICE=AMOUNT")
    p.add_argument("--agent", help="agent code (managers: who collected; default the store's)")
    p.add_argument("--notes")
    p.set_defaults(func=cmd_record)

    p = psub.add_parser("promise", help="record a store's promise to pay")
    p.add_argument("--store", required=True)
    p.add_argument("--amount", required=True, type=_amount)
    p.add_argument("--by", required=True, type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--notes")
    p.set_defaults(func=cmd_promise)

    p = psub.add_parser("invoices", help="a store's open invoices and balance after collections")
    p.add_argument("--store", required=True)
    p.set_defaults(func=cmd_invoices)

    p = psub.add_parser("list", help="payments, newest first")
    p.add_argument("--status", choices=("collected", "approved", "rejected"))
    p.add_argument("--store")
    p.add_argument("--from", dest="date_from", type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", type=iso_date, metavar="YYYY-MM-DD")
    p.set_defaults(func=cmd_list)

    p = psub.add_parser("approve", help="approve collected payments (managers)")
    p.add_argument("receipt", nargs="+", help="receipt numbers")
    p.add_argument("--note")
    p.set_defaults(func=cmd_approve)

    p = psub.add_parser("reject", help="reject a collected payment (managers)")
    p.add_argument("receipt")
    p.add_argument("--reason", required=True, help="e.g. 'cheque bounced'")
    p.set_defaults(func=cmd_reject)

    p = psub.add_parser("receipt", help="write a payment's receipt PDF")
    p.add_argument("receipt")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_receipt)


def _store_id(session, code: str):  # noqa: ANN001, ANN202 - Session -> UUID
    sid = session.scalar(select(Store.id).where(Store.code == code.strip(), ~Store.deleted))
    if sid is None:
        raise UserError(f"Store {code} was not found.")
    return sid


def _allocations(session, store_id, items: list[str]) -> list[AllocationInput]:  # noqa: ANN001
    out = []
    for item in items:
        number, sep, amount = item.partition("=")
        if not sep:
            raise UserError(f"{item!r} is not INVOICE=AMOUNT (e.g. INV-00123=2500).")
        inv = session.scalar(
            select(Invoice.id).where(Invoice.number == number.strip(), Invoice.store_id == store_id)
        )
        if inv is None:
            raise UserError(f"Invoice {number.strip()} is not an invoice of this store.")
        try:
            out.append(AllocationInput(inv, _amount(amount)))
        except argparse.ArgumentTypeError as exc:
            raise UserError(str(exc)) from None
    return out


def cmd_record(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        today = as_of(args, engine)
        with session_scope(engine) as s:
            store_id = _store_id(s, args.store)
            agent_id = None
            if args.agent:
                agent_id = s.scalar(select(Agent.id).where(Agent.code == args.agent.upper()))
                if agent_id is None:
                    raise UserError(f"Agent {args.agent} was not found.")
            data = PaymentInput(
                store_id=store_id,
                amount=args.amount,
                mode=args.mode,
                received_on=args.date,
                reference=args.reference,
                cheque_date=args.cheque_date,
                notes=args.notes,
                allocations=_allocations(s, store_id, args.settle),
                agent_id=agent_id,
            )
        res = service.record_payment_now(engine, identity, data, today=today)
        print(
            f"{res.number}: {fmt.money(res.amount)} recorded (collected, awaiting approval); "
            f"settles {fmt.money(res.allocated)}, on account {fmt.money(res.on_account)}"
        )
    return 0


def cmd_promise(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        today = as_of(args, engine)
        with session_scope(engine) as s:
            store_id = _store_id(s, args.store)
        res = service.record_promise_now(
            engine, identity, PromiseInput(store_id, args.amount, args.by, args.notes), today=today
        )
        print(f"Promise recorded: {fmt.money(res.amount)} by {fmt.day(res.due_on)}")
    return 0


def cmd_invoices(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        today = as_of(args, engine)
        with session_scope(engine) as s:
            dues = queries.store_dues(s, identity, _store_id(s, args.store), today)
        bal = dues.balance
        for x in dues.invoices:
            late = x.days_overdue(today)
            due = f"{late} days overdue" if late > 0 else "not yet due"
            pend = f" (collected, not yet in Zoho: {fmt.money(x.pending)})" if x.pending else ""
            print(f"{x.number:<16} {fmt.day(x.invoice_date)}  {fmt.money(x.open):>14} {due}{pend}")
        print(
            f"outstanding {fmt.money(bal.outstanding)}; overdue {fmt.money(bal.overdue)} "
            f"on {bal.overdue_invoices} invoices; on account {fmt.money(bal.on_account)}"
        )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        store_id = None
        if args.store:
            with session_scope(engine) as s:
                store_id = _store_id(s, args.store)
        rows = queries.list_payments(
            engine,
            identity,
            status=args.status,
            store_id=store_id,
            date_from=args.date_from,
            date_to=args.date_to,
        )
        for r in rows:
            zoho = f" zoho {r.zoho_payment_id}" if r.zoho_payment_id else ""
            print(
                f"{r.number:<18} {fmt.day(r.received_on)}  {r.status:<9} {r.agent_code:<5} "
                f"{r.store_name[:28]:<28} {MODE_LABEL.get(r.mode, r.mode):<13} "
                f"{fmt.money(r.amount):>14}{zoho}"
            )
        print(f"{len(rows)} payments")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        for number in args.receipt:
            res = service.approve(engine, identity, number, note=args.note)
            print(f"{res.number}: approved ({fmt.money(res.amount)})")
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        res = service.reject(engine, identity, args.receipt, reason=args.reason)
        print(f"{res.number}: rejected ({args.reason})")
    return 0


def cmd_receipt(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as s:
            payment = service.find_payment(s, args.receipt)
            detail = queries.payment_detail(s, identity, payment.id)
        path = receipt.save_receipt_pdf(detail, args.out)
        print(f"Receipt {detail.row.number} written to {path}")
    return 0
