"""What ``mangalm evaluate`` reports beyond the pooled scores: the issue's targets checked,
the per-origin demand and call-list tables and the reliability of the chances shown.

One place for both faces of the backtest: the CLI prints these tables and
``benchmarks/forecast_accuracy.py`` writes them into ``docs/forecast-accuracy.md``, so the
document and a person's own run say the same thing. Works on
:meth:`EvaluationResult.as_json` output (plain dicts), so it needs neither pandas nor numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .evaluate import STATSFORECAST_MODELS
from .nbr_baselines import PUBLISHED

BIAS_TARGET = 0.10
"""|bias| at most 10%, pooled and over each origin's first 4 weeks."""
COVERAGE_TARGET = (0.75, 0.85)

RELIABILITY_TITLES = {
    "line_by_decile": "Lines (chance shown = P(store orders in the horizon) × P(line | order)), by decile",
    "line_by_silence": "Lines, by silence (days since the last order ÷ the store's usual interval)",
    "line_by_silence_uncalibrated": "Lines before the silence calibration (P(line | order) alone), by silence",
    "store_by_silence": "Stores: P(order within the horizon), by silence",
    "store_by_decile": "Stores: P(order within the horizon), by decile",
    "store_week_by_decile": "Stores: P(order within 7 days), by decile",
}


@dataclass(frozen=True)
class Target:
    label: str
    met: bool
    value: str


def targets(out: dict[str, Any]) -> list[Target]:
    """Each target of the forecasting issue, checked on one evaluation's output."""
    m = out["methods"]
    app = m[out["app_method"]]
    others = [n for n in m if n not in (out["app_method"], "zero")]
    rows = []
    for name in PUBLISHED:
        if name in m:
            rows.append(
                Target(
                    f"basket F1 and quantity fill above {name}",
                    app["basket_f1"] > m[name]["basket_f1"]
                    and app["qty_fill"] > m[name]["qty_fill"],
                    f"F1 {app['basket_f1']:.4f} vs {m[name]['basket_f1']:.4f}; "
                    f"fill {app['qty_fill']:.4f} vs {m[name]['qty_fill']:.4f}",
                )
            )
    if others:
        best_f1 = max(others, key=lambda n: m[n]["basket_f1"])
        best_fill = max(others, key=lambda n: m[n]["qty_fill"])
        rows += [
            Target(
                "basket F1 above every other method",
                app["basket_f1"] > m[best_f1]["basket_f1"],
                f"best other: {best_f1} {m[best_f1]['basket_f1']:.4f}",
            ),
            Target(
                "quantity fill above every other method",
                app["qty_fill"] > m[best_fill]["qty_fill"],
                f"best other: {best_fill} {m[best_fill]['qty_fill']:.4f}",
            ),
        ]
    if app["bias"] is not None:
        rows.append(
            Target(
                "demand bias within ±10% (pooled)",
                abs(app["bias"]) <= BIAS_TARGET,
                f"{app['bias']:+.4f}",
            )
        )
    rows += _per_origin_bias(out["per_origin"])
    sf = [n for n in STATSFORECAST_MODELS if n in m and m[n]["wape_total"] is not None]
    if sf and app["wape_total"] is not None:
        best_sf = min(sf, key=lambda n: m[n]["wape_total"])
        rows.append(
            Target(
                "total WAPE no worse than the best statsforecast model",
                app["wape_total"] <= m[best_sf]["wape_total"],
                f"{app['wape_total']:.4f} vs {best_sf} {m[best_sf]['wape_total']:.4f}",
            )
        )
    if app["coverage_80"] is not None:
        lo, hi = COVERAGE_TARGET
        rows.append(
            Target(
                "80% interval coverage within 75–85%",
                lo <= app["coverage_80"] <= hi,
                f"{app['coverage_80']:.4f}",
            )
        )
    lifts = out["call_list_lifts"]
    for tag, label in (("", "with prices"), ("_no_prices", "without prices")):
        a, h1, h2 = (lifts.get(f"{k}{tag}") for k in ("mangalm", "value_x_overdue", "orders_90d"))
        if a is None or h1 is None or h2 is None:
            continue
        rows.append(
            Target(
                f"call list lift above both hand rankings, {label}",
                a > max(h1, h2),
                f"{a:.3f} vs value × overdue {h1:.3f}, orders in 90 days {h2:.3f}",
            )
        )
    return rows


def _per_origin_bias(per_origin: list[dict[str, Any]]) -> list[Target]:
    """The 4-week bias at every origin, and the documented exception (docs/forecasting.md):
    an origin may miss only where the same weeks a year earlier had too little history before
    them to run the procedure there, so no year-ago ratio could correct its level."""
    scored = [o for o in per_origin if o.get("bias_first_4_weeks") is not None]
    if not scored:
        return []
    outside = [o for o in scored if abs(o["bias_first_4_weeks"]) > BIAS_TARGET]
    n = len(scored)
    off = ", ".join(f"{o['origin']} {o['bias_first_4_weeks']:+.2f}" for o in outside)
    with_year = [o for o in scored if o.get("year_ago_ratio") is not None]
    inside_with_year = sum(abs(o["bias_first_4_weeks"]) <= BIAS_TARGET for o in with_year)
    return [
        Target(
            "demand bias within ±10% at every origin's 4-week window",
            not outside,
            f"{n - len(outside)} of {n} origins; outside: {off or 'none'}",
        ),
        Target(
            "… and at every origin with a year before it to learn the season's bias from",
            all(o.get("year_ago_ratio") is None for o in outside),
            f"{inside_with_year} of {len(with_year)} such origins within ±10%; the other "
            f"{n - len(with_year)} had too little history before the same weeks a year earlier "
            "to run the procedure there",
        ),
    ]


def markdown_table(
    header: list[str], rows: list[list[Any]], signed: tuple[int, ...] = ()
) -> list[str]:
    """A markdown table; the columns in ``signed`` (biases) print with their sign."""

    def cell(k: int, v: Any) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:+.3f}" if k in signed else f"{v:.3f}"
        return str(v)

    out = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    out += ["| " + " | ".join(cell(k, v) for k, v in enumerate(r)) + " |" for r in rows]
    return out


def per_origin_tables(out: dict[str, Any], baselines: bool = True) -> list[str]:
    """Per origin: the app's weekly demand scores with its season and level factors (and,
    with ``baselines``, every statsforecast model's bias and total WAPE), the call-list lifts
    and the published baselines' chosen hyper-parameters."""
    app = out["app_method"]
    sf = [n for n in STATSFORECAST_MODELS if n in out["methods"]] if baselines else []
    horizon = out["horizon_weeks"]
    md = [
        f"## Per origin: weekly demand ({horizon}-week horizon; bias also over its first 4 weeks)",
        "",
    ]
    header = ["origin", "bias", "bias 4 wk", "WAPE total", "RMSSE", "coverage 80%"]
    header += ["season factor", "level corr.", "year-ago ratio"]
    header += [f"{n} bias" for n in sf] + [f"{n} WAPE total" for n in sf]
    rows = []
    for o in out["per_origin"]:
        a = o[app]
        rows.append(
            [o["origin"], a["bias"], o["bias_first_4_weeks"], a["wape_total"], a["rmsse"]]
            + [a["coverage_80"], o["season_factor"], o["level_correction"], o.get("year_ago_ratio")]
            + [o[n]["bias"] for n in sf]
            + [o[n]["wape_total"] for n in sf]
        )
    md += markdown_table(header, rows, signed=(1, 2))
    md += ["", "## Per origin: call list lift (top fifth ordering in week 1 ÷ all active)", ""]
    keys = list(out["call_list_lifts"])
    md += markdown_table(
        ["origin", *keys],
        [[o["origin"], *[o["call_list_lifts"].get(k) for k in keys]] for o in out["per_origin"]],
    )
    md += [
        "",
        "Pooled: " + ", ".join(f"{k} **{v}**" for k, v in out["call_list_lifts"].items()),
        "",
    ]
    md += ["## Per origin: published baselines' hyper-parameters (chosen on the inner origin)", ""]
    for o in out["per_origin"]:
        md.append(
            f"- {o['origin']}: "
            + "; ".join(
                f"{n} {', '.join(f'{k}={v}' for k, v in p.items())}"
                for n, p in o["published_params"].items()
            )
        )
    return md


def reliability_tables(out: dict[str, Any]) -> list[str]:
    """Predicted vs observed chances, pooled over origins, by decile and by silence bucket."""
    md = ["## Reliability of the chances shown (pooled over origins)", ""]
    for key, title in RELIABILITY_TITLES.items():
        md += [f"**{title}**", ""]
        md += markdown_table(
            ["group", "n", "predicted", "observed"],
            [
                [r["group"], r["n"], r["predicted"], r["observed"]]
                for r in out["reliability"].get(key, [])
            ],
        )
        md.append("")
    return md


def targets_lines(rows: list[Target]) -> list[str]:
    return [f"{'OK ' if t.met else 'NO '} {t.label}: {t.value}" for t in rows]
