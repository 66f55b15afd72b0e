"""Order money against invoices computed by hand (half-up to the paisa, per line)."""

from decimal import Decimal as D

from mangalm_desktop.orders.pricing import check_pct, line_money, order_money, pack_hint


def test_line_rounding_half_up_per_line():
    # 3 × 189.3333 = 567.9999 → 568.00; 7.5 % of 568.00 = 42.60 → total 525.40
    m = line_money(3, D("189.3333"), D("7.5"))
    assert (m.gross, m.discount, m.total) == (D("568.00"), D("42.60"), D("525.40"))
    # 1 × 0.125 → 0.13 (half-up, not banker's 0.12)
    assert line_money(1, D("0.125")).gross == D("0.13")
    # 2 % of 20.25 = 0.405 → 0.41
    assert line_money(1, D("20.25"), D("2")).discount == D("0.41")


def test_invoice_by_hand():
    # Hand-computed invoice:
    #  8 × 245.50 = 1964.00, 5 %  → 98.20  → 1865.80
    # 10 × 139.99 = 1399.90, 0 %  → 0      → 1399.90
    # 24 × 112.00 = 2688.00, 2.5% → 67.20  → 2620.80
    # lines after discount: 5886.50; order discount 3 % = 176.595 → 176.60
    # subtotal 6051.90, discounts 98.20 + 67.20 + 176.60 = 342.00, total 5709.90
    lines = [
        line_money(8, D("245.50"), D("5")),
        line_money(10, D("139.99")),
        line_money(24, D("112.00"), D("2.5")),
    ]
    t = order_money(lines, D("3"))
    assert t.subtotal == D("6051.90")
    assert t.line_discounts == D("165.40")
    assert t.order_discount == D("176.60")
    assert t.discount_total == D("342.00")
    assert t.total == D("5709.90")
    assert t.total == t.subtotal - t.discount_total


def test_return_lines_are_negative_and_round_symmetrically():
    m = line_money(-3, D("189.3333"), D("7.5"))
    assert (m.gross, m.discount, m.total) == (D("-568.00"), D("-42.60"), D("-525.40"))


def test_pct_range_and_pack_hint():
    assert check_pct(D("100")) is None and check_pct(D("0")) is None
    assert "between 0 and 100" in check_pct(D("100.01"))
    assert "between 0 and 100" in check_pct(D("-1"))
    assert pack_hint(12, 6) is None and pack_hint(5, 1) is None
    assert pack_hint(7, 6) == "7 is not a whole number of packs of 6; 6 or 12 would be."
    assert pack_hint(4, 6) == "4 is not a whole number of packs of 6; 6 would be."
