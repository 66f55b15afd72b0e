"""Zoho Books invoice import against a real migrated SQLite: golden files, idempotency, updates."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mangalm_desktop.db.models import Agent, Invoice, InvoiceLine, Product, Store
from mangalm_desktop.imports.pipeline import ImportOptions
from mangalm_desktop.imports.zoho import import_invoices
from tests.fixtures.imports.make_fixtures import HEADER, ROWS, write_csv

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
GOLDEN_CSV = FIXTURES / "zoho_golden.csv"
GOLDEN_XLSX = FIXTURES / "zoho_golden.xlsx"
D = Decimal


def snapshot(engine) -> dict[str, list[tuple]]:
    """The imported content by natural keys (ids differ between runs), with versions."""
    with Session(engine) as s:
        agents = {a.id: a.name for a in s.scalars(select(Agent))}
        stores = {st.id: st.code for st in s.scalars(select(Store))}
        products = {p.id: p.sku for p in s.scalars(select(Product))}
        invoices = {i.id: i.number for i in s.scalars(select(Invoice))}
        return {
            "agents": sorted((a.code, a.name, a.version) for a in s.scalars(select(Agent))),
            "stores": sorted(
                (
                    st.code,
                    st.zoho_customer_id,
                    st.name,
                    st.city,
                    st.state,
                    st.country,
                    st.postal_code,
                    st.version,
                    st.deleted,
                )
                for st in s.scalars(select(Store))
            ),  # fmt: skip
            "products": sorted(
                (
                    p.sku,
                    p.zoho_item_id,
                    p.name,
                    p.brand,
                    p.category,
                    p.unit,
                    p.mrp,
                    p.price,
                    p.version,
                )
                for p in s.scalars(select(Product))
            ),
            "invoices": sorted(
                (
                    i.number,
                    i.zoho_invoice_id,
                    i.kind,
                    i.status,
                    stores[i.store_id],
                    agents.get(i.agent_id),
                    i.salesperson,
                    i.invoice_date,
                    i.due_date,
                    i.subtotal,
                    i.discount_amount,
                    i.total,
                    i.balance,
                    i.purchase_order,
                    i.sales_order_number,
                    i.source,
                    i.version,
                    i.deleted,
                )
                for i in s.scalars(select(Invoice))
            ),  # fmt: skip
            "lines": sorted(
                (
                    invoices[ln.invoice_id],
                    ln.line_no,
                    stores[ln.store_id],
                    ln.invoice_date,
                    products[ln.product_id],
                    ln.quantity,
                    ln.unit_price,
                    ln.line_total,
                    ln.mrp,
                    ln.version,
                    ln.deleted,
                )
                for ln in s.scalars(select(InvoiceLine))
            ),  # fmt: skip
        }


MAR = dt.date(2024, 3, 1).replace
EXPECTED = {
    "agents": [("A01", "Ravi Kumar", 1), ("A02", "Priya Shah", 1)],
    "stores": [
        ("C-100", "C-100", "Sharma Kirana, Andheri", "Mumbai", "Maharashtra", "India", "400053", 1, False),
        ("C-200", "C-200", "Patel Stores", "Pune", "Maharashtra", "India", "411001", 1, False),
    ],
    "products": [
        ("BIS-100", "P-2", "Parle-G 100g", "Parle", "Snacks", "pcs", D("5.5000"), D("5.0000"), 1),
        ("OIL-1L", None, "Fortune Sunflower Oil 1L", "Fortune", "Staples", "ltr", None, D("150.0000"), 1),
        ("TEA-500", "P-1", "Tata Tea Gold 500g", "Tata", "Beverages", "pcs", D("260.0000"), D("245.5000"), 1),
    ],
    "invoices": [
        ("CN-0001", "1004", "credit_note", "Closed", "C-100", "Ravi Kumar", "Ravi Kumar",
         MAR(day=18), MAR(day=18), D("-50.00"), D("0.00"), D("-50.00"), D("0.00"), None, None,
         "zoho_books_export", 1, False),
        ("INV-0001", "1001", "invoice", "Closed", "C-100", "Ravi Kumar", "Ravi Kumar", MAR(day=15),
         MAR(day=30), D("295850.00"), D("0.00"), D("295850.00"), D("0.00"), "PO-77", "SO-12",
         "zoho_books_export", 1, False),
        ("INV-0004", "1005", "invoice", "Overdue", "C-200", "Priya Shah", "Priya Shah", MAR(day=18),
         dt.date(2024, 4, 2), D("7682.00"), D("10.00"), D("7672.00"), D("7672.00"), None, None,
         "zoho_books_export", 1, False),
    ],
    "lines": [
        ("CN-0001", 1, "C-100", MAR(day=18), "BIS-100", -10, D("5.0000"), D("-50.00"), D("5.5000"), 1, False),
        ("INV-0001", 1, "C-100", MAR(day=15), "TEA-500", 1200, D("245.5000"), D("294600.00"), D("260.0000"), 1, False),
        ("INV-0001", 2, "C-100", MAR(day=15), "BIS-100", 250, D("5.0000"), D("1250.00"), D("5.5000"), 1, False),
        ("INV-0004", 1, "C-200", MAR(day=18), "TEA-500", 24, D("245.5000"), D("5892.00"), D("260.0000"), 1, False),
        ("INV-0004", 2, "C-200", MAR(day=18), "OIL-1L", 12, D("150.0000"), D("1800.00"), None, 1, False),
        ("INV-0004", 3, "C-200", MAR(day=18), "BIS-100", -2, D("5.0000"), D("-10.00"), D("5.5000"), 1, False),
    ],
}  # fmt: skip


@pytest.mark.parametrize("golden", [GOLDEN_CSV, GOLDEN_XLSX], ids=["csv", "xlsx"])
def test_golden_file_gives_exactly_the_expected_rows(engine, golden: Path) -> None:
    summary = import_invoices(engine, [golden], identity=None)

    assert summary.all_committed and summary.rejected == 0
    f = summary.files[0]
    assert f.rows_read == 8 and f.imported == 6
    assert dict(f.skipped) == {"void invoice": 1, "draft invoice": 1}
    assert f.kept_notes["credit notes kept as returns"] == 1
    assert f.kept_notes["negative-quantity lines kept as returns"] == 2
    c = summary.counts
    assert (c.stores.created, c.products.created, c.invoices.created, c.lines.created) == (
        2,
        3,
        3,
        6,
    )
    assert c.agents_created == 2
    assert snapshot(engine) == EXPECTED


def test_csv_and_xlsx_of_the_same_export_are_the_same_import(engine) -> None:
    import_invoices(engine, [GOLDEN_CSV], identity=None)
    again = import_invoices(engine, [GOLDEN_XLSX], identity=None)
    c = again.counts
    assert (c.stores.created, c.stores.updated, c.stores.unchanged) == (0, 0, 2)
    assert (c.invoices.created, c.invoices.updated, c.invoices.unchanged) == (0, 0, 3)
    assert (c.lines.created, c.lines.updated, c.lines.unchanged) == (0, 0, 6)
    assert snapshot(engine) == EXPECTED


def test_importing_the_same_file_again_changes_nothing(engine) -> None:
    import_invoices(engine, [GOLDEN_CSV], identity=None)
    with Session(engine) as s:
        stamps_before = sorted(s.scalars(select(InvoiceLine.updated_at)))
    summary = import_invoices(engine, [GOLDEN_CSV], identity=None)

    c = summary.counts
    assert c.agents_created == 0
    assert (c.stores.created, c.stores.updated, c.stores.unchanged) == (0, 0, 2)
    assert (c.products.created, c.products.updated, c.products.unchanged) == (0, 0, 3)
    assert (c.invoices.created, c.invoices.updated, c.invoices.unchanged) == (0, 0, 3)
    assert (c.lines.created, c.lines.updated, c.lines.unchanged, c.lines_removed) == (0, 0, 6, 0)
    assert snapshot(engine) == EXPECTED  # versions still 1, nothing added
    with Session(engine) as s:
        assert sorted(s.scalars(select(InvoiceLine.updated_at))) == stamps_before


def _edited(tmp_path: Path, rows: list[list[str]], name: str = "edited.csv") -> Path:
    path = tmp_path / name
    write_csv(path, HEADER, rows)
    return path


def col(name: str) -> int:
    return HEADER.index(name)


def test_a_changed_export_updates_only_what_changed_and_bumps_versions(engine, tmp_path) -> None:
    import_invoices(engine, [GOLDEN_CSV], identity=None)
    rows = [list(r) for r in ROWS]
    rows[0][col("Quantity")] = "1,300"  # INV-0001 line 1 changes
    rows[0][col("Item Total")] = "3,19,150.00"
    for r in rows:
        if r[col("Customer ID")] == "C-200":
            r[col("Customer Name")] = "Patel Stores (new owner)"
    rows = [r for r in rows if not (r[col("Invoice ID")] == "1005" and r[col("Quantity")] == "-2")]
    summary = import_invoices(engine, [_edited(tmp_path, rows)], identity=None)

    c = summary.counts
    assert (c.stores.updated, c.stores.unchanged) == (1, 1)
    assert (c.lines.updated, c.lines.unchanged, c.lines_removed) == (1, 4, 1)
    assert (c.invoices.updated, c.invoices.unchanged) == (2, 1)
    snap = snapshot(engine)
    assert (
        "C-200",
        "C-200",
        "Patel Stores (new owner)",
        "Pune",
        "Maharashtra",
        "India",
        "411001",
        2,
        False,
    ) in snap["stores"]
    changed = [ln for ln in snap["lines"] if ln[:2] == ("INV-0001", 1)][0]
    assert changed[5] == 1300 and changed[7] == D("319150.00") and changed[9] == 2
    removed = [ln for ln in snap["lines"] if ln[:2] == ("INV-0004", 3)][0]
    assert removed[-2:] == (2, True)  # tombstoned (synced tables never hard-delete)

    # and that edited file is itself idempotent
    again = import_invoices(engine, [_edited(tmp_path, rows, "edited2.csv")], identity=None).counts
    assert (again.lines.updated, again.lines.created, again.lines_removed) == (0, 0, 0)
    assert again.stores.updated == 0 and again.invoices.updated == 0


def test_an_invoice_voided_after_import_is_removed(engine, tmp_path) -> None:
    import_invoices(engine, [GOLDEN_CSV], identity=None)
    rows = [list(r) for r in ROWS]
    for r in rows:
        if r[col("Invoice ID")] == "1005":
            r[col("Invoice Status")] = "Void"
    summary = import_invoices(engine, [_edited(tmp_path, rows)], identity=None)

    assert summary.counts.invoices_voided == 1
    assert summary.counts.lines_removed == 3
    snap = snapshot(engine)
    inv = [i for i in snap["invoices"] if i[0] == "INV-0004"][0]
    assert inv[-2:] == (2, True)
    assert all(ln[-1] for ln in snap["lines"] if ln[0] == "INV-0004")


def test_sales_person_matches_an_existing_agent_by_name(engine) -> None:
    with Session(engine) as s, s.begin():
        s.add(Agent(code="A07", name="ravi kumar"))
    import_invoices(engine, [GOLDEN_CSV], identity=None)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Agent)) == 2  # Priya created, Ravi matched
        a07 = s.scalar(select(Agent).where(Agent.code == "A07"))
        n = s.scalar(select(func.count()).select_from(Invoice).where(Invoice.agent_id == a07.id))
        assert n == 2


def test_big_file_reports_progress_and_cancel_rolls_back(engine, tmp_path) -> None:
    from mangalm_desktop.domain.errors import Cancelled
    from mangalm_desktop.domain.tasks import TaskContext

    rows = []
    for i in range(3000):
        r = list(ROWS[0])
        r[col("Invoice ID")] = str(50_000 + i // 3)
        r[col("Invoice Number")] = f"INV-9{i // 3:05d}"
        r[col("Product ID")], r[col("SKU")] = f"P-{i % 3}", f"SKU-{i % 3}"
        rows.append(r)
    path = _edited(tmp_path, rows, "big.csv")
    seen: list[tuple[int, int]] = []
    ctx = TaskContext(on_progress=lambda done, total, msg: seen.append((done, total)))
    import_invoices(engine, [path], ImportOptions(chunk_rows=500), ctx, identity=None)
    assert len(seen) >= 6 and seen[-1][0] == seen[-1][1] == path.stat().st_size

    fresh = tmp_path / "fresh.sqlite"
    from mangalm_desktop.db.migrate import open_local_database

    eng2 = open_local_database(fresh)
    ctx2 = TaskContext()
    calls = 0

    def cancel_after_two(done: int, total: int, msg: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            ctx2.cancel()

    ctx2.on_progress = cancel_after_two
    with pytest.raises(Cancelled):
        import_invoices(eng2, [path], ImportOptions(chunk_rows=500), ctx2, identity=None)
    with Session(eng2) as s:
        assert s.scalar(select(func.count()).select_from(InvoiceLine)) == 0
        assert s.scalar(select(func.count()).select_from(Store)) == 0
    eng2.dispose()


def test_several_files_each_all_or_nothing(engine, tmp_path) -> None:
    good = tmp_path / "good.csv"
    shutil.copy(GOLDEN_CSV, good)
    rows = [list(r) for r in ROWS]
    rows[1][col("Quantity")] = "lots"
    bad = _edited(tmp_path, rows, "bad.csv")
    summary = import_invoices(
        engine, [good, bad], ImportOptions(error_report=tmp_path / "err.csv"), identity=None
    )
    assert [f.committed for f in summary.files] == [True, False]
    assert snapshot(engine) == EXPECTED


def _line_indexes(engine) -> list[tuple[str, tuple[str, ...], bool]]:
    from sqlalchemy import inspect

    insp = inspect(engine)
    return sorted(
        (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
        for ix in insp.get_indexes("invoice_line")
    )


def test_bulk_load_into_empty_history_leaves_the_line_indexes_as_the_schema_has_them(
    engine, tmp_path
) -> None:
    before = _line_indexes(engine)
    assert len(before) >= 2
    import_invoices(engine, [GOLDEN_CSV], identity=None)  # indexes deferred and rebuilt
    assert _line_indexes(engine) == before

    # a rejected file rolls the DROP INDEX back too
    fresh = tmp_path / "fresh.sqlite"
    from mangalm_desktop.db.migrate import open_local_database

    eng2 = open_local_database(fresh)
    rows = [list(r) for r in ROWS]
    rows[-1][col("Quantity")] = "x"
    summary = import_invoices(eng2, [_edited(tmp_path, rows)], identity=None)
    assert not summary.files[0].committed
    assert _line_indexes(eng2) == before
    eng2.dispose()
