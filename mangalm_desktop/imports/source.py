"""Reading an import file (CSV, CSV.gz or XLSX) as a header plus numbered rows, streamed.

Why a module of its own: every way a real file can be broken (empty, UTF-16 from Excel's
"Unicode text", latin-1 bytes, a cut-off gzip, a corrupt workbook) is turned here into one
:class:`~mangalm_desktop.domain.errors.UserError` naming the file, so the importers above only
ever see rows of strings. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..domain.errors import UserError

Cell = str | dt.date
"""A cell: text, or a real date when the workbook stored one."""

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024


@dataclass
class SourceFile:
    """An open import file: its header and an iterator of ``(row_number, cells)``."""

    path: Path
    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    total_bytes: int
    _position: object = field(default=None, repr=False)

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
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise UserError(f"{path.name}: the file is empty (0 bytes); nothing to import")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(ZIP_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _open_xlsx(path, size)
    return _open_csv(path, size, gz=magic.startswith(GZIP_MAGIC), encoding=encoding)


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
    _refuse_utf16(path, head)
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
    finally:
        raw.close()


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
        buffer[: len(data)] = data
        return len(data)


# ---- XLSX -----------------------------------------------------------------------------------


def _open_xlsx(path: Path, size: int) -> SourceFile:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise UserError(f"{path.name}: not a readable Excel workbook ({exc})") from exc
    ws = wb.worksheets[0]
    total_rows = ws.max_row or 0
    it = ws.iter_rows(values_only=True)
    try:
        header_cells = next(it)
    except StopIteration:
        wb.close()
        raise UserError(f"{path.name}: the workbook's first sheet is empty") from None
    header = [_cell_text(c).strip() for c in header_cells]
    while header and not header[-1]:
        header.pop()
    if not header:
        wb.close()
        raise UserError(f"{path.name}: the first row of the first sheet is blank")
    state = {"row": 1}

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for row_no, values in enumerate(it, start=2):
                state["row"] = row_no
                cells = [_cell(v) for v in values]
                if any(c != "" for c in cells):
                    yield row_no, cells
        finally:
            wb.close()

    def position() -> int:
        return size * state["row"] // total_rows if total_rows else 0

    return SourceFile(path, header, rows(), size, _position=position)


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
