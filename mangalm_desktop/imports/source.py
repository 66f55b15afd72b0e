"""Reading an import file (CSV, CSV.gz or XLSX) as a header plus numbered rows, streamed.

Why a module of its own: every way a real file can be broken (empty, UTF-16 from Excel's
"Unicode text", latin-1 bytes, a cut-off gzip, a corrupt workbook) is turned here into one
:class:`~mangalm_desktop.domain.errors.UserError` naming the file, so the importers above only
ever see rows of strings. Rows are numbered as a spreadsheet shows them: the header is row 1.
A workbook is read whole (a history exported a year per sheet is one history): every sheet with
the first sheet's columns, each numbered from its own header, the others named as skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from ..domain.errors import UserError
from .columns import normalize

Cell = str | dt.date
"""A cell: text, or a real date when the workbook stored one."""

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Part:
    """The rows of one place in a file: a CSV, or one data sheet of a workbook.

    ``sheet`` is None when the file has a single data sheet: its rows are then called "row N"
    exactly as before workbooks were read whole; otherwise every row reference names the sheet.
    """

    sheet: str | None
    rows: Iterator[tuple[int, list[Cell]]]


@dataclass
class SourceFile:
    """An open import file: its header and an iterator of ``(row_number, cells)``.

    ``rows`` runs through every part in turn; ``parts`` gives the same rows split by sheet
    (row numbers restart on each sheet, as the spreadsheet shows them). ``notes`` names the
    sheets that were skipped, for the import summary.
    """

    path: Path
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    total_bytes: int
    _position: object = field(default=None, repr=False)
    parts: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.parts:
            self.parts = [Part(None, self.rows)]

    def bytes_read(self) -> int:
        """How far the reader got in the (compressed) file, for progress."""
        pos = self._position
        if not callable(pos):
            return 0
        try:
            return int(pos())
        except ValueError:  # the reader reached the end and closed the file
            return self.total_bytes


def open_source(path: Path, encoding: str = "utf-8") -> SourceFile:
    """Open ``path`` for reading rows; raise :class:`UserError` for anything unreadable."""
    path = Path(path)
    _refuse_not_a_file(path)
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{path.name}: the file is empty (0 bytes); nothing to import")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(ZIP_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(path, size)
    return _open_csv(path, size, gz=magic.startswith(GZIP_MAGIC), encoding=encoding)


def _refuse_not_a_file(path: Path) -> None:
    """Say what ``path`` is when it is not a file to read: missing, a folder, or a device or
    pipe (``/dev/zero`` would otherwise be read for ever)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise UserError(
            f"{path}: is a folder, not a file", hint="Give the export files inside it instead."
        )
    if not stat.S_ISREG(mode):
        raise UserError(
            f"{path}: is not a regular file (a device, pipe or socket); nothing to import",
            hint="Give a CSV, CSV.gz or XLSX file.",
        )


# ---- CSV ------------------------------------------------------------------------------------


def _open_csv(path: Path, size: int, *, gz: bool, encoding: str) -> SourceFile:
    raw: BinaryIO = path.open("rb")
    binary: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw  # type: ignore[assignment]
    try:
        head = _peek(binary, path)
    except UserError:
        raw.close()
        raise
    if not head.strip(b"\r\n\t \xef\xbb\xbf"):
        raw.close()
        raise UserError(f"{path.name}: the file is empty; nothing to import")
    try:
        _refuse_binary(path, head)
    except UserError:
        raw.close()
        raise
    stream = _ChainedReader(head, binary)
    text = io.TextIOWrapper(stream, encoding=_with_bom(encoding), errors="strict", newline="")
    first_line = head.split(b"\n", 1)[0]
    delimiter = _delimiter(first_line)
    # strict: a file cut inside a quoted field is an error, not a silently shortened last value
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    numbered = _numbered(path, reader, encoding, raw)
    try:
        header = next(numbered)[1]
    except StopIteration:
        raw.close()
        raise UserError(f"{path.name}: the file is empty; nothing to import") from None
    header = [str(h).strip() for h in header]
    if not any(header):
        raw.close()
        raise UserError(f"{path.name}: the first line is blank; expected a header row")

    return SourceFile(path, header, numbered, size, _position=raw.tell)  # type: ignore[arg-type]


def _peek(binary: BinaryIO, path: Path) -> bytes:
    try:
        return binary.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise UserError(f"{path.name}: cannot read the compressed file ({exc})") from exc


def _with_bom(encoding: str) -> str:
    # A UTF-8 byte-order mark (Excel's "CSV UTF-8") must not end up in the first column name.
    return "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding


def _refuse_binary(path: Path, head: bytes) -> None:
    """UTF-16 or NUL bytes in the first 64 KB (later ones are caught while reading)."""
    _refuse_utf16(path, head)
    if b"\x00" in head:
        row = head[: head.index(b"\x00")].count(b"\n") + 1
        raise UserError(
            f"{path.name}: holds a NUL byte (binary data) near row {row}; not a text CSV, "
            "nothing from it was imported",
            hint="Export the file again as CSV UTF-8; a NUL byte is never part of a name.",
        )


def _refuse_utf16(path: Path, head: bytes) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4096]:
        raise UserError(
            f"{path.name}: the file is UTF-16 (or binary), not a UTF-8 CSV",
            hint="Save it again as 'CSV UTF-8 (comma delimited)' or export CSV from Zoho Books.",
        )


def _delimiter(first_line: bytes) -> str:
    # Zoho exports commas; a European Excel re-save uses semicolons, a paste tab-separated text.
    counts = {d: first_line.count(d.encode()) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _numbered(path: Path, reader, encoding: str, raw: BinaryIO) -> Iterator[tuple[int, list[str]]]:  # noqa: ANN001
    """Rows numbered from 1 (the header); blank lines are skipped but still counted."""
    row_no = 0
    try:
        for row in reader:
            row_no += 1
            if len(row) <= 1 and (not row or not row[0].strip()):
                continue  # blank line (often the last one)
            yield row_no, row
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path.name}: not {encoding} text (undecodable byte near row {row_no + 1})",
            hint="Export the file as UTF-8, or pass --encoding latin-1 if that is what it is.",
        ) from exc
    except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise UserError(
            f"{path.name}: the compressed file is truncated or corrupt after row {row_no} ({exc})",
            hint="Copy or download the file again; nothing from it was imported.",
        ) from exc
    except csv.Error as exc:
        raise UserError(f"{path.name}: malformed CSV near row {row_no + 1}: {exc}") from exc
    except _NulByte:
        raise UserError(
            f"{path.name}: holds a NUL byte (binary data) near row {row_no + 1}; not a text CSV, "
            "nothing from it was imported",
            hint="Export the file again as CSV UTF-8; a NUL byte is never part of a name.",
        ) from None
    finally:
        raw.close()


class _NulByte(Exception):
    """A NUL byte past the sniffed head: binary data, never text (issue 23 finding 7)."""


class _ChainedReader(io.RawIOBase):
    """Bytes already peeked at, then the rest of the stream (so sniffing costs no re-open)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - writable buffer
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        if b"\x00" in data:
            raise _NulByte
        buffer[: len(data)] = data
        return len(data)


# ---- XLSX -----------------------------------------------------------------------------------

HEADER_SEARCH_ROWS = 10
"""How far down a sheet with none of the columns in its first row we look for them (a title
row above the header would otherwise make a data sheet look like notes)."""


@dataclass
class _Sheet:
    """A worksheet to read: its header and how its columns map onto the first data sheet's."""

    title: str
    ws: Any
    header: list[str]
    order: list[int] | None = None  # first sheet's column i is this sheet's order[i]; None: same


def _open_xlsx(path: Path, size: int) -> SourceFile:
    """Every sheet with the first data sheet's header is read, sheet after sheet.

    A history exported a year per sheet must not be cut to its first year. Sheets that are
    empty or hold none of the header's columns (notes, a pivot) are skipped and named in
    :attr:`SourceFile.notes`; a sheet with only some of the columns is refused before any row is
    read, because it looks like data with a column renamed.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _refuse_oversized_parts(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise UserError(f"{path.name}: not a readable Excel workbook ({exc})") from exc
    except XLSX_PARSE_ERRORS as exc:
        raise UserError(f"{path.name}: not a readable Excel workbook ({_why(exc)})") from exc
    try:
        sheets, notes = _data_sheets(path, wb.worksheets)
    except XLSX_PARSE_ERRORS as exc:
        wb.close()
        raise UserError(f"{path.name}: not a readable Excel workbook ({_why(exc)})") from exc
    except BaseException:
        wb.close()
        raise
    sizes = [s.ws.max_row or 0 for s in sheets]
    total_rows = sum(sizes)
    state = {"before": 0, "row": 1, "open": len(sheets)}

    def rows(index: int, sheet: _Sheet) -> Iterator[tuple[int, list[Cell]]]:
        finished = False
        try:
            state["before"], state["row"] = sum(sizes[:index]), 1
            it = sheet.ws.iter_rows(values_only=True)
            next(it, None)  # the header, checked already
            order, width = sheet.order, len(sheet.header)
            try:
                for row_no, values in enumerate(it, start=2):
                    state["row"] = row_no
                    cells = [_cell(v) for v in values]
                    if any(c != "" for c in cells):
                        yield row_no, (cells if order is None else _reordered(cells, order, width))
            except XLSX_PARSE_ERRORS as exc:
                raise UserError(
                    f"{path.name}: the workbook is damaged after row {state['row']} of sheet "
                    f"{sheet.title!r} ({_why(exc)}); nothing from it was imported"
                ) from exc
            finished = True
        finally:
            state["open"] -= 1
            if not finished or state["open"] == 0:
                wb.close()

    def position() -> int:
        return size * (state["before"] + state["row"]) // total_rows if total_rows else 0

    labelled = len(sheets) > 1  # one data sheet: rows are "row N", exactly as before
    parts = [Part(s.title if labelled else None, rows(i, s)) for i, s in enumerate(sheets)]
    rows_all = chain.from_iterable(p.rows for p in parts)
    return SourceFile(
        path, sheets[0].header, rows_all, size, _position=position, parts=parts, notes=notes
    )


XLSX_PARSE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,  # xml.etree's ParseError is a SyntaxError
)
"""What openpyxl raises on a damaged or hostile workbook (truncated parts, bad XML, a CRC
failure, a cell type it does not know): every one means "not a readable workbook"."""


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


XLSX_PART_CAP = 100 * 1024 * 1024
"""Largest unpacked size of a workbook part openpyxl loads whole, even in read-only mode
(shared strings, styles, workbook): 100 MB. Worksheets are streamed row by row, so they may be
bigger, up to :data:`XLSX_SHEET_CAP`. A 2.3 MB file whose shared strings unpack to a gigabyte
took a gigabyte of memory before this check (issue 23 finding 7)."""
XLSX_SHEET_CAP = 2 * 1024 * 1024 * 1024
"""Largest unpacked worksheet: 2 GB of XML is over ten million rows (Excel stops at about one
million); beyond that it is a zip bomb."""


def _refuse_oversized_parts(path: Path) -> None:
    """Refuse a workbook whose parts would unpack past the caps, before openpyxl reads it.

    The sizes come from the zip directory; Python's zip reader never returns more bytes than a
    member declares (and then fails its CRC), so a member cannot lie its way past the cap.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{path.name}: not a readable Excel workbook ({exc})") from exc
    for m in members:
        sheet = m.filename.startswith("xl/worksheets/")
        cap = XLSX_SHEET_CAP if sheet else XLSX_PART_CAP
        if m.file_size > cap:
            what = "a worksheet" if sheet else f"its part {m.filename!r}"
            raise UserError(
                f"{path.name}: {what} unpacks to {m.file_size / 2**20:,.0f} MB, more than the "
                f"{cap / 2**20:,.0f} MB an import reads (a damaged or hostile workbook?); "
                "nothing was imported",
                hint="Export the data as CSV (or CSV.gz) instead.",
            )


def _data_sheets(path: Path, worksheets: list[Any]) -> tuple[list[_Sheet], list[str]]:
    """The sheets to read (the first with a header sets it) and a note on each one skipped."""
    notes: list[str] = []
    sheets: list[_Sheet] = []
    for ws in worksheets:
        first = list(ws.iter_rows(max_row=1, values_only=True))
        header = _header(first[0]) if first else None
        if not sheets:
            if header is None and len(worksheets) == 1:
                raise UserError(f"{path.name}: the workbook's first sheet is empty")
            if header is None:
                notes.append(f"sheet {ws.title!r} skipped: empty")
                continue
            if not header:  # data under a title, or a cover page: which, only the user knows
                where = "the first sheet" if len(worksheets) == 1 else f"sheet {ws.title!r}"
                raise UserError(
                    f"{path.name}: the first row of {where} is blank",
                    hint=None
                    if len(worksheets) == 1
                    else "Put the column names in the first row of the first data sheet, or "
                    "move sheets that are not sales rows to another file.",
                )
            sheets.append(_Sheet(ws.title, ws, header))
            continue
        if header is None:
            notes.append(f"sheet {ws.title!r} skipped: empty")
            continue
        sheet = _matched(path, sheets[0], _Sheet(ws.title, ws, header))
        if sheet is None:
            notes.append(f"sheet {ws.title!r} skipped: not data")
        else:
            sheets.append(sheet)
    if not sheets:
        raise UserError(f"{path.name}: every sheet of the workbook is empty; nothing to import")
    return sheets, notes


def _header(first_row: tuple[object, ...]) -> list[str]:
    header = [_cell_text(c).strip() for c in first_row]
    while header and not header[-1]:
        header.pop()
    return header


def _matched(path: Path, first: _Sheet, sheet: _Sheet) -> _Sheet | None:
    """``sheet`` with its column order, None when it holds none of the columns (not data);
    :class:`UserError` when it holds only some of them, or them under a title row."""
    if sheet.header == first.header:
        return sheet
    want = [normalize(h) for h in first.header]
    have = [normalize(h) for h in sheet.header]
    want_set, have_set = {w for w in want if w}, {h for h in have if h}
    if not want_set & have_set:
        _refuse_header_below(path, first, sheet, want_set)
        return None
    duplicated = len(want_set) < sum(1 for w in want if w) or len(have_set) < sum(
        1 for h in have if h
    )
    if want_set != have_set or duplicated:
        missing = [h for h, w in zip(first.header, want, strict=True) if w and w not in have_set]
        extra = [h for h, n in zip(sheet.header, have, strict=True) if n and n not in want_set]
        diff = "; ".join(
            part
            for part in (
                f"missing {', '.join(map(repr, missing))}" if missing else "",
                f"not in sheet {first.title!r}: {', '.join(map(repr, extra))}" if extra else "",
                "a column name repeated" if duplicated and not (missing or extra) else "",
            )
            if part
        )
        raise UserError(
            f"{path.name}: sheet {sheet.title!r} has different columns from sheet "
            f"{first.title!r} ({diff}); nothing was imported",
            hint="Give every data sheet the same column names (a renamed column?), or move "
            "sheets that are not sales rows to another file.",
        )
    position = {h: i for i, h in enumerate(have) if h}
    sheet.order = [position[w] if w else -1 for w in want]
    return sheet


def _refuse_header_below(path: Path, first: _Sheet, sheet: _Sheet, want: set[str]) -> None:
    """A sheet whose first row holds none of the columns is notes, unless a row just below
    holds most of them: then it is data under a title row, and skipping it would lose it."""
    rows = sheet.ws.iter_rows(min_row=2, max_row=HEADER_SEARCH_ROWS, values_only=True)
    for row_no, values in enumerate(rows, start=2):
        found = {normalize(_cell_text(v)) for v in values} & want
        if len(found) >= 2 and 2 * len(found) >= len(want):
            raise UserError(
                f"{path.name}: sheet {sheet.title!r} has the columns of sheet {first.title!r} "
                f"in row {row_no}, not in row 1; nothing was imported",
                hint="Delete the rows above the column names on that sheet, or move the sheet "
                "to another file.",
            )


def _reordered(cells: list[Cell], order: list[int], width: int) -> list[Cell]:
    """A row of a sheet with the columns in another order, in the first sheet's order; cells
    past the sheet's header are kept at the end so a row-width check still sees them."""
    n = len(cells)
    out: list[Cell] = [cells[j] if 0 <= j < n else "" for j in order]
    out.extend(cells[width:])
    return out


def _cell(value: object) -> Cell:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _cell_text(value)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Excel stores every number as a float: 13085.0 is the customer id "13085".
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
