"""Report exports: CSV, XLSX (openpyxl) and PDF (reportlab), all Qt-free.

Every text cell of a CSV or XLSX goes through :mod:`..domain.safe_cells` (OWASP CSV-injection
rule; XLSX text always typed as a string), so a name such as ``=HYPERLINK(...)`` from a Zoho pull
or a history file is shown, never run.

Each exporter writes to a temporary file beside the target and renames it into place only when
complete, so a failed or cancelled export never leaves a half-written file that looks finished,
and never destroys the previous export of the same name. Progress is reported through
:class:`TaskContext` and cancellation is honoured between rows.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from ..db.engine import session_scope
from ..db.files import atomic_target
from ..domain.errors import UserError
from ..domain.formatting import XLSX_FORMATS, cell, day_time, is_missing
from ..domain.safe_cells import csv_row, safe_text, xlsx_cell
from ..domain.tasks import NULL_TASK, TaskContext
from ..security import audit
from ..security.roles import Identity, Permission, require
from .catalog import ReportResult

FORMATS: tuple[str, ...] = ("csv", "xlsx", "pdf")

PROGRESS_EVERY = 500


def _cell(value: object, kind: str) -> object:
    """A typed value for a file cell: Decimal stays exact, missing becomes empty."""
    if is_missing(value):
        return None
    if kind == "int":
        return int(value)  # type: ignore[call-overload]
    if kind in ("pct", "float"):
        return float(value)  # type: ignore[arg-type]
    if kind == "money":
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def export_csv(result: ReportResult, path: Path, ctx: TaskContext = NULL_TASK) -> Path:
    """Plain CSV with a label header; money exact, percentages as fractions, dates ISO."""
    df = result.frame
    kinds = result.kinds()
    total = len(df)
    with atomic_target(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(csv_row(result.labels()))
        for i, row in enumerate(df.itertuples(index=False, name=None), start=1):
            out = []
            for v, c in zip(row, df.columns, strict=True):
                cell = _cell(v, kinds[c])
                if cell is None:
                    out.append("")
                elif kinds[c] == "pct":
                    out.append(f"{cell:.6g}")
                elif kinds[c] == "bool":
                    out.append("yes" if cell else "no")
                elif isinstance(cell, str):
                    out.append(safe_text(cell))  # text only: -12.50 is a number, not a formula
                else:
                    out.append(str(cell))
            w.writerow(out)
            if i % PROGRESS_EVERY == 0:
                ctx.check()
                ctx.progress(i, total, "writing CSV")
    ctx.progress(total, total, "writing CSV")
    return Path(path)


def export_xlsx(result: ReportResult, path: Path, ctx: TaskContext = NULL_TASK) -> Path:
    """An Excel sheet a manager can work with: typed cells, formats, styled frozen header."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    df = result.frame
    kinds = result.kinds()
    labels = result.labels()
    wb = Workbook()
    ws = wb.active
    ws.title = result.spec.name[:31]
    xlsx_cell(ws, 1, 1, result.title)
    ws["A1"].font = Font(bold=True, size=14)
    filters = "; ".join(f"{k}: {v}" for k, v in result.filter_lines()) or "no filters"
    generated = f"{day_time(result.generated_at)} {result.generated_at:%Z}".rstrip()
    xlsx_cell(ws, 2, 1, f"{filters}. Generated {generated}")
    ws["A2"].font = Font(italic=True, color="555555")
    header_row = 4
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="2F5597")
    thin = Side(style="thin", color="999999")
    for j, label in enumerate(labels, start=1):
        c = xlsx_cell(ws, header_row, j, label)
        c.font = head_font
        c.fill = head_fill
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = Border(bottom=thin)
    widths = [max(10, len(label) + 2) for label in labels]
    total = len(df)
    for i, row in enumerate(df.itertuples(index=False, name=None), start=1):
        r = header_row + i
        for j, (v, col) in enumerate(zip(row, df.columns, strict=True), start=1):
            kind = kinds[col]
            value = _cell(v, kind)
            c = xlsx_cell(ws, r, j, value)
            if kind in XLSX_FORMATS:
                c.number_format = XLSX_FORMATS[kind]
            if value is not None and i <= 1000:  # widths from a sample is plenty
                shown = len(cell(value, kind)) if kind != "text" else len(str(value))
                widths[j - 1] = max(widths[j - 1], min(60, shown + 2))
        if i % PROGRESS_EVERY == 0:
            ctx.check()
            ctx.progress(i, total, "writing XLSX")
    for j, wdt in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = wdt
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if labels:
        last = get_column_letter(len(labels))
        ws.auto_filter.ref = f"A{header_row}:{last}{header_row + max(total, 1)}"
    ws.row_dimensions[header_row].height = 30
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if len(labels) > 7 else "portrait"
    ws.page_setup.fitToWidth = 1
    with atomic_target(path) as tmp:
        wb.save(tmp)
    ctx.progress(total, total, "writing XLSX")
    return Path(path)


def export_pdf(result: ReportResult, path: Path, ctx: TaskContext = NULL_TASK) -> Path:
    from .pdf import write_pdf

    with atomic_target(path) as tmp:
        write_pdf(result, tmp, ctx)
    return Path(path)


EXPORTERS: dict[str, Callable[[ReportResult, Path, TaskContext], Path]] = {
    "csv": export_csv,
    "xlsx": export_xlsx,
    "pdf": export_pdf,
}


def export(
    result: ReportResult,
    fmt: str,
    path: Path,
    ctx: TaskContext = NULL_TASK,
    *,
    identity: Identity | None,
) -> Path:
    """Write ``result`` as ``fmt`` (csv, xlsx or pdf) to ``path``.

    ``identity`` needs the export permission (data leaving the app); None = standalone.
    """
    require(identity, Permission.EXPORT_DATA)
    fmt = fmt.lower()
    if fmt not in EXPORTERS:
        raise UserError(f"unknown export format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    return EXPORTERS[fmt](result, Path(path), ctx)


def format_from_path(path: Path) -> str:
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise UserError(f"cannot tell the format of {path}", hint="end it in .csv, .xlsx or .pdf")
    return ext


def export_audited(
    ctx: TaskContext | None,
    engine: Engine,
    result: ReportResult,
    fmt: str,
    path: Path,
    *,
    identity: Identity | None,
    actor: str = "desktop",
) -> Path:
    """Export a report (permission checked) and audit it: what, which format, where, who."""
    written = export(result, fmt, path, ctx or NULL_TASK, identity=identity)
    with session_scope(engine) as s:
        audit.record(
            s,
            actor=actor,
            action=audit.EXPORT,
            agent_id=audit.local_agent_id(s, identity),
            entity="report",
            entity_id=result.spec.name,
            details={"format": fmt, "file": str(written)[-250:], "rows": len(result.frame)},
        )
    return written
