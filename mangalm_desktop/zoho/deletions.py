"""Invoices deleted in Books become tombstones centrally (so every laptop drops them).

Books documents no list of deleted records (ZOHO_API.md), so deletions are found by a detail
request answering code 1002 and by a periodic sweep of the full invoice list (a setting,
because that the list shows every live invoice is unconfirmed); see docs/zoho.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select, update

from ..db.engine import session_scope
from ..db.models import Invoice, InvoiceLine
from . import state
from .client import ZohoClient
from .results import JobResult

INVOICE_MISSING = 1002  # Books: "Invoice does not exist." (ZOHO_API.md §2.4, [OFF])


def tombstone_invoices(engine: Engine, zoho_ids: Iterable[str], res: JobResult) -> None:
    """Tombstone the invoices (and their lines) of these Books ids, so every replica drops them;
    rows stay, as every synced delete does."""
    ids = list(zoho_ids)
    if not ids:
        return
    with session_scope(engine) as s:
        invoice_ids = s.scalars(
            select(Invoice.id).where(Invoice.zoho_invoice_id.in_(ids), Invoice.deleted.is_(False))
        ).all()
        if not invoice_ids:
            return
        s.execute(
            update(Invoice)
            .where(Invoice.id.in_(invoice_ids))
            .values(deleted=True, version=Invoice.version + 1)
        )
        s.execute(
            update(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_(invoice_ids), InvoiceLine.deleted.is_(False))
            .values(deleted=True, version=InvoiceLine.version + 1)
        )
    res.deleted += len(invoice_ids)
    res.warnings.append(f"{len(invoice_ids)} invoice(s) deleted in Books: tombstoned")


def sweep_deleted_invoices(
    engine: Engine, client: ZohoClient, res: JobResult, listed: set[str] | None
) -> None:
    """Find invoices deleted in Books and tombstone them.

    Books has no documented list of deleted records (ZOHO_API.md), and an incremental list
    cannot show what is gone, so deletions are found by a sweep: every ``deletion_sweep_hours``
    the full invoice list is read (one request per 200 invoices, no details) and our Zoho
    invoices missing from it are tombstoned. That a complete unfiltered ``GET /invoices``
    lists every invoice that still exists (void and draft too) is UNCONFIRMED, so the sweep is
    a setting (0 = off). ``listed`` is the id set of a complete listing this run already made
    (a first pull), which then costs nothing extra. A detail answering code 1002 ("does not
    exist") tombstones that invoice at once, independent of the sweep.
    """
    hours = client.config.deletion_sweep_hours
    if hours <= 0:
        return
    now = client.clock.now()
    with session_scope(engine) as s:
        last = state.get_number(s, SWEEP_KEY)
    if listed is None:
        if last is not None and now - last < hours * 3600:
            return
        listed = set()
        for page in client.books_pages("/invoices", "invoices", {"sort_column": "created_time"}):
            listed.update(str(r["invoice_id"]) for r in page if r.get("invoice_id"))
    with session_scope(engine) as s:
        ours = {
            zoho_id
            for zoho_id in s.scalars(
                select(Invoice.zoho_invoice_id).where(
                    Invoice.zoho_invoice_id.is_not(None), Invoice.deleted.is_(False)
                )
            )
            if zoho_id
        }
        state.set_number(s, SWEEP_KEY, now)
    missing = ours - listed
    if missing and not listed:
        # An empty listing against a non-empty history is more likely a wrong organization or
        # a filter Books applied than every invoice deleted: do nothing, say so.
        res.warnings.append(
            f"deletion sweep: Books listed no invoices but {len(ours)} are linked here; "
            "nothing tombstoned"
        )
        return
    tombstone_invoices(engine, missing, res)


SWEEP_KEY = "zoho:sweep:invoices"
