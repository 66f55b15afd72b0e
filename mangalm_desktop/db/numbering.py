"""Order numbers: ``<agent code>-<device code>-<6 digits>``, e.g. ``A07-K3M-000123``.

Why this shape (docs/orders.md "Numbers"):
- the agent prefix makes numbers unique across agents without any coordination;
- the device code (3 random Crockford base-32 characters, made once per database and kept in
  ``sync_state``) keeps a second or reinstalled laptop of the same agent from reusing a number
  that an unsynced order on the old laptop already holds;
- the counter continues from ``max(number_sequence, highest local number with that prefix)``,
  so if a reinstalled laptop happens to draw an old device code, the numbers it pulled from the
  central server still push it past every number already used;
- the number is allocated in the same SQLite transaction that stores the order: a crash
  either keeps both the order and the bumped counter, or neither (then no order holds it).
The central ``orders.number`` unique constraint is the last line of defence, and the central
database registers each device code per agent (``mangalm_claim_device_code``): when a laptop's
code is already held by another laptop of the same agent, sync draws a new code with
:func:`redraw_device_code`, which also renumbers the orders the server has never seen (drafts and
orders whose first push still waits), so they cannot clash with the other laptop's numbers.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..domain.errors import UserError
from .models import NumberSequence, Order, Outbox, Payment, SyncState
from .outbox import dumps

DEVICE_KEY = "orders.device_code"
DEVICE_ID_KEY = "orders.device_id"  # this database's own id, for the central device registry
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
DIGITS = 6
RECEIPT_SERIES = "R"  # receipts: ``A07-K3M-R-000001`` (same rules, their own counter)
_NUMBER = re.compile(r"^(?P<prefix>.+)-(?P<n>\d+)$")


def _draw() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(3))


def _put_state(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value
    session.flush()


def device_code(session: Session) -> str:
    """This database's device code, created (in the caller's transaction) on first use."""
    row = session.get(SyncState, DEVICE_KEY)
    if row is not None and row.value:
        return row.value
    code = _draw()
    _put_state(session, DEVICE_KEY, code)
    return code


def device_id(session: Session) -> uuid.UUID:
    """This database's id (made on first use), which the central registry ties codes to."""
    row = session.get(SyncState, DEVICE_ID_KEY)
    if row is not None and row.value:
        return uuid.UUID(row.value)
    made = uuid.uuid4()
    _put_state(session, DEVICE_ID_KEY, str(made))
    return made


def redraw_device_code(session: Session) -> tuple[str, dict[str, str]]:
    """A new device code for this database, and unsent orders renumbered with it.

    Returns the new code and ``{old number: new number}``. Renumbered are this device's orders
    the central server has never accepted: drafts, and orders whose first push (an outbox op
    without a base version) is still pending or parked. The outbox payloads get the new
    number too, so the push sends it. Orders the server already has keep their numbers.
    """
    old = device_code(session)
    new = _draw()
    while new == old:
        new = _draw()
    _put_state(session, DEVICE_KEY, new)
    first_pushes = {
        op.row_id: op
        for op in session.scalars(
            select(Outbox).where(
                Outbox.table_name == "orders",
                Outbox.base_version.is_(None),
                Outbox.status.in_(("pending", "parked")),
            )
        )
    }
    unsent = session.scalars(
        select(Order)
        .where(or_(Order.state == "draft", Order.id.in_(list(first_pushes))))
        .order_by(Order.number)
    ).all()
    renumbered: dict[str, str] = {}
    for order in unsent:
        parts = order.number.split("-")
        if len(parts) != 3 or parts[1] != old:
            continue
        number = allocate(session, parts[0])
        renumbered[order.number] = number
        order.number = number
        if order.device_id == old:
            order.device_id = new
        session.flush()
    for op in session.scalars(select(Outbox).where(Outbox.table_name == "orders")):
        payload = json.loads(op.payload)
        head = payload.get("order", {})
        if head.get("number") in renumbered:
            head["number"] = renumbered[head["number"]]
            if head.get("device_id") == old:
                head["device_id"] = new
            op.payload = dumps(payload)
    session.flush()
    renumbered.update(_renumber_unsent_payments(session, old))
    return new, renumbered


def _renumber_unsent_payments(session: Session, old: str) -> dict[str, str]:
    """Receipts of this device the server has never accepted get numbers with the new code."""
    first_pushes = {
        op.row_id: op
        for op in session.scalars(
            select(Outbox).where(
                Outbox.table_name == "payment",
                Outbox.base_version.is_(None),
                Outbox.status.in_(("pending", "parked")),
            )
        )
    }
    if not first_pushes:
        return {}
    renumbered: dict[str, str] = {}
    unsent = session.scalars(
        select(Payment).where(Payment.id.in_(list(first_pushes))).order_by(Payment.number)
    ).all()
    for payment in unsent:
        parts = payment.number.split("-")
        if len(parts) != 4 or parts[1] != old:
            continue
        number = allocate(session, parts[0], series=RECEIPT_SERIES)
        renumbered[payment.number] = number
        payment.number = number
        payment.device_id = device_code(session)
        op = first_pushes[payment.id]
        body = json.loads(op.payload)
        body["number"] = number
        body["device_id"] = payment.device_id
        op.payload = dumps(body)
        session.flush()
    return renumbered


def prefix_for(agent_code: str, device: str) -> str:
    if not agent_code or not re.fullmatch(r"[A-Za-z0-9]+", agent_code):
        raise UserError(
            f"Agent code {agent_code!r} cannot start an order number.",
            hint="Agent codes are letters and digits, e.g. A07.",
        )
    return f"{agent_code.upper()}-{device}"


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}-{value:0{DIGITS}d}"


def parse_number(number: str) -> tuple[str, int] | None:
    m = _NUMBER.match(number)
    return (m["prefix"], int(m["n"])) if m else None


def _highest_local(session: Session, prefix: str, *, receipts: bool = False) -> int:
    # Zero-padded numbers sort as text; LIKE's wildcards cannot occur in the prefix.
    column = Payment.number if receipts else Order.number
    top = session.scalar(select(func.max(column)).where(column.like(f"{prefix}-%")))
    parsed = parse_number(top) if top else None
    return parsed[1] if parsed else 0


def allocate(session: Session, agent_code: str, *, series: str | None = None) -> str:
    """The next number for this agent on this device; part of the caller's transaction.

    ``series`` (e.g. :data:`RECEIPT_SERIES`) numbers another kind of document with the same
    rules and its own counter: ``A07-K3M-R-000001``."""
    prefix = prefix_for(agent_code, device_code(session))
    if series:
        prefix = f"{prefix}-{series}"
    floor = _highest_local(session, prefix, receipts=bool(series))
    seq = session.get(NumberSequence, prefix, with_for_update=True)
    if seq is None:
        value = floor + 1
        session.add(NumberSequence(prefix=prefix, last_value=value))
    else:
        value = max(seq.last_value, floor) + 1
        session.execute(
            update(NumberSequence).where(NumberSequence.prefix == prefix).values(last_value=value)
        )
        session.expire(seq)
    session.flush()
    return format_number(prefix, value)


def note_central_number(session: Session, number: str) -> None:
    """Raise the local counter past a number seen centrally (sync may call this after a pull)."""
    parsed = parse_number(number)
    if parsed is None:
        return
    prefix, value = parsed
    seq = session.get(NumberSequence, prefix)
    if seq is None:
        session.add(NumberSequence(prefix=prefix, last_value=value))
    elif seq.last_value < value:
        seq.last_value = value
    session.flush()
