"""First-sync bulk load: indexes dropped and rebuilt, unique-key clashes after a resume.

A bulk load builds invoice_line's unique (invoice_id, line_no) index after the last row. Rows
loaded before an interruption can be stale by the time the load resumes; a clash they cause
must be settled from the central snapshot, and a clash the server cannot explain must stop
the pull with the rows named, losing nothing and leaving the table unfinished.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from mangalm_desktop.domain.errors import Cancelled, UserError
from mangalm_desktop.domain.tasks import TaskContext
from mangalm_desktop.sync.pull import pull
from mangalm_desktop.sync.state import read_all
from tests.integration.sync_support import (
    assert_same_as_central,
    build_world,
    local_db,
    owner,
)

pytestmark = pytest.mark.pg

BATCH = 5
UNIQUE = "uq_invoice_line_invoice_id_line_no"


def _interrupted_in_invoice_lines(world, eng) -> str:
    """Run a first pull that stops part-way through invoice_line; return the resume id."""
    with owner(world) as c:
        before = sum(
            c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
            for t in ("agent", "store", "product", "invoice")
        )
    ctx = TaskContext()

    def progress(done, total, msg):
        if done >= before + 150:  # past two committed windows of 12 batches
            ctx.cancel()

    ctx.on_progress = progress
    with world.connector(world.manager)() as pg, pytest.raises(Cancelled):
        pull(eng, pg, ctx, batch_size=BATCH)
    mark = read_all(eng).get("resume:invoice_line")
    assert mark and mark[0], "the first run must stop inside invoice_line"
    return mark[0]


def _local_lines(eng) -> dict[str, tuple[str, int]]:
    with eng.connect() as c:
        rows = c.exec_driver_sql("SELECT id, invoice_id, line_no FROM invoice_line").all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _index_names(eng) -> set[str]:
    with eng.connect() as c:
        rows = c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").all()
    return {r[0] for r in rows}


def _pair_across_mark(world, mark: str, local: dict) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """An invoice with one line already loaded and another still to come."""
    with owner(world) as c:
        rows = c.execute(
            "SELECT invoice_id, id FROM invoice_line ORDER BY invoice_id, line_no"
        ).fetchall()
    by_invoice: dict[uuid.UUID, list[uuid.UUID]] = {}
    for inv, line in rows:
        by_invoice.setdefault(inv, []).append(line)
    for inv, lines in by_invoice.items():
        loaded = [x for x in lines if x.hex in local]
        pending = [x for x in lines if x.hex > mark]
        if loaded and pending:
            return inv, loaded[0], pending[0]
    raise AssertionError("no invoice straddles the resume mark")


def test_lines_renumbered_during_an_interruption_are_settled_from_the_snapshot(pg_url, tmp_path):
    world = build_world(pg_url, invoices_per_store=10, lines_per_invoice=5)
    eng = local_db(tmp_path / "a.sqlite")
    mark = _interrupted_in_invoice_lines(world, eng)
    local = _local_lines(eng)
    inv, loaded, pending = _pair_across_mark(world, mark, local)
    # Centrally, the two lines swap numbers (through a free number: the key is unique there too).
    with owner(world) as c, c.transaction():
        no_loaded, no_pending = (
            c.execute("SELECT line_no FROM invoice_line WHERE id = %s", (x,)).fetchone()[0]
            for x in (loaded, pending)
        )
        c.execute("UPDATE invoice_line SET line_no = 999 WHERE id = %s", (loaded,))
        c.execute("UPDATE invoice_line SET line_no = %s WHERE id = %s", (no_loaded, pending))
        c.execute("UPDATE invoice_line SET line_no = %s WHERE id = %s", (no_pending, loaded))
    assert local[loaded.hex] == (inv.hex, no_loaded)  # the replica holds the old numbering

    with world.connector(world.manager)() as pg:
        res = pull(eng, pg, batch_size=BATCH)
    assert "invoice_line" in res.resumed
    assert_same_as_central(world, eng)
    assert UNIQUE in _index_names(eng)
    state = read_all(eng)
    assert "resume:invoice_line" not in state and state["pull:invoice_line"][1]


def test_a_clash_the_server_cannot_explain_stops_the_pull_and_loses_nothing(pg_url, tmp_path):
    world = build_world(pg_url, invoices_per_store=10, lines_per_invoice=5)
    eng = local_db(tmp_path / "a.sqlite")
    mark = _interrupted_in_invoice_lines(world, eng)
    local = _local_lines(eng)
    inv, _, pending = _pair_across_mark(world, mark, local)
    with owner(world) as c:
        row = c.execute(
            "SELECT line_no, store_id, product_id FROM invoice_line WHERE id = %s", (pending,)
        ).fetchone()
    # A line the server never had, holding the number of a line not yet received.
    stray = uuid.uuid4()
    with eng.begin() as c:
        c.exec_driver_sql(
            "INSERT INTO invoice_line (id, invoice_id, line_no, store_id, invoice_date, "
            "product_id, quantity, unit_price, line_total, version, deleted, updated_at) "
            "VALUES (?, ?, ?, ?, '2024-01-01', ?, 1, 100, 100, 1, 0, ?)",
            (
                stray.hex,
                inv.hex,
                row[0],
                row[1].hex,
                row[2].hex,
                dt.datetime(2024, 1, 1).isoformat(" "),
            ),
        )

    with world.connector(world.manager)() as pg, pytest.raises(UserError) as err:
        pull(eng, pg, batch_size=BATCH)
    text = str(err.value)
    assert "invoice_line" in text and stray.hex in text and "nothing is lost" in text
    state = read_all(eng)
    assert "pull:invoice_line" not in state  # not marked as received
    assert state.get("resume:invoice_line", (None,))[0]
    lines = _local_lines(eng)
    assert stray.hex in lines and pending.hex in lines  # both rows kept

    # Once the stray row is gone, the next sync finishes the table.
    with eng.begin() as c:
        c.exec_driver_sql("DELETE FROM invoice_line WHERE id = ?", (stray.hex,))
    with world.connector(world.manager)() as pg:
        pull(eng, pg, batch_size=BATCH)
    assert_same_as_central(world, eng)
    assert UNIQUE in _index_names(eng)
    assert "resume:invoice_line" not in read_all(eng)


def test_bulk_first_sync_into_an_encrypted_replica(pg_url, tmp_path):
    """The bulk path (indexes rebuilt, checkpoints in a helper connection) under SQLCipher."""
    import secrets

    from mangalm_desktop.db.migrate import open_local_database

    world = build_world(pg_url, invoices_per_store=10, lines_per_invoice=5)
    path = tmp_path / "enc.sqlite"
    eng = open_local_database(path, key_hex=secrets.token_hex(32))
    try:
        with world.connector(world.manager)() as pg:
            res = pull(eng, pg, batch_size=BATCH)
        assert res.index_seconds > 0  # the bulk path ran
        assert_same_as_central(world, eng)
        assert UNIQUE in _index_names(eng)
    finally:
        eng.dispose()
    assert not path.read_bytes()[:16].startswith(b"SQLite format 3")


def test_first_sync_hands_over_the_data_then_builds_the_lookup_indexes(pg_url, tmp_path):
    """Unique indexes are rebuilt before a table counts as received; the lookup indexes (the
    reports' covering ones) come right after, and the data reads the same without them."""
    from mangalm_desktop.db.models import SYNCED_TABLES, Base
    from mangalm_desktop.domain.tasks import TaskContext
    from mangalm_desktop.sync.pull import build_deferred_indexes, missing_indexes

    lookup = {
        ix.name for t in SYNCED_TABLES for ix in Base.metadata.tables[t].indexes if not ix.unique
    }
    world = build_world(pg_url, invoices_per_store=10, lines_per_invoice=5)
    eng = local_db(tmp_path / "laptop.sqlite")
    with world.connector(world.manager)() as pg:
        pull(eng, pg, batch_size=BATCH)
    assert UNIQUE in _index_names(eng)
    deferred = {ix.name for ix in missing_indexes(eng)}
    assert {
        "ix_invoice_line_store_id_invoice_date",
        "ix_invoice_line_product_id_invoice_date",
        "ix_invoice_line_invoice_date",
    } <= deferred
    assert deferred <= lookup
    assert_same_as_central(world, eng)

    cancelled = TaskContext()
    cancelled.cancel()
    with pytest.raises(Cancelled):  # e.g. the app closes: nothing half-built, next run finishes
        build_deferred_indexes(eng, cancelled)
    assert {ix.name for ix in missing_indexes(eng)} == deferred

    steps = []
    built = build_deferred_indexes(eng, TaskContext(on_progress=lambda d, t, m: steps.append(m)))
    assert set(built.built) == deferred and missing_indexes(eng) == []
    assert lookup <= _index_names(eng)
    assert steps[-1] == "reports ready"
    assert build_deferred_indexes(eng).built == []  # idempotent
    assert_same_as_central(world, eng)
