"""Read sales history files (CSV, CSV.gz, XLSX) into one tidy line table, without a database.

``mangalm evaluate`` must score any business's history straight from its export, so this
reader maps the file's own column names (``--columns store=CustomerID,...``) onto ours and
fails with a message naming the missing column and the ones it did find. The history
importer (``imports/``) writes to the database; this one only reads.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..domain.date_formats import COMMON_DATE_FORMATS
from ..domain.errors import UserError

REQUIRED_FIELDS = ("store", "product", "date", "quantity", "invoice")
OPTIONAL_FIELDS = ("price",)


@dataclass(frozen=True)
class ColumnMap:
    """Which file column holds each of our fields (``price`` is optional)."""

    store: str
    product: str
    date: str
    quantity: str
    invoice: str
    price: str | None = None

    @classmethod
    def parse(cls, text: str) -> ColumnMap:
        """Parse ``store=CustomerID,product=StockCode,...`` as typed on the command line."""
        mapping: dict[str, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not sep or not value.strip():
                raise UserError(
                    f"--columns: '{part}' is not field=column",
                    hint="example: store=CustomerID,product=StockCode,date=InvoiceDate,"
                    "quantity=Quantity,invoice=InvoiceNo",
                )
            if key not in REQUIRED_FIELDS + OPTIONAL_FIELDS:
                raise UserError(
                    f"--columns: unknown field '{key}'",
                    hint=f"fields: {', '.join(REQUIRED_FIELDS + OPTIONAL_FIELDS)}",
                )
            mapping[key] = value.strip()
        missing = [f for f in REQUIRED_FIELDS if f not in mapping]
        if missing:
            raise UserError(f"--columns: missing {', '.join(missing)}")
        return cls(**mapping)


ONLINE_RETAIL_COLUMNS = ColumnMap(
    store="CustomerID",
    product="StockCode",
    date="InvoiceDate",
    quantity="Quantity",
    invoice="InvoiceNo",
    price="UnitPrice",
)


def _read_one(path: Path, wanted: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """The file's data as ``(label, raw frame)`` pieces: one for a CSV, one per data sheet of a
    workbook. The label names where a bad row is ("h.xlsx sheet 'Year 2010-2011'")."""
    if not path.exists():
        raise UserError(f"history file not found: {path}")
    try:
        if path.name.lower().endswith((".xlsx", ".xlsm")):
            return _read_workbook(path, wanted)
        return [(path.name, _read_csv(path, wanted))]
    except UserError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, pd.errors.ParserError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc


def _read_csv(path: Path, wanted: list[str]) -> pd.DataFrame:
    """UTF-8 (a BOM allowed, as Excel writes it), else Latin-1. Exports of this kind of data
    often come as Latin-1 ("£" in descriptions); only ids, dates and numbers are used here, so
    reading the bytes as Latin-1 loses nothing that is scored, where refusing would lose the run.
    """
    try:
        return _read_csv_as(path, wanted, "utf-8-sig")
    except UnicodeDecodeError:
        return _read_csv_as(path, wanted, "latin-1")


def _read_csv_as(path: Path, wanted: list[str], encoding: str) -> pd.DataFrame:
    head = pd.read_csv(path, nrows=0, encoding=encoding)
    _check_columns(path.name, list(head.columns), wanted)
    return pd.read_csv(path, usecols=wanted, dtype=str, keep_default_na=False, encoding=encoding)


def _read_workbook(path: Path, wanted: list[str]) -> list[tuple[str, pd.DataFrame]]:
    """Every sheet that holds the columns: a history exported a year per sheet (as the UCI
    Online Retail II workbook is) must not be cut to its first year. Sheets with none of the
    columns (notes, charts) are skipped; a sheet with only some of them is refused, because it
    looks like data with a column renamed."""
    with pd.ExcelFile(path) as book:  # opened once: the headers and the rows
        heads = {sheet: book.parse(sheet, nrows=0) for sheet in book.sheet_names}
        data: list[str] = []
        for sheet, head in heads.items():
            found = [str(c) for c in head.columns]
            present = [c for c in wanted if c in found]
            if len(present) == len(wanted):
                data.append(sheet)
            elif present:
                _check_columns(f"{path.name} sheet {sheet!r}", found, wanted)
        if not data:
            first, head = next(iter(heads.items()), ("", pd.DataFrame()))
            _check_columns(f"{path.name} sheet {first!r}", [str(c) for c in head.columns], wanted)
        return [
            (f"{path.name} sheet {sheet!r}", book.parse(sheet, usecols=wanted, dtype=str))
            for sheet in data
        ]


def _check_columns(where: str, found: list[str], wanted: list[str]) -> None:
    missing = [c for c in wanted if c not in found]
    if missing:
        raise UserError(
            f"{where}: no column {', '.join(repr(m) for m in missing)}",
            hint=f"columns in the file: {', '.join(map(str, found))}",
        )


def read_history(
    paths: Sequence[str | Path], columns: ColumnMap, date_format: str | None = None
) -> pd.DataFrame:
    """Return columns store, product, invoice (str), date (datetime64, day), quantity (int64),
    price (float64, NaN when unmapped), one row per file line, in file order.

    Rows with an unreadable date or quantity make the whole read fail with the first bad row
    numbered, rather than silently dropping sales. Each file (or sheet) is read in one date
    format, detected (see :func:`_parse_dates`) unless ``date_format`` is given.
    """
    if not paths:
        raise UserError("no history file given")
    field_to_col = {f: getattr(columns, f) for f in REQUIRED_FIELDS + OPTIONAL_FIELDS}
    wanted = sorted({c for c in field_to_col.values() if c})
    frames = []
    pieces = [piece for p in paths for piece in _read_one(Path(p), wanted)]
    for where, raw in pieces:
        out = pd.DataFrame(index=raw.index)
        for field in ("store", "product", "invoice"):
            out[field] = raw[field_to_col[field]].fillna("").astype(str).str.strip()
        # Numeric ids exported as floats ("13085.0") are the same store as "13085".
        out["store"] = out["store"].str.replace(r"\.0$", "", regex=True)
        dates = _parse_dates(raw[field_to_col["date"]], where, date_format)
        qty = pd.to_numeric(raw[field_to_col["quantity"]], errors="coerce")
        for label, series in (("date", dates), ("quantity", qty)):
            bad = series.isna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # header is line 1
                raise UserError(
                    f"{where} line {row}: unreadable {label} "
                    f"{raw[field_to_col[label]].iloc[row - 2]!r} ({int(bad.sum())} such rows)"
                )
        out["date"] = dates.dt.normalize().astype("datetime64[ns]")
        out["quantity"] = np.rint(qty.to_numpy()).astype(np.int64)
        if columns.price:
            out["price"] = pd.to_numeric(raw[columns.price], errors="coerce").astype(float)
        else:
            out["price"] = np.nan
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def _parse_dates(cells: pd.Series, where: str, date_format: str | None) -> pd.Series:
    """The cells as datetimes (NaT where unreadable), all in the one format that reads most of
    them — the importer's list (:data:`COMMON_DATE_FORMATS`) — so 01/02/2011 and 25/12/2011 in
    one UK export are both day-first. Reading each cell on its own would take the first as
    2 January and the second as 25 December, silently. When the file's dates fit two formats
    that give different days, it refuses and asks for ``--date-format``; a file in a format
    not listed is read cell by cell, as pandas infers it.
    """
    text = cells.fillna("").astype(str).str.strip()
    values = pd.Series(pd.unique(text[text != ""]), dtype=object)
    best: dict[str, pd.Series] = {}
    most = 0
    for fmt in [date_format] if date_format else COMMON_DATE_FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        n = int(parsed.notna().sum())
        if n and n == most:
            best[fmt] = parsed
        elif n > most:
            best, most = {fmt: parsed}, n
    if date_format is None and most < len(values):
        anyhow = pd.to_datetime(values, format="mixed", errors="coerce")
        if anyhow.notna().all():
            best = {"mixed": anyhow}
    if len(best) > 1:
        days = pd.DataFrame({f: d.dt.normalize() for f, d in best.items()})
        differ = np.flatnonzero((days.nunique(axis=1) > 1).to_numpy())
        if len(differ):
            shown = " or ".join(f"'{f}'" for f in best)
            raise UserError(
                f"{where}: the dates are ambiguous: {values.iloc[differ[0]]!r} could be read "
                f"as {shown} and no date in the file tells which",
                hint=f"Rerun with --date-format and one of {shown} (strftime codes).",
            )
    chosen = next(iter(best.values()), pd.Series(pd.NaT, index=values.index))
    return text.map(pd.Series(chosen.to_numpy(), index=values.to_numpy()))
