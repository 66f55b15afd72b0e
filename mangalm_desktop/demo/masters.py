"""Agents, stores and products of the demo company, drawn from one seeded random generator.

Each table is a pandas DataFrame whose columns are the database columns; columns starting with
``_`` are generation parameters (a store's growth, a product's popularity...) that the history
generator reads and the writer drops.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import catalog, places


class IdMaker:
    """Deterministic version-4-shaped UUIDs from their own stream, so ids never shift the data."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng([seed, 0x1D])

    def make(self, n: int) -> list[uuid.UUID]:
        top = np.iinfo(np.uint64).max
        hi, lo = self._rng.integers(0, top, size=(2, n), dtype=np.uint64, endpoint=True)
        # set the version (4) and variant (RFC 4122) bits as uuid.uuid4() does
        hi = (hi & np.uint64(0xFFFF_FFFF_FFFF_0FFF)) | np.uint64(0x4000)
        lo = (lo & np.uint64(0x3FFF_FFFF_FFFF_FFFF)) | np.uint64(1 << 63)
        return [_uuid_from_int((int(h) << 64) | int(low)) for h, low in zip(hi, lo, strict=True)]


_UNKNOWN = uuid.SafeUUID.unknown  # an enum member lookup per id costs more than the id


def _uuid_from_int(value: int) -> uuid.UUID:
    # uuid.UUID(int=...) re-validates every argument form; with half a million ids that is
    # seconds of the demo's budget. This sets the same slots its constructor sets.
    u = object.__new__(uuid.UUID)
    object.__setattr__(u, "int", value)
    object.__setattr__(u, "is_safe", _UNKNOWN)
    return u


@dataclass
class Masters:
    agents: pd.DataFrame
    stores: pd.DataFrame
    products: pd.DataFrame
    start: dt.date  # first day of history
    today: dt.date  # history runs up to the day before
    ids: IdMaker


def _phone(rng: np.random.Generator, n: int) -> list[str]:
    first = rng.choice(np.array([7, 8, 9]), size=n, p=[0.2, 0.3, 0.5])
    rest = rng.integers(0, 10**9, size=n)
    digits = [f"{f}{r:09d}" for f, r in zip(first, rest, strict=True)]
    return [f"+91 {d[:5]} {d[5:]}" for d in digits]


def make_agents(rng: np.random.Generator, ids: IdMaker, n: int) -> pd.DataFrame:
    regions = [r.name for r in places.REGIONS]
    people = ["maharashtra", "mumbai", "gujarat", "goa", "karnataka"]
    rows = []
    for i in range(n):
        mine = [regions[j] for j in range(len(regions)) if j % n == i] or [
            regions[i % len(regions)]
        ]
        kind = people[i % len(people)]
        given = places.GIVEN_NAMES[kind][int(rng.integers(len(places.GIVEN_NAMES[kind])))]
        surname = places.SURNAMES[kind][int(rng.integers(len(places.SURNAMES[kind])))]
        code = f"A{i + 1:02d}"
        rows.append(
            {
                "code": code,
                "name": f"{given} {surname}",
                "email": f"{code.lower()}@demo.mangalm.example",
                "region": " + ".join(mine),
                "role": "agent",
                "zoho_user_name": f"{given} {surname}",
                "active": True,
            }
        )
    df = pd.DataFrame(rows)
    df["phone"] = _phone(rng, n)
    df.insert(0, "id", ids.make(n))
    df["_regions"] = [r.split(" + ") for r in df["region"]]
    return df


def make_stores(
    rng: np.random.Generator,
    ids: IdMaker,
    agents: pd.DataFrame,
    n: int,
    start: dt.date,
    today: dt.date,
) -> pd.DataFrame:
    n_days = (today - start).days
    cities = [(reg, city) for reg in places.REGIONS for city in reg.cities]
    weights = np.array([c.weight for _, c in cities])
    pick = rng.choice(len(cities), size=n, p=weights / weights.sum())
    # Give every region at least one store, so every agent has a territory even when n is small.
    first_city = {reg.name: i for i, (reg, _) in reversed(list(enumerate(cities)))}
    for k, ci in enumerate(sorted(first_city.values())[: min(n, len(first_city))]):
        pick[k] = ci
    region_agent = {
        r: code for code, regs in zip(agents["code"], agents["_regions"], strict=True) for r in regs
    }
    agent_ids = dict(zip(agents["code"], agents["id"], strict=True))

    size = rng.choice(np.array(["S", "M", "L"]), size=n, p=[0.5, 0.35, 0.15])
    cadence_opts = {
        "S": ([14, 21, 28], [0.45, 0.3, 0.25]),
        "M": ([7, 14, 21], [0.35, 0.5, 0.15]),
        "L": ([7, 14], [0.8, 0.2]),
    }
    base_limit = {"S": (25_000, 60_000), "M": (75_000, 150_000), "L": (200_000, 450_000)}
    terms_opts = {"S": [7, 15], "M": [15, 30], "L": [30]}

    # Lifecycle: most stores predate the history, some open during it, some go quiet.
    life = rng.choice(np.array(["old", "new", "dormant"]), size=n, p=[0.78, 0.13, 0.09])
    opened_day = np.where(
        life == "new",
        rng.integers(30, max(31, n_days - 60), size=n),
        -rng.integers(200, 365 * 12, size=n),
    )
    dormant_day = np.where(
        life == "dormant",
        rng.integers(min(150, n_days // 3), max(n_days // 3 + 1, n_days - 60), size=n),
        n_days,
    )

    rows = []
    names_seen: set[tuple[str, str]] = set()
    for k in range(n):
        reg, city = cities[pick[k]]
        people = reg.people
        sur = places.SURNAMES[people]
        given = places.GIVEN_NAMES[people]
        owner_sur = sur[int(rng.integers(len(sur)))]
        kind = places.SHOP_KINDS[int(rng.integers(len(places.SHOP_KINDS)))]
        if rng.random() < 0.3:
            name = f"{owner_sur} {kind if 'Kirana' not in kind else 'Provision Stores'}"
        else:
            first = places.NAME_FIRST[people][int(rng.integers(len(places.NAME_FIRST[people])))]
            name = f"{first} {kind}"
        locality = city.localities[int(rng.integers(len(city.localities)))]
        if (name, city.name) in names_seen:
            name = f"{name} ({locality})"
        if (name, city.name) in names_seen:
            name = f"{name} {k + 1}"
        names_seen.add((name, city.name))
        shop_no = int(rng.integers(1, 60))
        building = places.BUILDINGS[int(rng.integers(len(places.BUILDINGS)))]
        street = places.STREETS[int(rng.integers(len(places.STREETS)))]
        code = region_agent[reg.name]
        if rng.random() < 0.08 and reg.name in places.NEIGHBOURS:
            code = region_agent[places.NEIGHBOURS[reg.name]]  # a few sit with the next territory
        s = size[k]
        copts, cp = cadence_opts[s]
        lo, hi = base_limit[s]
        rows.append(
            {
                "code": f"{city.code}-{k + 1:04d}",
                "name": name,
                "address": f"Shop No. {shop_no}, {building}, {street}, {locality}",
                "city": city.name,
                "region": reg.name,
                "state": city.state,
                "postal_code": f"{city.pin_prefix}{int(rng.integers(1, 100)):02d}",
                "country": "India",
                "contact_name": f"{given[int(rng.integers(len(given)))]} {owner_sur}",
                "size_class": s,
                "agent_id": agent_ids[code],
                "call_cadence_days": int(rng.choice(copts, p=cp)),
                "_base_limit": int(rng.integers(lo // 5000, hi // 5000 + 1)) * 5000,
                "_terms": int(rng.choice(terms_opts[s])),
                "_people": people,
            }
        )
    df = pd.DataFrame(rows)
    df.insert(0, "id", ids.make(n))
    df["phone"] = _phone(rng, n)
    df["email"] = None
    df["notes"] = None
    df["_life"] = life
    df["_open_day"] = np.maximum(opened_day, 0)
    df["_end_day"] = dormant_day  # exclusive: no orders from this day on
    df["opened_on"] = [start + dt.timedelta(days=int(d)) for d in opened_day]
    # Two in five dormant stores were closed by the office; the rest just stopped ordering.
    df["active"] = ~((life == "dormant") & (rng.random(n) < 0.4))
    df["_growth"] = rng.normal(0.03, 0.12, size=n)  # yearly log growth of the store's volume
    df["_payer"] = rng.choice(np.array(["prompt", "slow", "late"]), size=n, p=[0.6, 0.3, 0.1])
    return df


def make_products(
    rng: np.random.Generator, ids: IdMaker, n: int, start: dt.date, today: dt.date
) -> pd.DataFrame:
    n_days = (today - start).days
    candidates = []
    for t in catalog.TEMPLATES:
        for b, brand in enumerate(t.brands):
            for p, (label, mrp) in enumerate(t.packs):
                for v, variant in enumerate(t.variants):
                    # The first brand, pack and flavour of each item are its best sellers.
                    pop = t.rate / (1 + 0.6 * b) / (1 + 0.4 * p) / (1 + 0.5 * v)
                    item = f"{t.item} {variant}" if variant else t.item
                    candidates.append((t, brand, item, label, mrp, pop, p))
    pops = np.array([c[5] for c in candidates])
    # Every category's best seller first, then popularity-weighted draws without replacement.
    chosen: list[int] = []
    cats: set[str] = set()
    for i in np.argsort(-pops, kind="stable"):
        if candidates[i][0].category not in cats:
            cats.add(candidates[i][0].category)
            chosen.append(int(i))
    taken = set(chosen)
    rest = np.array([i for i in range(len(candidates)) if i not in taken])
    take = min(max(n - len(chosen), 0), len(rest))
    if take:
        w = pops[rest] / pops[rest].sum()
        chosen += [int(i) for i in rng.choice(rest, size=take, replace=False, p=w)]
    chosen = chosen[:n]
    sizes = [0] * len(chosen)
    # Asked for more products than the range has: add bigger "jumbo" packs of best sellers.
    while len(chosen) < n:
        chosen.append(int(rng.choice(len(candidates), p=pops / pops.sum())))
        sizes.append(1)

    rows = []
    counts: dict[str, int] = {}
    seen_names: set[str] = set()
    for i, jumbo in zip(chosen, sizes, strict=True):
        t, brand, item, label, mrp, pop, p = candidates[i]
        name = f"{brand} {item} {label}"
        k = 1
        while jumbo and name in seen_names:
            k += 1
            name = f"{brand} {item} {label} x{k} Jumbo"
        if jumbo:
            mrp = mrp * k * 0.95
        seen_names.add(name)
        prefix = catalog.SKU_PREFIX[t.category]
        counts[prefix] = counts.get(prefix, 0) + 1
        mrp_now = float(round(mrp * rng.uniform(0.95, 1.08)))
        margin = rng.uniform(0.12, 0.22)  # the retailer's margin under MRP
        rows.append(
            {
                "sku": f"{prefix}-{counts[prefix]:04d}",
                "name": name,
                "brand": brand,
                "category": t.category,
                "unit": "pcs",
                "pack_size": t.pack,
                "case_qty": t.case,
                "mrp": mrp_now,
                "price": round(mrp_now * (1 - margin), 2),
                "_rate": t.rate * rng.lognormal(0, 0.3) / (1 + 0.4 * p),
                "_pop": pop * rng.lognormal(0, 0.35),
            }
        )
    df = pd.DataFrame(rows)
    df.insert(0, "id", ids.make(len(df)))
    # Launches: about one in twelve products arrives during the history and ramps up.
    launched = rng.random(len(df)) < 0.08
    launch_day = np.where(
        launched,
        rng.integers(60, max(61, n_days - 45), size=len(df)),
        -rng.integers(365, 365 * 15, size=len(df)),
    )
    df["_launch_day"] = np.maximum(launch_day, 0)
    df["launched_on"] = [start + dt.timedelta(days=int(d)) for d in launch_day]
    # Discontinued: a few old products stop selling in the second half and are inactive.
    stopped = (~launched) & (rng.random(len(df)) < 0.04)
    df["_stop_day"] = np.where(
        stopped,
        rng.integers(n_days // 2, max(n_days // 2 + 1, n_days - 30), size=len(df)),
        n_days + 1,
    )
    df["active"] = ~stopped
    return df
