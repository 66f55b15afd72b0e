"""The import writer's column-wise row encoding gives what its row-by-row encoding gives.

New invoices are encoded at flush column by column (``_Encoder.rows``: each column's distinct
values converted once); the rows must be exactly what ``_Encoder.row`` makes of each, on the
SQLite driver's positional parameters and on PostgreSQL's named ones.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine

from mangalm_desktop.imports.writer import INVOICE_T, _Encoder


def _values() -> list[dict[str, object]]:
    day = dt.date(2024, 3, 1)
    now = dt.datetime(2024, 3, 2, 10, 30, tzinfo=dt.UTC)
    store, agent = uuid.uuid4(), uuid.uuid4()
    out: list[dict[str, object]] = []
    for i in range(40):
        out.append(
            {
                "id": uuid.uuid4(), "version": 1, "deleted": False, "updated_at": now,
                "number": f"INV-{i}", "kind": "credit_note" if i % 7 == 0 else "invoice",
                "status": None if i % 5 == 0 else "Closed", "store_id": store,
                "agent_id": None if i % 3 == 0 else agent, "salesperson": "Ravi",
                "invoice_date": day + dt.timedelta(days=i % 4),
                "due_date": None if i % 2 else day,
                # equal Decimals written differently, negatives, zero, None
                "subtotal": (Decimal("10"), Decimal("10.0"), Decimal("10.00"), None)[i % 4],
                "total": Decimal(f"{(i - 20) * 1234.5:.2f}"),
                "discount_amount": Decimal("-0.00") if i % 6 == 0 else Decimal("0"),
                "balance": Decimal("0.005") if i == 3 else None,
                "source": "zoho_books_export", "zoho_invoice_id": str(9000 + i),
            }
        )  # fmt: skip
    del out[5]["status"]  # a key missing from one row: None, as row() has it
    return out


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://u@localhost/x"])
def test_rows_encode_column_wise_what_row_encodes_one_by_one(url: str) -> None:
    engine = create_engine(url)  # the dialect only: nothing connects
    enc = _Encoder(engine, INVOICE_T)  # type: ignore[arg-type]
    values = _values()
    full = [dict.fromkeys(enc.columns) | v for v in values]
    assert enc.rows(values) == [enc.row(v) for v in full]
    assert enc.rows([]) == []
