"""A small histogram gradient-boosted binary classifier in NumPy (log-loss).

Why hand-written: the next-order basket model needs one classifier, and scikit-learn's
``HistGradientBoostingClassifier`` would bring scikit-learn (16 MB) plus all of SciPy
(64 MB with its own OpenBLAS) into the field app, which must stay under 250 MB. This module
re-implements just the part the basket uses, with the same semantics as scikit-learn 1.9's
estimator for ``early_stopping=False``, no categorical features, no monotonic or interaction
constraints:

* features are binned once into at most ``max_bins`` (255) quantile bins per feature, from a
  weighted, seeded subsample of 200,000 rows drawn with replacement (scikit-learn's rule);
  NaN gets its own bin (255) and every split learns which side missing values go to (a
  feature with no NaN at fit time sends NaN to the child that had more rows);
* each tree grows best-first (leaf-wise) up to ``max_leaf_nodes`` leaves, from gradient and
  hessian histograms built with ``np.bincount`` over uint8 bin codes (per feature: measured
  faster than one call over offset codes); the larger child's histogram is the parent's minus the smaller child's;
* split gain is ``G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)``, candidates that leave fewer
  than ``min_samples_leaf`` rows or less than ``min_hessian_to_split`` hessian on a side are
  refused; a leaf's value is ``−G/(H+λ) × learning_rate``; the first raw prediction is the
  log-odds of the weighted mean label.

Checked against scikit-learn: tests/unit/test_gbm.py finds the same bin edges and, for the
first trees, the same raw scores to 1e-6 (weighted and unweighted, with NaN), and log-loss
and AUC of full models within 0.01 / 0.005. On the real basket data (three rolling origins,
seeds 7-11, same features, sampling and threshold tuning) the pooled next-order F1 was
0.2401/0.2415/0.2404/0.2402/0.2393 (mean 0.2403) against scikit-learn's
0.2418/0.2405/0.2409/0.2404/0.2394 (mean 0.2406; seed noise ≈ ±0.0013);
``benchmarks/basket_fit_bench.py`` measured fit + predict at 1.7x scikit-learn's
single-threaded time on the ~400k-row training frame.
"""

from __future__ import annotations

import heapq
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

MISSING_BIN = 255
"""Bin index of NaN; real values use bins 0..254."""
N_BINS = 256
_LANES = 8
"""Interleaved histogram copies per bincount (see ``_histogram``)."""
MAX_THREADS = 4
"""Histogram threads at most (the fit runs in the background beside the GUI)."""
PARALLEL_ROWS = 20_000
"""Nodes with fewer rows build their histograms in one thread (dispatch costs more)."""
ALMOST_INF = 1e300
"""Thresholds are clipped here so that +inf only ever means "split NaN from the rest"."""


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-raw) without overflow warnings for very confident rows."""
    return np.exp(-np.logaddexp(0.0, -raw))


@dataclass(frozen=True)
class Binner:
    """Per-feature bin edges: value ``x`` goes to the first bin ``b`` with ``x <= edges[b]``."""

    edges: tuple[np.ndarray, ...]

    @property
    def n_bins_non_missing(self) -> np.ndarray:
        return np.array([len(e) + 1 for e in self.edges], dtype=np.int64)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Bin codes as a (n_features, n) uint8 array (feature-major: splits read one row)."""
        out = np.empty((X.shape[1], X.shape[0]), dtype=np.uint8)
        for f, edges in enumerate(self.edges):
            col = X[:, f]
            out[f] = np.searchsorted(edges, col, side="left")
            out[f][np.isnan(col)] = MISSING_BIN
        return out


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Averaged-inverted-CDF quantiles (numpy's method for unit weights, scikit-learn's rule).

    ``values`` sorted ascending; ``q`` in [0, 1]. Where the cumulative weight lands exactly on
    a target, the two neighbouring values are averaged, so equal weights reproduce
    ``np.percentile(..., method="averaged_inverted_cdf")``.
    """
    cw = np.cumsum(weights)
    target = q * cw[-1]
    lo = np.searchsorted(cw, target, side="left").clip(0, len(values) - 1)
    hi = np.searchsorted(cw, target, side="right").clip(0, len(values) - 1)
    return 0.5 * (values[lo] + values[hi])


def fit_binner(
    X: np.ndarray,
    sample_weight: np.ndarray,
    max_bins: int,
    subsample: int,
    rng: np.random.Generator,
) -> Binner:
    """Quantile bin edges per feature, as scikit-learn computes them.

    Above ``subsample`` rows the edges come from rows drawn with replacement in proportion
    to their weight (so a weight means "this many copies"); below it, from weighted quantiles
    of all rows. Features with few distinct values split between neighbouring values.
    """
    if X.shape[0] > subsample:
        rows = rng.choice(X.shape[0], subsample, p=sample_weight / sample_weight.sum())
        X, sample_weight = X[rows], np.ones(subsample)
    q = np.linspace(0, 1, max_bins + 1)[1:-1]
    edges = []
    for f in range(X.shape[1]):
        col = X[:, f]
        keep = ~np.isnan(col) & (sample_weight != 0)
        col, w = col[keep], sample_weight[keep]
        order = np.argsort(col, kind="stable")
        col, w = col[order], w[order]
        distinct = np.unique(col)
        if len(distinct) <= 1:
            e = np.empty(0)
        elif len(distinct) <= max_bins:
            e = 0.5 * (distinct[:-1] + distinct[1:])
        else:
            e = np.unique(_weighted_quantiles(col, w, q))
        edges.append(np.minimum(e, ALMOST_INF))
    return Binner(tuple(edges))


@dataclass(frozen=True)
class Tree:
    """One fitted tree as flat node arrays (leaves have ``left == -1``).

    A row goes left when ``x <= threshold`` or when ``x`` is NaN and ``missing_left``;
    ``threshold`` is a raw-value bin edge, so prediction needs no binning.
    """

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def predict(self, XT: np.ndarray) -> np.ndarray:
        """Leaf values for the rows of the feature-major float matrix ``XT`` (n_features, n).

        Walks node by node, splitting index sets, so each row is touched once per level
        it passes instead of every row once per level of the deepest leaf.
        """
        out = np.empty(XT.shape[1])
        stack = [(0, np.arange(XT.shape[1]))]
        while stack:
            node, rows = stack.pop()
            if self.left[node] < 0:
                out[rows] = self.value[node]
                continue
            x = XT[self.feature[node]][rows]
            go_left = x <= self.threshold[node]
            if self.missing_left[node]:
                go_left |= np.isnan(x)
            stack.append((int(self.left[node]), rows[go_left]))
            stack.append((int(self.right[node]), rows[~go_left]))
        return out


@dataclass
class _Split:
    """A node's best split: rows with bin <= ``bin`` (and NaN if ``missing_left``) go left."""

    gain: float
    feature: int
    bin: int
    missing_left: bool
    sums_left: tuple[float, float, int]


@dataclass
class _Node:
    """A node while its tree grows; ``rows`` are kept for leaves only, to update scores."""

    rows: np.ndarray
    sums: tuple[float, float, int]  # gradient, hessian, count
    hist: np.ndarray | None = None  # (3, n_features, 256): gradient, hessian, count
    split: _Split | None = None
    left: int = -1
    right: int = -1
    threshold: float = 0.0


class GradientBoostedClassifier:
    """Binary log-loss gradient boosting on histograms; see the module docstring.

    Parameter names and defaults follow scikit-learn's ``HistGradientBoostingClassifier``.
    """

    def __init__(
        self,
        max_iter: int = 100,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        max_bins: int = 255,
        min_hessian_to_split: float = 1e-3,
        subsample: int = 200_000,
        random_state: int | None = None,
        n_threads: int | None = None,
    ) -> None:
        if not 2 <= max_bins <= 255:
            raise ValueError(f"max_bins must be between 2 and 255, got {max_bins}")
        if max_leaf_nodes < 2 or max_iter < 1 or learning_rate <= 0 or min_samples_leaf < 1:
            raise ValueError("need max_leaf_nodes ≥ 2, max_iter ≥ 1, learning_rate > 0")
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.min_hessian_to_split = min_hessian_to_split
        self.subsample = subsample
        self.random_state = random_state
        self.n_threads = n_threads
        self.trees_: list[Tree] = []

    # ---------------------------------------------------------------- input checks
    def _matrix(self, X, fitting: bool) -> np.ndarray:
        names = getattr(X, "columns", None)
        if hasattr(X, "to_numpy"):
            X = X.to_numpy(dtype=np.float64, na_value=np.nan)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
        if fitting:
            self.feature_names_in_ = None if names is None else [str(c) for c in names]
            self.n_features_in_ = X.shape[1]
        else:
            if not hasattr(self, "n_features_in_"):
                raise ValueError("this classifier is not fitted yet: call fit() first")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, the classifier was fitted with "
                    f"{self.n_features_in_}"
                )
            fitted_names = self.feature_names_in_
            if names is not None and fitted_names and [str(c) for c in names] != fitted_names:
                raise ValueError("X's column names differ from those seen in fit()")
        return X

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None) -> GradientBoostedClassifier:
        """Fit ``max_iter`` trees to labels ``y`` (exactly two classes)."""
        X = self._matrix(X, fitting=True)
        y = np.asarray(y).ravel()
        n = X.shape[0]
        if n == 0 or len(y) != n:
            raise ValueError(f"X has {n} rows and y has {len(y)}; need the same, at least 1")
        self.classes_, yi = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(
                f"y must hold exactly two classes to learn from, found {len(self.classes_)}: "
                f"{self.classes_[:5].tolist()}"
            )
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise ValueError("sample_weight must be n finite, non-negative numbers, not all 0")
        rng = np.random.default_rng(self.random_state)
        self.binner_ = fit_binner(X, w, self.max_bins, self.subsample, rng)
        self._fit_binned(self.binner_.transform(X), yi.astype(np.float64), w)
        return self

    def _fit_binned(self, XbT: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        n = XbT.shape[1]
        self._XbT = XbT
        self._lanes = (np.arange(n) % _LANES) * N_BINS
        self._root_count: np.ndarray | None = None
        self._has_missing = (XbT == MISSING_BIN).any(axis=1)
        self._nbins = self.binner_.n_bins_non_missing
        p0 = np.clip(np.average(y, weights=w), 1e-15, 1 - 1e-15)
        self.baseline_ = float(np.log(p0 / (1 - p0)))
        raw = np.full(n, self.baseline_)
        self.trees_ = []
        threads = self._threads = self.n_threads or min(os.cpu_count() or 1, MAX_THREADS)
        with ThreadPoolExecutor(threads) if threads > 1 else nullcontext() as self._pool:
            for _ in range(self.max_iter):
                prob = _sigmoid(raw)
                self._grad = w * (prob - y)
                self._hess = w * prob * (1.0 - prob)
                tree, leaves = self._grow()
                for rows, value in leaves:
                    raw[rows] += value
                self.trees_.append(tree)
        del (
            self._XbT,
            self._lanes,
            self._root_count,
            self._grad,
            self._hess,
            self._pool,
            self._threads,
        )

    def _histogram(self, rows: np.ndarray | None) -> np.ndarray:
        """Gradient, hessian and row-count sums per (feature, bin) for ``rows`` (None: all).

        ``np.bincount`` per feature over the uint8 codes, each row sent to one of
        ``_LANES`` copies of the histogram by its position: consecutive rows usually share a
        bin (a binary feature, a common count), and adding into the same slot back to back
        waits on the previous add; spreading them over lanes made the build 2x faster. A
        single call over all features with per-feature offsets was measured slower still
        (8-byte codes and per-feature repeated weights move far more memory). Features are
        independent, so large nodes spread them over threads (NumPy releases the GIL while
        counting): on two cores a fit of the real 408k-row frame took 0.81-0.90 of its
        one-thread wall time, a 109k-row one 1.07 (benchmarks/basket_fit_bench.py); each
        feature's sums are the same either way.
        """
        XbT, g, h = self._XbT, self._grad, self._hess
        if rows is not None:
            g, h = g[rows], h[rows]
        size = _LANES * N_BINS
        lanes = self._lanes[: len(g)]
        hist = np.empty((3, XbT.shape[0], N_BINS))

        def features(fs: range) -> None:
            for f in fs:
                codes = lanes + (XbT[f] if rows is None else XbT[f][rows])
                hist[0, f] = np.bincount(codes, g, size).reshape(_LANES, N_BINS).sum(axis=0)
                hist[1, f] = np.bincount(codes, h, size).reshape(_LANES, N_BINS).sum(axis=0)
                if rows is not None:
                    hist[2, f] = np.bincount(codes, minlength=size).reshape(_LANES, N_BINS).sum(0)

        n_features = XbT.shape[0]
        if self._pool is None or len(g) < PARALLEL_ROWS:
            features(range(n_features))
        else:
            parts = self._threads
            list(self._pool.map(features, (range(i, n_features, parts) for i in range(parts))))
        if rows is None:  # the root's row counts are the same for every tree
            if self._root_count is None:
                self._root_count = np.stack(
                    [np.bincount(XbT[f], minlength=N_BINS) for f in range(XbT.shape[0])]
                )
            hist[2] = self._root_count
        return hist

    def _best_split(self, node: _Node) -> _Split | None:
        """The best (feature, bin, missing side) over all features at once, or None."""
        lam = self.l2_regularization
        g_tot, h_tot, c_tot = node.sums
        # cumulative left sums for "bins <= b go left", NaN right (0) or NaN left (1)
        left = np.cumsum(node.hist[:, :, :MISSING_BIN], axis=2)
        left = np.stack([left, left + node.hist[:, :, MISSING_BIN : MISSING_BIN + 1]], axis=1)
        gl, hl, cl = left[0], left[1], left[2]  # each (2, n_features, 255)
        gr, hr, cr = g_tot - gl, h_tot - hl, c_tot - cl
        b = np.arange(MISSING_BIN)
        last = (self._nbins - 2)[:, None]
        allowed = np.stack(
            [
                b <= last + self._has_missing[:, None],
                (b <= last) & self._has_missing[:, None],
            ]
        )
        ok = (
            allowed
            & (cl >= self.min_samples_leaf)
            & (cr >= self.min_samples_leaf)
            & (hl >= self.min_hessian_to_split)
            & (hr >= self.min_hessian_to_split)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = (
                gl**2 / (hl + lam + 1e-15)
                + gr**2 / (hr + lam + 1e-15)
                - g_tot**2 / (h_tot + lam + 1e-15)
            )
        gain = np.where(ok, gain, -np.inf)
        # Ties are common (empty bins give equal partitions) and decide where a threshold
        # falls between training values; break them as scikit-learn does: features in
        # order, NaN-right scanned upwards (lowest bin wins), then NaN-left downwards (highest).
        gain[1] = gain[1, :, ::-1]
        order = gain.transpose(1, 0, 2).reshape(-1)
        best = int(np.argmax(order))
        if not order[best] > 0:
            return None
        f, side, bin_ = np.unravel_index(best, (len(self._nbins), 2, MISSING_BIN))
        if side == 1:
            bin_ = MISSING_BIN - 1 - bin_
        return _Split(
            gain=float(order[best]),
            feature=int(f),
            bin=int(bin_),
            missing_left=bool(side),
            sums_left=(
                float(gl[side, f, bin_]),
                float(hl[side, f, bin_]),
                int(cl[side, f, bin_]),
            ),
        )

    def _leaf_value(self, sums: tuple[float, float, int]) -> float:
        g, h, _ = sums
        return -g / (h + self.l2_regularization + 1e-15) * self.learning_rate

    def _grow(self) -> tuple[Tree, list[tuple[np.ndarray, float]]]:
        """Grow one tree best-first; return it and (rows, value) for each leaf."""
        msl = self.min_samples_leaf
        n = self._grad.shape[0]
        root = _Node(np.arange(n), (float(self._grad.sum()), float(self._hess.sum()), n))
        nodes = [root]
        heap: list[tuple[float, int]] = []

        def consider(i: int) -> None:
            node = nodes[i]
            if node.sums[2] < 2 * msl or node.sums[1] < 2 * self.min_hessian_to_split:
                node.hist = None
                return
            node.split = self._best_split(node)
            if node.split is not None:
                heapq.heappush(heap, (-node.split.gain, i))
            else:
                node.hist = None

        if n >= 2 * msl and root.sums[1] >= self.min_hessian_to_split:
            root.hist = self._histogram(None)
            consider(0)
        n_leaves = 1
        while heap and n_leaves < self.max_leaf_nodes:
            _, i = heapq.heappop(heap)
            node = nodes[i]
            s = node.split
            x = self._XbT[s.feature][node.rows]
            go_left = x <= s.bin
            if s.missing_left:
                go_left |= x == MISSING_BIN
            sl = s.sums_left
            sr = (node.sums[0] - sl[0], node.sums[1] - sl[1], node.sums[2] - sl[2])
            kids = [_Node(node.rows[go_left], sl), _Node(node.rows[~go_left], sr)]
            if not self._has_missing[s.feature]:
                s.missing_left = len(kids[0].rows) > len(kids[1].rows)
            node.left, node.right = len(nodes), len(nodes) + 1
            edges = self.binner_.edges[s.feature]
            node.threshold = np.inf if s.bin == self._nbins[s.feature] - 1 else edges[s.bin]
            nodes.extend(kids)
            n_leaves += 1
            if n_leaves < self.max_leaf_nodes and any(k.sums[2] >= 2 * msl for k in kids):
                small, large = sorted(kids, key=lambda k: len(k.rows))
                small.hist = self._histogram(small.rows)
                large.hist = node.hist - small.hist
                consider(node.left)
                consider(node.right)
            node.hist, node.rows = None, node.rows[:0]  # an inner node keeps no rows
        leaves = [(nd.rows, self._leaf_value(nd.sums)) for nd in nodes if nd.left < 0]
        tree = Tree(
            feature=np.array([nd.split.feature if nd.left >= 0 else 0 for nd in nodes]),
            threshold=np.array([nd.threshold for nd in nodes], dtype=np.float64),
            missing_left=np.array([bool(nd.left >= 0 and nd.split.missing_left) for nd in nodes]),
            left=np.array([nd.left for nd in nodes]),
            right=np.array([nd.right for nd in nodes]),
            value=np.array([self._leaf_value(nd.sums) if nd.left < 0 else 0.0 for nd in nodes]),
        )
        return tree, leaves

    # ---------------------------------------------------------------- prediction
    def decision_function(self, X) -> np.ndarray:
        """Raw log-odds of the second class."""
        XT = np.ascontiguousarray(self._matrix(X, fitting=False).T)
        raw = np.full(XT.shape[1], self.baseline_)
        for tree in self.trees_:
            raw += tree.predict(XT)
        return raw

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2) probabilities of ``classes_[0]`` and ``classes_[1]``."""
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(np.intp)]

    # ---------------------------------------------------------------- storage
    def to_arrays(self) -> dict[str, np.ndarray]:
        """What prediction needs, as plain arrays (no pickle: a stored model is data, not
        code, so reading it back from a database cannot run anything)."""
        if not hasattr(self, "n_features_in_"):
            raise ValueError("this classifier is not fitted yet: call fit() first")
        sizes = np.array([len(t.feature) for t in self.trees_], dtype=np.int64)

        def cat(name: str, dtype) -> np.ndarray:
            parts = [np.asarray(getattr(t, name), dtype=dtype) for t in self.trees_]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        return {
            "baseline": np.array([self.baseline_]),
            "classes": np.asarray(self.classes_, dtype=np.float64),
            "names": np.array(self.feature_names_in_ or [], dtype=np.str_),
            "n_features": np.array([self.n_features_in_], dtype=np.int64),
            "sizes": sizes,
            "feature": cat("feature", np.int64),
            "threshold": cat("threshold", np.float64),
            "missing_left": cat("missing_left", np.bool_),
            "left": cat("left", np.int64),
            "right": cat("right", np.int64),
            "value": cat("value", np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> GradientBoostedClassifier:
        """A classifier that predicts exactly as the one :meth:`to_arrays` stored."""
        clf = cls()
        clf.baseline_ = float(arrays["baseline"][0])
        clf.classes_ = np.asarray(arrays["classes"])
        names = [str(n) for n in arrays["names"]]
        clf.feature_names_in_ = names or None
        clf.n_features_in_ = int(arrays["n_features"][0])
        bounds = np.concatenate([[0], np.cumsum(arrays["sizes"])])
        clf.trees_ = [
            Tree(
                *(
                    np.asarray(arrays[k][a:b])
                    for k in ("feature", "threshold", "missing_left", "left", "right", "value")
                )
            )
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
        return clf
