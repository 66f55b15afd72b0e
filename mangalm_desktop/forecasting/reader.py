"""Read sales history files (CSV, CSV.gz, XLSX) into one tidy line table, without a database.

``mangalm evaluate`` must score any business's history straight from its export, so this
reader maps the file's own column names (``--columns store=CustomerID,...``) onto ours and
fails with a message naming the missing column and the ones it did find. The history
importer (``imports/``) writes to the database; this one only reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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


def _read_one(path: Path, wanted: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise UserError(f"history file not found: {path}")
    name = path.name.lower()
    try:
        if name.endswith((".xlsx", ".xlsm")):
            head = pd.read_excel(path, nrows=0)
            _check_columns(path, list(head.columns), wanted)
            return pd.read_excel(path, usecols=wanted, dtype=str)
        head = pd.read_csv(path, nrows=0)
        _check_columns(path, list(head.columns), wanted)
        return pd.read_csv(path, usecols=wanted, dtype=str, keep_default_na=False)
    except UserError:
        raise
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc


def _check_columns(path: Path, found: list[str], wanted: list[str]) -> None:
    missing = [c for c in wanted if c not in found]
    if missing:
        raise UserError(
            f"{path.name}: no column {', '.join(repr(m) for m in missing)}",
            hint=f"columns in the file: {', '.join(map(str, found))}",
        )


def read_history(paths: Sequence[str | Path], columns: ColumnMap) -> pd.DataFrame:
    """Return columns store, product, invoice (str), date (datetime64, day), quantity (int64),
    price (float64, NaN when unmapped), one row per file line, in file order.

    Rows with an unreadable date or quantity make the whole read fail with the first bad row
    numbered, rather than silently dropping sales.
    """
    if not paths:
        raise UserError("no history file given")
    field_to_col = {f: getattr(columns, f) for f in REQUIRED_FIELDS + OPTIONAL_FIELDS}
    wanted = sorted({c for c in field_to_col.values() if c})
    frames = []
    for p in paths:
        raw = _read_one(Path(p), wanted)
        out = pd.DataFrame(index=raw.index)
        for field in ("store", "product", "invoice"):
            out[field] = raw[field_to_col[field]].fillna("").astype(str).str.strip()
        # Numeric ids exported as floats ("13085.0") are the same store as "13085".
        out["store"] = out["store"].str.replace(r"\.0$", "", regex=True)
        dates = pd.to_datetime(raw[field_to_col["date"]], errors="coerce", format="mixed")
        qty = pd.to_numeric(raw[field_to_col["quantity"]], errors="coerce")
        for label, series in (("date", dates), ("quantity", qty)):
            bad = series.isna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # header is line 1
                raise UserError(
                    f"{Path(p).name} line {row}: unreadable {label} "
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
