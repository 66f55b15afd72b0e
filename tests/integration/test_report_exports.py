"""Exports read back: the CSV, XLSX (openpyxl) and PDF (pypdf text) carry the report's figures,
and the ``mangalm report`` command writes them from the command line."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from mangalm_desktop.cli.main import main as cli_main
from mangalm_desktop.db import migrate
from mangalm_desktop.domain.errors import Cancelled, UserError
from mangalm_desktop.domain.tasks import TaskContext
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.export import export
from mangalm_desktop.reports.filters import ReportFilters
from tests.integration import reports_data

Q1 = ReportFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31), region="North")


@pytest.fixture(scope="module")
def report_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("rep") / "r.sqlite"
    eng = migrate.open_local_database(path)
    reports_data.build(eng)
    yield path, eng
    eng.dispose()


def test_csv_export(report_db, tmp_path):
    _, eng = report_db
    res = run_report(eng, "sales-by-store", Q1, identity=None)
    out = export(res, "csv", tmp_path / "s.csv", identity=None)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == [
        "Store code",
        "Store",
        "Region",
        "Sales",
        "Quantity",
        "Lines",
        "Share",
    ]
    # North in Q1: S2 1560.50 (I3 + I9), S1 1300.00 (I1 + I2 − I6); shares of 2860.50.
    assert [r[0] for r in rows[1:]] == ["S2", "S1"]
    assert [r[3] for r in rows[1:]] == ["1560.50", "1300.00"]
    assert float(rows[1][6]) == pytest.approx(1560.50 / 2860.50, rel=1e-5)


def test_xlsx_export_is_typed_and_formatted(report_db, tmp_path):
    _, eng = report_db
    res = run_report(eng, "sales-by-period", Q1.with_(region=None), identity=None)
    out = export(res, "xlsx", tmp_path / "p.xlsx", identity=None)
    ws = load_workbook(out).active
    assert ws["A1"].value == "Sales by period"
    assert "From: 01 Jan 2024" in ws["A2"].value  # en-IN dates, as on screen
    header = [c.value for c in ws[4]]
    assert header[:3] == ["Period start", "Period", "Sales"]
    assert ws.freeze_panes == "A5"
    assert ws["A4"].font.bold
    # Month rows: Jan 1100.00, Feb 1900.50, Mar 810.25.
    sales = [ws.cell(row=r, column=3).value for r in range(5, 8)]
    assert sales == [1100.0, 1900.5, 810.25]
    # Typed numbers with the en-IN rupee format (lakh/crore grouping), never text.
    assert ws.cell(row=5, column=3).data_type == "n"
    assert ws.cell(row=5, column=3).number_format == "[$₹-4009]#,##,##0.00;-[$₹-4009]#,##,##0.00"
    assert ws.cell(row=5, column=1).value.date() == dt.date(2024, 1, 1)
    assert ws.cell(row=5, column=1).number_format == "dd mmm yyyy"
    growth = ws.cell(row=6, column=header.index("Growth vs prev.") + 1)
    assert growth.value == pytest.approx(800.50 / 1100)
    assert growth.number_format == "0.0%"
    assert ws.column_dimensions["C"].width >= 10


def test_pdf_export_text_has_the_figures(report_db, tmp_path):
    _, eng = report_db
    res = run_report(eng, "ageing", ReportFilters(date_to=dt.date(2024, 4, 30)), identity=None)
    out = export(res, "pdf", tmp_path / "a.pdf", identity=None)
    reader = PdfReader(str(out))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Outstanding balances and ageing" in text
    assert "To: 30 Apr 2024" in text
    assert "Generated" in text
    assert "Page 1 of" in text
    # S2: 1,560.50 in 31–60 days, 1,640.50 in total; S1: 150.00 over 90 days.
    for figure in ("1,560.50", "1,640.50", "150.00", "Kirana Two"):
        assert figure in text
    page = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)  # 14 columns → landscape


def test_failed_export_keeps_previous_file(report_db, tmp_path):
    _, eng = report_db
    res = run_report(eng, "sales-by-store", Q1, identity=None)
    target = tmp_path / "s.csv"
    target.write_text("previous export\n")
    ctx = TaskContext()
    ctx.cancel()
    import mangalm_desktop.reports.export as ex

    old = ex.PROGRESS_EVERY
    ex.PROGRESS_EVERY = 1
    try:
        with pytest.raises(Cancelled):
            export(res, "csv", target, ctx, identity=None)
    finally:
        ex.PROGRESS_EVERY = old
    assert target.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.csv"]
    with pytest.raises(UserError, match="does not exist"):
        export(res, "csv", tmp_path / "nope" / "s.csv", identity=None)


def test_cli_report_writes_each_format(report_db, tmp_path, capsys):
    path, _ = report_db
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"r.{fmt}"
        code = cli_main(
            [
                "report",
                "sales-by-region",
                "--from",
                "2024-01-01",
                "--to",
                "2024-03-31",
                "--format",
                fmt,
                "--out",
                str(out),
                "--db",
                str(path),
                "-q",
            ]
        )
        assert code == 0 and out.stat().st_size > 0
    capsys.readouterr()
    out = tmp_path / "loud.csv"
    code = cli_main(["report", "sales-by-region", "--out", str(out), "--db", str(path)])
    assert code == 0
    assert capsys.readouterr().out == f"Sales by region: 2 rows written to {out}\n"
    rows = list(csv.reader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert [(r[0], r[1]) for r in rows[1:]] == [("North", "2860.50"), ("South", "950.25")]
    code = cli_main(["report", "sales-by-region", "--region", "Nowhere", "--db", str(path)])
    assert code == 2
    assert "no region called 'Nowhere'" in capsys.readouterr().err
    code = cli_main(["report", "dormant-stores", "--to", "2024-04-30", "--db", str(path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Kirana Four" in printed and "75" in printed
