"""Running an import: files one by one, each in one transaction, all-or-nothing.

Why this shape: a file is read in chunks (bounded memory for a million lines), each chunk is
mapped row by row — a bad row becomes a :class:`~.report.RowError`, never an exception — and
written. If any row of the file was rejected and the user did not ask to skip bad rows, the
file's transaction is rolled back at the end (rows keep being checked so the error report lists
every problem, not just the first). Cancelling through the :class:`TaskContext` rolls back the
file in progress; files finished before it stay imported. A workbook's data sheets are read
one after the other into the same transaction; a rejected row is then named by sheet and row.
"""

from __future__ import annotations

import gc
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from ..domain.errors import UserError
from ..domain.tasks import NULL_TASK, TaskContext
from .records import LineIn
from .report import FileResult, ImportSummary, RowError, RowRejected, write_error_report
from .source import Cell, SourceFile, open_source
from .values import DateReader
from .writer import Writer

log = logging.getLogger(__name__)

CHUNK_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class Skip:
    """A row left out on purpose by a documented rule (counted, not an error)."""

    rule: str
    void_key: str | None = None  # an invoice the file says is void/draft


class RowMapper(Protocol):
    """Turns one source's rows into records; one instance per file."""

    date_columns: list[int]
    date_column_name: str
    notes: Counter[str]

    def map(self, row_no: int, cells: list[Cell]) -> LineIn | Skip: ...


MapperFactory = Callable[[SourceFile, DateReader], RowMapper]


@dataclass
class ImportOptions:
    """What the user chose: the same for the CLI and the GUI."""

    skip_bad_rows: bool = False
    date_format: str | None = None
    encoding: str = "utf-8"
    error_report: Path | None = None
    chunk_rows: int = CHUNK_ROWS
    extra: dict[str, object] = field(default_factory=dict)


def run_import(
    engine: Engine,
    paths: Sequence[Path],
    make_mapper: MapperFactory,
    *,
    source: str,
    invoice_key: str,
    options: ImportOptions,
    ctx: TaskContext = NULL_TASK,
) -> ImportSummary:
    """Import each file in its own transaction and return what happened."""
    if not paths:
        raise UserError("no file given to import")
    summary = ImportSummary()
    for path in paths:
        try:
            result, errors = _import_file(
                engine, Path(path), make_mapper, source, invoice_key, options, ctx
            )
        except UserError as exc:  # the file as a whole is unreadable: say why, go on to the next
            result, errors = FileResult(path=Path(path), error=str(exc)), []
        summary.files.append(result)
        summary.errors.extend(errors)
    if summary.errors and options.error_report is not None:
        summary.error_report = write_error_report(options.error_report, summary.errors)
    return summary


def _chunks(
    rows: Iterator[tuple[int, list[Cell]]], size: int
) -> Iterator[list[tuple[int, list[Cell]]]]:
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield chunk


def _import_file(
    engine: Engine,
    path: Path,
    make_mapper: MapperFactory,
    source: str,
    invoice_key: str,
    options: ImportOptions,
    ctx: TaskContext,
) -> tuple[FileResult, list[RowError]]:
    with _gc_paused():
        return _import_file_body(engine, path, make_mapper, source, invoice_key, options, ctx)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the length of one file.

    A million-line import keeps hundreds of thousands of small objects alive (id maps, invoice
    states); every full collection walks all of them, which made a 1M-line import ~40 % slower
    than 5 × a 200k one. The importer creates no reference cycles, so reference counting frees
    everything it drops; the collector is restored (and was never off for longer) afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import_file_body(
    engine: Engine,
    path: Path,
    make_mapper: MapperFactory,
    source: str,
    invoice_key: str,
    options: ImportOptions,
    ctx: TaskContext,
) -> tuple[FileResult, list[RowError]]:
    result = FileResult(path=path)
    errors: list[RowError] = []
    src = open_source(path, options.encoding)
    dates = DateReader(options.date_format)
    mapper = _mapper(make_mapper, src, dates)
    name = path.name
    result.notes = list(src.notes)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # A bigger page cache keeps the line indexes in memory during a bulk load.
            conn.exec_driver_sql("PRAGMA cache_size=-32768")  # 32 MB
            conn.commit()
        trans = conn.begin()
        writer: Writer | None = None
        try:
            writer = Writer(conn, source=source, invoice_key=invoice_key)
            first = True
            for part in src.parts:
                where = name if part.sheet is None else f"{name} sheet {part.sheet!r}"
                for chunk in _chunks(part.rows, options.chunk_rows):
                    ctx.check()
                    _observe_dates(dates, mapper, chunk)
                    if first and not dates.decided:
                        _prescan_dates(path, options, dates, mapper)
                    dates.refuse_if_ambiguous(name, mapper.date_column_name)
                    first = False
                    rows_read, imported = _map_chunk(
                        chunk, mapper, writer, result, errors, name, part.sheet
                    )
                    result.rows_read += rows_read
                    result.imported += imported
                    if part.sheet is not None:
                        result.sheets[part.sheet] = result.sheets.get(part.sheet, 0) + rows_read
                    if errors and not options.skip_bad_rows:
                        writer.write = False
                    writer.flush()
                    ctx.progress(src.bytes_read(), src.total_bytes, where)
                if part.sheet is not None:
                    result.sheets.setdefault(part.sheet, 0)  # a data sheet with no rows
            ctx.check()
            if result.rows_read == 0:
                result.notes.append("no data rows: the file holds only its column names")
            result.counts = writer.finish()
            result.rejected = len(errors)
            result.kept_notes = mapper.notes
            if errors and not options.skip_bad_rows:
                trans.rollback()
                result.imported = 0
            else:
                trans.commit()
                result.committed = True
        except BaseException:
            if writer is not None:
                writer.close()  # no statement may still run when we roll back
            trans.rollback()
            raise
        finally:
            if writer is not None:
                writer.close()
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
                conn.commit()
    ctx.progress(src.total_bytes, src.total_bytes, name)
    log.info("import %s: %s rows, committed=%s", name, result.rows_read, result.committed)
    return result, errors


def _map_chunk(
    chunk: list[tuple[int, list[Cell]]],
    mapper: RowMapper,
    writer: Writer,
    result: FileResult,
    errors: list[RowError],
    name: str,
    sheet: str | None = None,
) -> tuple[int, int]:
    """Map and add every row of a chunk; returns (rows read, rows imported). Hot loop.

    A mapper that can read a whole chunk column-wise (``map_chunk``, the Zoho export) tries
    that first: a chunk of ordinary new lines then costs a few C-level passes instead of two
    calls per row. Any chunk it or the writer hands back goes row by row, which words each
    problem exactly as before (docs/import.md).
    """
    map_chunk = getattr(mapper, "map_chunk", None)
    if map_chunk is not None:
        columns = map_chunk(chunk)
        if columns is not None and writer.add_columns(columns):
            columns.accept()
            return len(chunk), len(chunk)
    imported = 0
    map_row, add = mapper.map, writer.add
    for row_no, cells in chunk:
        try:
            out = map_row(row_no, cells)
            if out.__class__ is Skip:
                result.skipped[out.rule] += 1
                if out.void_key:
                    writer.void(out.void_key)
                continue
            add(out)  # type: ignore[arg-type]
            imported += 1
        except RowRejected as rej:
            errors.append(RowError(name, row_no, rej.column, rej.value, rej.reason, sheet))
    return len(chunk), imported


def _mapper(make_mapper: MapperFactory, src: SourceFile, dates: DateReader) -> RowMapper:
    """The file's mapper; a workbook whose columns are missing also says which sheets were
    skipped (the columns may be on a sheet that did not come first)."""
    try:
        return make_mapper(src, dates)
    except UserError as exc:
        if not src.notes:
            raise
        skipped = "; ".join(src.notes)
        hint = f"{exc.hint} " if exc.hint else ""
        raise UserError(exc.message, hint=f"{hint}(The workbook's {skipped}.)") from exc


def _observe_dates(
    dates: DateReader, mapper: RowMapper, chunk: list[tuple[int, list[Cell]]]
) -> None:
    seen: set[Cell] = set()
    rows = list(map(itemgetter(1), chunk))
    for i in mapper.date_columns:  # C-level passes over each column: no Python step per cell
        try:
            seen.update(map(itemgetter(i), rows))
        except IndexError:  # a short row (rejected later): read the rows that have the column
            seen.update([cells[i] for cells in rows if i < len(cells)])
    dates.observe(seen)


def _prescan_dates(
    path: Path, options: ImportOptions, dates: DateReader, mapper: RowMapper
) -> None:
    """The first chunk fits two date formats: read the date columns of the whole file once."""
    again = open_source(path, options.encoding)
    for chunk in _chunks(again.rows, options.chunk_rows):
        _observe_dates(dates, mapper, chunk)
        if dates.decided:
            break
    # Drain nothing more: the generator closes its file when collected.
