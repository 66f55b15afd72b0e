"""Scheme pricing against invoices worked out by hand (docs/orders.md "Schemes").

Every expected amount below was computed on paper; the arithmetic is in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mangalm_desktop.schemes.pricing import (
    ItemLine,
    ProductRef,
    Rule,
    Scheme,
    SchemeKind,
    StoreRef,
    price,
)

D = Decimal
DAY = dt.date(2026, 12, 6)
PUNE_A = StoreRef(region="Pune", size_class="A")
ATTA, DAL, BISC, SALT = (uuid.uuid4() for _ in range(4))


def line(
    pid: uuid.UUID,
    qty: int,
    unit: str,
    brand: str = "Aashirvaad",
    cat: str = "Staples",
    pct: str = "0",
    name: str = "",
) -> ItemLine:
    return ItemLine(pid, qty, D(unit), brand, cat, D(pct), name or str(pid)[:4])


def scheme(code: str, kind: SchemeKind, *rules: Rule, stackable: bool = False, **kw) -> Scheme:
    kw.setdefault("valid_from", dt.date(2026, 12, 1))
    kw.setdefault("valid_to", dt.date(2026, 12, 31))
    return Scheme(uuid.uuid4(), code, code, kind, rules=tuple(rules), stackable=stackable, **kw)


def test_percent_off_a_brand_only_touches_that_brand() -> None:
    s = scheme("ASH-5", SchemeKind.PERCENT, Rule(1, D("5")), brand="Aashirvaad")
    lines = [line(ATTA, 3, "245.50"), line(BISC, 10, "10.00", brand="Parle")]
    p = price(lines, PUNE_A, DAY, [s])
    atta, bisc = p.lines
    # atta gross 3 × 245.50 = 736.50; 5% = 36.825 → 36.83 (half-up); total 736.50 − 36.83 = 699.67
    assert (atta.gross, atta.discount, atta.total) == (D("736.50"), D("36.83"), D("699.67"))
    assert atta.discount_pct == D("5") and atta.scheme_value == D("36.83")
    assert atta.scheme_id == s.id
    assert atta.reason == "ASH-5: 5% off Aashirvaad products"
    # biscuits untouched: 10 × 10.00 = 100.00
    assert (bisc.discount, bisc.total, bisc.reason) == (D("0.00"), D("100.00"), None)
    # subtotal 736.50 + 100.00 = 836.50; discount 36.83; total 799.67
    assert (p.subtotal, p.discount_total, p.total) == (D("836.50"), D("36.83"), D("799.67"))
    assert p.applied == ("ASH-5",)


def test_slab_picks_the_highest_step_reached_over_the_whole_scope() -> None:
    s = scheme("PARLE-SLAB", SchemeKind.SLAB, Rule(10, D("5")), Rule(25, D("8")), brand="Parle")
    lines = [line(BISC, 20, "9.75", brand="Parle"), line(SALT, 8, "22.00", brand="Parle")]
    p = price(lines, PUNE_A, DAY, [s])
    a, b = p.lines
    # scope quantity 20 + 8 = 28 ≥ 25 → 8% on both lines
    # 20 × 9.75 = 195.00; 8% = 15.60; total 179.40
    # 8 × 22.00 = 176.00; 8% = 14.08; total 161.92
    assert (a.discount, a.total) == (D("15.60"), D("179.40"))
    assert (b.discount, b.total) == (D("14.08"), D("161.92"))
    assert a.reason == "PARLE-SLAB: 8% off Parle products for 25 or more (28 ordered)"
    # total 179.40 + 161.92 = 341.32; scheme discount 15.60 + 14.08 = 29.68
    assert (p.total, p.scheme_discount) == (D("341.32"), D("29.68"))
    # 9 in scope: below the first step, nothing
    small = price([line(BISC, 9, "9.75", brand="Parle")], PUNE_A, DAY, [s])
    assert small.lines[0].discount == D("0.00") and small.applied == ()


def test_buy_ten_get_one_of_the_same_product_adds_a_free_line_at_zero() -> None:
    s = scheme(
        "DAL-10+1",
        SchemeKind.FREE_GOODS,
        Rule(10, free_qty=1),
        product_id=DAL,
        product_name="Toor Dal 1kg",
    )
    p = price([line(DAL, 23, "142.00", name="Toor Dal 1kg")], PUNE_A, DAY, [s])
    paid, free = p.lines
    # 23 // 10 = 2 → 2 × 1 = 2 free; paid line 23 × 142.00 = 3,266.00, undiscounted
    assert (paid.gross, paid.discount, paid.total) == (D("3266.00"), D("0.00"), D("3266.00"))
    assert free.free and free.product_id == DAL and free.quantity == 2
    assert (free.unit_price, free.gross, free.total) == (D("0"), D("0"), D("0"))
    # value of the gift: 2 × 142.00 = 284.00
    assert free.scheme_value == D("284.00") and p.free_goods_value == D("284.00")
    assert free.reason == "DAL-10+1: buy 10 get 1 free (23 bought)"
    assert paid.reason == free.reason
    assert p.total == D("3266.00")


def test_buy_a_brand_get_another_product_free() -> None:
    salt = ProductRef(SALT, "Tata Salt 1kg", D("28.00"), "SALT-1")
    s = scheme(
        "ASH-24-SALT",
        SchemeKind.FREE_GOODS,
        Rule(24, free_qty=2, free_product=salt),
        brand="Aashirvaad",
    )
    lines = [line(ATTA, 30, "245.50"), line(DAL, 20, "142.00")]
    p = price(lines, PUNE_A, DAY, [s])
    # 30 + 20 = 50 Aashirvaad; 50 // 24 = 2 → 2 × 2 = 4 salt free, worth 4 × 28.00 = 112.00
    free = p.lines[2]
    assert (free.product_id, free.quantity, free.total, free.scheme_value) == (
        SALT,
        4,
        D("0"),
        D("112.00"),
    )
    assert (
        free.reason
        == "ASH-24-SALT: buy 24 get 2 free Tata Salt 1kg (50 Aashirvaad products bought)"
    )
    # the bill: 30 × 245.50 = 7,365.00 + 20 × 142.00 = 2,840.00 = 10,205.00, no discount
    assert p.total == D("10205.00")


def test_stackable_schemes_add_up_with_the_agents_own_discount() -> None:
    brand = scheme("ASH-5", SchemeKind.PERCENT, Rule(1, D("5")), brand="Aashirvaad", stackable=True)
    cat = scheme(
        "STAPLES-2.5", SchemeKind.PERCENT, Rule(1, D("2.5")), category="Staples", stackable=True
    )
    p = price([line(ATTA, 7, "245.50", pct="1")], PUNE_A, DAY, [cat, brand])
    (x,) = p.lines
    # gross 7 × 245.50 = 1,718.50; 1 + 5 + 2.5 = 8.5% → 146.0725 → 146.07; total 1,572.43
    assert (x.discount_pct, x.discount, x.total) == (D("8.5"), D("146.07"), D("1572.43"))
    # schemes' part 7.5% of 1,718.50 = 128.8875 → 128.89: ASH-5 5% = 85.925 → 85.93, and
    # STAPLES-2.5 takes the rest 128.89 − 85.93 = 42.96
    assert x.scheme_value == D("128.89")
    assert [(s.code, s.amount) for s in x.shares] == [
        ("ASH-5", D("85.93")),
        ("STAPLES-2.5", D("42.96")),
    ]
    assert x.reason == "ASH-5: 5% off Aashirvaad products; STAPLES-2.5: 2.5% off Staples products"


def test_not_stackable_the_better_one_for_the_store_wins() -> None:
    pct = scheme("ASH-6", SchemeKind.PERCENT, Rule(1, D("6")), brand="Aashirvaad")
    free = scheme("ATTA-10+1", SchemeKind.FREE_GOODS, Rule(10, free_qty=1), product_id=ATTA)
    # 12 atta at 245.50 = 2,946.00: 6% = 176.76; one free bag = 245.50 → the bag is better
    p = price([line(ATTA, 12, "245.50")], PUNE_A, DAY, [pct, free])
    assert p.applied == ("ATTA-10+1",) and p.passed_over == ("ASH-6",)
    assert p.lines[0].discount == D("0.00") and p.free_goods_value == D("245.50")
    # 9 atta: no bag earned, so 6% applies: 9 × 245.50 = 2,209.50 × 6% = 132.57
    p9 = price([line(ATTA, 9, "245.50")], PUNE_A, DAY, [pct, free])
    assert p9.applied == ("ASH-6",) and p9.lines[0].discount == D("132.57")
    # 50 atta = 12,275.00: 6% = 736.50 beats 5 bags = 1,227.50? no: bags win again
    p50 = price([line(ATTA, 50, "245.50")], PUNE_A, DAY, [pct, free])
    assert p50.applied == ("ATTA-10+1",) and p50.free_goods_value == D("1227.50")


def test_a_tie_is_broken_by_the_scheme_code_whatever_the_input_order() -> None:
    a = scheme("B-FIVE", SchemeKind.PERCENT, Rule(1, D("5")), brand="Aashirvaad")
    b = scheme("A-FIVE", SchemeKind.PERCENT, Rule(1, D("5")), category="Staples")
    lines = [line(ATTA, 4, "100.00")]
    assert price(lines, PUNE_A, DAY, [a, b]).applied == ("A-FIVE",)
    assert price(lines, PUNE_A, DAY, [b, a]).applied == ("A-FIVE",)


def test_one_exclusive_scheme_against_two_stackable_ones_on_different_lines() -> None:
    # EXCL 10% on both lines vs 6% (atta line) + 6% (dal line) stacked: EXCL gives more
    excl = scheme("EXCL", SchemeKind.PERCENT, Rule(1, D("10")), brand="Aashirvaad")
    s1 = scheme("S1", SchemeKind.PERCENT, Rule(1, D("6")), product_id=ATTA, stackable=True)
    s2 = scheme("S2", SchemeKind.PERCENT, Rule(1, D("6")), product_id=DAL, stackable=True)
    lines = [line(ATTA, 1, "100.00"), line(DAL, 1, "100.00")]
    # EXCL: 10.00 + 10.00 = 20.00; S1 + S2: 6.00 + 6.00 = 12.00
    assert price(lines, PUNE_A, DAY, [s1, s2, excl]).applied == ("EXCL",)
    # with S1 at 15%: 15.00 + 6.00 = 21.00 > 20.00 → the two stackable ones win
    s1b = scheme("S1", SchemeKind.PERCENT, Rule(1, D("15")), product_id=ATTA, stackable=True)
    p = price(lines, PUNE_A, DAY, [s1b, s2, excl])
    assert p.applied == ("S1", "S2") and p.discount_total == D("21.00")


@pytest.mark.parametrize(
    ("store", "on", "applies"),
    [
        (PUNE_A, DAY, True),
        (StoreRef("pune", "a"), DAY, True),  # case does not matter
        (StoreRef("Mumbai", "A"), DAY, False),  # other region
        (StoreRef("Pune", "C"), DAY, False),  # other class
        (StoreRef(None, "A"), DAY, False),  # unknown region: not in a regional scheme
        (PUNE_A, dt.date(2026, 11, 30), False),  # before valid_from
        (PUNE_A, dt.date(2026, 12, 31), True),  # valid_to is inclusive
        (PUNE_A, dt.date(2027, 1, 1), False),
    ],
)
def test_dates_regions_and_classes(store: StoreRef, on: dt.date, applies: bool) -> None:
    s = scheme(
        "PUNE-AB",
        SchemeKind.PERCENT,
        Rule(1, D("3")),
        regions=frozenset({"Pune"}),
        store_classes=frozenset({"A", "B"}),
    )
    p = price([line(ATTA, 1, "100.00")], store, on, [s])
    assert p.lines[0].discount == (D("3.00") if applies else D("0.00"))


def test_returns_never_earn_a_scheme_and_discounts_cap_at_100() -> None:
    s = scheme("ALL-60", SchemeKind.PERCENT, Rule(1, D("60")), stackable=True)
    r = price([line(ATTA, -3, "100.00")], PUNE_A, DAY, [s])
    assert r.lines[0].discount == D("0.00") and r.applied == ()
    # own 50% + 60% is capped at 100%: 2 × 100.00 = 200.00 all discounted; schemes' part 50%
    p = price([line(ATTA, 2, "100.00", pct="50")], PUNE_A, DAY, [s])
    assert (p.lines[0].discount_pct, p.lines[0].total, p.lines[0].scheme_value) == (
        D("100"),
        D("0.00"),
        D("100.00"),
    )


money = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)
pcts = st.decimals(min_value=D("0"), max_value=D("30"), places=1)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 500), money, st.sampled_from(["A", "B"]), pcts),
        min_size=1,
        max_size=6,
    ),
    st.lists(
        st.tuples(
            st.sampled_from(list(SchemeKind)),
            st.integers(1, 40),
            pcts,
            st.integers(1, 3),
            st.booleans(),
            st.sampled_from(["A", "B", None]),
        ),
        max_size=5,
    ),
)
def test_properties(raw_lines, raw_schemes) -> None:
    lines = [ItemLine(uuid.uuid4(), q, p, b, "Cat", pc) for q, p, b, pc in raw_lines]
    schemes = [
        scheme(
            f"S{n}",
            kind,
            Rule(
                mq,
                pc if kind is not SchemeKind.FREE_GOODS else D(0),
                free_qty=fq if kind is SchemeKind.FREE_GOODS else 0,
            ),
            stackable=stack,
            brand=brand,
        )
        for n, (kind, mq, pc, fq, stack, brand) in enumerate(raw_schemes)
    ]
    p = price(lines, PUNE_A, DAY, schemes)
    # total = sum of the lines; every line is gross − discount; free lines are never priced
    assert p.total == sum(x.total for x in p.lines)
    assert p.subtotal - p.discount_total == p.total
    for x in p.lines:
        assert x.total == x.gross - x.discount
        assert D(0) <= x.discount <= x.gross
        if x.free:
            assert x.unit_price == x.gross == x.total == 0 and x.quantity > 0
        else:
            assert sum(s.amount for s in x.shares) == x.scheme_value <= x.discount
    # schemes only ever lower the bill, and the input order of schemes changes nothing
    assert p.total <= price(lines, PUNE_A, DAY, []).total
    assert price(lines, PUNE_A, DAY, list(reversed(schemes))) == p


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 300), money, st.sampled_from(["A", "B"]), pcts),
        min_size=1,
        max_size=5,
    ),
    st.lists(
        st.tuples(
            st.sampled_from(list(SchemeKind)),
            st.integers(1, 30),
            pcts,
            st.booleans(),
            st.sampled_from(["A", "B", None]),
        ),
        max_size=4,
    ),
)
def test_the_choice_is_the_best_for_the_store(raw_lines, raw_schemes) -> None:
    """No clash-free subset of the schemes gives the store more than the one chosen."""
    import itertools

    lines = [ItemLine(uuid.uuid4(), q, p, b, "Cat", pc) for q, p, b, pc in raw_lines]
    schemes = [
        scheme(
            f"S{n}",
            kind,
            Rule(
                mq,
                pc if kind is not SchemeKind.FREE_GOODS else D(0),
                free_qty=1 if kind is SchemeKind.FREE_GOODS else 0,
            ),
            stackable=stack,
            brand=brand,
        )
        for n, (kind, mq, pc, stack, brand) in enumerate(raw_schemes)
    ]
    chosen = price(lines, PUNE_A, DAY, schemes)
    got = chosen.scheme_discount + chosen.free_goods_value

    def touches(s: Scheme) -> set[int]:
        return {i for i, x in enumerate(lines) if s.in_scope(x)}

    for n in range(len(schemes) + 1):
        for subset in itertools.combinations(schemes, n):
            if any(
                touches(a) & touches(b) and not (a.stackable and b.stackable)
                for a, b in itertools.combinations(subset, 2)
            ):
                continue
            alt = price(lines, PUNE_A, DAY, list(subset))
            assert alt.scheme_discount + alt.free_goods_value <= got
