"""The managed list of no-order reasons: managers add and retire reasons; agents only read.

The list is a synced table (``no_order_reason``): a manager's change goes through the outbox to
central PostgreSQL, where agents have SELECT only (``sync/central_sql.py``), and comes down to
every laptop with the next pull. The service refuses an agent here too, so the CLI and GUI say
why in words instead of failing at the next push.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ..db import outbox
from ..db.engine import session_scope
from ..db.models import NoOrderReason, new_id
from ..domain.errors import UserError
from ..security.roles import Identity, Permission, require
from .model import Reason


def _reason(row: NoOrderReason) -> Reason:
    return Reason(row.id, row.code, row.label, row.active, row.sort_order)


def list_reasons(
    session: Session, identity: Identity | None, *, include_retired: bool = False
) -> list[Reason]:
    """The reasons in their order (active only unless ``include_retired``)."""
    require(identity, Permission.VIEW_OWN_STORES)
    stmt = select(NoOrderReason).where(NoOrderReason.deleted.is_(False))
    if not include_retired:
        stmt = stmt.where(NoOrderReason.active.is_(True))
    stmt = stmt.order_by(NoOrderReason.sort_order, NoOrderReason.label)
    return [_reason(r) for r in session.scalars(stmt)]


def reasons(engine: Engine, identity: Identity | None) -> list[Reason]:
    with session_scope(engine) as session:
        return list_reasons(session, identity)


def _code(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:32] or "reason"


def add_reason(
    engine: Engine, identity: Identity | None, label: str, *, code: str | None = None
) -> Reason:
    """A new active reason at the end of the list, queued for central (managers only)."""
    require(identity, Permission.MANAGE_REASONS)
    label = " ".join(label.split())
    if not label:
        raise UserError("Type the reason's words, e.g. 'Enough stock on the shelf'.")
    if len(label) > 200:
        raise UserError(f"A reason is at most 200 characters (got {len(label)}).")
    code = _code(code or label)
    with session_scope(engine) as session:
        clash = session.scalar(select(NoOrderReason).where(NoOrderReason.code == code))
        if clash is not None:
            raise UserError(f"A reason with the code {code!r} exists already: {clash.label!r}.")
        last = session.scalar(select(func.max(NoOrderReason.sort_order))) or 0
        row = NoOrderReason(id=new_id(), code=code, label=label, sort_order=last + 10)
        session.add(row)
        outbox.enqueue_row(session, row)
        return _reason(row)


def retire_reason(engine: Engine, identity: Identity | None, code: str) -> Reason:
    """Take a reason off the list (calls that used it keep it)."""
    require(identity, Permission.MANAGE_REASONS)
    with session_scope(engine) as session:
        row = session.scalar(select(NoOrderReason).where(NoOrderReason.code == code))
        if row is None:
            raise UserError(f"No reason has the code {code!r}.", hint="mangalm reasons list")
        base = row.version
        row.active = False
        row.version = base + 1
        outbox.enqueue_row(session, row, base_version=base, base={"active": True})
        return _reason(row)


def check_reason(session: Session, reason_id: uuid.UUID) -> NoOrderReason:
    row = session.get(NoOrderReason, reason_id)
    if row is None or row.deleted or not row.active:
        raise UserError(
            "That no-order reason is no longer on the list.",
            hint="Choose another; the list is kept by managers.",
        )
    return row
