"""From raw invoice lines to orders and weekly (store, product) demand, by explicit rules.

Rules (each counted in :class:`CleaningReport`, so a user can see what was set aside):

1. Lines without a store (walk-in buyers) are not any store's demand: dropped.
2. Non-product codes (postage, bank charges, manual adjustments, vouchers, tests) are not
   demand for a product: dropped (:data:`NON_PRODUCT_CODES`, :data:`NON_PRODUCT_PREFIXES`).
3. Zero quantities carry nothing: dropped. Exact duplicate lines (same invoice, product,
   quantity, price and date) are export artefacts: kept once.
4. Cancellations and returns (negative quantity, or an invoice number starting with ``C``)
   are not negative demand in the week they happen: they undo the store's latest earlier
   purchase of the same product, down to zero. A return with no earlier purchase in the
   data is ignored (it refers to a sale before the data starts).
5. What remains is summed per (store, day, product); one store's purchases on one day are
   one *order* (several invoices cut the same day are one visit).

Stores and products become dense integer codes so the models work on numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NON_PRODUCT_CODES = frozenset(
    {
        "POST",
        "DOT",
        "M",
        "D",
        "S",
        "B",
        "C2",
        "C3",
        "CRUK",
        "PADS",
        "BANK CHARGES",
        "ADJUST",
        "ADJUST2",
        "AMAZONFEE",
        "GIFT",
    }
)
"""Codes that are fees, postage, discounts or adjustments, not goods."""

NON_PRODUCT_PREFIXES = ("GIFT_", "TEST")
"""Gift vouchers and test items."""

EPOCH_MONDAY = np.datetime64("1970-01-05")  # a Monday: week k starts EPOCH_MONDAY + 7k days


@dataclass(frozen=True)
class CleaningReport:
    """How many input lines each rule set aside (rule numbers as in the module docstring)."""

    lines_in: int
    no_store: int
    non_product: int
    zero_quantity: int
    duplicates: int
    return_lines: int
    returned_units_applied: int
    returned_units_unmatched: int
    order_lines_out: int


@dataclass
class History:
    """Clean order lines, one row per (store, day, product), with dense integer codes.

    ``lines`` columns: ``s`` (store code), ``p`` (product code), ``day`` (days since
    1970-01-01), ``qty`` (units, > 0), ``price`` (unit price, NaN when unknown); sorted by
    day, then store. ``stores``/``products`` map codes back to the file's ids.
    """

    lines: pd.DataFrame
    stores: np.ndarray
    products: np.ndarray

    @property
    def n_stores(self) -> int:
        return len(self.stores)

    @property
    def n_products(self) -> int:
        return len(self.products)

    def before(self, day: int) -> pd.DataFrame:
        """Lines strictly before ``day`` (what was known at that origin)."""
        d = self.lines["day"].to_numpy()
        return self.lines.iloc[: int(np.searchsorted(d, day, side="left"))]

    def between(self, start: int, end: int) -> pd.DataFrame:
        d = self.lines["day"].to_numpy()
        lo = int(np.searchsorted(d, start, side="left"))
        hi = int(np.searchsorted(d, end, side="left"))
        return self.lines.iloc[lo:hi]

    @property
    def first_day(self) -> int:
        return int(self.lines["day"].iloc[0])

    @property
    def last_day(self) -> int:
        return int(self.lines["day"].iloc[-1])


def is_non_product(codes: pd.Series) -> np.ndarray:
    upper = codes.str.upper().str.strip()
    mask = upper.isin(NON_PRODUCT_CODES).to_numpy()
    for prefix in NON_PRODUCT_PREFIXES:
        mask |= upper.str.startswith(prefix).to_numpy()
    return mask


def day_number(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int32."""
    return (dates.to_numpy().astype("datetime64[D]").astype(np.int64)).astype(np.int32)


def week_of_day(day: np.ndarray | int) -> np.ndarray | int:
    """Week number (Monday-based) of a day number."""
    return (np.asarray(day) - int(EPOCH_MONDAY.astype(np.int64))) // 7


def week_start_day(week: int) -> int:
    return int(EPOCH_MONDAY.astype(np.int64)) + 7 * int(week)


def build_history(raw: pd.DataFrame) -> tuple[History, CleaningReport]:
    """Apply the cleaning rules to lines from :func:`reader.read_history` (or the database)."""
    n_in = len(raw)
    df = raw[["store", "product", "invoice", "date", "quantity", "price"]]
    has_store = (df["store"].astype(str).str.strip() != "") & df["store"].notna()
    no_store = int((~has_store).sum())
    df = df[has_store]
    nonprod = is_non_product(df["product"].astype(str))
    n_nonprod = int(nonprod.sum())
    df = df[~nonprod]
    zero = df["quantity"].to_numpy() == 0
    n_zero = int(zero.sum())
    df = df[~zero]
    before_dupes = len(df)
    df = df.drop_duplicates(["invoice", "product", "quantity", "price", "date", "store"])
    n_dupes = before_dupes - len(df)

    is_return = (df["quantity"].to_numpy() < 0) | df["invoice"].astype(
        str
    ).str.upper().str.startswith("C").to_numpy()
    sales = df[~is_return].copy()
    returns = df[is_return].copy()
    sales["day"] = day_number(sales["date"])
    returns["day"] = day_number(returns["date"])
    sales["qty"] = sales["quantity"].abs().astype(np.int64)
    returns["qty"] = returns["quantity"].abs().astype(np.int64)

    # Rule 5 first (so a return undoes an order, not one of its invoice lines).
    sales["pv"] = sales["price"] * sales["qty"]
    orders = (
        sales.groupby(["store", "product", "day"], sort=False)
        .agg(qty=("qty", "sum"), pv=("pv", "sum"))
        .reset_index()
    )
    orders["price"] = orders["pv"] / orders["qty"]
    orders = orders.drop(columns="pv").sort_values("day", kind="stable").reset_index(drop=True)

    applied = unmatched = 0
    if len(returns):
        r = returns[["store", "product", "day", "qty"]].sort_values("day", kind="stable")
        left = orders.reset_index()[["index", "store", "product", "day"]]
        m = pd.merge_asof(r, left, on="day", by=["store", "product"], direction="backward")
        hit = m["index"].notna().to_numpy()
        unmatched = int(m.loc[~hit, "qty"].sum())
        take = m[hit].groupby("index")["qty"].sum()
        idx = take.index.to_numpy().astype(np.int64)
        before = orders["qty"].to_numpy()[idx]
        after = np.maximum(before - take.to_numpy(), 0)
        applied = int((before - after).sum())
        unmatched += int(take.to_numpy().sum() - (before - after).sum())
        q = orders["qty"].to_numpy().copy()
        q[idx] = after
        orders["qty"] = q
        orders = orders[orders["qty"] > 0]

    s_codes, stores = pd.factorize(orders["store"], sort=True)
    p_codes, products = pd.factorize(orders["product"], sort=True)
    lines = pd.DataFrame(
        {
            "s": s_codes.astype(np.int32),
            "p": p_codes.astype(np.int32),
            "day": orders["day"].to_numpy().astype(np.int32),
            "qty": orders["qty"].to_numpy().astype(np.int64),
            "price": orders["price"].to_numpy().astype(float),
        }
    )
    lines = lines.sort_values(["day", "s", "p"], kind="stable").reset_index(drop=True)
    report = CleaningReport(
        lines_in=n_in,
        no_store=no_store,
        non_product=n_nonprod,
        zero_quantity=n_zero,
        duplicates=n_dupes,
        return_lines=int(is_return.sum()),
        returned_units_applied=applied,
        returned_units_unmatched=unmatched,
        order_lines_out=len(lines),
    )
    return History(lines=lines, stores=np.asarray(stores), products=np.asarray(products)), report


def weekly_matrix(
    lines: pd.DataFrame, pair_s: np.ndarray, pair_p: np.ndarray, first_week: int, n_weeks: int
) -> np.ndarray:
    """Dense [pairs × weeks] float32 demand for the given (store, product) pairs.

    Lines of pairs not listed, or outside the week range, are ignored.
    """
    out = np.zeros((len(pair_s), n_weeks), dtype=np.float32)
    if len(pair_s) == 0 or len(lines) == 0:
        return out
    n_p = int(max(pair_p.max(), lines["p"].max())) + 1
    key_pairs = pair_s.astype(np.int64) * n_p + pair_p
    order = np.argsort(key_pairs)
    sorted_keys = key_pairs[order]
    key = lines["s"].to_numpy().astype(np.int64) * n_p + lines["p"].to_numpy()
    pos = np.searchsorted(sorted_keys, key)
    pos_c = np.minimum(pos, len(sorted_keys) - 1)
    found = sorted_keys[pos_c] == key
    w = week_of_day(lines["day"].to_numpy()) - first_week
    ok = found & (w >= 0) & (w < n_weeks)
    np.add.at(out, (order[pos_c[ok]], w[ok]), lines["qty"].to_numpy()[ok])
    return out
