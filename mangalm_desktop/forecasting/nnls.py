"""Non-negative least squares for the demand model's few signal columns, in plain NumPy.

The field app ships without SciPy (issue 11: the installer must stay under 250 MB), and the
only thing the demand model needed from it was ``scipy.optimize.nnls``. The demand problem
is tall and thin (hundreds of thousands of rows, five columns), so one QR factorisation of
``[A | b]`` reduces it to a 5 × 5 triangular problem with the same objective, and the
Lawson–Hanson active-set method runs on that tiny system.

The steps follow Lawson and Hanson's NNLS (and SciPy's C translation of it) decision for
decision: the order in which free columns are scanned (a permutation that changes as columns
enter and leave), the largest dual entering first, a column numerically dependent on the
chosen ones or with a non-positive tentative weight being skipped, and the iteration limit.
When the optimum is unique any correct method finds it; following the same decisions also
gives SciPy's answer when it is not — identical signal columns, which short histories
produce (the 13-, 26- and 52-week averages, and last year's weeks, are then the same
numbers) — so the demand weights do not change with the library.
"""

from __future__ import annotations

import numpy as np

PIVOT_ULPS = 100.0
"""A column enters only if its new pivot exceeds this many units in the last place of the
norm of its part already spanned by the chosen columns (Lawson–Hanson's dependence test)."""

TIE_TOLERANCE = 1e-9
"""Duals this close count as equal and the first in scan order wins. Identical columns have
exactly equal duals in the original problem; in the reduced one they differ by rounding."""


def nnls(a: np.ndarray, b: np.ndarray, max_iter: int | None = None) -> tuple[np.ndarray, float]:
    """``argmin ||a x − b||₂`` subject to ``x ≥ 0``; returns ``(x, residual norm)``.

    Raises ValueError on non-finite or mis-shaped input and RuntimeError when the iteration
    limit (default 3 × columns) is reached, as SciPy does, so a bad signal matrix fails
    loudly instead of giving weights that silently ignore it.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"nnls: shapes {a.shape} and {b.shape} do not fit")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("nnls: the matrix or the target contains NaN or infinity")
    m, n = a.shape
    if m == 0 or n == 0:
        return np.zeros(n), float(np.linalg.norm(b))
    # ||a x − b||² = ||r x − c||² + rho² for the R factor of [a | b]; rows beyond m are 0.
    full = np.zeros((n + 1, n + 1))
    qr = np.linalg.qr(np.column_stack([a, b]), mode="r")
    full[: qr.shape[0]] = qr
    r, c, rho = full[:n, :n], full[:n, n], abs(full[n, n])
    x = _lawson_hanson(r, c, min(m, n), 3 * n if max_iter is None else max_iter)
    return x, float(np.hypot(np.linalg.norm(r @ x - c), rho))


def _lawson_hanson(r: np.ndarray, c: np.ndarray, max_passive: int, max_iter: int) -> np.ndarray:
    n = r.shape[1]
    x = np.zeros(n)
    # order[:n_p] are the chosen (passive) columns, order[n_p:] the free ones in scan order
    order = list(range(n))
    n_p = 0
    iteration = 0
    while n_p < max_passive:
        dual = r.T @ (c - r @ x)
        free = order[n_p:]
        usable = [j for j in free if dual[j] > 0]
        s = None
        while usable:
            top = max(dual[j] for j in usable)
            j = next(j for j in free if j in usable and dual[j] >= top * (1 - TIE_TOLERANCE))
            if _independent(r, order[:n_p], j):
                s = _solve(r, c, [*order[:n_p], j])
                if s[j] > 0:
                    break
            usable.remove(j)
            s = None
        if s is None:
            return x
        pos = order.index(j)
        order[pos], order[n_p] = order[n_p], j
        n_p += 1
        while True:
            iteration += 1
            if iteration >= max_iter:
                raise RuntimeError("nnls: no solution within the iteration limit")
            chosen = order[:n_p]
            neg = [k for k in chosen if s[k] <= 0]
            if not neg:
                break
            ratios = [x[k] / (x[k] - s[k]) for k in neg]
            first = neg[int(np.argmin(ratios))]  # the first smallest, in chosen order
            alpha = min(ratios)
            for k in chosen:
                x[k] += alpha * (s[k] - x[k])
            x[first] = 0.0
            # every chosen column whose weight reached zero goes back, to the front of the
            # free ones (the most recent first), keeping the others' order
            for k in [first] + [k for k in chosen if k != first]:
                if x[k] <= 0 and k in order[:n_p]:
                    x[k] = 0.0
                    order.remove(k)
                    n_p -= 1
                    order.insert(n_p, k)
            s = _solve(r, c, order[:n_p])
        x = np.zeros(n)
        x[order[:n_p]] = s[order[:n_p]]
    return x


def _independent(r: np.ndarray, chosen: list[int], j: int) -> bool:
    """Whether column ``j`` adds a direction the chosen columns do not already span."""
    col = r[:, j]
    if chosen:
        basis, _ = np.linalg.qr(r[:, chosen])
        spanned = basis.T @ col
        pivot = float(np.linalg.norm(col - basis @ spanned))
        unorm = float(np.linalg.norm(spanned))
    else:
        pivot, unorm = float(np.linalg.norm(col)), 0.0
    return pivot > PIVOT_ULPS * float(np.spacing(unorm)) if unorm > 0 else pivot > 0


def _solve(r: np.ndarray, c: np.ndarray, chosen: list[int]) -> np.ndarray:
    s = np.zeros(r.shape[1])
    if chosen:
        s[chosen] = np.linalg.lstsq(r[:, chosen], c, rcond=None)[0]
    return s
