"""Scoring sums that pool over origins (micro-averages), so several origins add up honestly."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

METRIC_KEYS = (
    "basket_f1",
    "basket_precision",
    "basket_recall",
    "qty_fill",
    "qty_precision",
    "wape",
    "wape_total",
    "rmsse",
    "bias",
    "coverage_80",
)
"""Every method's scores in ``mangalm evaluate``, in the order its table prints them."""


@dataclass
class BasketScore:
    """Next-order line counts: suggested, actual, matched, and quantity sums."""

    suggested: int = 0
    actual: int = 0
    hits: int = 0
    qty_min: float = 0.0
    qty_suggested: float = 0.0
    qty_actual: float = 0.0

    def add(self, suggested: pd.DataFrame, actual: pd.DataFrame) -> None:
        """``suggested``/``actual``: columns s, p, qty (one row per line)."""
        m = suggested[["s", "p", "qty"]].merge(
            actual[["s", "p", "qty"]], on=["s", "p"], suffixes=("_s", "_a")
        )
        self.suggested += len(suggested)
        self.actual += len(actual)
        self.hits += len(m)
        self.qty_min += float(np.minimum(m["qty_s"], m["qty_a"]).sum())
        self.qty_suggested += float(suggested["qty"].sum())
        self.qty_actual += float(actual["qty"].sum())

    def as_dict(self) -> dict[str, float]:
        p = self.hits / self.suggested if self.suggested else 0.0
        r = self.hits / self.actual if self.actual else 0.0
        return {
            "basket_f1": 2 * p * r / (p + r) if p + r else 0.0,
            "basket_precision": p,
            "basket_recall": r,
            "qty_fill": self.qty_min / self.qty_actual if self.qty_actual else 0.0,
            "qty_precision": self.qty_min / self.qty_suggested if self.qty_suggested else 0.0,
        }


@dataclass
class DemandScore:
    """Weekly cell errors pooled over series and origins."""

    abs_err: float = 0.0
    abs_err_total: float = 0.0
    err: float = 0.0
    actual: float = 0.0
    covered: int = 0
    cells: int = 0
    rmsse: list[float] = field(default_factory=list)
    has_interval: bool = False

    def add(
        self,
        point: np.ndarray,
        actual: np.ndarray,
        history: np.ndarray,
        low: np.ndarray | None = None,
        high: np.ndarray | None = None,
    ) -> None:
        self.abs_err += float(np.abs(point - actual).sum())
        self.abs_err_total += float(np.abs(point.sum(axis=1) - actual.sum(axis=1)).sum())
        self.err += float((point - actual).sum())
        self.actual += float(actual.sum())
        self.cells += actual.size
        if low is not None and high is not None:
            self.has_interval = True
            # units are whole numbers; float noise in a bound must not flip a cell
            self.covered += int(((actual >= low - 1e-6) & (actual <= high + 1e-6)).sum())
        # M5 RMSSE: squared error scaled by the in-sample one-step naive error, since first sale
        nz = history > 0
        first = np.where(nz.any(axis=1), nz.argmax(axis=1), history.shape[1] - 1)
        d = np.diff(history, axis=1) ** 2
        idx = np.arange(d.shape[1])[None, :]
        valid = idx >= first[:, None]
        denom = np.where(valid, d, 0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
        ok = denom > 0
        mse = ((point - actual) ** 2).mean(axis=1)
        self.rmsse.extend(np.sqrt(mse[ok] / denom[ok]).tolist())

    def as_dict(self) -> dict[str, float | None]:
        a = self.actual or float("nan")
        return {
            "wape": self.abs_err / a,
            "wape_total": self.abs_err_total / a,
            "rmsse": float(np.mean(self.rmsse)) if self.rmsse else None,
            "bias": self.err / a,
            "coverage_80": self.covered / self.cells if self.has_interval and self.cells else None,
        }
