"""What an import tells its user: rejected rows (the CSV error report) and the summary.

Why a CSV report: the person fixing a 50,000-line export opens it beside the export in a
spreadsheet; each line names the file, the row number as the spreadsheet shows it (header = 1),
the column, the value and the reason, so every rejected row can be found and fixed. A workbook
read from several sheets numbers rows per sheet, so its rows are also named by sheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..db.files import atomic_target, private_dir
from ..db.paths import data_dir
from ..domain.safe_cells import csv_row


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row: where it is, which cell, and why."""

    file: str
    row: int
    column: str
    value: str
    reason: str
    sheet: str | None = None  # set when the file's rows came from more than one sheet

    @property
    def where(self) -> str:
        """The row as the user finds it: "row 17", or "sheet 'Year 2010-2011' row 17"."""
        return f"row {self.row}" if self.sheet is None else f"sheet {self.sheet!r} row {self.row}"


class RowRejected(Exception):
    """Raised while mapping a row; the pipeline records it as a :class:`RowError`."""

    def __init__(self, column: str, value: object, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = "" if value is None else str(value)
        self.reason = reason


REPORT_COLUMNS = ("file", "row", "column", "value", "reason")
SHEET_REPORT_COLUMNS = ("file", "sheet", "row", "column", "value", "reason")
"""Used when a rejected row came from a workbook read from several sheets."""


REPORTS_KEPT_DAYS = 30
"""Error reports in the app's own folder hold rejected values (names, amounts) in plain text;
they are deleted this many days after they were written (docs/import.md)."""


def reports_dir() -> Path:
    return data_dir() / "import-reports"


def default_error_report() -> Path:
    """Where rejected rows go when the user names no file: the app's data folder, one per run,
    so an earlier report is never overwritten (CLI and GUI alike). Reports older than
    :data:`REPORTS_KEPT_DAYS` are removed from that folder first."""
    folder = private_dir(reports_dir())
    expire_error_reports(folder)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return folder / f"import-errors-{stamp}.csv"


def expire_error_reports(folder: Path, days: int = REPORTS_KEPT_DAYS) -> list[Path]:
    """Delete the app's own error reports in ``folder`` older than ``days``; returns them."""
    if not folder.is_dir():
        return []
    cutoff = time.time() - days * 86_400
    gone = []
    for report in folder.glob("import-errors-*.csv"):
        try:
            if report.is_file() and not report.is_symlink() and report.stat().st_mtime < cutoff:
                report.unlink()
                gone.append(report)
        except OSError:  # a report in use or already gone: try again next time
            continue
    return gone


def write_error_report(path: Path, errors: list[RowError]) -> Path:
    """Write every rejected row to ``path`` (UTF-8 with BOM so Excel shows it right).

    The rejected values are whatever the file held, so text cells get the OWASP apostrophe
    (:mod:`..domain.safe_cells`): a hostile name is shown, never run, when the report is opened.

    The ``sheet`` column appears only when some row came from a several-sheet workbook, so a
    report about CSV files keeps the columns it always had.
    """
    if not path.parent.exists():
        private_dir(path.parent)
    sheets = any(e.sheet is not None for e in errors)
    with atomic_target(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(SHEET_REPORT_COLUMNS if sheets else REPORT_COLUMNS)
        for e in errors:
            if sheets:
                writer.writerow(
                    csv_row((e.file, e.sheet or "", e.row, e.column, e.value, e.reason))
                )
            else:
                writer.writerow(csv_row((e.file, e.row, e.column, e.value, e.reason)))
    return path


@dataclass
class EntityCounts:
    """Created / updated / unchanged for one kind of record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: EntityCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    def __str__(self) -> str:
        return f"{self.created:,} created, {self.updated:,} updated, {self.unchanged:,} unchanged"


@dataclass
class WriteCounts:
    """What one file did (or would have done) to the database."""

    agents_created: int = 0
    stores: EntityCounts = field(default_factory=EntityCounts)
    products: EntityCounts = field(default_factory=EntityCounts)
    invoices: EntityCounts = field(default_factory=EntityCounts)
    lines: EntityCounts = field(default_factory=EntityCounts)
    lines_removed: int = 0
    invoices_voided: int = 0

    def add(self, other: WriteCounts) -> None:
        self.agents_created += other.agents_created
        for name in ("stores", "products", "invoices", "lines"):
            getattr(self, name).add(getattr(other, name))
        self.lines_removed += other.lines_removed
        self.invoices_voided += other.invoices_voided


@dataclass
class FileResult:
    """The outcome of one file: imported as a whole, or not at all (``committed`` False)."""

    path: Path
    rows_read: int = 0
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    kept_notes: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    committed: bool = False
    error: str | None = None  # why the whole file could not be read
    counts: WriteCounts = field(default_factory=WriteCounts)
    sheets: dict[str, int] = field(default_factory=dict)  # rows read per sheet, when several
    notes: list[str] = field(default_factory=list)  # e.g. "sheet 'Notes' skipped: not data"


@dataclass
class ImportSummary:
    """Everything the CLI prints and the GUI shows after an import."""

    files: list[FileResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_report: Path | None = None

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def imported(self) -> int:
        return sum(f.imported for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def skipped(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.skipped)
        return total

    @property
    def counts(self) -> WriteCounts:
        total = WriteCounts()
        for f in self.files:
            if f.committed:
                total.add(f.counts)
        return total

    @property
    def file_errors(self) -> list[str]:
        return [f.error for f in self.files if f.error is not None]

    @property
    def all_committed(self) -> bool:
        return all(f.committed for f in self.files)

    def lines(self) -> list[str]:
        """The human summary, one line per fact."""
        out = []
        for f in self.files:
            if f.error is not None:
                out.append(f"NOT imported: {f.error}")
                continue
            state = "imported" if f.committed else "NOT imported (nothing from it was saved)"
            out.append(
                f"{f.path.name}: {f.rows_read:,} rows read, {f.imported:,} imported, "
                f"{sum(f.skipped.values()):,} skipped by rule, {f.rejected:,} rejected — {state}"
            )
            for sheet, n in f.sheets.items():
                out.append(f"  sheet {sheet!r}: {n:,} rows read")
            out.extend(f"  {note}" for note in f.notes)
        skipped = self.skipped
        out.append(
            f"total: {len(self.files)} file(s), {self.rows_read:,} rows read, "
            f"{self.imported:,} imported, {sum(skipped.values()):,} skipped by rule, "
            f"{self.rejected:,} rejected"
        )
        for rule, n in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  skipped ({rule}): {n:,}")
        notes: Counter[str] = Counter()
        for f in self.files:
            notes.update(f.kept_notes)
        for note, n in sorted(notes.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  kept ({note}): {n:,}")
        c = self.counts
        out.append(f"stores:   {c.stores}")
        out.append(f"products: {c.products}")
        out.append(f"invoices: {c.invoices}")
        out.append(f"lines:    {c.lines}, {c.lines_removed:,} removed")
        if c.invoices_voided:
            out.append(f"invoices voided since the last import (removed): {c.invoices_voided:,}")
        if c.agents_created:
            out.append(f"agents created: {c.agents_created:,}")
        if self.error_report is not None:
            out.append(f"error report ({self.rejected:,} rejected rows): {self.error_report}")
        return out
