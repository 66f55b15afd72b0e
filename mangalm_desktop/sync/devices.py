"""Registering this laptop's device code with the central database before a push.

Order numbers carry a 3-character device code (:mod:`mangalm_desktop.db.numbering`) drawn at
random, so two laptops of one agent draw the same one about once in 32,768. Both would then
number orders ``A07-K3M-000001``, and the second to push would have them refused (the central
number is unique) while every pull of the first clashed with its own unsent orders.

So each sync first claims the code for this database (``mangalm_claim_device_code``, which
answers only about the caller's own agent). The first laptop to claim a code keeps it; a later
one is told no, draws a new code and renumbers the orders the server has not seen yet, then
claims again. Nothing is pushed under a code this laptop does not hold.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Engine

from ..db.engine import session_scope
from ..db.numbering import device_code, device_id, redraw_device_code
from ..domain.errors import UserError

log = logging.getLogger(__name__)

MAX_DRAWS = 20  # a refusal is rare; twenty in a row means something else is wrong


@dataclass
class DeviceClaim:
    """The code this laptop holds now, and the orders renumbered to get it."""

    code: str
    renumbered: dict[str, str] = field(default_factory=dict)


def _claim(pg: psycopg.Connection, code: str, device: object) -> bool:
    try:
        with pg.transaction():
            row = pg.execute("SELECT mangalm_claim_device_code(%s, %s)", (code, device)).fetchone()
    except psycopg.errors.UndefinedFunction:
        log.warning("the central database has no device registry yet (run `central init`)")
        return True
    return bool(row and row[0])


def claim_device_code(engine: Engine, pg: psycopg.Connection) -> DeviceClaim:
    """Make sure the central database ties this laptop's device code to this laptop."""
    with session_scope(engine) as s:
        code, device = device_code(s), device_id(s)
    claim = DeviceClaim(code)
    for _ in range(MAX_DRAWS):
        if _claim(pg, claim.code, device):
            return claim
        with session_scope(engine) as s:
            old = claim.code
            claim.code, renumbered = redraw_device_code(s)
        claim.renumbered.update(renumbered)
        log.warning(
            "device code %s is held by another laptop of this agent; now %s, %d unsent "
            "orders renumbered",
            old,
            claim.code,
            len(renumbered),
        )
    raise UserError(
        "The central server refused every device code this laptop drew.",
        hint="Ask your administrator to check the device_code table of the central database.",
    )
