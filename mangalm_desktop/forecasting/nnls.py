"""Non-negative least squares for the demand model's few signal columns, in plain NumPy.

The field app ships without SciPy (issue 11: the installer must stay under 250 MB), and the
only thing the demand model needed from it was ``scipy.optimize.nnls``. The demand problem
is tall and thin (hundreds of thousands of rows, five columns), so one QR factorisation of
``[A | b]`` reduces it to a 5 × 5 triangular problem with the same objective, and the
Lawson–Hanson active-set method runs on that tiny system. Following Lawson–Hanson's order of
decisions (most violated constraint enters first, a column numerically dependent on the
chosen ones is skipped) keeps the answer the same as SciPy's even when the problem has
several equally good solutions, e.g. identical signal columns on a short history.
"""

from __future__ import annotations

import numpy as np

DEPENDENT_FACTOR = 0.01
"""Lawson–Hanson's test for a column that adds nothing: its new pivot, scaled by this
factor, vanishes next to the norm of its part already spanned by the chosen columns."""

TIE_TOLERANCE = 1e-9
"""Duals this close count as equal. Two identical signal columns (short histories make the
13-, 26- and 52-week averages the same numbers) get duals that differ only by rounding in
the reduced system; taking the first of them picks the same column SciPy did."""


def nnls(a: np.ndarray, b: np.ndarray, max_iter: int | None = None) -> tuple[np.ndarray, float]:
    """``argmin ||a x − b||₂`` subject to ``x ≥ 0``; returns ``(x, residual norm)``.

    Raises ValueError on non-finite or mis-shaped input (as SciPy does), so a bad signal
    matrix fails loudly instead of giving weights that silently ignore it.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"nnls: shapes {a.shape} and {b.shape} do not fit")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("nnls: the matrix or the target contains NaN or infinity")
    m, n = a.shape
    if n == 0:
        return np.zeros(0), float(np.linalg.norm(b))
    # ||a x − b||² = ||r x − c||² + rho² for the R factor of [a | b]; rows beyond m are 0.
    full = np.zeros((n + 1, n + 1))
    if m:
        qr = np.linalg.qr(np.column_stack([a, b]), mode="r")
        full[: qr.shape[0]] = qr
    r, c, rho = full[:n, :n], full[:n, n], abs(full[n, n])
    x = _lawson_hanson(r, c, 3 * n if max_iter is None else max_iter)
    return x, float(np.hypot(np.linalg.norm(r @ x - c), rho))


def _lawson_hanson(r: np.ndarray, c: np.ndarray, max_iter: int) -> np.ndarray:
    n = r.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    rejected = np.zeros(n, dtype=bool)
    for _ in range(max_iter):
        dual = r.T @ (c - r @ x)
        # the dual of a column may only be trusted when it is clearly positive
        open_ = ~passive & ~rejected & (dual > 0)
        if not open_.any():
            return x
        # first of the (numerically) largest: identical columns enter in column order
        best = np.where(open_, dual, -np.inf)
        j = int(np.flatnonzero(best >= best.max() * (1 - TIE_TOLERANCE))[0])
        if not _independent(r, passive, j):
            rejected[j] = True
            continue
        passive[j] = True
        s = _solve(r, c, passive)
        if s[j] <= 0:  # rounding made the entering column useless: leave it out
            passive[j] = False
            rejected[j] = True
            continue
        rejected[:] = False
        while (s[passive] <= 0).any():
            neg = np.flatnonzero(passive & (s <= 0))
            ratio = x[neg] / (x[neg] - s[neg])
            x = x + ratio.min() * (s - x)
            x[neg[np.argmin(ratio)]] = 0.0  # the constraint that stopped the step binds
            passive &= x > 0
            x[~passive] = 0.0
            s = _solve(r, c, passive)
        x = s
    raise RuntimeError("nnls: no solution within the iteration limit")


def _independent(r: np.ndarray, passive: np.ndarray, j: int) -> bool:
    """Whether column ``j`` adds a direction the chosen columns do not already span."""
    col = r[:, j]
    if passive.any():
        basis, _ = np.linalg.qr(r[:, passive])
        spanned = basis.T @ col
        rest = col - basis @ spanned
        unorm = float(np.linalg.norm(spanned))
    else:
        rest, unorm = col, 0.0
    pivot = float(np.linalg.norm(rest))
    if unorm == 0.0:
        return pivot > 0.0
    return unorm + DEPENDENT_FACTOR * pivot != unorm


def _solve(r: np.ndarray, c: np.ndarray, passive: np.ndarray) -> np.ndarray:
    s = np.zeros(r.shape[1])
    s[passive] = np.linalg.lstsq(r[:, passive], c, rcond=None)[0]
    return s
