"""The bridge's pulls: CRM accounts, Books contacts, items and invoices (the push of orders is
:mod:`.push`, deletions :mod:`.deletions`; both are re-exported here as jobs).

Pulls upsert on the Zoho id, so reading a record twice (overlap windows, a rerun after a crash)
changes nothing; each page is committed on its own, so an interrupted run keeps what it did.
Incremental pulls start ``overlap_minutes`` before the newest modification time seen last
time, because Zoho's clock and commit order are not ours (DESIGN §4).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Invoice, InvoiceLine, Product, Store
from ..domain.tasks import NULL_TASK, TaskContext
from . import state
from .client import ZohoClient
from .deletions import INVOICE_MISSING, sweep_deleted_invoices, tombstone_invoices
from .errors import ZohoRejected
from .mapping import (
    CRM_ACCOUNT_FIELDS,
    MappingError,
    account_to_store,
    books_time,
    contact_to_customer,
    crm_time,
    invoice_to_rows,
    item_to_product,
    parse_time,
)
from .push import find_salesorder, push_orders
from .results import JobResult

__all__ = [
    "JobResult",
    "find_salesorder",
    "pull_accounts",
    "pull_contacts",
    "pull_invoices",
    "pull_items",
    "push_orders",
]

log = logging.getLogger(__name__)


def _apply(row: Any, values: dict[str, Any]) -> bool:
    """Set changed attributes; bump ``version`` if anything changed. Returns whether it did."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed and getattr(row, "version", None) is not None:
        row.version += 1
    return changed


def _since(cursor: dt.datetime | None, overlap_minutes: int) -> dt.datetime | None:
    return cursor - dt.timedelta(minutes=overlap_minutes) if cursor else None


# ---- CRM accounts → stores -------------------------------------------------------------------


def pull_accounts(
    engine: Engine, client: ZohoClient, ctx: TaskContext = NULL_TASK, res: JobResult | None = None
) -> JobResult:
    res = res or JobResult("accounts")
    cfg = client.config
    with session_scope(engine) as s:
        since = _since(state.get_cursor(s, "accounts"), cfg.overlap_minutes)
    header = crm_time(since) if since and cfg.crm_if_modified_since else None
    pages = client.crm_pages("Accounts", CRM_ACCOUNT_FIELDS, header)
    newest = _pull_pages(
        engine,
        pages,
        res,
        ctx,
        account_to_store,
        _upsert_store,
        "CRM accounts",
        modified_field="Modified_Time",
    )
    _save_cursor(engine, "accounts", newest)
    return res


def _pull_pages(
    engine: Engine,
    pages: Iterable[list[dict[str, Any]]],
    res: JobResult,
    ctx: TaskContext,
    convert: Callable[[dict[str, Any]], Any],
    write: Callable[[Session, Any, JobResult], Any],
    label: str,
    *,
    modified_field: str | None = None,
) -> dt.datetime | None:
    """The page loop of the master-data pulls: one transaction per page (a stop keeps the pages
    already written), a record that does not map is a warning rather than a failed job, and the
    newest modification time seen is returned as the next cursor.

    Each record is written in its own savepoint: a record that still collides with another row
    (a unique code or SKU) after the write function's own resolution is parked with a warning
    naming it, and the rest of the page and the run go on."""
    newest: dt.datetime | None = None
    for page in pages:
        ctx.check()
        with session_scope(engine) as s:
            for rec in page:
                res.fetched += 1
                try:
                    values = convert(rec)
                except MappingError as exc:
                    res.warnings.append(str(exc))
                    continue
                if modified_field is not None:
                    try:
                        modified = parse_time(rec.get(modified_field))
                    except MappingError as exc:  # written, but it cannot move the cursor
                        res.warnings.append(f"{label}: {_record_name(rec)}: {exc}")
                        modified = None
                    if modified and (newest is None or modified > newest):
                        newest = modified
                try:
                    with s.begin_nested():
                        write(s, values, res)
                except (IntegrityError, DataError) as exc:
                    res.parked += 1
                    res.warnings.append(f"{label}: {_record_name(rec)} not written: {_why(exc)}")
        ctx.progress(res.fetched, 0, label)
    return newest


def _record_name(rec: dict[str, Any]) -> str:
    for key in ("Account_Name", "name", "contact_name", "id", "item_id", "contact_id"):
        if rec.get(key):
            return repr(str(rec[key]))
    return "a record"


def _why(exc: IntegrityError | DataError) -> str:
    """The database's one-line reason (which constraint), without the SQL and parameters."""
    return str(getattr(exc, "orig", exc)).splitlines()[0][:200]


def _books_since(engine: Engine, client: ZohoClient, job: str, params: dict[str, Any]) -> None:
    """Ask Books only for records modified since the job's cursor (minus the overlap)."""
    with session_scope(engine) as s:
        since = _since(state.get_cursor(s, job), client.config.overlap_minutes)
    if since:
        params["last_modified_time"] = books_time(since)


def _save_cursor(engine: Engine, job: str, newest: dt.datetime | None) -> None:
    if newest:
        with session_scope(engine) as s:
            state.set_cursor(s, job, newest)


def _upsert_store(s: Session, values: dict[str, Any], res: JobResult) -> None:
    """Upsert on the CRM account id. The account number becomes the store code, but CRM does
    not keep account numbers unique: when another store already holds the number, a store
    imported before Zoho was connected is adopted; otherwise this account keeps the code it
    has (``ZA-<account id>`` if it is new) and the run's warnings say which two collide."""
    account_id = values["zoho_account_id"]
    store = s.scalar(select(Store).where(Store.zoho_account_id == account_id))
    holder = s.scalar(select(Store).where(Store.code == values["code"]))
    if holder is not None and holder is not store:
        if store is None and holder.zoho_account_id is None:
            store = holder  # a store imported before Zoho was connected: adopt it
        else:
            kept = store.code if store is not None else f"ZA-{account_id}"
            res.warnings.append(
                f"CRM account {account_id} ({values['name']!r}): account number "
                f"{values['code']!r} is also store {holder.name!r} (account "
                f"{holder.zoho_account_id}); this store keeps code {kept!r}"
            )
            values["code"] = kept
    if store is None:
        s.add(Store(**values))
        res.created += 1
    elif _apply(store, values):
        res.updated += 1
    else:
        res.unchanged += 1


# ---- Books contacts → store.zoho_customer_id -------------------------------------------------


def pull_contacts(
    engine: Engine, client: ZohoClient, ctx: TaskContext = NULL_TASK, res: JobResult | None = None
) -> JobResult:
    """Link each Books customer to its store (by ``zcrm_account_id``, else by exact name), or
    create the store, so invoices and sales orders always have a customer on both sides."""
    res = res or JobResult("contacts")
    params: dict[str, Any] = {"contact_type": "customer"}
    if client.config.contacts_modified_filter:
        _books_since(engine, client, "contacts", params)
    pages = client.books_pages("/contacts", "contacts", params)
    newest = _pull_pages(
        engine,
        pages,
        res,
        ctx,
        contact_to_customer,
        _link_customer,
        "Books customers",
        modified_field="last_modified_time",
    )
    _save_cursor(engine, "contacts", newest)
    return res


def _link_customer(s: Session, cust: Any, res: JobResult) -> None:
    store = s.scalar(select(Store).where(Store.zoho_customer_id == cust.contact_id))
    if store is not None:
        res.unchanged += 1
        return
    if cust.crm_account_id:
        store = s.scalar(select(Store).where(Store.zoho_account_id == cust.crm_account_id))
    if store is None:
        candidates = s.scalars(
            select(Store).where(Store.name == cust.name, Store.zoho_customer_id.is_(None))
        ).all()
        store = candidates[0] if len(candidates) == 1 else None
    if store is not None and store.zoho_customer_id is None:
        _apply(store, {"zoho_customer_id": cust.contact_id})
        res.updated += 1
        return
    s.add(
        Store(
            code=f"ZC-{cust.contact_id}",
            name=cust.name,
            zoho_customer_id=cust.contact_id,
            email=cust.email,
            phone=cust.phone,
        )
    )
    res.created += 1


# ---- Books items → products -----------------------------------------------------------------


def pull_items(
    engine: Engine, client: ZohoClient, ctx: TaskContext = NULL_TASK, res: JobResult | None = None
) -> JobResult:
    res = res or JobResult("items")
    params: dict[str, Any] = {"filter_by": "Status.All"}
    if client.config.items_modified_filter:
        _books_since(engine, client, "items", params)
    # Items are few (hundreds): the whole listing is read before writing, so a SKU that Books
    # moved from one item to another can be told from one that two items share.
    pages = list(client.books_pages("/items", "items", params))
    listed = {
        str(rec["item_id"]): (str(rec["sku"]) if rec.get("sku") else None)
        for page in pages
        for rec in page
        if rec.get("item_id")
    }

    def write(s: Session, values: dict[str, Any], res: JobResult) -> None:
        _upsert_product(s, values, res, listed if not client.config.items_modified_filter else None)

    _pull_pages(engine, pages, res, ctx, item_to_product, write, "Books items")
    return res


def _upsert_product(
    s: Session,
    values: dict[str, Any],
    res: JobResult,
    listed: dict[str, str | None] | None = None,
) -> Product:
    """Upsert on the Books item id; the SKU is unique on our side.

    ``listed`` (item id → SKU, from the full item listing of this run) tells a moved SKU from
    a duplicated one: when the product holding the SKU belongs to a Books item that no longer
    carries it, Books moved the SKU to this item and the holder gives it up; when both items
    carry it (or we cannot tell), the holder keeps it and this item keeps the SKU it had.
    A product imported before Zoho was connected (same SKU, no item id) is adopted."""
    item_id = values["zoho_item_id"]
    product = s.scalar(select(Product).where(Product.zoho_item_id == item_id))
    sku = values.get("sku")
    holder = s.scalar(select(Product).where(Product.sku == sku)) if sku else None
    if holder is not None and holder is not product:
        if product is None and holder.zoho_item_id is None:
            product = holder
        elif (
            listed is not None
            and holder.zoho_item_id is not None
            and listed.get(holder.zoho_item_id) != sku
        ):
            res.warnings.append(
                f"SKU {sku!r} moved in Books from item {holder.zoho_item_id} ({holder.name!r}) "
                f"to item {item_id} ({values['name']!r})"
            )
            _apply(holder, {"sku": None})
            s.flush()  # the holder lets go before this row takes the SKU (unique index)
        else:
            kept = product.sku if product is not None else None
            res.warnings.append(
                f"Books item {item_id} ({values['name']!r}): SKU {sku!r} is also product "
                f"{holder.name!r}'s; this product keeps SKU {kept!r}"
            )
            values["sku"] = kept
    if product is None:
        product = Product(**values)
        s.add(product)
        res.created += 1
    elif _apply(product, values):
        res.updated += 1
    else:
        res.unchanged += 1
    return product


# ---- Books invoices (with line items) → invoices ---------------------------------------------


@dataclass
class _Lookups:
    """Zoho id → our id for stores and products, loaded once per job (thousands, not millions)."""

    stores: dict[str, uuid.UUID]
    products: dict[str, uuid.UUID]

    @classmethod
    def load(cls, s: Session) -> _Lookups:
        stores = dict(
            s.execute(
                select(Store.zoho_customer_id, Store.id).where(Store.zoho_customer_id.is_not(None))
            ).all()
        )
        products = dict(
            s.execute(
                select(Product.zoho_item_id, Product.id).where(Product.zoho_item_id.is_not(None))
            ).all()
        )
        return cls(stores, products)  # type: ignore[arg-type]


def pull_invoices(
    engine: Engine, client: ZohoClient, ctx: TaskContext = NULL_TASK, res: JobResult | None = None
) -> JobResult:
    res = res or JobResult("invoices")
    cfg = client.config
    with session_scope(engine) as s:
        cursor = state.get_cursor(s, "invoices")
        lookups = _Lookups.load(s)
    since = _since(cursor, cfg.overlap_minutes)
    if since is None and cfg.invoices_since:
        since = dt.datetime.fromisoformat(cfg.invoices_since).replace(tzinfo=dt.UTC)
    params: dict[str, Any] = {"sort_column": "created_time", "sort_order": "A"}
    if since:
        params["last_modified_time"] = books_time(since)
    newest = cursor
    listed: set[str] = set()  # every id listed; a full listing (no ``since``) is the sweep
    gone: list[str] = []
    for page in client.books_pages("/invoices", "invoices", params):
        ctx.check()
        ids = [str(r["invoice_id"]) for r in page if r.get("invoice_id")]
        with session_scope(engine) as s:
            known = dict(
                s.execute(
                    select(Invoice.zoho_invoice_id, Invoice.zoho_modified_at).where(
                        Invoice.zoho_invoice_id.in_(ids)
                    )
                ).all()
            )
        batch: list[Any] = []
        try:
            for rec in page:
                res.fetched += 1
                try:
                    modified = parse_time(rec.get("last_modified_time"))
                except MappingError as exc:
                    res.warnings.append(f"invoice {rec.get('invoice_number')!r} skipped: {exc}")
                    continue
                if modified and (newest is None or modified > newest):
                    newest = modified
                inv_id = str(rec.get("invoice_id") or "")
                if inv_id in known and modified is not None and known[inv_id] == modified:
                    res.unchanged += 1
                    continue
                ctx.check()
                try:
                    detail = client.call("GET", "books", f"/invoices/{inv_id}").body or {}
                except ZohoRejected as exc:  # deleted in Zoho between the list and now
                    res.warnings.append(f"invoice {inv_id}: {exc.message}")
                    if exc.code == INVOICE_MISSING:
                        gone.append(inv_id)
                    continue
                try:
                    data = invoice_to_rows(detail.get("invoice") or {})
                except MappingError as exc:
                    res.warnings.append(str(exc))
                    continue
                if data.modified is None:
                    data.modified = modified
                batch.append(data)
        finally:
            # One transaction per page; on a stop (budget, cancel, error) the details already
            # paid for are still written, so the next run does not ask for them again.
            if batch:
                _write_invoice_page(engine, batch, lookups, res)
            if gone:
                tombstone_invoices(engine, gone, res)
                gone.clear()
        listed.update(ids)
        ctx.progress(res.fetched, 0, "Books invoices")
    if newest and newest != cursor:
        with session_scope(engine) as s:
            state.set_cursor(s, "invoices", newest)
    sweep_deleted_invoices(engine, client, res, listed if since is None else None)
    return res


def _write_invoice_page(
    engine: Engine, batch: list[Any], lookups: _Lookups, res: JobResult
) -> None:
    """One transaction for the page; if it collides (an invoice number Books reused, say), the
    page is written again one invoice at a time so only the colliding invoice is parked."""
    try:
        with session_scope(engine) as s:
            _write_invoices(s, batch, lookups, res)
        return
    except IntegrityError:
        pass
    with session_scope(engine) as s:  # the failed page may have added lookups that rolled back
        fresh = _Lookups.load(s)
    lookups.stores, lookups.products = fresh.stores, fresh.products
    for data in batch:
        try:
            with session_scope(engine) as s:
                _write_invoices(s, [data], lookups, res)
        except IntegrityError as exc:
            res.parked += 1
            res.warnings.append(f"invoice {data.header['number']} not written: {_why(exc)}")
            with session_scope(engine) as s:
                fresh = _Lookups.load(s)
            lookups.stores, lookups.products = fresh.stores, fresh.products


def _store_for(s: Session, data: Any, lookups: _Lookups) -> uuid.UUID:
    store_id = lookups.stores.get(data.customer_id)
    if store_id is None:
        store_id = uuid.uuid4()
        s.add(
            Store(
                id=store_id,
                code=f"ZC-{data.customer_id}",
                name=data.customer_name[:300],
                zoho_customer_id=data.customer_id,
            )
        )
        lookups.stores[data.customer_id] = store_id
    return store_id


def _product_for(s: Session, line: dict[str, Any], lookups: _Lookups) -> uuid.UUID:
    product_id = lookups.products.get(line["item_id"])
    if product_id is None:
        product = _upsert_product(
            s,
            {
                "zoho_item_id": line["item_id"],
                "name": line["item_name"][:300],
                "sku": (str(line["sku"])[:64] if line.get("sku") else None),
            },
            JobResult("items"),
        )
        if product.id is None:  # new and not flushed: give it its id now
            product.id = uuid.uuid4()
        product_id = lookups.products[line["item_id"]] = product.id
    return product_id


def _write_invoices(s: Session, batch: list[Any], lookups: _Lookups, res: JobResult) -> None:
    """Upsert one page of invoices in one transaction: existing invoices and their lines are
    read with two queries for the whole page and new rows are inserted in one flush."""
    zoho_ids = [d.header["zoho_invoice_id"] for d in batch]
    numbers = [d.header["number"] for d in batch]
    by_zoho = {
        inv.zoho_invoice_id: inv
        for inv in s.scalars(select(Invoice).where(Invoice.zoho_invoice_id.in_(zoho_ids)))
        if inv.zoho_invoice_id is not None  # always, by the IN: for the type
    }
    by_number = {
        inv.number: inv
        for inv in s.scalars(
            select(Invoice).where(Invoice.number.in_(numbers), Invoice.zoho_invoice_id.is_(None))
        )
    }
    ids = [inv.id for inv in (*by_zoho.values(), *by_number.values())]
    lines: dict[uuid.UUID, dict[int, InvoiceLine]] = {}
    for ln in s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id.in_(ids))):
        lines.setdefault(ln.invoice_id, {})[ln.line_no] = ln
    with s.no_autoflush:
        for data in batch:
            _upsert_invoice(s, data, lookups, res, by_zoho, by_number, lines)


def _upsert_invoice(
    s: Session,
    data: Any,
    lookups: _Lookups,
    res: JobResult,
    by_zoho: dict[str, Invoice],
    by_number: dict[str, Invoice],
    lines: dict[uuid.UUID, dict[int, InvoiceLine]],
) -> None:
    res.warnings.extend(data.warnings)
    values = {
        **data.header,
        "store_id": _store_for(s, data, lookups),
        "zoho_modified_at": data.modified,
        "deleted": False,  # listed again in Books: live again
    }
    # a CSV-imported invoice (same number, no Zoho id yet) is adopted, not duplicated
    inv = by_zoho.get(values["zoho_invoice_id"]) or by_number.pop(values["number"], None)
    if inv is None:
        inv = Invoice(id=uuid.uuid4(), **values)
        s.add(inv)
        by_zoho[values["zoho_invoice_id"]] = inv
        res.created += 1
    elif _apply(inv, values):
        res.updated += 1
    else:
        res.unchanged += 1
    existing = lines.get(inv.id, {})
    seen: set[int] = set()
    for line in data.lines:
        seen.add(line["line_no"])
        lv = {
            "store_id": inv.store_id,
            "invoice_date": inv.invoice_date,
            "product_id": _product_for(s, line, lookups),
            "quantity": line["quantity"],
            "unit_price": line["unit_price"],
            "discount_amount": line["discount_amount"],
            "line_total": line["line_total"],
            "deleted": False,
        }
        row = existing.get(line["line_no"])
        if row is None:
            s.add(InvoiceLine(invoice_id=inv.id, line_no=line["line_no"], **lv))
        else:
            _apply(row, lv)
    for line_no, row in existing.items():
        if line_no not in seen:
            _apply(row, {"deleted": True})
