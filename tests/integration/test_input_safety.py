"""Hostile input: SQL injection, oversized and Unicode-tricky strings into search, import, notes.

Each string must be stored and read back verbatim, or refused with a clear message; it is
never executed (the tables are all still there, row counts unchanged) and nothing crashes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from mangalm_desktop.cli.main import main
from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Order, Store
from mangalm_desktop.db.queries.stores import StoreFilter, StoreIndex, fts_query
from mangalm_desktop.db.search import ensure_search_schema, rebuild_search
from mangalm_desktop.orders import service
from mangalm_desktop.orders.access import order_audit
from mangalm_desktop.orders.model import LineInput, OrderDraft
from tests.integration.orders_support import seed

AS_OF = dt.date(2026, 11, 3)
GOLDEN = Path(__file__).parents[1] / "fixtures" / "imports" / "zoho_golden.csv"

TRICKY = [
    "'; DROP TABLE store; --",
    'x" OR 1=1 --',
    "Robert'); DELETE FROM orders WHERE ('1'='1",
    "name) UNION SELECT * FROM sync_state --",
    'NEAR(a b) OR * AND NOT "',
    "\u202eexe.tsil_remotsuc",  # right-to-left override
    "Gan\u200besh\u200d Stores\ufeff",  # zero-width space/joiner, BOM
    "Cafe\u0301 Lakshmi",  # combining accent
    "🛒 Kirana 🙂👨‍👩‍👧",
    "%_\\ LIKE wildcards",
    "a" * 100_000,
]
NUL = "before\x00after"


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_store_search_with_hostile_text(engine):
    with session_scope(engine) as s:
        for i, name in enumerate([*TRICKY, NUL]):
            s.add(Store(id=uuid.uuid4(), code=f"T-{i:03d}", name=name, city="Pune"))
    ensure_search_schema(engine, AS_OF)
    rebuild_search(engine)
    before = _tables(engine)
    index = StoreIndex(engine, AS_OF, identity=None)
    for text in [*TRICKY, NUL, "\x00", "'", '"', "*", "-", "()"]:
        fts_query(text)  # pure: never raises
        index.match(StoreFilter(text=text))  # no crash, no syntax error
    assert _tables(engine) == before
    with session_scope(engine) as s:
        stored = set(s.scalars(select(Store.name)))
    assert stored == {*TRICKY, NUL}  # verbatim, NUL and 100k characters included
    emoji = index.match(StoreFilter(text="kirana"))
    assert len(emoji) == 1


def test_order_notes_are_kept_verbatim_or_refused_in_words(engine):
    s = seed(engine)
    for notes in [*TRICKY, NUL]:
        draft = OrderDraft(
            store=s.store_id, agent_id=s.agent_id, lines=[LineInput("DAL-1", 10)], notes=notes
        )
        result = service.submit(engine, draft, on_write=order_audit("test"), identity=None)
        with session_scope(engine) as db:
            assert db.get(Order, result.order_id).notes == notes  # verbatim, even 100k chars
    with session_scope(engine) as db:
        assert db.scalar(select(func.count()).select_from(Order)) == len(TRICKY) + 1
        assert db.scalar(select(func.count()).select_from(Store)) == 3  # nothing executed


def _hostile_csv(path) -> list[str]:
    with GOLDEN.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    names = [t for t in TRICKY if len(t) < 1000] + ["b" * 20_000]
    for i, name in enumerate(names):
        row = dict(rows[0])
        row.update(
            {
                "Invoice Number": f"INV-H{i:03d}",
                "Invoice ID": f"9{i:03d}",
                "Customer ID": f"C-H{i:03d}",
                "Customer Name": name,
                "Item Name": name[:200],
                "Notes": name,
            }
        )
        writer.writerow(row)
    path.write_text(out.getvalue(), encoding="utf-8")
    return names


def test_import_file_with_hostile_values(tmp_path, capsys):
    src = tmp_path / "hostile.csv"
    names = _hostile_csv(src)
    db = tmp_path / "m.sqlite"
    code = main(["import", "invoices", str(src), "--db", str(db), "-q"])
    assert code == 0, capsys.readouterr().err
    engine = open_local_database(db)
    try:
        with session_scope(engine) as s:
            stored = set(s.scalars(select(Store.name)))
        assert {"sync_state", "store", "orders", "invoice"} <= _tables(engine)
    finally:
        engine.dispose()
    assert stored == set(names)  # every name verbatim, none executed


def test_import_file_with_nul_bytes_is_refused_clearly(tmp_path, capsys):
    src = tmp_path / "nul.csv"
    _hostile_csv(src)
    src.write_bytes(src.read_bytes().replace(b"Ravi Kumar", b"Ravi\x00Kumar", 1))
    db = tmp_path / "n.sqlite"
    main(["import", "invoices", str(src), "--db", str(db), "-q"])
    out = capsys.readouterr()
    said = out.out + out.err
    assert "NOT imported" in said and "not a UTF-8 CSV" in said and "Traceback" not in said
    engine = open_local_database(db)
    try:
        with session_scope(engine) as s:
            assert s.scalar(select(func.count()).select_from(Store)) == 0  # nothing half-done
    finally:
        engine.dispose()


@pytest.mark.parametrize("text", ["'; DROP TABLE store; --", "\u202e", "🛒"])
def test_cli_store_argument_is_data(tmp_path, text, capsys):
    db = tmp_path / "o.sqlite"
    engine = open_local_database(db)
    seed(engine)
    engine.dispose()
    code = main(["orders", "--db", str(db), "list", "--store", text])
    assert code == 2
    assert f"Store {text} was not found" in capsys.readouterr().err  # echoed verbatim
    engine = open_local_database(db)
    try:
        assert "store" in _tables(engine)
    finally:
        engine.dispose()
