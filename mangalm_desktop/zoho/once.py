"""Create a Books record exactly once: look it up by our reference, create, adopt the unsure.

The rule of the sales-order push (docs/zoho.md "Exactly-once push"), written once for every
kind of Books record the bridge creates (sales orders, customer payments): our number goes in
the record's ``reference_number``; before any create the bridge lists the records with that
reference and keeps exact matches only; a create whose outcome is unknown (timeout, lost
answer, 5xx) is kept "maybe created" in the central bookkeeping, looked up again with backoff
and on later runs, and created again only when Zoho still has no such record
``maybe_created_window_minutes`` after the uncertain create.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from ..db.engine import session_scope
from . import state
from .client import ZohoClient
from .errors import ZohoRejected, ZohoUncertain
from .results import JobResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BooksRecord:
    """Where and how one kind of Books record is listed and created."""

    what: str  # "order", "payment": words in warnings
    path: str  # "/salesorders"
    list_key: str  # "salesorders": the list reply's array
    record_key: str  # "salesorder": the create reply's record
    id_key: str  # "salesorder_id"
    number_key: str  # "salesorder_number"
    plural: str  # "sales orders": words in warnings
    maybe_prefix: str = state.MAYBE


SALES_ORDER = BooksRecord(
    "order",
    "/salesorders",
    "salesorders",
    "salesorder",
    "salesorder_id",
    "salesorder_number",
    "sales orders",
)
CUSTOMER_PAYMENT = BooksRecord(
    "payment",
    "/customerpayments",
    "customerpayments",
    "payment",
    "payment_id",
    "payment_number",
    "customer payments",
    state.MAYBE_PAYMENT,
)


def find_by_reference(
    client: ZohoClient, kind: BooksRecord, reference: str, res: JobResult | None = None
) -> dict[str, Any] | None:
    """The record whose reference is exactly ``reference`` (Zoho's filter may be looser).

    Two with one reference mean a duplicate was created in Zoho (by hand, or by an older
    bridge): the oldest is used and the run record says so, so a person can void the other."""
    reply = client.call("GET", "books", kind.path, params={"reference_number": reference})
    matches = [
        rec
        for rec in (reply.body or {}).get(kind.list_key) or []
        if rec.get("reference_number") == reference
    ]
    if len(matches) > 1:
        matches.sort(key=lambda rec: (rec.get("created_time") or "", rec.get(kind.id_key)))
        message = (
            f"{kind.what} {reference}: {len(matches)} {kind.plural} in Zoho carry this reference "
            f"({', '.join(str(m.get(kind.number_key)) for m in matches)}); using the "
            "oldest, void the others in Books"
        )
        log.warning(message)
        if res is not None:
            res.warnings.append(message)
    return matches[0] if matches else None


def created(kind: BooksRecord, reply_body: dict[str, Any] | None) -> dict[str, Any]:
    rec = (reply_body or {}).get(kind.record_key)
    if isinstance(rec, list):  # the OAS models some as an array (ZOHO_API.md §2.3, unconfirmed)
        rec = rec[0] if rec else None
    if not isinstance(rec, dict) or not rec.get(kind.id_key):
        raise ZohoUncertain(f"create answered without a {kind.id_key}")
    return rec


def push_once(
    engine: Engine,
    client: ZohoClient,
    kind: BooksRecord,
    number: str,
    payload: dict[str, Any],
    res: JobResult,
    maybe_since: float | None,
    *,
    on_found: Callable[[dict[str, Any]], bool],
    on_rejected: Callable[[str], None],
) -> None:
    """Send one record, never twice; ``on_found(record)`` stores Zoho's id (True if it did),
    ``on_rejected(message)`` parks ours with Zoho's words."""
    cfg = client.config
    uncertain = False
    rec = find_by_reference(client, kind, number, res)
    if rec is None and maybe_since is not None:
        age_min = (client.clock.now() - maybe_since) / 60
        if age_min < cfg.maybe_created_window_minutes:
            res.waiting += 1
            return
        res.warnings.append(
            f"{kind.what} {number}: still not in Zoho {age_min:.0f} min after a create whose "
            "outcome was unknown; creating it again"
        )
    if rec is None:
        try:
            reply = client.call("POST", "books", kind.path, json=payload, idempotent=False)
            rec = created(kind, reply.body)
        except ZohoRejected as exc:
            on_rejected(f"Zoho: {exc.message} (code {exc.code})")
            if maybe_since is not None:
                clear_maybe(engine, kind, number)
            res.parked += 1
            return
        except ZohoUncertain as exc:
            log.info("%s %s: %s; kept as maybe created", kind.what, number, exc)
            uncertain = True
            with session_scope(engine) as s:
                state.set_maybe(s, number, client.clock.now(), kind.maybe_prefix)
            for attempt in range(cfg.max_attempts - 1):
                client.clock.sleep(min(cfg.backoff_base_s * 2**attempt, cfg.backoff_max_s))
                rec = find_by_reference(client, kind, number, res)
                if rec is not None:
                    break
            else:
                res.waiting += 1
                res.warnings.append(
                    f"{kind.what} {number}: create outcome unknown ({exc}); kept as 'maybe "
                    "created' and looked up again on later runs, never created twice"
                )
                return
    if on_found(rec):
        res.sent += 1
    if maybe_since is not None or uncertain:
        clear_maybe(engine, kind, number)


def clear_maybe(engine: Engine, kind: BooksRecord, number: str) -> None:
    with session_scope(engine) as s:
        state.clear_maybe(s, number, kind.maybe_prefix)
