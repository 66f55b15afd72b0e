"""Time-ordered UUIDs (RFC 9562 version 7) for rows an import creates.

Why not uuid4: a bulk import adds a million lines, and random keys land all over the primary-key
and (invoice_id, line_no) B-trees, so every insert touches a different page. Version-7 ids start
with the millisecond timestamp and count up within one import, so new keys append at the end of
the index — same uniqueness guarantees (74 random bits per generator), born where the row is.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION_7 = 0x7000
_VARIANT = 0x8000_0000_0000_0000


class UuidV7Source:
    """Hands out increasing version-7 UUIDs: one timestamp and random base, then a counter."""

    def __init__(self) -> None:
        ms = time.time_ns() // 1_000_000
        rand = int.from_bytes(os.urandom(10), "big")
        rand_a = rand & 0xFFF
        # 62 random bits for rand_b, top bit cleared so 2**61 ids can follow without overflow
        self._lo = (rand >> 12) & ((1 << 61) - 1)
        self._hi = ((ms & ((1 << 48) - 1)) << 16 | _VERSION_7 | rand_a) << 64 | _VARIANT

    def next_int(self) -> int:
        self._lo += 1
        return self._hi | self._lo

    def next(self) -> uuid.UUID:
        return uuid.UUID(int=self.next_int())

    def next_hex(self) -> str:
        """The same id as ``next().hex`` without building the UUID object."""
        self._lo += 1
        return f"{self._hi | self._lo:032x}"

    def next_hexes(self, n: int) -> list[str]:
        """The next ``n`` ids as from ``next_hex``, made in one go (the column-wise import)."""
        hi, lo = self._hi, self._lo
        self._lo += n
        return [f"{hi | i:032x}" for i in range(lo + 1, lo + n + 1)]
