"""What a bridge job did, filled in as it goes (so a job that fails keeps its partial counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class JobResult:
    job: str
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    sent: int = 0
    parked: int = 0  # records or orders held back for a person (collisions, rejections)
    waiting: int = 0  # orders "maybe created": looked up again on later runs, never re-created
    deleted: int = 0  # invoices tombstoned because Books no longer has them
    requests: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["warnings"] = self.warnings[:20]
        return d
