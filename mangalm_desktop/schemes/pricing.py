"""Applying schemes to an order's lines, exactly and offline (pure: no SQL, no Qt).

Given the order's lines, the store (region, size class), the order date and the schemes the
laptop holds, :func:`price` returns each line with its discount and the scheme behind it (in
words), free-goods lines at zero price, and the totals. The rules (docs/orders.md "Schemes"):

- A scheme **applies** on the order date when ``valid_from <= date <= valid_to`` (no end date:
  open), its regions are empty or name the store's region, and its store classes are empty or
  name the store's class (both compared without regard to case). Returns (negative
  quantities) never earn a scheme.
- Its **scope** is one product, a brand, a category, or every product. The *qualifying
  quantity* is the sum of the quantities of the order's lines in scope.
- ``percent`` and ``slab``: the rule with the highest ``min_qty`` the qualifying quantity
  reaches gives the % off every line in scope (a plain % off is one rule at 1).
- ``free_goods`` (buy X get Y): the rule with the highest ``min_qty`` (X) reached gives
  ``free_qty`` (Y) per whole X. With a named free product, X counts the whole scope and the
  free goods are that product; without one, each line in scope earns its own product free
  (``quantity // X * Y``). Free goods are extra lines at price 0, never discounted or priced;
  their value at list price is the scheme's cost.
- **Stacking.** Stackable schemes add up: their % off on a line are summed (with the agent's
  own line discount, capped at 100 %). A scheme that is *not* stackable is never combined with
  another scheme on any line they share. When schemes clash, the app picks the combination
  that is **best for the store**: the greatest total benefit in rupees (discounts plus free
  goods at list price); on equal benefit the combination whose scheme codes, sorted, come first
  alphabetically. So the choice depends only on the order, never on the order the schemes were
  loaded in.

Money: Decimal, each line rounded half-up to the paisa (``domain.money``) as
``orders/pricing.py`` does: gross = qty × price; discount = gross × % (rounded); scheme share
of the discount = gross × scheme % (rounded), split between stacked schemes in their order,
the last taking the rest so the split sums exactly.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ..domain.formatting import percent_points
from ..domain.money import ZERO, round_money

HUNDRED = Decimal(100)
# Above this many non-stackable schemes clashing over the same lines the exact search
# (2**n combinations) gives way to a greedy choice (most valuable first); real orders have 1-3.
EXACT_LIMIT = 12


class SchemeKind(StrEnum):
    PERCENT = "percent"
    SLAB = "slab"
    FREE_GOODS = "free_goods"


@dataclass(frozen=True)
class ProductRef:
    """A product a free-goods rule gives away (its list price values the gift)."""

    id: uuid.UUID
    name: str
    price: Decimal
    sku: str | None = None


@dataclass(frozen=True)
class Rule:
    """One step of a scheme: from ``min_qty`` on, ``discount_pct`` off, or ``free_qty`` free
    per whole ``min_qty`` (of ``free_product``; None: of the line's own product)."""

    min_qty: int
    discount_pct: Decimal = ZERO
    free_qty: int = 0
    free_product: ProductRef | None = None


@dataclass(frozen=True)
class Scheme:
    id: uuid.UUID
    code: str
    name: str
    kind: SchemeKind
    valid_from: dt.date
    valid_to: dt.date | None
    rules: tuple[Rule, ...]
    product_id: uuid.UUID | None = None
    product_name: str | None = None
    brand: str | None = None
    category: str | None = None
    regions: frozenset[str] = frozenset()
    store_classes: frozenset[str] = frozenset()
    stackable: bool = False

    @property
    def scope_words(self) -> str:
        if self.product_id is not None:
            return self.product_name or "this product"
        if self.brand:
            return f"{self.brand} products"
        if self.category:
            return f"{self.category} products"
        return "all products"

    def in_scope(self, line: ItemLine) -> bool:
        if self.product_id is not None and line.product_id != self.product_id:
            return False
        if self.brand and (line.brand or "").casefold() != self.brand.casefold():
            return False
        return not self.category or (line.category or "").casefold() == self.category.casefold()

    def applies(self, on: dt.date, store: StoreRef) -> bool:
        """Valid on ``on`` and meant for this store's region and class."""
        if on < self.valid_from or (self.valid_to is not None and on > self.valid_to):
            return False
        return _matches(self.regions, store.region) and _matches(
            self.store_classes, store.size_class
        )


def _matches(allowed: frozenset[str], value: str | None) -> bool:
    if not allowed:
        return True
    return value is not None and value.casefold() in {a.casefold() for a in allowed}


@dataclass(frozen=True)
class StoreRef:
    region: str | None
    size_class: str | None


@dataclass(frozen=True)
class ItemLine:
    """One ordered line as the agent typed it (``discount_pct``: the agent's own %)."""

    product_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    brand: str | None = None
    category: str | None = None
    discount_pct: Decimal = ZERO
    name: str = ""
    sku: str | None = None


@dataclass(frozen=True)
class SchemeShare:
    """What one scheme gave on one line: its % and rupees (free goods: their value)."""

    scheme_id: uuid.UUID
    code: str
    pct: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PricedItem:
    """A priced line. Ordered lines come first, in input order (``source`` = their index);
    free-goods lines follow (``free`` True, ``source`` None, price 0, value in ``scheme_value``).

    ``discount_pct`` is the whole line discount (the agent's + the schemes', capped at 100);
    ``scheme_pct`` the schemes' part; ``scheme_value`` the schemes' rupees (a free line: the
    goods' value at list price); ``shares`` the split per scheme; ``reason`` in words."""

    product_id: uuid.UUID
    name: str
    sku: str | None
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal
    scheme_pct: Decimal
    gross: Decimal
    discount: Decimal
    total: Decimal
    scheme_value: Decimal
    shares: tuple[SchemeShare, ...] = ()
    reason: str | None = None
    free: bool = False
    source: int | None = None
    list_price: Decimal = ZERO

    @property
    def scheme_id(self) -> uuid.UUID | None:
        """The scheme the line is credited to first (the largest share)."""
        return self.shares[0].scheme_id if self.shares else None


@dataclass(frozen=True)
class Priced:
    lines: tuple[PricedItem, ...]
    subtotal: Decimal  # Σ gross of the ordered lines (free lines are 0)
    discount_total: Decimal  # Σ line discounts
    total: Decimal  # subtotal − discount_total
    scheme_discount: Decimal  # the schemes' part of the discounts
    free_goods_value: Decimal  # free goods at list price
    applied: tuple[str, ...] = field(default=())  # codes of the schemes that gave something
    passed_over: tuple[str, ...] = field(default=())  # applicable, but a better one won


# ---- one scheme on its own -------------------------------------------------------------------


@dataclass(frozen=True)
class _Free:
    product: ProductRef
    quantity: int
    reason: str


@dataclass(frozen=True)
class _Effect:
    """What one scheme would give this order if it were the only one."""

    scheme: Scheme
    pct: Decimal  # discount schemes: % on each line in ``lines``
    lines: frozenset[int]  # indexes of the ordered lines it touches
    reason: str
    free: tuple[_Free, ...] = ()


def _best_rule(rules: Iterable[Rule], qty: int) -> Rule | None:
    met = [r for r in rules if r.min_qty >= 1 and qty >= r.min_qty]
    return max(met, key=lambda r: r.min_qty) if met else None


def _qty_words(n: int) -> str:
    return f"{n:,}"


def _effect(scheme: Scheme, lines: Sequence[ItemLine]) -> _Effect | None:
    idx = [i for i, x in enumerate(lines) if x.quantity > 0 and scheme.in_scope(x)]
    if not idx:
        return None
    qty = sum(lines[i].quantity for i in idx)
    if scheme.kind is SchemeKind.FREE_GOODS:
        return _free_effect(scheme, lines, idx, qty)
    rule = _best_rule(scheme.rules, qty)
    if rule is None or rule.discount_pct <= 0:
        return None
    pct = min(rule.discount_pct, HUNDRED)
    if scheme.kind is SchemeKind.SLAB or rule.min_qty > 1:
        why = (
            f"{scheme.code}: {percent_points(pct)} off {scheme.scope_words} for "
            f"{_qty_words(rule.min_qty)} or more ({_qty_words(qty)} ordered)"
        )
    else:
        why = f"{scheme.code}: {percent_points(pct)} off {scheme.scope_words}"
    return _Effect(scheme, pct, frozenset(idx), why)


def _free_effect(
    scheme: Scheme, lines: Sequence[ItemLine], idx: list[int], qty: int
) -> _Effect | None:
    rule = _best_rule((r for r in scheme.rules if r.free_qty > 0), qty)
    if rule is None:
        return None
    gifts: list[_Free] = []
    touched: list[int] = []
    offer = f"buy {_qty_words(rule.min_qty)} get {_qty_words(rule.free_qty)} free"
    if rule.free_product is not None:
        n = qty // rule.min_qty * rule.free_qty
        gifts.append(
            _Free(
                rule.free_product,
                n,
                f"{scheme.code}: {offer} {rule.free_product.name} "
                f"({_qty_words(qty)} {scheme.scope_words} bought)",
            )
        )
        touched = idx
    else:
        for i in idx:
            line = lines[i]
            n = line.quantity // rule.min_qty * rule.free_qty
            if n <= 0:
                continue
            product = ProductRef(line.product_id, line.name, line.unit_price, line.sku)
            gifts.append(
                _Free(product, n, f"{scheme.code}: {offer} ({_qty_words(line.quantity)} bought)")
            )
            touched.append(i)
    if not gifts:
        return None
    return _Effect(scheme, ZERO, frozenset(touched), gifts[0].reason, tuple(gifts))


# ---- a chosen set of schemes, priced ---------------------------------------------------------


def _priced(lines: Sequence[ItemLine], chosen: Sequence[_Effect]) -> Priced:
    chosen = sorted(chosen, key=lambda e: (-e.pct, e.scheme.code))
    out: list[PricedItem] = []
    for i, line in enumerate(lines):
        mine = [e for e in chosen if i in e.lines and e.pct > 0]
        own = min(max(line.discount_pct, ZERO), HUNDRED)
        pct = min(own + sum((e.pct for e in mine), ZERO), HUNDRED)
        scheme_pct = pct - own
        gross = round_money(Decimal(line.quantity) * line.unit_price)
        discount = round_money(gross * pct / HUNDRED)
        value = round_money(gross * scheme_pct / HUNDRED) if mine else ZERO
        shares: list[SchemeShare] = []
        left = value
        for n, e in enumerate(mine):
            amount = left if n == len(mine) - 1 else min(left, round_money(gross * e.pct / HUNDRED))
            left -= amount
            shares.append(SchemeShare(e.scheme.id, e.scheme.code, e.pct, amount))
        reasons = [e.reason for e in mine]
        # A line that earned free goods says so too (the gift itself is its own line).
        reasons += [e.reason for e in chosen if i in e.lines and e.free and e.pct == 0]
        out.append(
            PricedItem(
                product_id=line.product_id,
                name=line.name,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_pct=pct,
                scheme_pct=scheme_pct,
                gross=gross,
                discount=discount,
                total=gross - discount,
                scheme_value=value,
                shares=tuple(shares),
                reason="; ".join(reasons) or None,
                source=i,
                list_price=line.unit_price,
            )
        )
    for e in chosen:
        for gift in e.free:
            worth = round_money(Decimal(gift.quantity) * gift.product.price)
            out.append(
                PricedItem(
                    product_id=gift.product.id,
                    name=gift.product.name,
                    sku=gift.product.sku,
                    quantity=gift.quantity,
                    unit_price=ZERO,
                    discount_pct=ZERO,
                    scheme_pct=ZERO,
                    gross=ZERO,
                    discount=ZERO,
                    total=ZERO,
                    scheme_value=worth,
                    shares=(SchemeShare(e.scheme.id, e.scheme.code, ZERO, worth),),
                    reason=gift.reason,
                    free=True,
                    list_price=gift.product.price,
                )
            )
    subtotal = sum((x.gross for x in out), ZERO)
    discount_total = sum((x.discount for x in out), ZERO)
    return Priced(
        lines=tuple(out),
        subtotal=subtotal,
        discount_total=discount_total,
        total=subtotal - discount_total,
        scheme_discount=sum((x.scheme_value for x in out if not x.free), ZERO),
        free_goods_value=sum((x.scheme_value for x in out if x.free), ZERO),
        applied=tuple(sorted({e.scheme.code for e in chosen})),
    )


def _benefit(lines: Sequence[ItemLine], chosen: Sequence[_Effect]) -> Decimal:
    """What ``chosen`` gives the store in rupees: exactly ``_priced``'s scheme discount + free
    goods value, computed over the touched lines only (the choice compares many options)."""
    total = ZERO
    pct_of: dict[int, Decimal] = {}
    for e in chosen:
        if e.pct > 0:
            for i in e.lines:
                pct_of[i] = pct_of.get(i, ZERO) + e.pct
        for gift in e.free:
            total += round_money(Decimal(gift.quantity) * gift.product.price)
    for i, extra in pct_of.items():
        line = lines[i]
        own = min(max(line.discount_pct, ZERO), HUNDRED)
        gross = round_money(Decimal(line.quantity) * line.unit_price)
        total += round_money(gross * (min(own + extra, HUNDRED) - own) / HUNDRED)
    return total


# ---- choosing among clashing schemes ---------------------------------------------------------


def _clash(a: _Effect, b: _Effect) -> bool:
    return bool(a.lines & b.lines) and not (a.scheme.stackable and b.scheme.stackable)


def _components(effects: list[_Effect]) -> list[list[_Effect]]:
    """Groups of schemes linked by shared lines; groups never affect each other."""
    groups: list[list[_Effect]] = []
    for e in effects:
        linked = [g for g in groups if any(x.lines & e.lines for x in g)]
        merged = [e]
        for g in linked:
            merged += g
            groups.remove(g)
        groups.append(merged)
    return groups


def _key(benefit: Decimal, chosen: Sequence[_Effect]) -> tuple[Decimal, tuple[str, ...]]:
    return benefit, tuple(sorted(e.scheme.code for e in chosen))


def _best_in(lines: Sequence[ItemLine], group: list[_Effect]) -> list[_Effect]:
    """The clash-free subset of ``group`` worth most to the store (ties: codes first A-Z).

    Stackable schemes never clash with each other, so a choice is fixed by the set of
    non-stackable schemes kept (pairwise apart): add every stackable scheme none of them
    touches (adding one never lowers the benefit)."""
    solo = sorted((e for e in group if not e.scheme.stackable), key=lambda e: e.scheme.code)
    stack = [e for e in group if e.scheme.stackable]

    def complete(kept: Sequence[_Effect]) -> list[_Effect]:
        return [*kept, *(s for s in stack if not any(_clash(s, k) for k in kept))]

    if len(solo) > EXACT_LIMIT:
        ranked = sorted(solo, key=lambda e: (-_benefit(lines, [e]), e.scheme.code))
        kept: list[_Effect] = []
        for e in ranked:
            if not any(_clash(e, k) for k in kept):
                kept.append(e)
        return complete(kept)
    best: list[_Effect] | None = None
    best_key: tuple[Decimal, tuple[str, ...]] | None = None
    for n in range(len(solo) + 1):
        for kept_t in itertools.combinations(solo, n):
            if any(_clash(a, b) for a, b in itertools.combinations(kept_t, 2)):
                continue
            option = complete(kept_t)
            k = _key(_benefit(lines, option), option)
            if (
                best_key is None
                or k[0] > best_key[0]
                or (k[0] == best_key[0] and k[1] < best_key[1])
            ):
                best, best_key = option, k
    return best or []


def price(
    lines: Sequence[ItemLine],
    store: StoreRef,
    on: dt.date,
    schemes: Iterable[Scheme],
) -> Priced:
    """Price ``lines`` for ``store`` on ``on`` with every scheme that applies (module doc)."""
    effects: list[_Effect] = []
    for scheme in sorted(schemes, key=lambda s: (s.code, str(s.id))):
        if not scheme.applies(on, store):
            continue
        e = _effect(scheme, lines)
        if e is not None:
            effects.append(e)
    chosen: list[_Effect] = []
    for group in _components(effects):
        chosen += _best_in(lines, group)
    result = _priced(lines, chosen)
    kept = {e.scheme.code for e in chosen}
    passed = tuple(sorted({e.scheme.code for e in effects} - kept))
    return Priced(
        lines=result.lines,
        subtotal=result.subtotal,
        discount_total=result.discount_total,
        total=result.total,
        scheme_discount=result.scheme_discount,
        free_goods_value=result.free_goods_value,
        applied=result.applied,
        passed_over=passed,
    )
