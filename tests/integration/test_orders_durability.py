"""Item 8: SIGKILL a process that saves and submits orders, MANGALM_TRIALS times (default 100).

The child is forked from the test process (a real separate process, killed with SIGKILL)
so each trial costs its work time, not an interpreter start-up. After each kill the database must pass ``PRAGMA integrity_check``; every order must be complete
(all its lines, ``lines=N`` in its notes) with none ``upsert_order`` op if it is a draft and
exactly one op per change otherwise (one for a submit, one more per amend or cancel, each
against the previous version); every order the child reported committed must be there
in at least that state; and no number may ever be used twice, across all trials.
"""

from __future__ import annotations

import os
import random
import sqlite3

import pytest

from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft

from . import orders_crash_worker
from .crash_support import run_and_kill
from .orders_support import seed

TRIALS = int(os.environ.get("MANGALM_TRIALS", "100"))


def _check(db) -> dict[str, tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        orders = con.execute(
            "SELECT o.id, o.number, o.state, o.notes, "
            "(SELECT count(*) FROM order_line l WHERE l.order_id = o.id AND NOT l.deleted), "
            "(SELECT count(*) FROM outbox x WHERE x.row_id = o.id AND x.table_name = 'orders'), "
            "o.version, (SELECT group_concat(coalesce(x.base_version, 0)) FROM ("
            "  SELECT base_version FROM outbox x WHERE x.row_id = o.id ORDER BY x.seq) x) "
            "FROM orders o"
        ).fetchall()
        seqs = dict(con.execute("SELECT prefix, last_value FROM number_sequence").fetchall())
        stray = con.execute(
            "SELECT count(*) FROM order_line WHERE order_id NOT IN (SELECT id FROM orders)"
        ).fetchone()[0]
        orphan_ops = con.execute(
            "SELECT count(*) FROM outbox WHERE table_name = 'orders' "
            "AND row_id NOT IN (SELECT id FROM orders)"
        ).fetchone()[0]
    finally:
        con.close()
    assert stray == 0 and orphan_ops == 0
    found = {}
    for oid, number, state, notes, nlines, nops, version, bases in orders:
        assert nlines == int(notes.removeprefix("lines=")), number
        # one op per change: submit (base None), then each amend/cancel against the previous
        # version, so the local version counts the ops exactly
        assert nops == (0 if state == "draft" else version), (number, state, nops, version)
        if nops:
            assert [int(b) for b in bases.split(",")] == list(range(nops)), (number, bases)
        prefix, _, value = number.rpartition("-")
        assert seqs[prefix] >= int(value), "the counter must be past every number stored"
        found[number] = (oid, state)
    return found


def _run_and_kill(db_path, sd, trial: int, skus: list[str], delay: float, engine) -> str:
    """The worker loop in a forked child (imports already warm), SIGKILLed after ``delay``."""
    return run_and_kill(
        lambda: orders_crash_worker.main(
            [str(db_path), str(sd.agent_id), str(sd.store_id), str(trial), *skus], engine
        ),
        delay,
    )


@pytest.mark.slow
def test_sigkill_while_submitting_loses_nothing_and_reuses_no_number(engine, db_path):
    sd = seed(engine)
    # Warm the statement cache once (the forked children inherit it), so the kills land in
    # the writes rather than in SQL compilation; this warm-up order is checked like the rest.
    service.submit(
        engine,
        OrderDraft(
            store=sd.store_id, agent_id=sd.agent_id, lines=[LineInput("ATTA-5", 1)], notes="lines=1"
        ),
        accept_credit_warning=True,
        identity=None,
    )
    engine.dispose()
    rng = random.Random(20261125)
    skus = ["ATTA-5", "DAL-1", "OIL-1", "TEA-250"]
    seen: dict[str, bytes] = {}  # number -> order id, across all trials
    killed_mid_work = 0
    for trial in range(TRIALS):
        out = _run_and_kill(db_path, sd, trial, skus, rng.uniform(0.0, 0.25), engine)
        committed = [line.split() for line in out.splitlines() if line.startswith("committed")]
        killed_mid_work += bool(committed)
        found = _check(db_path)
        for _, number, _n, state in committed:
            assert number in found, f"trial {trial}: committed order {number} was lost"
            if state in ("submitted", "cancelled"):
                assert found[number][1] in ("submitted", "cancelled"), number
            if state == "cancelled":
                assert found[number][1] == "cancelled", number
        for number, (oid, _state) in found.items():
            assert seen.setdefault(number, oid) == oid, f"number {number} used twice"
    print(f"{killed_mid_work}/{TRIALS} kills landed after at least one commit")
    assert killed_mid_work >= TRIALS // 4, "too few kills landed while orders were written"
