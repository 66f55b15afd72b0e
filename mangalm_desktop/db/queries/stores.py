"""The Stores list: which stores match a search/filter (ids in order), then rows by window.

Two steps keep every keystroke cheap with 100,000 stores: :class:`StoreIndex` answers which
rowids match, in display order (one FTS5 lookup + numpy masks over a cached order), and the
table model asks :func:`fetch_store_rows` for the few rows actually on screen. Last order date,
12-month sales and the outstanding balance come from the ``store_stats`` cache (see
:mod:`mangalm_desktop.db.search`); until a store's figures are first computed, its stored
``outstanding_balance`` is shown.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from sqlalchemy import Engine, bindparam, text

from ...domain.identity import Identity, Permission, require, store_scope

PAISE = Decimal("0.01")


@dataclass(frozen=True)
class StoreFilter:
    text: str = ""
    region: str | None = None
    agent_id: uuid.UUID | None = None
    dormant_weeks: int | None = None
    """Only stores whose last order is more than this many weeks old (or that never ordered)."""
    sort: str = "name"
    descending: bool = False


@dataclass(frozen=True)
class StoreRow:
    rowid: int
    id: uuid.UUID
    code: str
    name: str
    city: str
    region: str
    agent: str
    last_order: dt.date | None
    days_since: int | None
    sales_12m: Decimal
    balance: Decimal


@dataclass(frozen=True)
class FilterOptions:
    regions: list[str]
    agents: list[tuple[uuid.UUID, str]]


COLUMNS: list[tuple[str, str]] = [
    ("name", "Store"),
    ("city", "City"),
    ("region", "Region"),
    ("agent", "Agent"),
    ("last_order", "Last order"),
    ("days_since", "Days since"),
    ("sales_12m", "Sales, last 12 months"),
    ("balance", "Outstanding"),
]

# Whitelisted ORDER BY expressions (never user text). Stores that never ordered sort last.
_SORT_SQL: dict[str, tuple[str, bool]] = {
    "name": ("s.name COLLATE NOCASE", False),
    "city": ("s.city COLLATE NOCASE", False),
    "region": ("s.region COLLATE NOCASE", False),
    "agent": ("a.name COLLATE NOCASE", False),
    "last_order": ("st.last_order_date", False),
    "days_since": ("st.last_order_date", True),  # more days = older date
    "sales_12m": ("st.sales_12m", False),
    "balance": ("coalesce(st.balance, s.outstanding_balance)", False),
    "code": ("s.code", False),
}

_TOKEN = re.compile(r"\w+", re.UNICODE)
HITS_CACHE = 96  # cached text searches (36 single characters + recent ones), ~100 KB each


def fts_query(user_text: str) -> str | None:
    """Turn what the person typed into an FTS5 query: every word, as a prefix, must match.

    Punctuation is dropped (so quotes or ``*`` typed by a person can never be FTS syntax);
    ``"MUM-00"`` becomes ``"MUM"* "00"*``.
    """
    words = _TOKEN.findall(user_text)
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


class StoreIndex:
    """An in-memory index of all stores for instant filtering: ordered rowids per sort key.

    Loading costs one scan (~0.2 s for 100,000 stores, in a worker); each sort order is one
    indexed query, cached. A keystroke then costs one FTS5 lookup plus numpy masks over the
    cached order — no sort and no join per keystroke. Reload it when stores, agents or the
    stats change (the views do that on a :class:`~mangalm_desktop.domain.changes.Changes`).
    """

    def __init__(self, engine: Engine, as_of: dt.date, *, identity: Identity | None) -> None:
        """``identity``: an agent's index holds only their own stores (every match is limited to
        them); managers and admins, or nobody on a standalone laptop, see all."""
        require(identity, Permission.VIEW_OWN_STORES)
        self.engine = engine
        self.as_of = as_of
        self.identity = identity
        scope = store_scope(identity)
        self.scope: str | None = scope.hex if scope is not None else None
        self._orders: dict[tuple[str, bool], np.ndarray] = {}
        self._hits: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        with engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(
                    "SELECT s.rowid, s.region, s.agent_id, st.last_order_date FROM store s"
                    " LEFT JOIN store_stats st ON st.store_rowid = s.rowid WHERE NOT s.deleted"
                )
                rows = cursor.fetchall()
            finally:
                cursor.close()
        self.count = len(rows)
        size = (max((r[0] for r in rows), default=0)) + 1
        self.live = np.zeros(size, dtype=bool)
        self.region = np.full(size, -1, dtype=np.int32)
        self.agent = np.full(size, -1, dtype=np.int32)
        self.last_order = np.full(size, -1, dtype=np.int32)  # proleptic ordinal, -1 = never
        self.regions: dict[str, int] = {}
        self.agents: dict[str, int] = {}
        for rowid, region, agent, last in rows:
            self.live[rowid] = True
            if region is not None:
                self.region[rowid] = self.regions.setdefault(region, len(self.regions))
            if agent is not None:
                self.agent[rowid] = self.agents.setdefault(agent, len(self.agents))
            if last:
                self.last_order[rowid] = dt.date.fromisoformat(last).toordinal()

    def order(self, sort: str, descending: bool) -> np.ndarray:
        """All live rowids in display order for ``sort`` (cached per sort and direction)."""
        key = (sort if sort in _SORT_SQL else "name", descending)
        with self._lock:
            cached = self._orders.get(key)
        if cached is not None:
            return cached
        expr, inverted = _SORT_SQL[key[0]]
        direction = "DESC" if descending != inverted else "ASC"
        nulls = f"({expr}) IS NULL, " if key[0] in ("last_order", "days_since", "agent") else ""
        join_agent = "LEFT JOIN agent a ON a.id = s.agent_id " if key[0] == "agent" else ""
        base = "SELECT s.rowid FROM store s LEFT JOIN store_stats st ON st.store_rowid = s.rowid "
        sql = f"{base}{join_agent}WHERE NOT s.deleted ORDER BY {nulls}{expr} {direction}, s.rowid"  # noqa: S608 - whitelisted parts only
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()  # plain DB-API rows: no per-row processing
            try:
                cursor.execute(sql)
                ordered = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1)
            finally:
                cursor.close()
        with self._lock:
            self._orders[key] = ordered
        return ordered

    def text_hits(self, query: str) -> np.ndarray:
        """A boolean array by rowid: which stores match the FTS ``query`` (cached, LRU).

        The first letter typed matches half the stores and is the slowest lookup, so
        :meth:`warm` computes single letters and digits ahead; backspacing and retyping hits
        the cache too.
        """
        with self._lock:
            cached = self._hits.pop(query, None)
            if cached is not None:
                self._hits[query] = cached  # most recently used last
                return cached
        # One string of ids out of SQLite is ~4x faster than 100,000 result rows.
        with self.engine.connect() as conn:
            joined = conn.exec_driver_sql(
                "SELECT group_concat(rowid) FROM store_fts WHERE store_fts MATCH ?", (query,)
            ).scalar()
        hits = np.fromstring(joined, dtype=np.int64, sep=",") if joined else np.zeros(0, np.int64)
        found = np.zeros(len(self.live), dtype=bool)
        found[hits[hits < len(found)]] = True
        with self._lock:
            self._hits[query] = found
            while len(self._hits) > HITS_CACHE:
                self._hits.pop(next(iter(self._hits)))
        return found

    def warm(self) -> None:
        """Precompute the single-character searches (run in the loading worker)."""
        for ch in "abcdefghijklmnopqrstuvwxyz0123456789":
            self.text_hits(f'"{ch}"*')

    def match(self, flt: StoreFilter) -> np.ndarray:
        """Rowids matching ``flt``, in display order."""
        ordered = self.order(flt.sort, flt.descending)
        mask = np.ones(len(ordered), dtype=bool)
        if self.scope is not None:  # an agent: their own stores only, whatever the filter says
            mask &= self.agent[ordered] == self.agents.get(self.scope, -2)
        query = fts_query(flt.text)
        if query is not None:
            mask &= self.text_hits(query)[ordered]
        if flt.region:
            mask &= self.region[ordered] == self.regions.get(flt.region, -2)
        if flt.agent_id is not None:
            mask &= self.agent[ordered] == self.agents.get(flt.agent_id.hex, -2)
        if flt.dormant_weeks is not None:
            cutoff = (self.as_of - dt.timedelta(weeks=flt.dormant_weeks)).toordinal()
            mask &= self.last_order[ordered] < cutoff  # never ordered (-1) counts as dormant
        return ordered[mask]


_ROWS_SQL = text(
    "SELECT s.rowid, s.id, s.code, s.name, coalesce(s.city, ''), coalesce(s.region, ''),"
    " coalesce(a.name, ''), st.last_order_date, coalesce(st.sales_12m, 0),"
    " coalesce(st.balance, s.outstanding_balance, 0), s.agent_id"
    " FROM store s LEFT JOIN store_stats st ON st.store_rowid = s.rowid"
    " LEFT JOIN agent a ON a.id = s.agent_id WHERE s.rowid IN :rowids"
).bindparams(bindparam("rowids", expanding=True))


def fetch_store_rows(
    engine: Engine, rowids: list[int], as_of: dt.date, *, identity: Identity | None
) -> list[StoreRow]:
    """The rows for ``rowids`` (a screenful), in the order given; for an agent only their own
    stores' rows (another agent's rowid gives nothing)."""
    require(identity, Permission.VIEW_OWN_STORES)
    if not rowids:
        return []
    scope = store_scope(identity)
    with engine.connect() as conn:
        raw = conn.execute(_ROWS_SQL, {"rowids": list(rowids)}).all()
    by_rowid = {}
    for r in raw:
        if scope is not None and r[10] != scope.hex:
            continue
        last = dt.date.fromisoformat(r[7]) if r[7] else None
        by_rowid[r[0]] = StoreRow(
            rowid=r[0],
            id=uuid.UUID(hex=r[1]),
            code=r[2],
            name=r[3],
            city=r[4],
            region=r[5],
            agent=r[6],
            last_order=last,
            days_since=(as_of - last).days if last else None,
            sales_12m=(Decimal(r[8]) * PAISE).quantize(PAISE),
            balance=(Decimal(r[9]) * PAISE).quantize(PAISE),
        )
    return [by_rowid[i] for i in rowids if i in by_rowid]


def filter_options(engine: Engine, *, identity: Identity | None) -> FilterOptions:
    """Regions and agents to filter by (names only; anyone signed in may see them)."""
    require(identity, Permission.VIEW_OWN_STORES)
    with engine.connect() as conn:
        regions = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT region FROM store WHERE region IS NOT NULL AND NOT deleted"
                    " ORDER BY region"
                )
            )
        ]
        agents = [
            (uuid.UUID(hex=r[0]), r[1])
            for r in conn.execute(
                text("SELECT id, name FROM agent WHERE NOT deleted ORDER BY name")
            )
        ]
    return FilterOptions(regions, agents)
