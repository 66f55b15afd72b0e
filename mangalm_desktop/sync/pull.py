"""Pull: central PostgreSQL → laptop SQLite, never skipping a row (DESIGN §3).

One REPEATABLE READ transaction reads ``horizon = pg_snapshot_xmin(pg_current_snapshot())``
and, per table, every visible row with ``txid >= cursor``. Rows of transactions still running
at that moment have a txid ≥ horizon, so storing ``cursor = horizon`` after applying the rows
leaves them for the next pull, however late they commit. Re-applying a row is harmless (upsert
by id, never over a newer or locally changed row).

Rows are streamed with COPY ordered by id and applied in SQLite transactions of ``batch_size``
rows; each batch also records the last id applied, so an interrupted initial sync resumes after
it. A resumed table finishes with the cursor of the run that was interrupted (the smaller
horizon), which re-reads anything that was in flight back then.

A bulk load (an empty table, or a resumed one) drops the table's indexes, unique ones included,
and builds the unique ones after the last row: sorting a million keys once is far cheaper than
a million random B-tree inserts, and id order keeps the primary key an append. The lookup
(non-unique) indexes — mostly the reports' wide covering indexes on ``invoice_line`` — are not
needed for correctness, so the first sync hands the data over without them and
:func:`build_deferred_indexes` builds them right after, in the background (the scheduler and
``mangalm sync run`` call it after every sync, so an interrupted build is finished next time).
Until then the views work, only the largest reports are slower. The table's cursor is
stored only after its unique indexes are back; a unique index that cannot be rebuilt first has its
duplicate rows fetched again from the same snapshot (a row loaded before an interruption may
since have changed), and if that does not settle it the pull stops with the duplicates named,
the table still marked unfinished.

Scope changes come first: for a store this agent lost, its rows are deleted locally (outbox ops
stay and come back as conflicts); for a store it gained, all its rows are backfilled whatever
the cursors say.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import IsolationLevel
from sqlalchemy import Engine, Index
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex

from ..db.engine import raw_transaction
from ..db.models import SYNCED_TABLES, Base
from ..domain.errors import UserError
from ..domain.tasks import NULL_TASK, TaskContext
from . import state
from .central import check_central_schema
from .checkpointer import BackgroundCheckpointer
from .tables import FOLLOW_STORES, STORE_SCOPED, TableSpec, all_specs

log = logging.getLogger(__name__)

BATCH_SIZE = 20_000
# Line tables: (parent, line number) is unique on both sides; see _Applier._clash_clearer.
LINE_KEYS = {"order_line": ("order_id", "line_no"), "invoice_line": ("invoice_id", "line_no")}
BULK_BATCHES_PER_COMMIT = 12  # initial loads: one transaction per ~240k rows
_SQLITE = sqlite.dialect()


@dataclass
class PullResult:
    """What one pull brought in."""

    horizon: int = 0
    rows: int = 0
    per_table: dict[str, int] = field(default_factory=dict)
    lost_stores: list[uuid.UUID] = field(default_factory=list)
    gained_stores: list[uuid.UUID] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    index_seconds: float = 0.0  # of ``seconds``: rebuilding indexes after bulk loads


# Bulk settings for the pull's own SQLite connection, restored afterwards. Foreign keys are not
# re-checked row by row: the rows come from one consistent snapshot of a database that enforces
# the same keys, parents before children, and checking them again doubled the initial sync time.
# synchronous=NORMAL (WAL) stays crash-safe; a power cut can lose only the last batches, whose
# cursor/resume marks are lost with them, so they are simply fetched again.
_BULK_PRAGMAS = ("foreign_keys=OFF", "synchronous=NORMAL", "cache_size=-65536")
_NORMAL_PRAGMAS = ("foreign_keys=ON", "synchronous=FULL", "cache_size=-2000")
# CREATE INDEX sorts in runs as large as the page cache. Runs that fit the CPU caches sort
# faster: measured on 1M invoice lines, 4 MB runs built the four indexes in 6.0 CPU-s against
# 8.2 with 64 MB (9.5 with the sort in memory; extra sorter threads did not help).
_INDEX_BUILD_CACHE = "cache_size=-4000"

Row = tuple[Any, ...]
# A sync_state mark: (key, value, number); both None drops the key.
StateMark = tuple[str, str | None, int | None]


def _index_name(ix: Index) -> str:
    assert ix.name is not None  # the metadata's naming convention names every index
    return ix.name


def _bulk_indexes(table: str) -> list[Index]:
    """The indexes a bulk load drops (all but the primary key's)."""
    return sorted(Base.metadata.tables[table].indexes, key=_index_name)


def _unique_indexes(table: str) -> list[Index]:
    """The indexes a bulk load rebuilds before the table counts as received (integrity)."""
    return [ix for ix in _bulk_indexes(table) if ix.unique]


@dataclass
class DeferredIndexes:
    """Lookup indexes built after a bulk sync."""

    built: list[str] = field(default_factory=list)
    seconds: float = 0.0


def missing_indexes(engine: Engine) -> list[Index]:
    """The synced tables' lookup indexes that a bulk sync left to build later."""
    with engine.connect() as conn:
        present = {
            name
            for (name,) in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
        }
    return [
        ix
        for table in SYNCED_TABLES
        for ix in _bulk_indexes(table)
        if not ix.unique and ix.name not in present
    ]


def build_deferred_indexes(engine: Engine, ctx: TaskContext = NULL_TASK) -> DeferredIndexes:
    """Build the lookup indexes a bulk sync deferred, one transaction each (cancellable
    between indexes; ``IF NOT EXISTS``, so running it twice or after a kill is harmless)."""
    result = DeferredIndexes()
    todo = missing_indexes(engine)
    if not todo:
        return result
    started = time.monotonic()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"PRAGMA {_INDEX_BUILD_CACHE}")
        for n, ix in enumerate(todo):
            ctx.check()
            ctx.progress(n, len(todo), f"preparing reports: index {n + 1} of {len(todo)}")
            cur.execute(_index_ddl(ix))
            raw.commit()
            result.built.append(_index_name(ix))
        ctx.progress(len(todo), len(todo), "reports ready")
    finally:
        raw.rollback()
        raw.close()
    result.seconds = time.monotonic() - started
    log.info("built %d deferred indexes in %.1fs", len(result.built), result.seconds)
    return result


def _one(cur: psycopg.Cursor[Row]) -> Row:
    """The row of a query that always returns exactly one (an aggregate, a function call)."""
    row = cur.fetchone()
    assert row is not None
    return row


def _index_ddl(ix: Index) -> str:
    return str(CreateIndex(ix, if_not_exists=True).compile(dialect=_SQLITE))


class _Applier:
    """Applies streamed rows to SQLite in batches, one transaction per batch."""

    def __init__(self, engine: Engine, ctx: TaskContext, total: int) -> None:
        dbapi = engine.dialect.dbapi
        assert dbapi is not None  # the engine's driver module, loaded when it was created
        self.integrity_error = dbapi.IntegrityError
        self.raw = engine.raw_connection()
        self.cur = self.raw.cursor()
        for pragma in _BULK_PRAGMAS:
            self.cur.execute(f"PRAGMA {pragma}")
        self.checkpointer = BackgroundCheckpointer(engine, self.cur)
        self.ctx = ctx
        self.total = total
        self.done = 0
        self.bulk_tables: set[str] = set()  # loaded without their indexes in this pull

    def close(self) -> None:
        try:
            self.raw.rollback()
            self.ensure_unique_indexes(SYNCED_TABLES, strict=False)
            self.checkpointer.stop()
            for pragma in _NORMAL_PRAGMAS:
                self.cur.execute(f"PRAGMA {pragma}")
        finally:
            self.checkpointer.stop()
            self.raw.close()

    def is_empty(self, table: str) -> bool:
        self.cur.execute(f'SELECT 1 FROM "{table}" LIMIT 1')  # noqa: S608 - model identifier
        return self.cur.fetchone() is None

    def drop_indexes(self, table: str) -> None:
        """Loading into an empty table is faster with its indexes built afterwards."""
        self.checkpointer.start()
        self.bulk_tables.add(table)
        for ix in _bulk_indexes(table):
            self.cur.execute(f'DROP INDEX IF EXISTS "{ix.name}"')
        self.raw.commit()

    def _build_cache(self, on: bool) -> None:
        self.cur.execute(f"PRAGMA {_INDEX_BUILD_CACHE if on else _BULK_PRAGMAS[2]}")

    def ensure_unique_indexes(
        self, tables: tuple[str, ...] | list[str], *, strict: bool = True
    ) -> None:
        """Create any missing unique index; ``strict=False`` logs one that cannot be built
        (its pull already failed with the details) instead of raising again."""
        self._build_cache(True)
        for table in tables:
            for ix in _unique_indexes(table):
                try:
                    self.cur.execute(_index_ddl(ix))
                except self.integrity_error:
                    self.raw.rollback()
                    if strict:
                        raise
                    log.warning("unique index %s not rebuilt: duplicate rows remain", ix.name)
        self.raw.commit()
        self._build_cache(False)

    def duplicates(self, ix: Index) -> list[str]:
        """Ids of the rows sharing a key of unique index ``ix`` (hex, as stored)."""
        cols = ", ".join(f'"{c.name}"' for c in ix.columns)
        assert ix.table is not None  # every index here belongs to a model table
        table = ix.table.name
        self.cur.execute(
            f'SELECT id FROM "{table}" WHERE ({cols}) IN '  # noqa: S608 - model identifiers
            f'(SELECT {cols} FROM "{table}" GROUP BY {cols} HAVING count(*) > 1) ORDER BY id'
        )
        return [r[0] for r in self.cur.fetchall()]

    def rebuild_indexes(self, pg: psycopg.Connection, spec: TableSpec) -> None:
        """Build the unique indexes of a bulk-loaded table; settle or report key clashes.

        A clash can only come from rows of an interrupted run that changed centrally since
        (e.g. two lines swapped numbers): those rows are fetched again from this pull's
        snapshot. Anything still clashing is not central data; the pull stops and says so.
        """
        for ix in _unique_indexes(spec.name):
            try:
                self._build_cache(True)
                self.cur.execute(_index_ddl(ix))
                continue
            except self.integrity_error:
                self.raw.rollback()
            finally:
                self._build_cache(False)
            ids = self.duplicates(ix)
            log.warning(
                "%s: %d rows clash on %s; fetching them again", spec.name, len(ids), ix.name
            )
            self.stream(pg, spec, "id = ANY(%s)", ([uuid.UUID(i) for i in ids],), len(ids) + 1)
            try:
                self.cur.execute(_index_ddl(ix))  # the rows are few: no special cache
            except self.integrity_error:
                self.raw.rollback()
                left = self.duplicates(ix)
                cols = ", ".join(c.name for c in ix.columns)
                shown = ", ".join(left[:6]) + (" ..." if len(left) > 6 else "")
                raise UserError(
                    f"The local {spec.name} table has {len(left)} rows that share a "
                    f"({cols}) which must be unique, and the central server does not explain "
                    f"them: {shown}. The sync stopped before marking {spec.name} as received, "
                    "so nothing is lost; the next sync tries again.",
                    hint="These rows were not written by a sync. Remove or fix them (or delete "
                    "the local database and sync again), then sync.",
                ) from None
        self.raw.commit()

    def apply(
        self,
        sql: str,
        rows: list[Row],
        state_updates: list[StateMark],
        *,
        commit: bool = True,
        before: Callable[[list[Row]], object] | None = None,  # clears what blocks the rows
    ) -> None:
        """Write ``rows`` and state marks; commit unless more batches join this transaction.

        ``before(rows)`` runs only when the rows clash with a unique key (rare): the batch is
        rolled back, cleared for and written again, so a normal pull pays nothing for it.
        It is given only where each batch is its own transaction (incremental pulls)."""
        try:
            if rows:
                try:
                    self.cur.executemany(sql, rows)
                except self.integrity_error:
                    if before is None:
                        raise
                    self.raw.rollback()
                    before(rows)
                    self.cur.executemany(sql, rows)
            for key, value, number in state_updates:
                if number is None and value is None:
                    state.drop(self.cur, key)
                else:
                    state.put(self.cur, key, value=value, number=number)
            if commit:
                self.raw.commit()
        except BaseException:
            self.raw.rollback()
            raise
        self.done += len(rows)
        self.ctx.progress(self.done, max(self.total, self.done), "Receiving data")

    def stream(
        self,
        pg: psycopg.Connection,
        spec: TableSpec,
        where: str,
        params: tuple[Any, ...],
        batch_size: int,
        *,
        resume_key: str | None = None,
        resume_horizon: int | None = None,
        final_state: list[StateMark] | None = None,
        force: bool = False,
        commit_every: int = 0,
    ) -> int:
        """COPY rows of ``spec`` matching ``where`` into SQLite; return how many.

        Rows are handed to SQLite ``batch_size`` at a time (bounded memory); a transaction is
        committed, with the resume mark, every ``commit_every`` rows (default: every batch).
        Large initial loads use big transactions: each WAL commit writes every page it touched
        once more. (Reading the COPY in a helper thread was tried: the GIL let parsing and
        SQLite's writes overlap too little to measure on a busy two-core machine.)
        """
        sql = spec.sqlite_upsert(force=force)
        keep = self._row_filter(spec, force)
        clear = None if spec.name in self.bulk_tables or force else self._clash_clearer(spec)
        count = 0
        since_commit = 0
        commit_every = max(commit_every, batch_size)
        id_at = spec.columns.index("id")
        batch: list[Row] = []
        with pg.cursor() as cur, cur.copy(spec.copy_sql(where), params) as copy:
            for row in copy.rows():
                if keep is not None and not keep(row):
                    continue
                batch.append(row)
                if len(batch) >= batch_size:
                    self.ctx.check()
                    since_commit += len(batch)
                    commit = since_commit >= commit_every
                    marks: list[StateMark] = []
                    if resume_key is not None and commit:
                        marks = [(resume_key, batch[-1][id_at], resume_horizon)]
                    self.apply(sql, batch, marks, commit=commit, before=clear)
                    if commit:
                        since_commit = 0
                    count += len(batch)
                    batch = []
        self.ctx.check()
        if final_state is None and resume_key is not None and batch:
            final_state = [(resume_key, batch[-1][id_at], resume_horizon)]
        self.apply(sql, batch, final_state or [], before=clear)
        return count + len(batch)

    def _row_filter(self, spec: TableSpec, force: bool) -> Callable[[Row], bool] | None:
        """For child tables guarded by their parent (order lines by their order): skip the
        rows of a parent with unsent or parked local changes. The upsert's own guard only
        protects rows that exist locally; a *new* central line of such an order (another
        device amended it) would otherwise be inserted beside the local lines and clash with
        them on (order, line number). The conflict brings the central lines when settled."""
        if force or spec.guard_column == "id":
            return None
        self.cur.execute("SELECT row_id FROM outbox WHERE status IN ('pending', 'parked')")
        guarded = {r[0] for r in self.cur.fetchall()}
        if not guarded:
            return None
        at = spec.columns.index(spec.guard_column)
        return lambda row: row[at] not in guarded

    def _clash_clearer(self, spec: TableSpec) -> Callable[[list[Row]], object] | None:
        """For line tables, when a batch clashes: remove local lines that hold an incoming
        line's (parent, line number) under another id. Central keeps that pair
        unique, so such a local line was renumbered or replaced centrally (e.g. an order
        amended on two devices and settled with one device's lines); its own new version
        is in this pull if it is still visible."""
        key = LINE_KEYS.get(spec.name)
        if key is None:
            return None
        at = [spec.columns.index(c) for c in (*key, "id")]
        sql = (
            f'DELETE FROM "{spec.name}" WHERE "{key[0]}" = ? AND "{key[1]}" = ? '  # noqa: S608
            "AND id <> ?"
        )
        return lambda rows: self.cur.executemany(sql, [[r[i] for i in at] for r in rows])


def _scope_changes(pg: psycopg.Connection, since: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Stores this agent lost and gained since ``since`` (the latest event per store wins)."""
    rows = pg.execute(
        "SELECT store_id, gained FROM scope_change "
        "WHERE agent_id = mangalm_my_agent_id() AND txid >= %s::xid8 ORDER BY txid, id",
        (str(since),),
    ).fetchall()
    last: dict[uuid.UUID, bool] = {}
    for store_id, gained in rows:
        last[store_id] = gained
    lost = [s for s, g in last.items() if not g]
    gained = [s for s, g in last.items() if g]
    return lost, gained


def delete_store_rows(engine: Engine, store_ids: list[uuid.UUID]) -> None:
    """Remove a store and everything of it from the replica (outbox ops are kept)."""
    if not store_ids:
        return
    hexes = [s.hex for s in store_ids]
    marks = ", ".join("?" for _ in hexes)
    with raw_transaction(engine) as raw:
        cur = raw.cursor()
        # Children first; a row of another store never points at these.
        for table in reversed(STORE_SCOPED):
            cur.execute(f'DELETE FROM "{table}" WHERE store_id IN ({marks})', hexes)  # noqa: S608 - model identifiers only
        cur.execute(f"DELETE FROM store WHERE id IN ({marks})", hexes)  # noqa: S608 - model identifiers only


def pull(
    engine: Engine,
    pg: psycopg.Connection,
    ctx: TaskContext = NULL_TASK,
    *,
    batch_size: int = BATCH_SIZE,
    check_schema: bool = True,
) -> PullResult:
    """Bring the replica up to date with everything its role may see. Safe to interrupt."""
    started = time.monotonic()
    result = PullResult()
    if check_schema:
        check_central_schema(pg)
    if pg.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        pg.rollback()
    pg.isolation_level = IsolationLevel.REPEATABLE_READ
    pg.read_only = True
    local = state.read_all(engine)
    specs = all_specs()
    applier = _Applier(engine, ctx, 0)
    try:
        with pg.transaction():
            # The first statement takes the snapshot; the horizon is its xmin.
            horizon = int(
                _one(pg.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"))[0]
            )
            result.horizon = horizon
            sees_all = bool(_one(pg.execute("SELECT mangalm_sees_all()"))[0])
            scope_cursor = state.cursor_of(local, "scope_change")
            lost: list[uuid.UUID] = []
            gained: list[uuid.UUID] = []
            if not sees_all:
                lost, gained = _scope_changes(pg, scope_cursor)
            result.lost_stores, result.gained_stores = lost, gained
            delete_store_rows(engine, lost)

            plans: list[tuple[TableSpec, str, tuple[Any, ...], int, bool]] = []
            total = 0
            for spec in specs:
                cursor = state.cursor_of(local, spec.name)
                resume = local.get(f"resume:{spec.name}")
                where, params = "txid >= %s::xid8", [str(cursor)]
                final = horizon
                if resume and resume[0]:
                    where += " AND id > %s::uuid"
                    params.append(str(uuid.UUID(resume[0])))
                    final = min(int(resume[1] or horizon), horizon)
                    result.resumed.append(spec.name)
                n = _one(
                    pg.execute(
                        f'SELECT count(*) FROM "{spec.name}" WHERE {where}',  # noqa: S608 - model identifiers
                        params,
                    )
                )[0]
                total += n
                bulk = n > batch_size and (
                    bool(resume and resume[0]) or applier.is_empty(spec.name)
                )
                plans.append((spec, where, tuple(params), final, bulk))
            applier.total = total
            ctx.progress(0, total, "Receiving data")

            for spec, where, where_params, final, bulk in plans:
                ctx.check()
                if bulk:
                    applier.drop_indexes(spec.name)
                    # Id order from a sort of one sequential scan: the primary-key index scan
                    # the planner prefers reads the heap in random order, twice as slow.
                    pg.execute("SET LOCAL enable_indexscan = off")
                got = 0
                if gained and spec.store_column:
                    got += applier.stream(
                        pg,
                        spec,
                        f"{spec.store_column} = ANY(%s)",
                        (gained,),
                        batch_size,
                    )
                elif gained and spec.name in FOLLOW_STORES:
                    got += applier.stream(pg, spec, "true", (), batch_size)
                resume_key = f"resume:{spec.name}"
                done_marks: list[StateMark] = [
                    (f"pull:{spec.name}", None, final),
                    (resume_key, None, None),
                ]
                got += applier.stream(
                    pg,
                    spec,
                    where,
                    where_params,
                    batch_size,
                    commit_every=batch_size * BULK_BATCHES_PER_COMMIT if bulk else 0,
                    resume_key=resume_key,
                    resume_horizon=final,
                    final_state=None if bulk else done_marks,
                )
                if bulk:
                    pg.execute("SET LOCAL enable_indexscan = on")
                    t_index = time.monotonic()
                    applier.rebuild_indexes(pg, spec)
                    result.index_seconds += time.monotonic() - t_index
                    applier.apply("", [], done_marks)
                result.per_table[spec.name] = got
                result.rows += got
            applier.apply("", [], [("pull:scope_change", None, horizon)])
    finally:
        applier.close()
        if not (pg.closed or pg.broken):
            pg.read_only = False
            pg.isolation_level = None
    result.seconds = time.monotonic() - started
    log.info("pull: %d rows in %.2fs (horizon %d)", result.rows, result.seconds, horizon)
    return result
