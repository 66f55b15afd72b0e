"""``mangalm forecast`` (predictions for the local database) and ``mangalm evaluate``
(rolling-origin backtest straight from history files, no database needed)."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ..domain.errors import UserError
from .common import add_db_option, add_today_option, as_of, cli_task, signed_in


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="backtest the forecasts on history files (no database needed)",
        description="Builds everything from the files using only data before each origin and "
        "scores the app, each statsforecast model and the human baselines.",
    )
    p.add_argument(
        "--history",
        nargs="+",
        required=True,
        metavar="FILE",
        help="CSV, CSV.gz or XLSX (every sheet holding the columns)",
    )
    p.add_argument(
        "--columns",
        required=True,
        help="field=column pairs: store=..,product=..,date=..,quantity=..,invoice=..[,price=..]",
    )
    p.add_argument(
        "--date-format",
        metavar="F",
        help="strftime format of the dates, e.g. %%d/%%m/%%Y (default: detected per file)",
    )
    p.add_argument("--origin", help="one origin date (YYYY-MM-DD; moved back to its Monday)")
    p.add_argument(
        "--horizon", type=int, default=8, metavar="WEEKS", help="weeks scored (default 8)"
    )
    p.add_argument(
        "--origins",
        type=int,
        metavar="N",
        help="N origins 4 weeks apart, the last one a horizon before the data ends (default 3)",
    )
    p.add_argument("--spacing", type=int, default=4, metavar="WEEKS", help="weeks between origins")
    p.add_argument(
        "--models",
        help="comma-separated statsforecast models to score (default: all; 'none' for none)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run_evaluate)

    f = sub.add_parser(
        "forecast",
        help="compute predictions, suggested orders, the call list and upsell for the local database",
    )
    add_db_option(f)
    f.add_argument(
        "--all", action="store_true", help="recompute every store, not just changed ones"
    )
    add_today_option(f)
    f.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    f.set_defaults(func=run_forecast)


def _origins(args, history) -> list[int]:
    from ..forecasting.evaluate import default_origins
    from ..forecasting.series import week_of_day, week_start_day

    if args.horizon < 1 or args.horizon > 52:
        raise UserError("--horizon must be between 1 and 52 weeks")
    if args.origin and args.origins:
        raise UserError("give --origin or --origins, not both")
    if args.origin:
        try:
            day = int(np.datetime64(args.origin, "D").astype(np.int64))
        except ValueError as exc:
            raise UserError(f"--origin: not a date: {args.origin!r}") from exc
        monday = week_start_day(int(week_of_day(day)))
        if monday <= history.first_day + 26 * 7:
            raise UserError("--origin leaves less than 26 weeks of history before it")
        if monday > history.last_day:
            raise UserError("--origin is after the last sale in the files")
        return [monday]
    return default_origins(history, args.origins or 3, args.horizon, args.spacing)


def run_evaluate(args: argparse.Namespace) -> int:
    from ..forecasting.evaluate import (
        STATSFORECAST_MODELS,
        evaluate_history,
        statsforecast_missing,
    )
    from ..forecasting.reader import ColumnMap, read_history
    from ..forecasting.series import build_history

    columns = ColumnMap.parse(args.columns)
    names = list(STATSFORECAST_MODELS)
    if args.models:
        names = (
            []
            if args.models.strip().lower() == "none"
            else [m.strip() for m in args.models.split(",")]
        )
        unknown = [m for m in names if m not in STATSFORECAST_MODELS]
        if unknown:
            raise UserError(
                f"--models: unknown {', '.join(unknown)}",
                hint=f"known: {', '.join(STATSFORECAST_MODELS)}",
            )
    skipped: list[str] = []
    why = statsforecast_missing() if names else None
    if why:
        if args.models:
            raise UserError(
                f"--models: statsforecast is not available here ({why})",
                hint="the installed app scores itself and the human baselines only; run the "
                "statsforecast comparison from a source install (docs/packaging.md), "
                "or pass --models none",
            )
        skipped, names = names, []
        print(
            "note: statsforecast is not part of this build; scoring the app and the human "
            "baselines only (for the statsforecast models run evaluate from a source install, "
            "docs/packaging.md)",
            file=sys.stderr,
        )
    ctx = cli_task(quiet=args.quiet)
    raw = read_history(args.history, columns, args.date_format)
    history, report = build_history(raw)
    if len(history.lines) == 0:
        raise UserError("no usable sales lines in the files", hint=str(report))
    origins = _origins(args, history)
    result = evaluate_history(history, origins, args.horizon, ctx, sf_names=names)
    out = result.as_json()
    out["cleaning"] = report.__dict__
    out["not_scored"] = skipped
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(out))
    return 0


def format_table(out: dict, details: bool = True) -> str:
    """Human-readable :meth:`EvaluationResult.as_json` output: the pooled scores, then (with
    ``details``) the targets checked, per-origin demand and call-list tables and the
    reliability of the chances shown (what ``docs/forecast-accuracy.md`` holds)."""
    from ..forecasting.evaluation_report import (
        per_origin_tables,
        reliability_tables,
        targets,
        targets_lines,
    )
    from ..forecasting.metrics import METRIC_KEYS  # pandas: loaded only when a table is printed

    cols = METRIC_KEYS
    lines = [
        f"origins {', '.join(out['origins'])}; horizon {out['horizon_weeks']} weeks; "
        f"{out['n_baskets']} next orders; {out['n_series']} series",
        f"{'method':<20}" + "".join(f"{c:>17}" for c in cols),
    ]
    for name, row in out["methods"].items():
        mark = "*" if name == out["app_method"] else " "
        cells = "".join(f"{'-' if row[c] is None else format(row[c], '.4f'):>17}" for c in cols)
        lines.append(f"{mark}{name:<19}{cells}")
    if out.get("not_scored"):
        lines.append(f"not scored (statsforecast not installed): {', '.join(out['not_scored'])}")
    lines.append(
        f"call list lift {out['call_list_lift']}; upsell precision@5 "
        f"{out['upsell_precision_at_5']} (most popular: {out['popular_precision_at_5']})"
    )
    if details:
        lines += ["", "## Targets", "", *targets_lines(targets(out)), ""]
        lines += per_origin_tables(out, baselines=False) + [""] + reliability_tables(out)
    return "\n".join(lines) + "\n"


def run_forecast(args: argparse.Namespace) -> int:
    from ..forecasting.service import run_forecast as service_run

    with signed_in(args) as (engine, identity):
        summary = service_run(
            engine,
            cli_task(quiet=args.quiet),
            only_changed=not args.all,
            today=as_of(args, engine),
            identity=identity,
        )
    print(summary.describe())
    return 0
