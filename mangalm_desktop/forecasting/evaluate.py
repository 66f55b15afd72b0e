"""Rolling-origin backtest of every method on a history, using only data before each origin.

For each origin it scores (1) the *next-order basket*: for each store whose first order after
the origin falls in the horizon, the lines each method would have suggested at the origin vs
that order; (2) *weekly demand* of the (store, product) pairs with ≥ 2 orders before the
origin; (3) the call list's lift and (4) upsell precision@5. Scores are pooled over origins
(micro sums), so one lucky origin cannot carry the result.

Methods: ``mangalm`` (the app: propensity basket + class-combined demand with conformal
intervals), every statsforecast model (its basket = its forecast over the store's usual
cover period, rounded, lines ≥ 1 unit; its intervals use the same conformal rule as the
app's), the published next-basket baselines P-TopFreq, GP-TopFreq, TIFU-KNN and UP-CF@r
(:mod:`.nbr_baselines`, tuned on an inner origin), and the human baselines
``repeat_last_order``, ``frequent_items`` and ``zero``. Also: the call list's lift beside the
two hand rankings, with prices and as if there were none; reliability tables of the chances
shown (by decile and by silence bucket); per-origin demand scores.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..domain.errors import UserError
from ..domain.tasks import NULL_TASK, TaskContext
from .activity import fit_activity_model, order_table, silence_bucket, store_activity
from .basket import BasketConfig, fit_basket_model
from .calllist import call_priority, hand_rankings, product_prices
from .demand import conformal_quantile, fit_demand_model, season_ratio, series_scale
from .features import next_orders, store_orders, store_stats
from .metrics import BasketScore, DemandScore
from .nbr_baselines import PUBLISHED
from .nbr_baselines import predict as nbr_predict
from .nbr_baselines import tune as nbr_tune
from .series import History, week_of_day, week_start_day, weekly_matrix
from .suggest import DEFAULT_COVER_DAYS, suggest_quantities
from .upsell import popular_products, precision_at, similar_store_upsell

log = logging.getLogger(__name__)

APP_METHOD = "mangalm"
BASELINES = ("repeat_last_order", "frequent_items", "zero")


# The statsforecast models scored beside the app, in table order (statsforecast_models()).
STATSFORECAST_MODELS = (
    "CrostonSBA",
    "CrostonOptimized",
    "ADIDA",
    "IMAPA",
    "TSB",
    "Naive",
    "WindowAverage",
    "SeasonalNaive",
)


def statsforecast_missing() -> str | None:
    """Why statsforecast cannot be imported here, or None when it can.

    The installed field app leaves statsforecast (and the SciPy/statsmodels it needs, about
    90 MB) out: the app forecasts with its own NumPy models, and only this comparison uses
    statsforecast. There ``mangalm evaluate`` scores the app and the human baselines and says
    which models it skipped; a source install scores them all (docs/packaging.md).
    """
    try:
        import statsforecast.models  # noqa: F401
    except ImportError as exc:
        return str(exc) or type(exc).__name__
    return None


def statsforecast_models():
    """The statsforecast models scored beside the app (name → model)."""
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        CrostonOptimized,
        CrostonSBA,
        Naive,
        SeasonalNaive,
        WindowAverage,
    )

    return {
        "CrostonSBA": CrostonSBA(),
        "CrostonOptimized": CrostonOptimized(),
        "ADIDA": ADIDA(),
        "IMAPA": IMAPA(),
        "TSB": TSB(alpha_d=0.1, alpha_p=0.1),
        "Naive": Naive(),
        "WindowAverage": WindowAverage(window_size=13),
        "SeasonalNaive": SeasonalNaive(season_length=52),
    }


def run_statsforecast(y: np.ndarray, horizon: int, names: list[str]) -> dict[str, np.ndarray]:
    """Forecast every row of ``y`` [n, T] with each named model, one core; {name: [n, h]}."""
    from statsforecast import StatsForecast

    models = statsforecast_models()
    chosen = [models[n] for n in names]
    n, t = y.shape
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n, dtype=np.int64), t),
            "ds": np.tile(np.arange(t, dtype=np.int64), n),
            "y": y.ravel().astype(np.float64),
        }
    )
    sf = StatsForecast(models=chosen, freq=1, n_jobs=1)
    fc = sf.forecast(df=df, h=horizon)
    fc = fc.sort_values(["unique_id", "ds"], kind="stable")
    return {
        name: np.clip(fc[str(m)].to_numpy().reshape(n, horizon), 0, None)
        for name, m in zip(names, chosen, strict=True)
    }


@dataclass
class EvaluationResult:
    """Pooled scores; ``as_json()`` is the shape documented in the issue."""

    basket: dict[str, BasketScore] = field(default_factory=dict)
    demand: dict[str, DemandScore] = field(default_factory=dict)
    n_baskets: int = 0
    n_series: int = 0
    lift_num: float = 0.0
    lift_den: float = 0.0
    upsell: list[int] = field(default_factory=lambda: [0, 0])
    popular: list[int] = field(default_factory=lambda: [0, 0])
    origins: list[str] = field(default_factory=list)
    horizon_weeks: int = 0
    seconds: float = 0.0
    thresholds: list[float] = field(default_factory=list)
    call_lists: dict[str, list[float]] = field(default_factory=dict)
    per_origin: list[dict] = field(default_factory=list)
    reliability: dict[str, Reliability] = field(default_factory=dict)

    def merge(self, other: EvaluationResult) -> None:
        """Add another run's sums (other origins, same horizon): pooling stays micro."""
        for name, b in other.basket.items():
            mine = self.basket.setdefault(name, BasketScore())
            for f in ("suggested", "actual", "hits", "qty_min", "qty_suggested", "qty_actual"):
                setattr(mine, f, getattr(mine, f) + getattr(b, f))
        for name, d in other.demand.items():
            md = self.demand.setdefault(name, DemandScore())
            for f in ("abs_err", "abs_err_total", "err", "actual", "covered", "cells"):
                setattr(md, f, getattr(md, f) + getattr(d, f))
            md.rmsse.extend(d.rmsse)
            md.has_interval = md.has_interval or d.has_interval
        self.n_baskets += other.n_baskets
        self.n_series += other.n_series
        for key, (n, dd) in other.call_lists.items():
            acc = self.call_lists.setdefault(key, [0.0, 0.0])
            acc[0] += n
            acc[1] += dd
        self.lift_num, self.lift_den = self.call_lists.get(APP_METHOD, [0.0, 0.0])
        for mine_l, theirs in ((self.upsell, other.upsell), (self.popular, other.popular)):
            mine_l[0] += theirs[0]
            mine_l[1] += theirs[1]
        for key, rel in other.reliability.items():
            target = self.reliability.setdefault(key, Reliability())
            for g, (p, y, n) in rel.groups.items():
                acc = target.groups.setdefault(g, [0.0, 0.0, 0])
                acc[0] += p
                acc[1] += y
                acc[2] += n
        order = np.argsort(self.origins + other.origins, kind="stable")
        self.origins = [(self.origins + other.origins)[i] for i in order]
        self.per_origin = [(self.per_origin + other.per_origin)[i] for i in order]
        self.thresholds = [(self.thresholds + other.thresholds)[i] for i in order]
        self.seconds = max(self.seconds, other.seconds)

    def as_json(self) -> dict:
        methods = {}
        for name in self.basket:
            row = dict(self.basket[name].as_dict())
            row.update(self.demand[name].as_dict())
            methods[name] = {k: _num(v) for k, v in row.items()}
        return {
            "methods": methods,
            "app_method": APP_METHOD,
            "n_baskets": self.n_baskets,
            "n_series": self.n_series,
            "call_list_lift": _num(self.lift_num / self.lift_den if self.lift_den else None),
            "upsell_precision_at_5": _num(
                self.upsell[0] / self.upsell[1] if self.upsell[1] else None
            ),
            "popular_precision_at_5": _num(
                self.popular[0] / self.popular[1] if self.popular[1] else None
            ),
            "call_list_lifts": {
                k: _num(n / d if d else None) for k, (n, d) in self.call_lists.items()
            },
            "reliability": {k: r.rows() for k, r in self.reliability.items()},
            "per_origin": self.per_origin,
            "origins": self.origins,
            "horizon_weeks": self.horizon_weeks,
        }


@dataclass
class Reliability:
    """Predicted vs observed, summed per group (probability decile or silence bucket)."""

    groups: dict[str, list[float]] = field(default_factory=dict)

    def add(self, group: np.ndarray, predicted: np.ndarray, observed: np.ndarray) -> None:
        df = pd.DataFrame({"g": group, "p": predicted, "y": observed})
        for g, row in df.groupby("g")[["p", "y"]].agg(["sum", "size"]).iterrows():
            acc = self.groups.setdefault(str(g), [0.0, 0.0, 0])
            acc[0] += float(row[("p", "sum")])
            acc[1] += float(row[("y", "sum")])
            acc[2] += int(row[("p", "size")])

    def rows(self) -> list[dict]:
        return [
            {"group": g, "n": n, "predicted": _num(p / n), "observed": _num(y / n)}
            for g, (p, y, n) in sorted(self.groups.items(), key=lambda kv: _group_key(kv[0]))
        ]


SILENCE_ORDER = ("<1", "1-2", "2-3", "3-6", "6+", "one order")


def _group_key(g: str):
    return (SILENCE_ORDER.index(g), g) if g in SILENCE_ORDER else (-1, g)


def decile(p: np.ndarray) -> np.ndarray:
    """Probability decile label "0.0-0.1" … "0.9-1.0"."""
    k = np.clip((np.asarray(p) * 10).astype(int), 0, 9)
    return np.array([f"{i / 10:.1f}-{(i + 1) / 10:.1f}" for i in range(10)])[k]


def _lift(score: np.ndarray, stores: np.ndarray, week1: np.ndarray) -> tuple[float, float]:
    """(share of the top fifth ranked by ``score`` ordering in week 1, share of all)."""
    if len(stores) == 0:
        return 0.0, 0.0
    top = stores[np.argsort(-score, kind="stable")[: max(1, len(stores) // 5)]]
    return float(np.isin(top, week1).mean()), float(np.isin(stores, week1).mean())


def _num(v):
    if v is None:
        return None
    v = float(v)
    return None if not np.isfinite(v) else round(v, 4)


def default_origins(history: History, n: int, horizon_weeks: int, spacing_weeks: int = 4):
    """``n`` Monday origins, ``spacing_weeks`` apart, the last one a full horizon before the end."""
    last_week = int(week_of_day(history.last_day + 1))
    end = last_week - horizon_weeks  # first horizon week of the last origin
    weeks = [end - spacing_weeks * i for i in range(n)][::-1]
    first_week = int(week_of_day(history.first_day))
    if weeks[0] - first_week < 26:
        raise UserError(
            "not enough history for these origins",
            hint="each origin needs at least 26 weeks of history before it",
        )
    return [week_start_day(w) for w in weeks]


def _baseline_baskets(known: pd.DataFrame, stores: np.ndarray):
    k = known[known["s"].isin(stores)]
    last = k.groupby("s")["day"].transform("max")
    repeat = k[k["day"] == last][["s", "p", "qty"]]
    so = store_orders(k)
    n_ord = so.groupby("s").size()
    pc = k.groupby(["s", "p"]).agg(n=("day", "size"), qty=("qty", "median")).reset_index()
    pc["frac"] = pc["n"] / n_ord.reindex(pc["s"]).to_numpy()
    freq = pc[pc["frac"] >= 0.3][["s", "p", "qty"]].copy()
    freq["qty"] = np.maximum(np.rint(freq["qty"]), 1).astype(np.int64)
    return repeat.reset_index(drop=True), freq.reset_index(drop=True)


def _app_quantities(app, ps, pp, point, high, st) -> pd.DataFrame:
    """Suggested quantities of the app's basket lines via :func:`suggest.suggest_quantities`."""
    idx = pd.Series(np.arange(len(ps)), index=pd.MultiIndex.from_arrays([ps, pp]))
    row = idx.reindex(pd.MultiIndex.from_arrays([app["s"], app["p"]])).to_numpy()
    has = ~np.isnan(row)
    r = np.where(has, row, 0).astype(np.int64)
    h = point.shape[1]
    wp = np.where(has, point[r].mean(axis=1) if h else 0, 0.0)
    wh = np.where(has, high[r], 0.0)
    cover = st["store_gap"].reindex(app["s"]).fillna(DEFAULT_COVER_DAYS).clip(1, 7 * h).to_numpy()
    qty, _, _ = suggest_quantities(wp, wh, cover, app["qty_med"].fillna(1).to_numpy())
    return pd.DataFrame({"s": app["s"].to_numpy(), "p": app["p"].to_numpy(), "qty": qty})


def _calibrated(scored: pd.DataFrame, act: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Lines of active stores at or above ``threshold`` (the basket's conditional probability),
    with ``prob`` multiplied by P(store orders within the horizon), as the app shows them."""
    c = scored[scored["s"].isin(act.index) & (scored["prob"] >= threshold)].copy()
    c["prob_next_order"] = c["prob"]
    c["prob"] = c["prob"] * act["p_horizon"].reindex(c["s"]).to_numpy()
    return c


def _reliability(res, cal, act, nxt, origin, end, lines) -> None:  # noqa: ANN001
    """Predicted vs observed for lines (on the store's next order within the horizon) and
    for stores (any order within the horizon), by decile and by silence bucket."""
    got = pd.MultiIndex.from_arrays([nxt["s"], nxt["p"]])
    y = pd.MultiIndex.from_arrays([cal["s"], cal["p"]]).isin(got).astype(float)
    bucket = silence_bucket(act["silence"].reindex(cal["s"]).to_numpy())
    for key, group in (("line_by_decile", decile(cal["prob"])), ("line_by_silence", bucket)):
        res.reliability.setdefault(key, Reliability()).add(group, cal["prob"].to_numpy(), y)
    res.reliability.setdefault("line_by_silence_uncalibrated", Reliability()).add(
        bucket, cal["prob_next_order"].to_numpy(), y
    )
    came = lines[(lines["day"] >= origin) & (lines["day"] < end)]["s"].unique()
    ordered = act.index.isin(came).astype(float)
    sb = silence_bucket(act["silence"].to_numpy())
    for key, col, group in (
        ("store_by_silence", "p_horizon", sb),
        ("store_by_decile", "p_horizon", decile(act["p_horizon"])),
        ("store_week_by_decile", "p_week", decile(act["p_week"])),
    ):
        obs = ordered
        if col == "p_week":
            w1 = lines[(lines["day"] >= origin) & (lines["day"] < origin + 7)]["s"].unique()
            obs = act.index.isin(w1).astype(float)
        res.reliability.setdefault(key, Reliability()).add(group, act[col].to_numpy(), obs)


def evaluate_history(
    history: History,
    origins: list[int],
    horizon_weeks: int,
    ctx: TaskContext = NULL_TASK,
    basket_cfg: BasketConfig | None = None,
    sf_names: list[str] | None = None,
) -> EvaluationResult:
    """Score every method at each origin (day numbers, Mondays) over ``horizon_weeks``."""
    t0 = time.monotonic()
    cfg = basket_cfg or BasketConfig(horizon_days=7 * horizon_weeks)
    names = list(STATSFORECAST_MODELS) if sf_names is None else sf_names
    methods = [APP_METHOD, *names, *PUBLISHED, *BASELINES]
    res = EvaluationResult(
        basket={m: BasketScore() for m in methods},
        demand={m: DemandScore() for m in methods},
        horizon_weeks=horizon_weeks,
    )
    lines = history.lines
    h = horizon_weeks
    steps = len(origins) * 4
    for i, origin in enumerate(origins):
        ctx.check()
        res.origins.append(str(np.datetime64(int(origin), "D")))
        end = origin + 7 * h
        known = history.before(origin)
        if len(known) == 0:
            raise UserError(f"no history before origin {res.origins[-1]}")
        nxt = next_orders(lines, origin, end)
        targets = nxt["s"].unique()
        res.n_baskets += len(targets)

        # --- app basket
        ctx.progress(4 * i, steps, f"origin {res.origins[-1]}: fitting basket model")
        model = fit_basket_model(known, origin, cfg)
        res.thresholds.append(model.threshold)
        scored = model.score_all(known, origin)
        app = scored[(scored["prob"] >= model.threshold) & scored["s"].isin(targets)]
        # published next-basket baselines, tuned on an inner origin before this one
        ctx.progress(4 * i + 1, steps, f"origin {res.origins[-1]}: published baselines")
        chosen_params = nbr_tune(history.before(origin), origin, 7 * h)
        for name, basket in nbr_predict(known, origin, targets, chosen_params).items():
            res.basket[name].add(basket, nxt)
        repeat, freq = _baseline_baskets(known, targets)
        res.basket["repeat_last_order"].add(repeat, nxt)
        res.basket["frequent_items"].add(freq, nxt)
        res.basket["zero"].add(nxt.iloc[:0], nxt)

        # --- call list (with prices and as if there were none), dormancy, upsell
        ctx.check()
        so = store_orders(known)
        st = store_stats(so, origin)
        week1 = lines[(lines["day"] >= origin) & (lines["day"] < origin + 7)]["s"].unique()
        orders = order_table(known)
        lifts: dict[str, float] = {}
        cal = scored
        for tag, tab, prices in (
            ("", orders, product_prices(known, history.n_products)),
            ("_no_prices", orders.assign(value=np.nan), None),
        ):
            act = store_activity(tab, origin)
            act = act[act["days_since"] <= 365]
            act = act.join(fit_activity_model(tab, origin, 7 * h).predict(act))
            chosen = _calibrated(scored, act, model.threshold)
            prio = call_priority(act, chosen, prices, horizon_weeks=h)
            stores = act.index.to_numpy()
            ranked = {f"{APP_METHOD}{tag}": -prio.set_index("s")["rank"].reindex(stores)}
            ranked.update({f"{k}{tag}": v for k, v in hand_rankings(act).items()})
            for name, score in ranked.items():
                num, den = _lift(np.asarray(score, dtype=float), stores, week1)
                acc = res.call_lists.setdefault(name, [0.0, 0.0])
                acc[0] += num
                acc[1] += den
                lifts[name] = round(num / den, 4) if den else float("nan")
            if not tag:
                cal = _calibrated(scored, act, 0.0)
                _reliability(res, cal, act, nxt, origin, end, lines)
        horizon_lines = history.between(origin, end)
        ups = similar_store_upsell(known, targets, origin, history.n_stores, history.n_products)
        hit, n = precision_at(ups, horizon_lines)
        res.upsell[0] += hit
        res.upsell[1] += n
        pop = popular_products(known, targets, origin)
        hit, n = precision_at(pop, horizon_lines)
        res.popular[0] += hit
        res.popular[1] += n

        # --- weekly demand
        ctx.progress(4 * i + 2, steps, f"origin {res.origins[-1]}: weekly demand models")
        n_orders = known.groupby(["s", "p"]).size()
        pairs = n_orders[n_orders >= 2].reset_index()
        ps, pp = pairs["s"].to_numpy(), pairs["p"].to_numpy()
        w0 = int(week_of_day(history.first_day))
        wo = int(week_of_day(origin))
        y = weekly_matrix(known, ps, pp, w0, wo - w0).astype(np.float64)
        actual = weekly_matrix(horizon_lines, ps, pp, wo, h).astype(np.float64)
        res.n_series += len(pairs)
        scale = series_scale(y)
        dm = fit_demand_model(y, h)
        point, low, high = dm.forecast(y, h)
        res.demand[APP_METHOD].add(point, actual, y, low, high)
        sf_fc = run_statsforecast(y, h, names) if names else {}
        ctx.check()
        sf_inner = run_statsforecast(y[:, :-h], h, names) if names else {}
        inner_scale = series_scale(y[:, :-h])
        for name in names:
            q = conformal_quantile(y[:, -h:], sf_inner[name], inner_scale, 0.8)
            f = sf_fc[name]
            res.demand[name].add(
                f, actual, y, np.maximum(f - q * scale[:, None], 0), f + q * scale[:, None]
            )
        res.demand["zero"].add(np.zeros_like(actual), actual, y)
        here = DemandScore()
        here.add(point, actual, y, low, high)
        first4 = DemandScore()
        first4.add(point[:, :4], actual[:, :4], y)
        per_origin = {
            "origin": res.origins[-1],
            "threshold": round(model.threshold, 3),
            "call_list_lifts": lifts,
            APP_METHOD: {k: _num(v) for k, v in here.as_dict().items()},
            "bias_first_4_weeks": _num(first4.as_dict()["bias"]),
            "published_params": chosen_params,
            "season_factor": round(season_ratio(y, h), 3),
            "level_correction": round(dm.level_correction, 3),
            "year_ago_ratio": _num(dm.year_ago_ratio),
        }
        for name in names:
            one = DemandScore()
            one.add(sf_fc[name], actual, y)
            per_origin[name] = {k: _num(v) for k, v in one.as_dict().items()}
        res.per_origin.append(per_origin)
        gap_w = st["store_gap"].reindex(ps).fillna(28).to_numpy() / 7.0
        gap_w = np.clip(gap_w, 1, None)
        rep_all, freq_all = _baseline_baskets(known, np.unique(ps))
        for name, basket in (("repeat_last_order", rep_all), ("frequent_items", freq_all)):
            q = (
                pd.Series(
                    basket["qty"].to_numpy(),
                    index=pd.MultiIndex.from_arrays([basket["s"], basket["p"]]),
                )
                .reindex(pd.MultiIndex.from_arrays([ps, pp]))
                .fillna(0)
                .to_numpy()
            )
            f = np.repeat((q / gap_w)[:, None], h, axis=1)
            res.demand[name].add(f, actual, y)

        # --- app basket quantities: the same arithmetic agents see (no shelf, pack 1)
        rate_high = point.mean(axis=1) + dm.rate_halfwidth(y)
        res.basket[APP_METHOD].add(_app_quantities(app, ps, pp, point, rate_high, st), nxt)

        # --- statsforecast baskets: forecast over the store's usual cover period
        ctx.progress(4 * i + 3, steps, f"origin {res.origins[-1]}: scoring")
        cover = np.clip(np.rint(gap_w), 1, h).astype(int)
        in_target = np.isin(ps, targets)
        cum_idx = cover - 1
        for name in names:
            c = np.cumsum(sf_fc[name], axis=1)[np.arange(len(ps)), cum_idx]
            q = np.rint(c)
            sel = in_target & (q >= 1)
            res.basket[name].add(
                pd.DataFrame({"s": ps[sel], "p": pp[sel], "qty": q[sel].astype(np.int64)}), nxt
            )
        log.info("origin %s done after %.1fs", res.origins[-1], time.monotonic() - t0)
    ctx.progress(steps, steps, "evaluation done")
    res.lift_num, res.lift_den = res.call_lists.get(APP_METHOD, [0.0, 0.0])
    res.seconds = time.monotonic() - t0
    return res
