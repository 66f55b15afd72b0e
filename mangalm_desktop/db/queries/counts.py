"""Record counts for the status bar."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class RecordCounts:
    stores: int
    products: int
    invoices: int
    pending_changes: int


def record_counts(engine: Engine) -> RecordCounts:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM store WHERE NOT deleted),"
                " (SELECT count(*) FROM product WHERE NOT deleted),"
                " (SELECT count(*) FROM invoice WHERE NOT deleted),"
                " (SELECT count(*) FROM outbox WHERE status = 'pending')"
            )
        ).one()
    return RecordCounts(*(int(v) for v in row))
