"""Small NumPy helpers for sparse 0/1 purchase matrices kept as sorted index arrays.

Co-purchase and similar-store computations used to be ``scipy.sparse`` products; the field
app ships without SciPy (issue 11), so they are joins over integer keys. Two things are
needed for that: reading "all entries of these rows" as flat join keys, and float32
sums added one term at a time in a fixed order — which is how SciPy's sparse product
accumulates, so rankings built on those sums (and their ties) stay exactly as before.
"""

from __future__ import annotations

import numpy as np


def distinct_pairs(
    rows: np.ndarray, cols: np.ndarray, n_cols: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row, col) pairs sorted by row then col: the entries of a 0/1 matrix."""
    key = np.sort(rows.astype(np.int64) * n_cols + cols)
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    return key // n_cols, key % n_cols


def row_pointers(sorted_rows: np.ndarray, n_rows: int) -> np.ndarray:
    """CSR-style pointers: entries of row ``r`` are ``ptr[r]:ptr[r + 1]`` of the sorted array."""
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(sorted_rows, minlength=n_rows), out=ptr[1:])
    return ptr


def stable_order(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """``argsort(codes, kind="stable")``; codes below 2**16 are sorted as uint16, which NumPy
    does by radix sort (several times faster on hundreds of thousands of lines)."""
    if n_codes <= 1 << 16:
        codes = codes.astype(np.uint16)
    return np.argsort(codes, kind="stable")


def tagged_entries(
    ptr: np.ndarray, values: np.ndarray, rows: np.ndarray, tags: np.ndarray
) -> np.ndarray:
    """``tags[k] + values[e]`` for every entry ``e`` of row ``rows[k]`` (CSR ``ptr``), all k in
    order, in int32: one pass per step over what is often tens of millions of entries, so
    a join key comes out without an owner array and at half the memory traffic."""
    starts = ptr[rows]
    lengths = ptr[rows + 1] - starts
    total = int(lengths.sum())
    if total >= 2**31:
        raise ValueError("tagged_entries: more than 2**31 entries in one call")
    shift = (np.cumsum(lengths) - lengths - starts).astype(np.int32)
    index = np.arange(total, dtype=np.int32)
    index -= np.repeat(shift, lengths)
    out = values.astype(np.int32, copy=False)[index]
    out += np.repeat(np.asarray(tags, dtype=np.int32), lengths)
    return out


def repeated_sum_f32(value: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``value[k]`` added ``times[k]`` times, one addition at a time in float32 from 0.

    Not ``value * times``: the rounding of the running sum is what a sparse product of 0/1
    rows scaled by ``value`` produces, and neighbour rankings must not move by an ulp.
    Work is ``times.sum()`` additions on contiguous prefixes (no gathers).
    """
    value = np.asarray(value, dtype=np.float32)
    times = np.asarray(times, dtype=np.int64)
    # counts are small: a 16-bit key lets NumPy radix-sort them
    key = -times.astype(np.int16) if len(times) and times.max() < 2**15 else -times
    order = np.argsort(key, kind="stable")
    v, n = value[order], times[order]
    acc = np.zeros(len(v), dtype=np.float32)
    # active[j] = how many entries still take an (j+1)-th term; n is sorted descending
    active = np.searchsorted(-n, -np.arange(1, int(n[0]) + 1 if len(n) else 1), side="right")
    for cnt in active.tolist():
        if cnt == 0:
            break
        acc[:cnt] += v[:cnt]
    out = np.empty_like(acc)
    out[order] = acc
    return out
