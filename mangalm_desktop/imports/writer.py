"""The upsert writer: records in, rows created / updated / left alone, in one transaction per file.

Why it is built this way:
- **Idempotent.** Every record is matched on a natural key (store: Zoho Customer ID, else code;
  product: Zoho item id, else SKU; invoice: Zoho Invoice ID, else number; line: invoice + its
  position in the file). A matched row is compared column by column and written only when
  something differs, so importing the same file twice bumps no version and adds no row.
- **Fast.** Ids of existing rows are loaded once into dicts; new lines go to the database as
  plain tuples through one ``executemany`` of the Core-compiled INSERT. Values are converted by
  the columns' own SQLAlchemy bind processors (``Money`` gives integer minor units on SQLite),
  cached per distinct value, so a million lines cost a few distinct conversions plus one tuple
  each. No ORM objects.
- **Master data from the first mention.** Within one file a store's or product's fields come
  from the first row that mentions it; later rows of the same file do not flip them back and forth.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, insert, select, type_coerce, update
from sqlalchemy.types import NullType

from ..db.day_sales import drop_line_triggers
from ..db.models import Agent, Invoice, InvoiceLine, Product, Store
from ..db.types import utcnow
from .ids import UuidV7Source
from .records import (
    PRODUCT_FIELDS,
    STORE_FIELDS,
    InvoiceIn,
    LineColumns,
    LineIn,
    ProductIn,
    StoreIn,
)
from .report import RowRejected, WriteCounts

AGENT_T: Table = Agent.__table__  # type: ignore[assignment]
STORE_T: Table = Store.__table__  # type: ignore[assignment]
PRODUCT_T: Table = Product.__table__  # type: ignore[assignment]
INVOICE_T: Table = Invoice.__table__  # type: ignore[assignment]
LINE_T: Table = InvoiceLine.__table__  # type: ignore[assignment]

INVOICE_FIELDS = (
    "number",
    "kind",
    "status",
    "store_id",
    "agent_id",
    "salesperson",
    "invoice_date",
    "due_date",
    "subtotal",
    "discount_amount",
    "total",
    "balance",
    "purchase_order",
    "sales_order_number",
    "deleted",
)
LINE_FIELDS = (
    "store_id",
    "invoice_date",
    "product_id",
    "quantity",
    "unit_price",
    "discount_amount",
    "line_total",
    "mrp",
    "deleted",
)
IN_BATCH = 500  # ids per "IN (...)" query
# invoice_line columns in the order of the compiled INSERT, for the tuple fast path
LINE_INSERT_ORDER = (
    "invoice_id", "line_no", "store_id", "invoice_date", "product_id", "quantity", "unit_price",
    "discount_amount", "line_total", "mrp", "id", "version", "deleted", "updated_at",
)  # fmt: skip


class _Encoder:
    """A table's INSERT as driver SQL plus the bind processors that turn values into driver values."""

    def __init__(self, conn: Connection, table: Table) -> None:
        dialect = conn.dialect
        self.columns = [c.name for c in table.columns]
        compiled = insert(table).compile(dialect=dialect, column_keys=self.columns)
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        order = list(compiled.positiontup or self.columns)
        self.order = order
        self.getter = itemgetter(*order)
        self.procs: dict[str, Callable[[Any], Any]] = {}
        for c in table.columns:
            proc = c.type.dialect_impl(dialect).bind_processor(dialect)
            self.procs[c.name] = proc if proc is not None else _identity
        self._caches: dict[str, dict[Any, Any]] = {name: {} for name in self.columns}

    def value(self, column: str, value: Any) -> Any:
        """The driver value for ``value`` in ``column``, converted once per distinct value."""
        if value is None:
            return None
        cache = self._caches[column]
        hit = cache.get(value)
        if hit is None:
            hit = self.procs[column](value)
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            cache[value] = hit
        return hit

    def row(self, values: dict[str, Any]) -> Any:
        """A full row of typed values → driver parameters (tuple or dict per paramstyle)."""
        enc = {k: self.procs[k](v) if v is not None else None for k, v in values.items()}
        return self.getter(enc) if self.positional else enc

    def rows(self, values: list[dict[str, Any]]) -> list[Any]:
        """Many rows at once, column by column (what :meth:`row` gives each, missing keys None).

        Each column's distinct values are converted once and the rows zipped from the columns:
        a fresh import's 100,000 invoice headers cost a few C-level passes, not a bind
        processor call per cell (issue 21).
        """
        if not values:
            return []
        columns = []
        for name in self.order:
            col = [v.get(name) for v in values]
            proc = self.procs[name]
            if proc is not _identity:
                conv = {x: proc(x) for x in set(col) if x is not None}
                conv[None] = None
                col = list(map(conv.__getitem__, col))
            columns.append(col)
        if self.positional:
            return list(zip(*columns, strict=True))
        return [dict(zip(self.order, r, strict=True)) for r in zip(*columns, strict=True)]

    def execute(self, conn: Connection, rows: list[Any]) -> None:
        if rows:
            conn.exec_driver_sql(self.sql, rows)


def _identity(v: Any) -> Any:
    return v


@dataclass
class _Existing:
    id: uuid.UUID
    version: int
    values: tuple[Any, ...]
    extra: dict[str, Any] = field(default_factory=dict)


_NO_HEADER: dict[str, Any] = {}
# C-level getters for the column-wise rows (add_columns)
_REF = attrgetter("ref")
_ID_P, _STORE_P, _DATE_P = attrgetter("id_p"), attrgetter("store_p"), attrgetter("date_p")
_PRODUCT_P = itemgetter(1)
_INVOICE_STORE_AT = INVOICE_FIELDS.index("store_id")
CACHE_LIMIT = 100_000  # distinct values kept per column; line totals are nearly all distinct


@dataclass(slots=True)
class _InvoiceState:
    """An invoice met in this file."""

    id: uuid.UUID
    id_p: Any
    header: dict[str, Any]
    existing: _Existing | None
    store_p: Any
    date_p: Any
    line_no: int = 0
    total: Decimal = Decimal("0.00")
    lines_changed: bool = False
    sum_lines: bool = False


class Writer:
    """Upserts one file's records inside the caller's transaction on ``conn``."""

    def __init__(self, conn: Connection, *, source: str, invoice_key: str) -> None:
        if invoice_key not in ("zoho_invoice_id", "number"):
            raise ValueError(invoice_key)
        self.conn = conn
        self.source = source
        self.invoice_key = invoice_key
        self.write = True  # False once the file is known to be rolled back: keep validating only
        self.counts = WriteCounts()
        self.now = utcnow()
        self._enc = {
            t.name: _Encoder(conn, t) for t in (AGENT_T, STORE_T, PRODUCT_T, INVOICE_T, LINE_T)
        }
        self._line_enc = self._enc["invoice_line"]
        self._ids = UuidV7Source()
        caches = self._line_enc._caches
        self._c_price, self._c_total, self._c_mrp = (
            caches["unit_price"],
            caches["line_total"],
            caches["mrp"],
        )
        probe = uuid.UUID(int=12345)
        self._hex_ids = self._line_enc.procs["id"](probe) == probe.hex  # SQLite stores hex text
        self._fast_lines = self._hex_ids and tuple(self._line_enc.order) == LINE_INSERT_ORDER
        # SQLite keeps money as integer minor units: a plain amount's digits are its value
        self._minor_totals = self._line_enc.procs["line_total"](Decimal("-12.34")) == -1234
        self._false_p = self._line_enc.value("deleted", False)
        self._now_p = self._line_enc.value("updated_at", self.now)
        self._load()
        # per-file state
        self._file_stores: dict[str, tuple[uuid.UUID, Any]] = {}
        self._file_products: dict[tuple[str, str], tuple[uuid.UUID, Any]] = {}
        self._file_invoices: dict[str, _InvoiceState] = {}
        self._void_keys: set[str] = set()
        self._store_codes: dict[Any, str] | None = None  # store id -> code, built when needed
        self._new: dict[str, list[Any]] = {t: [] for t in self._enc}
        self._new_invoices: list[dict[str, Any]] = []  # new invoices' values, not yet encoded
        self._updates: dict[str, list[dict[str, Any]]] = {"store": [], "product": []}
        self._pending_existing_lines: list[tuple[_InvoiceState, int, tuple[Any, ...]]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        self._deferred_indexes = self._defer_line_indexes()

    def _defer_line_indexes(self) -> list[Any]:
        """Into an empty SQLite history, build the two secondary line indexes after the load.

        One sorted index build at the end costs a fraction of a million scattered inserts. The
        DROP is inside the file's transaction, so a rollback brings the indexes back as well.
        """
        if self.conn.dialect.name != "sqlite":
            return []
        if self.conn.execute(select(LINE_T.c.id).limit(1)).first() is not None:
            return []
        driver = self.conn.connection.dbapi_connection
        if not getattr(driver, "in_transaction", True):
            # pysqlite opens its transaction lazily, at the first INSERT/UPDATE/DELETE; a DROP
            # before that would autocommit and survive a rollback. Open it now.
            self.conn.exec_driver_sql("BEGIN")
        indexes = sorted(LINE_T.indexes, key=lambda ix: ix.name or "")
        for ix in indexes:
            ix.drop(self.conn)
        drop_line_triggers(self.conn)  # remade, and every store's day sums redone, when read
        return indexes

    def _new_id(self) -> uuid.UUID:
        return self._ids.next()

    # ---- loading what exists ----------------------------------------------------------------

    def _load(self) -> None:
        c = self.conn
        self._agents: dict[str, tuple[uuid.UUID, Any]] = {}
        self._agent_codes: set[str] = set()
        for aid, code, name in c.execute(select(AGENT_T.c.id, AGENT_T.c.code, AGENT_T.c.name)):
            self._agent_codes.add(code)
            self._agents.setdefault(name.strip().casefold(), (aid, None))

        cols = [STORE_T.c[n] for n in STORE_FIELDS]
        self._stores_by_zoho: dict[str, _Existing] = {}
        self._stores_by_code: dict[str, _Existing] = {}
        q = select(
            STORE_T.c.id,
            STORE_T.c.version,
            STORE_T.c.code,
            STORE_T.c.zoho_customer_id,
            STORE_T.c.deleted,
            *cols,
        )
        for r in c.execute(q):
            ex = _Existing(
                r.id, r.version, (*r[5:], r.deleted), {"code": r.code, "zoho": r.zoho_customer_id}
            )
            self._stores_by_code[r.code] = ex
            if r.zoho_customer_id:
                self._stores_by_zoho[r.zoho_customer_id] = ex

        cols = [PRODUCT_T.c[n] for n in PRODUCT_FIELDS]
        self._products_by_zoho: dict[str, _Existing] = {}
        self._products_by_sku: dict[str, _Existing] = {}
        q = select(
            PRODUCT_T.c.id,
            PRODUCT_T.c.version,
            PRODUCT_T.c.zoho_item_id,
            PRODUCT_T.c.sku,
            PRODUCT_T.c.deleted,
            *cols,
        )
        for r in c.execute(q):
            ex = _Existing(
                r.id, r.version, (*r[5:], r.deleted), {"zoho": r.zoho_item_id, "sku": r.sku}
            )
            if r.zoho_item_id:
                self._products_by_zoho[r.zoho_item_id] = ex
            if r.sku:
                self._products_by_sku[r.sku] = ex

        cols = [INVOICE_T.c[n] for n in INVOICE_FIELDS]
        self._invoices: dict[str, _Existing] = {}
        self._numbers: dict[str, tuple[str | None, str]] = {}
        q = select(
            INVOICE_T.c.id,
            INVOICE_T.c.version,
            INVOICE_T.c.zoho_invoice_id,
            INVOICE_T.c.source,
            *cols,
        )
        for r in c.execute(q):
            ex = _Existing(
                r.id, r.version, tuple(r[4:]), {"zoho": r.zoho_invoice_id, "source": r.source}
            )
            self._numbers[r.number] = (r.zoho_invoice_id, r.source)
            key = r.zoho_invoice_id if self.invoice_key == "zoho_invoice_id" else r.number
            if key:
                self._invoices[key] = ex

    # ---- resolving records to ids -----------------------------------------------------------

    def agent(self, name: str | None) -> tuple[uuid.UUID, Any] | None:
        """The agent called ``name`` (case-insensitive), created with a fresh code if unknown."""
        if not name or not name.strip():
            return None
        key = name.strip().casefold()
        hit = self._agents.get(key)
        if hit is not None and hit[1] is not None:
            return hit
        if hit is None:
            aid = self._new_id()
            code = self._next_agent_code()
            self._new["agent"].append(
                self._enc["agent"].row(
                    {  # every column, so one INSERT fits all rows
                        "id": aid, "version": 1, "deleted": False, "updated_at": self.now,
                        "code": code, "name": name.strip()[:200], "email": None, "phone": None,
                        "region": None, "role": "agent", "db_role": None,
                        "zoho_user_name": name.strip()[:200], "active": True,
                    }
                )
            )  # fmt: skip
            self.counts.agents_created += 1
        else:
            aid = hit[0]
        resolved = (aid, self._line_enc.value("store_id", aid))
        self._agents[key] = resolved
        return resolved

    def _next_agent_code(self) -> str:
        n = 1
        while f"A{n:02d}" in self._agent_codes:
            n += 1
        code = f"A{n:02d}"
        self._agent_codes.add(code)
        return code

    def store(self, s: StoreIn, column: str) -> tuple[uuid.UUID, Any]:
        hit = self._file_stores.get(s.code)
        if hit is not None:
            return hit
        ex = self._stores_by_zoho.get(s.zoho_customer_id) if s.zoho_customer_id else None
        if ex is None:
            ex = self._stores_by_code.get(s.code)
            if (
                ex is not None
                and s.zoho_customer_id
                and ex.extra["zoho"] not in (None, s.zoho_customer_id)
            ):
                raise RowRejected(
                    column,
                    s.code,
                    f"store code {s.code} belongs to another Zoho customer ({ex.extra['zoho']})",
                )
        new_values = (*s.fields(), False)
        if ex is None:
            sid = self._new_id()
            row = dict(zip(STORE_FIELDS, s.fields(), strict=True))
            row.update(
                id=sid, version=1, deleted=False, updated_at=self.now, code=s.code,
                zoho_customer_id=s.zoho_customer_id, outstanding_balance=Decimal("0"), active=True,
            )  # fmt: skip
            self._new["store"].append(self._enc["store"].row(_complete(STORE_T, row)))
            ex = _Existing(sid, 1, new_values, {"code": s.code, "zoho": s.zoho_customer_id})
            self._stores_by_code[s.code] = ex
            if s.zoho_customer_id:
                self._stores_by_zoho[s.zoho_customer_id] = ex
            self.counts.stores.created += 1
        elif ex.values != new_values or (s.zoho_customer_id and ex.extra["zoho"] is None):
            upd = dict(zip(STORE_FIELDS, s.fields(), strict=True))
            upd.update(deleted=False, zoho_customer_id=s.zoho_customer_id or ex.extra["zoho"])
            self._updates["store"].append({"_id": ex.id, "_version": ex.version + 1, **upd})
            ex.values, ex.version = new_values, ex.version + 1
            ex.extra["zoho"] = upd["zoho_customer_id"]
            self.counts.stores.updated += 1
        else:
            self.counts.stores.unchanged += 1
        resolved = (ex.id, self._line_enc.value("store_id", ex.id))
        self._file_stores[s.code] = resolved
        return resolved

    def product(self, p: ProductIn, column: str) -> tuple[uuid.UUID, Any]:
        key = ("z", p.zoho_item_id) if p.zoho_item_id else ("s", p.sku or "")
        hit = self._file_products.get(key)
        if hit is not None:
            return hit
        ex = self._products_by_zoho.get(p.zoho_item_id) if p.zoho_item_id else None
        by_sku = self._products_by_sku.get(p.sku) if p.sku else None
        if ex is None:
            ex = by_sku
            if ex is not None and p.zoho_item_id and ex.extra["zoho"] not in (None, p.zoho_item_id):
                raise RowRejected(
                    "SKU", p.sku, f"SKU {p.sku} belongs to another Zoho item ({ex.extra['zoho']})"
                )
        elif by_sku is not None and by_sku is not ex:
            raise RowRejected("SKU", p.sku, f"SKU {p.sku} already belongs to another product")
        new_values = (*p.fields(), False)
        if ex is None:
            pid = self._new_id()
            row = dict(zip(PRODUCT_FIELDS, p.fields(), strict=True))
            row.update(
                id=pid, version=1, deleted=False, updated_at=self.now, zoho_item_id=p.zoho_item_id,
                sku=p.sku, pack_size=1, price=p.price, active=True,
            )  # fmt: skip
            self._new["product"].append(self._enc["product"].row(_complete(PRODUCT_T, row)))
            ex = _Existing(pid, 1, new_values, {"zoho": p.zoho_item_id, "sku": p.sku})
            if p.zoho_item_id:
                self._products_by_zoho[p.zoho_item_id] = ex
            if p.sku:
                self._products_by_sku[p.sku] = ex
            self.counts.products.created += 1
        elif (
            ex.values != new_values
            or (p.zoho_item_id and ex.extra["zoho"] is None)
            or (p.sku and ex.extra["sku"] != p.sku)
        ):
            upd = dict(zip(PRODUCT_FIELDS, p.fields(), strict=True))
            upd.update(
                deleted=False,
                zoho_item_id=p.zoho_item_id or ex.extra["zoho"],
                sku=p.sku or ex.extra["sku"],
            )
            self._updates["product"].append({"_id": ex.id, "_version": ex.version + 1, **upd})
            ex.values, ex.version = new_values, ex.version + 1
            ex.extra.update(zoho=upd["zoho_item_id"], sku=upd["sku"])
            if p.sku:
                self._products_by_sku[p.sku] = ex
            self.counts.products.updated += 1
        else:
            self.counts.products.unchanged += 1
        resolved = (ex.id, self._line_enc.value("product_id", ex.id))
        self._file_products[key] = resolved
        return resolved

    def invoice(self, inv: InvoiceIn) -> _InvoiceState:
        st = self._file_invoices.get(inv.key)
        if st is not None:
            return st
        ex = self._invoices.get(inv.key)
        owner = self._numbers.get(inv.number)
        if ex is None and owner is not None:
            raise RowRejected(
                "Invoice Number",
                inv.number,
                f"invoice number {inv.number} is already used by another invoice",
            )
        if ex is not None and ex.extra["source"] != self.source:
            raise RowRejected(
                "Invoice Number",
                inv.number,
                f"invoice {inv.number} was imported from another source ({ex.extra['source']})",
            )
        if ex is not None and ex.values[0] != inv.number and inv.number in self._numbers:
            raise RowRejected(
                "Invoice Number",
                inv.number,
                f"invoice number {inv.number} is already used by another invoice",
            )
        if ex is not None:
            self._refuse_store_move(inv, ex)
        store_id, store_p = self.store(inv.store, "Customer ID")
        agent = self.agent(inv.salesperson)
        header = {
            "number": inv.number, "kind": inv.kind, "status": inv.status, "store_id": store_id,
            "agent_id": agent[0] if agent else None, "salesperson": inv.salesperson,
            "invoice_date": inv.invoice_date, "due_date": inv.due_date, "subtotal": inv.subtotal,
            "discount_amount": inv.discount_amount, "total": inv.total, "balance": inv.balance,
            "purchase_order": inv.purchase_order, "sales_order_number": inv.sales_order_number,
            "deleted": False,
        }  # fmt: skip
        iid = ex.id if ex is not None else self._new_id()
        st = _InvoiceState(
            id=iid,
            id_p=self._line_enc.value("invoice_id", iid),
            header=header,
            existing=ex,
            store_p=store_p,
            date_p=self._line_enc.value("invoice_date", inv.invoice_date),
            sum_lines=inv.total is None,
        )
        if ex is None:
            row = dict(header)
            row.update(
                id=iid, version=1, updated_at=self.now, zoho_invoice_id=inv.zoho_invoice_id,
                source=self.source, total=inv.total if inv.total is not None else Decimal("0"),
            )  # fmt: skip
            self._new_invoices.append(row)  # encoded column-wise at flush (_Encoder.rows)
            self.counts.invoices.created += 1
            st.header = _NO_HEADER  # only existing invoices are compared later; saves memory
        self._numbers[inv.number] = (inv.zoho_invoice_id, self.source)
        self._file_invoices[inv.key] = st
        return st

    def _refuse_store_move(self, inv: InvoiceIn, ex: _Existing) -> None:
        """An invoice imported earlier stays with its store: a later file naming another store
        for the same invoice (a re-used number in a second history file, a re-keyed export) is
        rejected row by row, never a silent move that leaves the first store without its sale.
        """
        was = ex.values[_INVOICE_STORE_AT]
        now = (
            self._stores_by_zoho.get(inv.store.zoho_customer_id)
            if inv.store.zoho_customer_id
            else None
        )
        now = now or self._stores_by_code.get(inv.store.code)
        if now is not None and now.id == was:
            return
        if self._store_codes is None:
            self._store_codes = {e.id: e.extra["code"] for e in self._stores_by_code.values()}
        raise RowRejected(
            "Invoice Number",
            inv.number,
            f"invoice {inv.number} was imported earlier for store "
            f"{self._store_codes.get(was, '?')}; this file puts it under store {inv.store.code}"
            " (an import never moves an invoice to another store)",
        )

    def void(self, key: str) -> None:
        """An invoice the file says is void or draft: remove it if an earlier import kept it."""
        self._void_keys.add(key)

    # ---- lines ------------------------------------------------------------------------------

    def add(self, line: LineIn) -> None:
        """Add one line; raises :class:`RowRejected` when its invoice/store/product conflict."""
        p = line.product
        hit = p.ref
        if hit is None:
            hit = p.ref = self.product(p, "Product ID")
        pid, pid_p = hit  # type: ignore[misc]
        st = line.invoice.ref
        if st is None:
            st = line.invoice.ref = self.invoice(line.invoice)
        assert isinstance(st, _InvoiceState)
        st.line_no += 1
        if st.sum_lines:
            st.total += line.line_total
        if st.existing is None and self._fast_lines:
            enc = self._line_enc
            self._new["invoice_line"].append(
                (
                    st.id_p, st.line_no, st.store_p, st.date_p, pid_p, line.quantity,
                    self._c_price.get(line.unit_price) or enc.value("unit_price", line.unit_price),
                    enc.value("discount_amount", line.discount_amount),
                    self._c_total.get(line.line_total) or enc.value("line_total", line.line_total),
                    self._c_mrp.get(line.mrp) or enc.value("mrp", line.mrp),
                    self._ids.next_hex(), 1, self._false_p, self._now_p,
                )
            )  # fmt: skip
            self.counts.lines.created += 1
        elif st.existing is None:
            enc = self._line_enc
            self._new["invoice_line"].append(
                enc.getter(
                    {
                        "id": enc.procs["id"](self._new_id()),
                        "version": 1,
                        "deleted": self._false_p,
                        "updated_at": self._now_p,
                        "invoice_id": st.id_p,
                        "line_no": st.line_no,
                        "store_id": st.store_p,
                        "invoice_date": st.date_p,
                        "product_id": pid_p,
                        "quantity": line.quantity,
                        "unit_price": enc.value("unit_price", line.unit_price),
                        "discount_amount": enc.value("discount_amount", line.discount_amount),
                        "line_total": enc.value("line_total", line.line_total),
                        "mrp": enc.value("mrp", line.mrp),
                    }
                )
            )
            self.counts.lines.created += 1
        else:
            values = (
                st.header["store_id"], st.header["invoice_date"], pid, line.quantity,
                line.unit_price, line.discount_amount, line.line_total, line.mrp, False,
            )  # fmt: skip
            self._pending_existing_lines.append((st, st.line_no, values))

    def add_columns(self, lines: LineColumns) -> bool:
        """Add a chunk of new lines column-wise; False (nothing added) when it needs :meth:`add`.

        The fresh-import fast path (issue 21): when every invoice of the chunk is new to the
        database, each line is a new row and nothing needs comparing, so the rows are built
        with C-level ``map``/``zip`` over the columns and each distinct value is converted once.
        Products and invoices are resolved first, in the order :meth:`add` would meet them;
        one that is refused hands the whole chunk back, and :meth:`add` then rejects exactly the
        rows it would have (the ones already resolved are found again, as they would have been).
        """
        if not self._fast_lines:
            return False
        products = dict(zip(map(id, lines.products), lines.products, strict=True))
        for p in products.values():
            if p.ref is None:
                try:
                    p.ref = self.product(p, "Product ID")
                except RowRejected:
                    return False
        invoices = dict(zip(map(id, lines.invoices), lines.invoices, strict=True))
        for inv in invoices.values():
            if inv.ref is None:
                try:
                    inv.ref = self.invoice(inv)
                except RowRejected:
                    return False
            if inv.ref.existing is not None:  # type: ignore[attr-defined]
                return False  # lines of a stored invoice are compared: the row path
        enc = self._line_enc
        states: list[_InvoiceState] = list(map(_REF, lines.invoices))
        line_nos = []
        append = line_nos.append
        for st in states:
            st.line_no += 1
            append(st.line_no)
        if any(inv.ref.sum_lines for inv in invoices.values()):  # type: ignore[attr-defined]
            for st, raw in zip(states, lines.line_total, strict=True):
                if st.sum_lines:
                    st.total += lines.total(raw)
        price_p = {raw: enc.value("unit_price", v) for raw, v in lines.unit_price_of.items()}
        to_total, read = enc.procs["line_total"], lines.line_total_of
        if self._minor_totals:  # "-1,234.50" is -123450 minor units: no Decimal, no rounding
            plain = list(set(lines.line_total).difference(read))
            digits = map(
                str.replace,
                map(str.replace, plain, repeat(","), repeat("")),
                repeat("."),
                repeat(""),
            )  # type: ignore[arg-type]
            total_p = dict(zip(plain, map(int, digits), strict=True))
            total_p.update((raw, to_total(v)) for raw, v in read.items())
        else:
            total_p = {raw: to_total(lines.total(raw)) for raw in set(lines.line_total)}
        mrp_p = {raw: enc.value("mrp", v) for raw, v in lines.mrp_of.items()}
        n = len(states)
        self._new["invoice_line"].extend(
            zip(
                map(_ID_P, states),
                line_nos,
                map(_STORE_P, states),
                map(_DATE_P, states),
                map(_PRODUCT_P, map(_REF, lines.products)),
                map(lines.quantity_of.__getitem__, lines.quantity),
                map(price_p.__getitem__, lines.unit_price),
                repeat(enc.value("discount_amount", None), n),
                map(total_p.__getitem__, lines.line_total),
                map(mrp_p.__getitem__, lines.mrp),
                self._ids.next_hexes(n),
                repeat(1, n),
                repeat(self._false_p, n),
                repeat(self._now_p, n),
                strict=True,
            )
        )
        self.counts.lines.created += n
        return True

    # ---- writing ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Send what is buffered; parents before children so foreign keys hold at every step.

        The new lines' ``executemany`` runs on a helper thread while the caller maps the next
        chunk (SQLite releases the GIL while it inserts). At most one batch is in flight and
        every other use of the connection waits for it, so the connection is never used by
        two threads at once and statement order is unchanged.
        """
        self.wait()
        if not self.write:
            self._new = {t: [] for t in self._enc}
            self._new_invoices = []
            self._updates = {"store": [], "product": []}
            self._pending_existing_lines = []
            return
        self._new["invoice"].extend(self._enc["invoice"].rows(self._new_invoices))
        self._new_invoices = []
        for name in ("agent", "store", "product", "invoice"):
            self._enc[name].execute(self.conn, self._new[name])
            self._new[name] = []
        self._run_updates(STORE_T, self._updates["store"])
        self._run_updates(PRODUCT_T, self._updates["product"])
        self._updates = {"store": [], "product": []}
        self._merge_existing_lines()
        rows, self._new["invoice_line"] = self._new["invoice_line"], []
        if rows:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
            self._in_flight = self._pool.submit(self._line_enc.execute, self.conn, rows)

    def wait(self) -> None:
        """Wait for the lines batch in flight; re-raises its error here."""
        fut, self._in_flight = self._in_flight, None
        if fut is not None:
            fut.result()

    def close(self) -> None:
        """Let the helper thread finish (errors ignored: the caller is rolling back) and stop it."""
        fut, self._in_flight = self._in_flight, None
        if fut is not None:
            with contextlib.suppress(Exception):  # the transaction is being rolled back anyway
                fut.result()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _run_updates(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        by_cols: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for r in rows:
            by_cols.setdefault(tuple(sorted(r)), []).append(r)
        for cols, group in by_cols.items():
            # bindparam names must differ from column names in UPDATE ... SET
            values: dict[str, Any] = {c: bindparam("v_" + c) for c in cols if not c.startswith("_")}
            values.update(version=bindparam("b_version"), updated_at=self.now)
            stmt = update(table).where(table.c.id == bindparam("b_id")).values(values)
            params = [
                {("b" + k if k.startswith("_") else "v_" + k): v for k, v in r.items()}
                for r in group
            ]
            self.conn.execute(stmt, params)

    def _merge_existing_lines(self) -> None:
        pending = self._pending_existing_lines
        self._pending_existing_lines = []
        if not pending:
            return
        ids = sorted({st.id for st, _, _ in pending})
        # Compare driver values (hex ids, minor units, ISO dates): no Decimal/UUID per stored row.
        current: dict[tuple[Any, int], tuple[Any, int, tuple[Any, ...]]] = {}
        raw = [type_coerce(LINE_T.c[n], NullType()) for n in ("id", "invoice_id", *LINE_FIELDS)]
        for i in range(0, len(ids), IN_BATCH):
            q = select(LINE_T.c.version, LINE_T.c.line_no, *raw).where(
                LINE_T.c.invoice_id.in_(ids[i : i + IN_BATCH])
            )
            for r in self.conn.execute(q):
                current[(r[3], r[1])] = (r[2], r[0], tuple(r[4:]))
        enc = self._line_enc
        inserts, updates = [], []
        for st, line_no, values in pending:
            ex = current.get((st.id_p, line_no))
            if ex is None:
                row = dict(zip(LINE_FIELDS, values, strict=True))
                row.update(
                    id=self._new_id(),
                    version=1,
                    updated_at=self.now,
                    invoice_id=st.id,
                    line_no=line_no,
                )
                inserts.append(self._line_enc.row(row))
                self.counts.lines.created += 1
                st.lines_changed = True
            elif ex[2] != tuple(enc.value(n, v) for n, v in zip(LINE_FIELDS, values, strict=True)):
                upd = dict(zip(LINE_FIELDS, values, strict=True))
                updates.append({"_id": _as_uuid(ex[0]), "_version": ex[1] + 1, **upd})
                self.counts.lines.updated += 1
                st.lines_changed = True
            else:
                self.counts.lines.unchanged += 1
        self._line_enc.execute(self.conn, inserts)
        self._run_updates(LINE_T, updates)

    def finish(self) -> WriteCounts:
        """Totals summed from lines, invoice headers compared, lines gone from an invoice removed."""
        self.flush()
        self.wait()
        voids = [
            self._invoices[k]
            for k in self._void_keys
            if k in self._invoices
            and k not in self._file_invoices
            and not self._invoices[k].values[-1]
        ]
        existing = [st for st in self._file_invoices.values() if st.existing is not None]
        shortened: set[uuid.UUID] = set()
        if self.write:
            shortened = self._remove_lines([(st.id, st.line_no) for st in existing])
            self._remove_lines([(ex.id, 0) for ex in voids])
        new_totals, header_updates = [], []
        for st in self._file_invoices.values():
            ex = st.existing
            if st.sum_lines and ex is not None:
                st.header["total"] = st.total
            if ex is None:
                if st.sum_lines:
                    new_totals.append({"_id": st.id, "_version": 1, "total": st.total})
                continue
            header_changed = ex.values != tuple(st.header[f] for f in INVOICE_FIELDS)
            if header_changed:
                header_updates.append({"_id": st.id, "_version": ex.version + 1, **st.header})
            if header_changed or st.lines_changed or st.id in shortened:
                self.counts.invoices.updated += 1
            else:
                self.counts.invoices.unchanged += 1
        if not self.write:
            return self.counts
        for ix in self._deferred_indexes:
            ix.create(self.conn)
        self._deferred_indexes = []
        self._run_updates(INVOICE_T, new_totals + header_updates)
        if voids:
            self._run_updates(
                INVOICE_T,
                [{"_id": ex.id, "_version": ex.version + 1, "deleted": True} for ex in voids],
            )
            self.counts.invoices_voided += len(voids)
        return self.counts

    def _remove_lines(self, keep: Iterable[tuple[uuid.UUID, int]]) -> set[uuid.UUID]:
        """Tombstone lines past ``line_no`` (an invoice now shorter in the file, or voided).

        Returns the invoices that lost lines.
        """
        keep = list(keep)
        if not keep:
            return set()
        limits = dict(keep)
        gone = []
        touched: set[uuid.UUID] = set()
        ids = list(limits)
        for i in range(0, len(ids), IN_BATCH):
            q = select(LINE_T.c.id, LINE_T.c.version, LINE_T.c.invoice_id, LINE_T.c.line_no).where(
                and_(LINE_T.c.invoice_id.in_(ids[i : i + IN_BATCH]), LINE_T.c.deleted.is_(False))
            )
            for r in self.conn.execute(q):
                if r.line_no > limits[r.invoice_id]:
                    gone.append({"_id": r.id, "_version": r.version + 1, "deleted": True})
                    touched.add(r.invoice_id)
        self._run_updates(LINE_T, gone)
        self.counts.lines_removed += len(gone)
        return touched


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


_COLUMN_NAMES = {
    t.name: [c.name for c in t.columns] for t in (AGENT_T, STORE_T, PRODUCT_T, INVOICE_T)
}


def _complete(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Every column present (None where the import has nothing) so one INSERT fits all rows."""
    out: dict[str, Any] = dict.fromkeys(_COLUMN_NAMES[table.name])
    out.update(row)
    return out
