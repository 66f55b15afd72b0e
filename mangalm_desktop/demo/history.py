"""Two years of invoices, credit notes, balances and calls for the demo stores.

The demand model, per store: the store orders on its own cadence with jitter (never on a
Sunday); it stocks a store-specific assortment (bigger stores more lines, larger quantities);
for each order every stocked item is ordered with its own probability (so one product's
weekly series is mostly zeros - intermittent, as real kirana demand is), in whole packs.
Festivals (Diwali, Ganesh Chaturthi, Holi, Eid) and the seasons lift both the chance and the
size by category and region; each store grows or shrinks slowly; new stores start mid-way and
dormant ones fade out and stop; launched products ramp up over ten weeks, discontinued ones
stop. Money is computed in integer paise so totals equal the sum of their lines exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import catalog, festivals
from .masters import Masters

CALL_HISTORY_DAYS = 180
PRICE_RISE = 1.05  # yearly list-price revision on 1 April (the Indian financial year)
SIZE_SCALE = {"S": 0.6, "M": 1.0, "L": 1.8}
QTY_SHAPE = 1.2  # dispersion of order sizes: lower = lumpier
MAX_PACKS = 25  # per line for a medium store; a kirana's back room is small
ASSORTMENT = {"S": (12, 22), "M": (22, 40), "L": (40, 68)}  # lines of a 400-product range
CALL_NOTES = (
    "Asked about the festival scheme",
    "Owner busy, spoke to the son",
    "Wants delivery before Saturday",
    "Complained about a damaged carton last time",
    "Asked for credit extension",
    "Competitor offering better margin on oil",
    "Shop closed for a family function",
    "Will pay the old bill on next visit",
)


@dataclass
class History:
    orders: pd.DataFrame  # one row per invoice or credit note
    lines: pd.DataFrame
    calls: pd.DataFrame
    outstanding: np.ndarray  # per store, paise
    credit_limit: np.ndarray  # per store, paise


def _lift_table(people: str, start: dt.date, n_days: int) -> np.ndarray:
    """Demand multiplier per (day, category) for shoppers of one region."""
    cats = {c: i for i, c in enumerate(catalog.CATEGORIES)}
    lift = np.ones((n_days, len(cats)))
    for name, by_cat in catalog.FESTIVAL_LIFT.items():
        prof = festivals.festival_profile(name, start, n_days)
        w = catalog.FESTIVAL_REGION_WEIGHT[name][people]
        for cat, f in by_cat.items():
            lift[:, cats[cat]] += prof * (f - 1.0) * w
    summer = festivals.month_profile(start, n_days, {4, 5})
    monsoon = festivals.month_profile(start, n_days, {7, 8})
    for cat, f in catalog.SUMMER_LIFT.items():
        lift[:, cats[cat]] *= 1 + summer * (f - 1)
    for cat, f in catalog.MONSOON_LIFT.items():
        lift[:, cats[cat]] *= 1 + monsoon * (f - 1)
    return lift


def _availability(products: pd.DataFrame, n_days: int) -> np.ndarray:
    """0..1 per (day, product): not yet launched, ramping up over ten weeks, or discontinued."""
    day = np.arange(n_days)[:, None]
    launch = products["_launch_day"].to_numpy()[None, :]
    stop = products["_stop_day"].to_numpy()[None, :]
    ramp = np.clip((day - launch + 7) / 70.0, 0.0, 1.0)
    ramp = np.where(launch > 0, ramp, 1.0)
    return np.where((day >= launch) & (day < stop), ramp, 0.0)


def _price_revisions(start: dt.date, today: dt.date, n_days: int) -> np.ndarray:
    """How many 1-April revisions lie between each day and today (0 = today's price list)."""
    days = np.datetime64(start) + np.arange(n_days)
    revs = np.zeros(n_days, dtype=np.int64)
    for year in range(start.year, today.year + 1):
        april = np.datetime64(dt.date(year, 4, 1))
        if np.datetime64(start) < april <= np.datetime64(today):
            revs += days < april
    return revs


def _order_days(
    rng: np.random.Generator, first: int, end: int, cadence: int, weekday0: int
) -> np.ndarray:
    if end <= first:
        return np.zeros(0, dtype=np.int64)
    k = (end - first) // max(3, cadence // 2) + 2
    steps = cadence + np.rint(rng.normal(0, 0.12 * cadence, size=k)).astype(np.int64)
    steps = np.maximum(steps, max(3, cadence // 2))
    days = first + int(rng.integers(0, cadence)) + np.concatenate([[0], np.cumsum(steps[:-1])])
    days = days + ((days + weekday0) % 7 == 6)  # Sunday orders move to Monday
    return days[days < end]


def generate_history(rng: np.random.Generator, m: Masters) -> History:
    stores, products = m.stores, m.products
    n_days = (m.today - m.start).days
    n_prod = len(products)
    weekday0 = m.start.weekday()
    cat_idx = products["category"].map({c: i for i, c in enumerate(catalog.CATEGORIES)}).to_numpy()
    pop = products["_pop"].to_numpy()
    rate = products["_rate"].to_numpy()
    pack = products["pack_size"].to_numpy().astype(np.int64)
    avail = _availability(products, n_days)
    lifts = {p: _lift_table(p, m.start, n_days) for p in stores["_people"].unique()}
    range_scale = min(1.0, n_prod / 400)

    o_store, o_day, o_lines = [], [], []
    l_order, l_prod, l_qty = [], [], []
    calls: list[tuple[int, int, str, bool]] = []  # store, day, outcome, scheduled
    n_orders = 0
    for s in range(len(stores)):
        st = stores.iloc[s]
        size, cad = st["size_class"], int(st["call_cadence_days"])
        first, end = int(st["_open_day"]), int(min(st["_end_day"], n_days))
        days = _order_days(rng, first, end, cad, weekday0)
        lo, hi = ASSORTMENT[size]
        n_a = int(min(n_prod, max(5, rng.integers(lo, hi + 1) * range_scale)))
        assort = rng.choice(n_prod, size=n_a, replace=False, p=pop / pop.sum())
        p_week = np.clip(rng.beta(1.0, 1.7, size=n_a), 0.03, 0.95)
        p_order = 1 - (1 - p_week) ** (cad / 7)
        # packs per order: the item's weekly rate, the store's size, the weeks between orders
        mean_packs = rate[assort] * SIZE_SCALE[size] * rng.lognormal(0, 0.45, size=n_a)
        mean_packs = mean_packs * (cad / 7) ** 0.7

        lift = lifts[st["_people"]][days][:, cat_idx[assort]]
        trend = np.exp(st["_growth"] * days / 365.0)[:, None]
        fade = np.clip((end - days) / 60.0, 0.3, 1.0)[:, None] if end < n_days else 1.0
        mult = lift * trend * fade
        prob = 1 - (1 - p_order[None, :]) ** (mult * avail[days][:, assort])
        hit = rng.random(prob.shape) < prob
        lam = np.clip(mean_packs[None, :] * mult**0.6 - 1, 0, MAX_PACKS * SIZE_SCALE[size])
        # gamma-mixed Poisson (negative binomial): some orders are far bigger than usual
        packs = 1 + rng.poisson(lam * rng.gamma(QTY_SHAPE, 1 / QTY_SHAPE, size=lam.shape))
        oi, aj = np.nonzero(hit)
        counts = np.bincount(oi, minlength=len(days))
        has = counts > 0
        # Orders with no line are calls where the store needed nothing.
        new_index = np.cumsum(has) - 1 + n_orders
        o_store.append(np.full(int(has.sum()), s))
        o_day.append(days[has])
        o_lines.append(counts[has])
        l_order.append(new_index[oi])
        l_prod.append(assort[aj])
        l_qty.append(packs[oi, aj] * pack[assort[aj]])
        n_orders += int(has.sum())

        # Call history for the last months: the order call, sometimes after a failed try.
        recent = days >= n_days - CALL_HISTORY_DAYS
        for d, ok in zip(days[recent], has[recent], strict=True):
            d = int(d)
            tried = d - 1 - int((d - 1 + weekday0) % 7 == 6)  # the working day before
            if rng.random() < 0.12 and tried >= 0:
                calls.append((s, tried, "no_answer" if rng.random() < 0.6 else "call_back", True))
                calls.append((s, d, "ordered" if ok else "not_needed", False))
            else:
                calls.append((s, d, "ordered" if ok else "not_needed", True))
        if end < n_days:  # the agent keeps calling a dormant store for a while, in vain
            for d in range(max(end, n_days - CALL_HISTORY_DAYS), min(n_days, end + 120), cad):
                d += int((d + weekday0) % 7 == 6) if d + 1 < n_days else 0  # not on a Sunday
                calls.append((s, d, "no_answer" if rng.random() < 0.5 else "not_needed", True))

    orders = pd.DataFrame(
        {
            "store": np.concatenate(o_store),
            "day": np.concatenate(o_day),
            "n_lines": np.concatenate(o_lines),
        }
    )
    lines = pd.DataFrame(
        {
            "order": np.concatenate(l_order),
            "product": np.concatenate(l_prod),
            "quantity": np.concatenate(l_qty).astype(np.int64),
        }
    )
    orders, lines = _price_lines(rng, m, orders, lines, n_days)
    orders, lines = _add_credit_notes(rng, orders, lines, pack, n_days)
    orders = _balances(rng, m, orders, lines, n_days)
    outstanding = orders.groupby("store")["balance"].sum().reindex(range(len(stores)), fill_value=0)
    outstanding = outstanding.to_numpy().astype(np.int64)
    limit = _credit_limits(rng, stores, outstanding)
    call_df = pd.DataFrame(calls, columns=["store", "day", "outcome", "scheduled"])
    call_df = call_df.sort_values(["day", "store"], kind="stable").reset_index(drop=True)
    call_df["minute"] = rng.integers(10 * 60, 18 * 60 + 30, size=len(call_df))  # shop hours, IST
    noted = rng.random(len(call_df)) < 0.15
    pick = rng.integers(0, len(CALL_NOTES), size=len(call_df))
    call_df["note"] = [CALL_NOTES[k] if n else None for k, n in zip(pick, noted, strict=True)]
    return History(orders, lines, call_df, outstanding, limit)


def _price_lines(
    rng: np.random.Generator, m: Masters, orders: pd.DataFrame, lines: pd.DataFrame, n_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Number the invoices by date, price every line in paise at that day's list price."""
    order = np.lexsort((orders["store"].to_numpy(), orders["day"].to_numpy()))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    orders = orders.iloc[order].reset_index(drop=True)
    lines["order"] = rank[lines["order"].to_numpy()]
    lines = lines.sort_values(["order", "product"], kind="stable").reset_index(drop=True)
    orders["kind"] = "invoice"
    orders["number"] = [f"INV-{i + 1:06d}" for i in range(len(orders))]

    revs = _price_revisions(m.start, m.today, n_days)
    price_now = np.rint(m.products["price"].to_numpy() * 100).astype(np.int64)
    mrp_now = np.rint(m.products["mrp"].to_numpy() * 100).astype(np.int64)
    day = orders["day"].to_numpy()[lines["order"].to_numpy()]
    prod = lines["product"].to_numpy()
    factor = PRICE_RISE ** revs[day].astype(float)
    lines["unit_price"] = np.rint(price_now[prod] / factor).astype(np.int64)
    lines["mrp"] = np.rint(mrp_now[prod] / factor / 100).astype(np.int64) * 100  # whole rupees
    # Discounts: large stores get 2% trade discount; a few lines carry a 5% scheme.
    large = (m.stores["size_class"].to_numpy() == "L")[orders["store"].to_numpy()]
    bp = np.where(large[lines["order"].to_numpy()], 200, 0)
    bp = bp + np.where(rng.random(len(lines)) < 0.06, 500, 0)
    lines["discount_bp"] = bp.astype(np.int64)
    _line_money(lines)
    return orders, lines


def _line_money(lines: pd.DataFrame) -> None:
    """gross = qty x price; discount rounded half-up to the paisa; total = gross - discount."""
    gross = lines["quantity"].to_numpy() * lines["unit_price"].to_numpy()
    sign = np.sign(gross)
    disc = sign * ((np.abs(gross) * lines["discount_bp"].to_numpy() + 5000) // 10000)
    lines["gross"] = gross
    lines["discount"] = disc
    lines["line_total"] = gross - disc


def _add_credit_notes(
    rng: np.random.Generator,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    pack: np.ndarray,
    n_days: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """About 2.5% of invoices get a credit note a few days later returning one or two lines
    (damaged or expired stock), one or two packs each, at the invoiced price and discount."""
    delay = rng.integers(2, 21, size=len(orders))
    pick = (rng.random(len(orders)) < 0.025) & (orders["day"].to_numpy() + delay < n_days)
    src = np.nonzero(pick)[0]
    cn = pd.DataFrame(
        {
            "store": orders["store"].to_numpy()[src],
            "day": orders["day"].to_numpy()[src] + delay[src],
            "kind": "credit_note",
            "src": src,
        }
    )
    cn = cn.sort_values(["day", "store"], kind="stable").reset_index(drop=True)
    cn["number"] = [f"CN-{i + 1:05d}" for i in range(len(cn))]
    n_inv = orders["n_lines"].to_numpy()
    first_line = np.concatenate([[0], np.cumsum(n_inv)[:-1]])
    inv = cn["src"].to_numpy()
    n = n_inv[inv]
    j1 = (rng.random(len(cn)) * n).astype(np.int64)
    two = (rng.random(len(cn)) < 0.35) & (n > 1)
    j2 = (j1 + 1 + (rng.random(len(cn)) * np.maximum(n - 1, 1)).astype(np.int64)) % n
    owner = np.concatenate([np.arange(len(cn)), np.nonzero(two)[0]])
    offs = np.concatenate([j1, j2[two]])
    src_line = first_line[inv[owner]] + offs
    sort = np.lexsort((lines["product"].to_numpy()[src_line], owner))
    owner, src_line = owner[sort], src_line[sort]
    sl = lines.iloc[src_line]
    p = pack[sl["product"].to_numpy()]
    back = np.minimum(sl["quantity"].to_numpy(), p * rng.integers(1, 3, size=len(sl)))
    cl = pd.DataFrame(
        {
            "order": len(orders) + owner,
            "product": sl["product"].to_numpy(),
            "quantity": -back,
            "unit_price": sl["unit_price"].to_numpy(),
            "mrp": sl["mrp"].to_numpy(),
            "discount_bp": sl["discount_bp"].to_numpy(),
        }
    )
    _line_money(cl)
    cn["n_lines"] = np.bincount(owner, minlength=len(cn))
    orders = pd.concat([orders, cn.drop(columns=["src"])], ignore_index=True)
    lines = pd.concat([lines, cl], ignore_index=True)
    return orders, lines


def _balances(
    rng: np.random.Generator, m: Masters, orders: pd.DataFrame, lines: pd.DataFrame, n_days: int
) -> pd.DataFrame:
    """Invoice totals from their lines, due dates from the store's terms, what is still unpaid.

    A store pays each invoice some days after it falls due (prompt, slow or late payers); an
    invoice not yet paid by today is open (``sent`` before its due date, ``overdue`` after),
    and some open ones were part-paid. Credit notes are settled against invoices at once.
    """
    sums = lines.groupby("order")[["gross", "discount", "line_total"]].sum()
    orders["subtotal"] = sums["gross"].to_numpy()
    orders["discount_amount"] = sums["discount"].to_numpy()
    orders["total"] = sums["line_total"].to_numpy()
    store = orders["store"].to_numpy()
    terms = m.stores["_terms"].to_numpy()[store]
    payer = m.stores["_payer"].to_numpy()[store]
    base = np.select([payer == "prompt", payer == "slow"], [2, 15], 40)
    delay = base + rng.integers(-2, 15, size=len(orders)) * np.where(payer == "late", 2, 1)
    day = orders["day"].to_numpy()
    due = day + terms
    invoice = (orders["kind"] == "invoice").to_numpy()
    unpaid = invoice & (due + np.maximum(delay, 0) >= n_days)
    total = orders["total"].to_numpy()
    part = unpaid & (due < n_days) & (rng.random(len(orders)) < 0.15)
    part_bal = (total * rng.uniform(0.3, 0.8, size=len(orders)) // 100).astype(np.int64) * 100
    balance = np.where(unpaid, np.where(part, np.maximum(part_bal, 100), total), 0)
    orders["balance"] = np.minimum(balance, np.maximum(total, 0)).astype(np.int64)
    orders["due_day"] = np.where(invoice, due, day)
    orders["status"] = np.select(
        [~invoice, ~unpaid, part, due < n_days],
        ["closed", "paid", "partially_paid", "overdue"],
        "sent",
    )
    return orders


def _credit_limits(
    rng: np.random.Generator, stores: pd.DataFrame, outstanding: np.ndarray
) -> np.ndarray:
    """Limits sit above what a store owes, except for a few over-limit stores to chase."""
    base = stores["_base_limit"].to_numpy().astype(np.int64) * 100
    step = 5000 * 100
    covered = np.maximum(base, -(-(outstanding * 6 // 5) // step) * step)
    over = (rng.random(len(stores)) < 0.05) & (outstanding > 4 * step)
    return np.where(over, (outstanding * 17 // 20) // step * step, covered)
