"""Editing a store's profile: validate, bump ``version``, queue the outbox upsert — atomically.

The agent edits contact details, size class, call cadence, credit limit and notes. Every save
is one SQLite transaction that updates the row, bumps its ``version`` and writes an ``upsert``
outbox record (``base_version`` = the version the edit was made against), so a crash leaves
both or neither and the change reaches the central server exactly once. If the row moved on
since the form was loaded (a sync pulled a newer version), the save is refused with words
instead of silently overwriting.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

from sqlalchemy import Engine

from ..domain.changes import Changes
from ..domain.errors import UserError
from ..domain.identity import Identity, Permission, require, require_store_access
from . import outbox
from .engine import session_scope
from .models import Store

SIZE_CLASSES = ("S", "M", "L")
MAX_CADENCE_DAYS = 365
MAX_CREDIT_LIMIT = Decimal("100000000")  # ₹10 crore: anything above is a typo
_PHONE = re.compile(r"^\+?[0-9 ()\-]{7,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ProfileEdit:
    """What the form holds, as text where a person types it (parsed by :func:`validate`)."""

    address: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    size_class: str = ""
    call_cadence_days: str = ""
    credit_limit: str = ""
    notes: str = ""


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class ProfileInvalid(UserError):
    """The form has problems; ``problems`` says which field and why."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "The store was not saved: " + "; ".join(p.message for p in problems) + ".",
            hint="Correct the highlighted fields and save again.",
        )
        self.problems = problems


@dataclass(frozen=True)
class ParsedProfile:
    address: str | None
    contact_name: str | None
    phone: str | None
    email: str | None
    size_class: str | None
    call_cadence_days: int | None
    credit_limit: Decimal | None
    notes: str | None


@dataclass(frozen=True)
class SaveResult:
    store_id: uuid.UUID
    version: int
    changes: Changes


def validate(edit: ProfileEdit) -> ParsedProfile:
    """Parse the form; raise :class:`ProfileInvalid` listing every problem at once."""
    problems: list[FieldProblem] = []
    phone = edit.phone.strip()
    if phone and not _PHONE.match(phone):
        problems.append(
            FieldProblem("phone", "the phone number may hold only digits, spaces, + - ( )")
        )
    elif phone and sum(c.isdigit() for c in phone) < 7:
        problems.append(FieldProblem("phone", "the phone number needs at least 7 digits"))
    email = edit.email.strip()
    if email and not _EMAIL.match(email):
        problems.append(FieldProblem("email", f"“{email}” is not an e-mail address"))
    size = edit.size_class.strip().upper()
    if size and size not in SIZE_CLASSES:
        problems.append(
            FieldProblem("size_class", f"size class must be one of {', '.join(SIZE_CLASSES)}")
        )
    cadence: int | None = None
    if edit.call_cadence_days.strip():
        try:
            cadence = int(edit.call_cadence_days.strip())
        except ValueError:
            problems.append(FieldProblem("call_cadence_days", "call cadence must be whole days"))
        else:
            if not 1 <= cadence <= MAX_CADENCE_DAYS:
                problems.append(
                    FieldProblem(
                        "call_cadence_days",
                        f"call cadence must be between 1 and {MAX_CADENCE_DAYS} days",
                    )
                )
    limit: Decimal | None = None
    raw_limit = edit.credit_limit.strip().replace(",", "").removeprefix("₹").strip()
    if raw_limit:
        try:
            limit = Decimal(raw_limit)
        except InvalidOperation:
            problems.append(FieldProblem("credit_limit", "credit limit must be an amount"))
        else:
            if not limit.is_finite() or limit < 0 or limit > MAX_CREDIT_LIMIT:
                problems.append(
                    FieldProblem("credit_limit", "credit limit must be between 0 and ₹10 crore")
                )
            elif limit != limit.quantize(Decimal("0.01")):
                problems.append(
                    FieldProblem("credit_limit", "credit limit has more than 2 decimal places")
                )
    if problems:
        raise ProfileInvalid(problems)
    return ParsedProfile(
        address=edit.address.strip() or None,
        contact_name=edit.contact_name.strip() or None,
        phone=phone or None,
        email=email or None,
        size_class=size or None,
        call_cadence_days=cadence,
        credit_limit=limit,
        notes=edit.notes.strip() or None,
    )


def save_store_profile(
    engine: Engine,
    store_id: uuid.UUID,
    edit: ProfileEdit,
    *,
    expected_version: int,
    identity: Identity | None,
) -> SaveResult:
    """Validate and save; one transaction for the row, its version and its outbox record.

    ``identity`` needs the edit-store-profile permission and, for an agent, the store must be
    theirs: checked inside the transaction before anything changes (None = standalone).
    """
    parsed = validate(edit)
    with session_scope(engine) as session:
        store = session.get(Store, store_id)
        if store is None or store.deleted:
            raise UserError("This store no longer exists (it was removed by a sync).")
        require(identity, Permission.EDIT_STORE_PROFILE)
        require_store_access(identity, store.agent_id)
        if store.version != expected_version:
            raise UserError(
                "This store was changed elsewhere (a sync brought a newer version) while you "
                "were editing; your changes were not saved.",
                hint="Close the store, open it again and repeat your edit.",
            )
        values = {f.name: getattr(parsed, f.name) for f in fields(ParsedProfile)}
        # Only the changed fields are sent: merged with others' edits centrally.
        if not outbox.edit_row(session, store, **values):
            return SaveResult(store_id, store.version, Changes.of())
        version = store.version
    return SaveResult(store_id, version, Changes.of("store", "outbox", ids=(store_id,)))
