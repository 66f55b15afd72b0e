"""Weekly (store, product) demand: statsforecast models, the app's combination, intervals.

The app's own weekly forecast is a per-class linear combination of simple, robust signals
(averages over the last 13/26/52 weeks and the last 4 open ones, the same weeks last year,
and a Croston-SBA style rate), with non-negative weights fitted per ADI/CV² class (smooth,
erratic, intermittent, lumpy) by a rolling-origin backtest one horizon before the origin. It
is pure numpy, so 50,000 series cost little more than one statsforecast model. Intervals are
split-conformal: the 80% quantile of |actual − forecast| / scale on that same inner
backtest, where scale is the series' mean weekly demand, so wide series get wide intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nnls import nnls

CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
SIGNALS = ("avg13", "avg26", "avg52", "last_year", "sba", "recent")
RESCALE_POWER = 1.0
SEASON_BEFORE_WEEKS = 13
SEASON_MIN_BEFORE_WEEKS = 2
"""A first year shorter than 13 weeks before last year's horizon still gives a season from
an even number of weeks (at least this many), so the first December sees last year's drop
into January and an every-other-week rhythm is not read as a season."""
SEASON_CELL_QUANTILE = 0.999
"""Last year's shape is read with each week-cell cut at this quantile of the non-zero cells:
on the real history February-March 2010 held one-off orders of 9,456-19,152 units (the
0.999 quantile is about 650) that made last year's spring look 10-30% bigger than it was."""
RECENT_WEEKS = 4
"""The sixth signal: the mean of the last 4 open weeks, so the combination can follow a level
that moved inside the 13-week window (after the January lull of 2011 the 13-week average still
held December; docs/forecasting.md)."""
BIAS_WINDOWS = 1
LEVEL_CLIP = (0.9, 1.1)
"""The level correction (the bias the procedure showed one origin earlier) moves the forecast
by at most 10%: at ±20–25% it chased one window's swing into the next (docs/forecasting.md).
The year-ago ratio (the bias the procedure showed over the same weeks a year earlier) is
clipped the same way, so the two move the forecast by at most 21% together: unclipped, a book
with random (not seasonal) level steps had its forecast raised 25% by last year's step
(4-week bias +12%; clipped +9%, without the year-ago ratio -1%)."""
CLOSED_SHARE = 0.5
"""A week whose whole book sold under this share of the median of the weeks around it is a
closure (Christmas: 0 and 0.2–0.4 on the real history; no other week fell under 0.54)."""
CLOSED_NEIGHBOURS = 4
CLOSED_PAIR_SHARE = 0.75
CLOSED_MIN_LINES = 30
"""Closures are only looked for in a book ordering this many lines a week (median): in a
handful of stores a quiet week is chance, and dropping it would raise every average."""


def week_shares(y: np.ndarray) -> np.ndarray:
    """Each week's units (the whole book) against the median of the ``CLOSED_NEIGHBOURS``
    weeks either side of it; 1 where the book is too small to tell, and 1 where the fortnight
    holding the week sold as usual (a book ordering every other week is not closed every
    other week: only a week that also empties a fortnight it belongs to counts)."""
    total = y.sum(axis=0)
    lines = (y > 0).sum(axis=0)
    t = len(total)
    out = np.ones(t)
    pairs = total[:-1] + total[1:]  # pairs[i]: weeks i and i + 1
    k = CLOSED_NEIGHBOURS
    for j in range(t):
        around = np.r_[total[max(0, j - k) : j], total[j + 1 : j + 1 + k]]
        around_lines = np.r_[lines[max(0, j - k) : j], lines[j + 1 : j + 1 + k]]
        if len(around) == 0 or np.median(around_lines) < CLOSED_MIN_LINES:
            continue
        med = float(np.median(around))
        share = total[j] / med if med > 0 else 1.0
        if share >= CLOSED_SHARE:
            continue
        mine = [i for i in (j - 1, j) if 0 <= i < len(pairs)]
        others = np.r_[pairs[max(0, j - 1 - k) : max(0, j - 1)], pairs[j + 1 : j + 1 + k]]
        ref = float(np.median(others)) if len(others) else 0.0
        if ref > 0 and min(pairs[i] for i in mine) < CLOSED_PAIR_SHARE * ref:
            out[j] = share
    return out


def open_weeks(y: np.ndarray) -> np.ndarray:
    """Weeks the book traded normally (a closure is under ``CLOSED_SHARE`` of its neighbours).

    Closed weeks are left out of every average, rate and fitting target: a Christmas week at
    0 is not a fall in demand, and on the real history it dragged January's 13-week average
    down and taught the weights of the origin after it to under-forecast by 20-40%."""
    if y.shape[1] < 3:
        return np.ones(y.shape[1], dtype=bool)
    return week_shares(y) >= CLOSED_SHARE


def holiday_factors(y: np.ndarray, horizon: int) -> np.ndarray:
    """Per horizon week: the share the book sold in the same week last year when that week
    was a closure, else 1 (the closure returns on the calendar: Christmas 2009 and 2010 both
    fell in the same weeks)."""
    f = np.ones(horizon)
    t = y.shape[1]
    if t < 52 - horizon + 1:
        return f
    shares = week_shares(y)
    for j in range(horizon):
        i = t - 52 + j
        if 0 <= i < t and shares[i] < CLOSED_SHARE:
            f[j] = shares[i]
    return f


def classify(y: np.ndarray) -> np.ndarray:
    """ADI/CV² class per row (Syntetos–Boylan cut-offs 1.32 and 0.49), as indices of CLASSES."""
    nz = y > 0
    n_nz = nz.sum(axis=1)
    first = np.where(n_nz > 0, nz.argmax(axis=1), y.shape[1])
    active = y.shape[1] - first
    adi = np.where(n_nz > 0, active / np.maximum(n_nz, 1), np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(nz, y, 0).sum(axis=1)
        ss = np.where(nz, y * y, 0).sum(axis=1)
        mean = s / np.maximum(n_nz, 1)
        var = ss / np.maximum(n_nz, 1) - mean**2
        cv2 = np.where(mean > 0, var / np.maximum(mean**2, 1e-12), 0)
    intermittent = adi >= 1.32
    erratic = cv2 >= 0.49
    return np.select(
        [~intermittent & ~erratic, ~intermittent & erratic, intermittent & ~erratic],
        [0, 1, 2],
        default=3,
    ).astype(np.int8)


def sba_rate(y: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Croston-SBA demand rate per row, vectorised over rows (loop over weeks only)."""
    n, t = y.shape
    z = np.zeros(n)
    p = np.ones(n)
    q = np.ones(n)  # periods since last demand
    seen = np.zeros(n, dtype=bool)
    for j in range(t):
        d = y[:, j]
        pos = d > 0
        first = pos & ~seen
        upd = pos & seen
        z[first] = d[first]
        p[first] = 1.0
        z[upd] += alpha * (d[upd] - z[upd])
        p[upd] += alpha * (q[upd] - p[upd])
        seen |= pos
        q = np.where(pos, 1.0, q + 1.0)
    return np.where(seen, (1 - alpha / 2) * z / np.maximum(p, 1e-9), 0.0)


def signals(y: np.ndarray, horizon: int, is_open: np.ndarray | None = None) -> np.ndarray:
    """[n_signals, n_series, horizon] candidate forecasts from history ``y`` [n, T]."""
    n, t = y.shape
    if is_open is None:
        is_open = open_weeks(y)
    out = np.zeros((len(SIGNALS), n, horizon), dtype=np.float64)
    for i, w in enumerate((13, 26, 52)):
        lo = max(0, t - w)
        sel = is_open[lo:]
        win = y[:, lo:][:, sel] if sel.any() else y[:, lo:]
        out[i] = win.mean(axis=1, keepdims=True)
    if t >= 52 + horizon:
        ly = y[:, t - 52 : t - 52 + horizon].copy()
        sel = is_open[t - 52 : t - 52 + horizon]
        if sel.any() and not sel.all():
            ly[:, ~sel] = ly[:, sel].mean(axis=1, keepdims=True)
    else:
        lo = max(0, t - 13)
        sel = is_open[lo:]
        win = y[:, lo:][:, sel] if sel.any() else y[:, lo:]
        ly = np.repeat(win.mean(axis=1, keepdims=True), horizon, axis=1)
    # smooth last year's weeks: the exact week is noise, the season's level is signal
    out[3] = ly.mean(axis=1, keepdims=True) * 0.5 + ly * 0.5
    out[4] = sba_rate(y[:, is_open] if not is_open.all() else y)[:, None]
    recent = np.flatnonzero(is_open)[-RECENT_WEEKS:]
    out[5] = y[:, recent if len(recent) else slice(-RECENT_WEEKS, None)].mean(axis=1)[:, None]
    return out


@dataclass
class DemandModel:
    """Per-class signal weights and the conformal interval multiplier."""

    weights: np.ndarray  # [n_classes, n_signals]
    conformal_q: float
    coverage_level: float = 0.8
    seasonal: bool = True
    conformal_q_total: float = 1.0
    level_correction: float = 1.0
    year_ago_ratio: float | None = None
    """actual ÷ forecast of the fitting procedure over the same weeks a year earlier (None
    without a long enough year before); part of ``level_correction``, kept for the report."""

    def rate_halfwidth(self, y: np.ndarray) -> np.ndarray:
        """Half-width of the 80% interval of the *mean weekly* demand over a horizon, per row.

        Calibrated on horizon totals, where weeks partly cancel (a store buying 24 every
        fortnight has wild weeks but exact fortnights), so safety stock is not inflated by
        week-to-week noise.
        """
        return self.conformal_q_total * series_scale(y)

    def forecast(self, y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point, low and high [n, horizon] from history ``y`` [n, T]."""
        factor = self.level(y, horizon) * holiday_factors(y, horizon)[None, :]
        point = self._point(y, horizon) * factor
        scale = series_scale(y)[:, None] * factor
        low = np.maximum(point - self.conformal_q * scale, 0.0)
        high = point + self.conformal_q * scale
        return point, low, high

    def level(self, y: np.ndarray, horizon: int) -> float:
        """The factor the combined signals are raised or lowered by: the recent bias and last
        year's season. Errors grow with the level, so the interval is scaled by it too.
        (Without that, the autumn-2010 origins covered 72-77% instead of 79-81%: the bias
        correction raised the point, not the interval.)"""
        return self.level_correction * (season_ratio(y, horizon) if self.seasonal else 1.0)

    def _point(self, y: np.ndarray, horizon: int) -> np.ndarray:
        cls = classify(y)
        sig = signals(y, horizon)
        return np.einsum("knh,nk->nh", sig, self.weights[cls])


def season_ratio(y: np.ndarray, horizon: int, lo: float = 0.5, hi: float = 2.0) -> float:
    """How much the whole book grew from the last 13 weeks into the next ``horizon`` weeks
    *last year* (e.g. the run-up to Christmas); 1 without a year and 13 weeks of history.

    Measured on 15 four-weekly origins (2010-07-05 … 2011-08-01, 8-week horizon), as mean
    per-origin |bias| / pooled bias / total WAPE: this rule 0.291 / +8.6% / 1.448; last
    year's factor shrunk toward 1 by its measured skill (slope of the growth that came on the
    growth last year predicted, at every earlier origin where both were known) +9.0% / 1.451;
    no season at all +8.7% / 1.450: the season factor is kept whole. A base of the 3-12
    weeks a first year has (so the first December sees last year's closure) measured 0.225 /
    +6.0% / 1.423, but an odd-length base misreads a fortnightly rhythm as a season (a
    perfectly regular book then over-orders by 10%), so it is not adopted without a
    rhythm-proof base (docs/forecasting.md).

    Clipped only against a broken year (a partial export): a real run-up is bigger than it
    looks from summer. On the real history the ratio for mid-September is 1.65 (the
    autumn-2010 run-up), and over the 23 origins of 2011 where both years are known, last
    year's ratio fell short of the one that came by 16% on average and never overshot it by
    more than 10%: an earlier clip at 1.5 would have cut the Christmas forecast short.
    """
    total = capped(y).sum(axis=0)
    t = len(total)
    b = SEASON_BEFORE_WEEKS
    if t < 52 + b and t - 52 >= SEASON_MIN_BEFORE_WEEKS:
        b = (t - 52) // 2 * 2
    if t < 52 + b or horizon > 52:
        return 1.0
    ok = open_weeks(y)
    bw, aw = slice(t - 52 - b, t - 52), slice(t - 52, t - 52 + horizon)
    before = total[bw][ok[bw]].mean() if ok[bw].any() else total[bw].mean()
    after = total[aw][ok[aw]].mean() if ok[aw].any() else total[aw].mean()
    if before <= 0:
        return 1.0
    return float(np.clip(after / before, lo, hi))


def capped(y: np.ndarray) -> np.ndarray:
    """``y`` with every week-cell above the :data:`SEASON_CELL_QUANTILE` of the book's
    non-zero cells cut down to it, so last year's shape is not one store's one-off order."""
    nz = y[y > 0]
    if nz.size == 0:
        return y
    return np.minimum(y, float(np.quantile(nz, SEASON_CELL_QUANTILE)))


def series_scale(y: np.ndarray) -> np.ndarray:
    """Mean weekly demand since the series' first demand (never zero)."""
    nz = y > 0
    first = np.where(nz.any(axis=1), nz.argmax(axis=1), y.shape[1] - 1)
    active = np.maximum(y.shape[1] - first, 1)
    return np.maximum(y.sum(axis=1) / active, 0.5)


def conformal_quantile(actual: np.ndarray, point: np.ndarray, scale: np.ndarray, level: float):
    """Split-conformal multiplier: the finite-sample ``level`` quantile of scaled residuals."""
    r = (np.abs(actual - point) / scale[:, None]).ravel()
    if r.size == 0:
        return 1.0
    q = min(1.0, level * (r.size + 1) / r.size)
    return float(np.quantile(r, q, method="higher"))


def fit_demand_model(
    y: np.ndarray,
    horizon: int,
    level: float = 0.8,
    bias_windows: int | None = None,
    year_ago: bool = True,
) -> DemandModel:
    """Fit class weights and the conformal multiplier on the last ``horizon`` weeks of ``y``,
    then correct the level by the bias the *whole fitting procedure* showed at the
    ``bias_windows`` earlier rolling origins (a forecast that ran 10% short at the last origin
    is scaled up, by at most :data:`LEVEL_CLIP`) and by the bias it showed over the same weeks
    a year earlier (clipped the same way; ``year_ago=False`` leaves that out, for comparison).

    The year-ago part is the level correction made seasonal: the combination lags a growing
    book and leads a shrinking one by amounts that repeat with the season (on the real history
    it ran 10-25% short through both summers), which one horizon back cannot see at a turn.
    The weeks used for scoring are never seen by the signals they score.
    """
    model = _fit_core(y, horizon, level)
    k = BIAS_WINDOWS if bias_windows is None else bias_windows
    ok = open_weeks(y)
    t = y.shape[1]
    ratios = []
    for j in range(1, k + 1):
        r = _procedure_ratio(y, t - j * horizon, horizon, level, ok)
        if r is None:
            break
        ratios.append(r)
    if ratios:
        r = float(np.exp(np.mean(np.log(ratios))))
        model.level_correction = float(np.clip(r, *LEVEL_CLIP))
    if year_ago:
        # scored against the season that came in those weeks (this origin's season factor is
        # that very growth), so the ratio is the combination's own lag, not the season again
        season = season_ratio(y, horizon)
        model.year_ago_ratio = _procedure_ratio(y, t - 52, horizon, level, ok, season)
    if model.year_ago_ratio is not None:
        model.level_correction *= float(np.clip(model.year_ago_ratio, *LEVEL_CLIP))
    return model


def _procedure_ratio(
    y: np.ndarray,
    cut: int,
    horizon: int,
    level: float,
    ok: np.ndarray,
    season: float | None = None,
) -> float | None:
    """actual ÷ forecast over the open weeks of the ``horizon`` after week ``cut``, of the
    procedure fitted on the weeks before it (with ``season`` instead of the season factor
    those weeks gave it); None where that history is too short."""
    if cut <= 2 * horizon + 8:
        return None
    past, after = y[:, :cut], y[:, cut : cut + horizon]
    keep = (past > 0).sum(axis=1) >= 2
    if keep.sum() < 20:
        return None
    inner = _fit_core(past[keep], horizon, level)
    if season is not None:
        inner.seasonal = False
    fc, _, _ = inner.forecast(past[keep], horizon)
    if season is not None:
        fc = fc * season
    wk = ok[cut : cut + horizon]
    if fc[:, wk].sum() <= 0:
        return None
    return float(after[keep][:, wk].sum() / fc[:, wk].sum())


def _fit_core(y: np.ndarray, horizon: int, level: float) -> DemandModel:
    if y.shape[1] <= horizon + 8:
        w = np.zeros((len(CLASSES), len(SIGNALS)))
        w[:, 1] = 1.0
        return DemandModel(w, 1.0, level)
    hist, actual = y[:, :-horizon], y[:, -horizon:]
    # Same selection as at the real origin (≥ 2 ordering weeks before it): pairs chosen
    # because they sold inside the scoring window would teach the model to over-forecast.
    eligible = (hist > 0).sum(axis=1) >= 2
    hist, actual = hist[eligible], actual[eligible]
    # weeks scored: open ones (a closure is not demand) that last year's calendar does not
    # mark as one either (forecast() lowers those by the holiday factor)
    weeks = open_weeks(y)[-horizon:] & (holiday_factors(hist, horizon) == 1.0)
    if len(hist) == 0 or not weeks.any():
        w = np.zeros((len(CLASSES), len(SIGNALS)))
        w[:, 1] = 1.0
        return DemandModel(w, 1.0, level)
    cls = classify(hist)
    sig = signals(hist, horizon)[:, :, weeks]
    # learn weights on a season-neutral target; forecast() puts the season back
    target = actual[:, weeks] / season_ratio(hist, horizon)
    weights = np.zeros((len(CLASSES), len(SIGNALS)))
    for c in range(len(CLASSES)):
        m = cls == c
        if m.sum() < 20:
            weights[c, 1] = 1.0
            continue
        a = sig[:, m, :].reshape(len(SIGNALS), -1).T
        b = target[m].ravel()
        w, _ = nnls(a, b)
        if not np.isfinite(w).all() or w.sum() == 0:
            w = np.zeros(len(SIGNALS))
            w[1] = 1.0
        # least squares shrinks intermittent forecasts; rescale so the class is unbiased
        fitted = (a @ w).sum()
        weights[c] = w * ((b.sum() / fitted) ** RESCALE_POWER if fitted > 0 else 1.0)
    model = DemandModel(weights, 1.0, level)
    point, _, _ = model.forecast(hist, horizon)
    scale = series_scale(hist)
    # calibrated on the scale forecast() will use: the series' mean week times the level
    model.conformal_q = conformal_quantile(actual, point, scale * model.level(hist, horizon), level)
    r_total = np.abs(actual.sum(axis=1) - point.sum(axis=1)) / (scale * horizon)
    model.conformal_q_total = float(np.quantile(r_total, level))
    return model
