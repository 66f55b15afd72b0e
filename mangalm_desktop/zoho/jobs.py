"""The bridge's jobs: pull CRM accounts, Books contacts, items and invoices; push orders.

Pulls upsert on the Zoho id, so reading a record twice (overlap windows, a rerun after a crash)
changes nothing; each page is committed on its own, so an interrupted run keeps what it did.
Incremental pulls start ``overlap_minutes`` before the newest modification time seen last
time, because Zoho's clock and commit order are not ours (DESIGN §4).

The push is exactly-once by construction: an order moves to ``sent_to_zoho`` only in the
transaction that stores Zoho's id, and before any create the bridge asks Zoho for a sales
order whose ``reference_number`` is our order number; a create that died half-way (timeout,
dropped connection, a killed process) is therefore found, not repeated.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Invoice, InvoiceLine, Order, OrderLine, Product, Store
from ..domain.enums import OrderKind, OrderState
from ..domain.tasks import NULL_TASK, TaskContext
from . import state
from .client import ZohoClient
from .errors import ZohoRejected, ZohoUncertain
from .mapping import (
    CRM_ACCOUNT_FIELDS,
    MappingError,
    OrderLineInfo,
    account_to_store,
    books_time,
    contact_to_customer,
    crm_time,
    invoice_to_rows,
    item_to_product,
    parse_time,
    salesorder_payload,
)

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    job: str
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    sent: int = 0
    parked: int = 0  # records or orders held back for a person (collisions, rejections)
    waiting: int = 0  # orders "maybe created": looked up again on later runs, never re-created
    deleted: int = 0  # invoices tombstoned because Books no longer has them
    requests: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["warnings"] = self.warnings[:20]
        return d


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
                    modified = parse_time(rec.get(modified_field))
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
                modified = parse_time(rec.get("last_modified_time"))
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
                _tombstone_invoices(engine, gone, res)
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


# ---- invoices deleted in Books → tombstones ----------------------------------------------------

INVOICE_MISSING = 1002  # Books: "Invoice does not exist." (ZOHO_API.md §2.4, [OFF])


def _tombstone_invoices(engine: Engine, zoho_ids: Iterable[str], res: JobResult) -> None:
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
        ours = set(
            s.scalars(
                select(Invoice.zoho_invoice_id).where(
                    Invoice.zoho_invoice_id.is_not(None), Invoice.deleted.is_(False)
                )
            ).all()
        )
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
    _tombstone_invoices(engine, missing, res)


SWEEP_KEY = "zoho:sweep:invoices"


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


# ---- orders → Books sales orders ------------------------------------------------------------


def _mark(engine: Engine, order_id: uuid.UUID, **values: Any) -> bool:
    """Update one order if it is still 'synced' (a cancelled order is left alone)."""
    with session_scope(engine) as s:
        result = s.execute(
            update(Order)
            .where(Order.id == order_id, Order.state == OrderState.SYNCED.value)
            .values(version=Order.version + 1, **values)
        )
        return bool(result.rowcount)


PUSH_CHUNK = 100


def _payloads(s: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, Any]]:
    """Order id → (number, sales-order payload or the MappingError) for a chunk of orders,
    read with three queries. The state is re-checked at write time (``_mark``)."""
    orders = s.scalars(select(Order).where(Order.id.in_(ids))).all()
    stores = {
        st.id: st
        for st in s.scalars(select(Store).where(Store.id.in_({o.store_id for o in orders})))
    }
    lines: dict[uuid.UUID, list[OrderLineInfo]] = {}
    for ln, p in s.execute(
        select(OrderLine, Product)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id.in_(ids), OrderLine.deleted.is_(False))
        .order_by(OrderLine.order_id, OrderLine.line_no)
    ).all():
        lines.setdefault(ln.order_id, []).append(
            OrderLineInfo(p.zoho_item_id, p.name, ln.quantity, ln.unit_price, ln.discount_pct)
        )
    out: dict[uuid.UUID, tuple[str, Any]] = {}
    for order in orders:
        if order.state != OrderState.SYNCED.value:
            continue
        store = stores.get(order.store_id)
        try:
            payload: Any = salesorder_payload(
                number=order.number,
                customer_id=store.zoho_customer_id if store else None,
                store_name=store.name if store else "?",
                order_date=order.order_date,
                delivery_date=order.requested_delivery_date,
                notes=order.notes,
                lines=lines.get(order.id, []),
                order_discount_pct=order.discount_pct,
            )
        except MappingError as exc:
            payload = exc
        out[order.id] = (order.number, payload)
    return out


def find_salesorder(
    client: ZohoClient, reference: str, res: JobResult | None = None
) -> dict[str, Any] | None:
    """The sales order whose reference is exactly ``reference`` (Zoho's filter may be looser).

    Two with one reference mean a duplicate was created in Zoho (by hand, or by a bridge before
    "maybe created" existed): the oldest is used and the run record says so, so a person can
    void the other."""
    reply = client.call("GET", "books", "/salesorders", params={"reference_number": reference})
    matches = [
        so
        for so in (reply.body or {}).get("salesorders") or []
        if so.get("reference_number") == reference
    ]
    if len(matches) > 1:
        matches.sort(key=lambda so: (so.get("created_time") or "", so.get("salesorder_id")))
        message = (
            f"order {reference}: {len(matches)} sales orders in Zoho carry this reference "
            f"({', '.join(str(m.get('salesorder_number')) for m in matches)}); using the "
            "oldest, void the others in Books"
        )
        log.warning(message)
        if res is not None:
            res.warnings.append(message)
    return matches[0] if matches else None


def _created(reply_body: dict[str, Any] | None) -> dict[str, Any]:
    so = (reply_body or {}).get("salesorder")
    if isinstance(so, list):  # the OAS models it as an array (ZOHO_API.md §2.3, unconfirmed)
        so = so[0] if so else None
    if not isinstance(so, dict) or not so.get("salesorder_id"):
        raise ZohoUncertain("create answered without a salesorder_id")
    return so


def push_orders(
    engine: Engine,
    client: ZohoClient,
    ctx: TaskContext = NULL_TASK,
    *,
    res: JobResult | None = None,
    after_each: Callable[[], None] | None = None,
) -> JobResult:
    res = res or JobResult("orders")
    with session_scope(engine) as s:
        ids = s.scalars(
            select(Order.id)
            .where(
                Order.state == OrderState.SYNCED.value,
                Order.zoho_error.is_(None),
                Order.kind == OrderKind.ORDER.value,
                Order.deleted.is_(False),
            )
            .order_by(Order.created_at, Order.number)
        ).all()
        maybe = state.maybe_created(s)
        if maybe:
            # An order no longer waiting (cancelled, sent by hand, deleted) is no longer
            # "maybe created" for the bridge: it will not push it again.
            waiting = set(s.scalars(select(Order.number).where(Order.id.in_(ids))).all())
            for number in set(maybe) - waiting:
                state.clear_maybe(s, number)
                del maybe[number]
    done = 0
    for chunk_start in range(0, len(ids), PUSH_CHUNK):
        chunk = list(ids[chunk_start : chunk_start + PUSH_CHUNK])
        with session_scope(engine) as s:
            payloads = _payloads(s, chunk)
        for order_id in chunk:
            ctx.check()
            done += 1
            if order_id not in payloads:
                continue
            res.fetched += 1
            number, payload = payloads[order_id]
            if isinstance(payload, MappingError):
                _mark(engine, order_id, zoho_error=str(payload))
                res.parked += 1
                continue
            _push_one(engine, client, order_id, number, payload, res, maybe.get(number))
            ctx.progress(done, len(ids), "sales orders")
            if after_each is not None:
                after_each()
    return res


def _push_one(
    engine: Engine,
    client: ZohoClient,
    order_id: uuid.UUID,
    number: str,
    payload: dict[str, Any],
    res: JobResult,
    maybe_since: float | None,
) -> None:
    """Send one order, never twice.

    Zoho may commit a create after the client gave up on it (a timeout, a lost answer, a killed
    process), later than any lookup a few seconds on would see. So after a create whose outcome
    is unknown the order is kept "maybe created" (``zoho:maybe:<number>`` in the central
    bookkeeping, with the time): this run looks it up a few more times with backoff, later runs
    look it up again, and it is created again only when Zoho still has no such sales order
    ``maybe_created_window_minutes`` after the uncertain create.
    """
    cfg = client.config
    uncertain = False
    so = find_salesorder(client, number, res)
    if so is None and maybe_since is not None:
        age_min = (client.clock.now() - maybe_since) / 60
        if age_min < cfg.maybe_created_window_minutes:
            res.waiting += 1
            return
        res.warnings.append(
            f"order {number}: still not in Zoho {age_min:.0f} min after a create whose outcome "
            "was unknown; creating it again"
        )
    if so is None:
        try:
            reply = client.call("POST", "books", "/salesorders", json=payload, idempotent=False)
            so = _created(reply.body)
        except ZohoRejected as exc:
            _mark(engine, order_id, zoho_error=f"Zoho: {exc.message} (code {exc.code})")
            if maybe_since is not None:
                _clear_maybe(engine, number)
            res.parked += 1
            return
        except ZohoUncertain as exc:
            log.info("order %s: %s; kept as maybe created", number, exc)
            uncertain = True
            with session_scope(engine) as s:
                state.set_maybe(s, number, client.clock.now())
            for attempt in range(cfg.max_attempts - 1):
                client.clock.sleep(min(cfg.backoff_base_s * 2**attempt, cfg.backoff_max_s))
                so = find_salesorder(client, number, res)
                if so is not None:
                    break
            else:
                res.waiting += 1
                res.warnings.append(
                    f"order {number}: create outcome unknown ({exc}); kept as 'maybe created' "
                    "and looked up again on later runs, never created twice"
                )
                return
    if _mark(
        engine,
        order_id,
        state=OrderState.SENT_TO_ZOHO.value,
        zoho_salesorder_id=str(so["salesorder_id"]),
        zoho_salesorder_number=so.get("salesorder_number"),
        zoho_error=None,
    ):
        res.sent += 1
    if maybe_since is not None or uncertain:
        _clear_maybe(engine, number)


def _clear_maybe(engine: Engine, number: str) -> None:
    with session_scope(engine) as s:
        state.clear_maybe(s, number)
