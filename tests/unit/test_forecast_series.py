"""Series building from hand-made invoices: returns, cancellations, non-product codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.forecasting.reader import ColumnMap, read_history
from mangalm_desktop.forecasting.series import build_history, week_of_day, weekly_matrix


def _lines(rows):
    df = pd.DataFrame(rows, columns=["store", "product", "invoice", "date", "quantity", "price"])
    df["date"] = pd.to_datetime(df["date"])
    return df


def _orders(history):
    out = history.lines.copy()
    out["store"] = history.stores[out["s"]]
    out["product"] = history.products[out["p"]]
    out["date"] = (out["day"].to_numpy().astype("datetime64[D]")).astype(str)
    return {(r.store, r.product, r.date): r.qty for r in out.itertuples()}


def test_rules_on_hand_made_invoices():
    raw = _lines(
        [
            ("S1", "22041", "100", "2024-01-01", 10, 2.0),
            ("S1", "22041", "100", "2024-01-01", 10, 2.0),  # exact duplicate line: kept once
            ("S1", "85048", "100", "2024-01-01", 5, 1.0),
            ("S1", "POST", "100", "2024-01-01", 1, 18.0),  # postage: not a product
            ("S1", "GIFT_0001_20", "100", "2024-01-01", 1, 20.0),  # voucher
            ("", "22041", "101", "2024-01-02", 7, 2.0),  # walk-in: no store
            ("S1", "22041", "C102", "2024-01-05", -4, 2.0),  # cancellation undoes 4 of the order
            ("S1", "85048", "C103", "2024-01-06", -9, 1.0),  # more than bought: down to zero
            ("S2", "22041", "104", "2024-01-03", 3, 2.0),
            ("S2", "22041", "105", "2024-01-03", 2, 2.5),  # same day, second invoice: one order
            ("S2", "79323P", "C106", "2024-01-03", -5, 1.0),  # return with no earlier sale
            ("S2", "22041", "107", "2024-01-10", 0, 2.0),  # zero quantity
        ]
    )
    history, report = build_history(raw)
    assert _orders(history) == {
        ("S1", "22041", "2024-01-01"): 6,
        ("S2", "22041", "2024-01-03"): 5,
    }
    assert report.no_store == 1
    assert report.non_product == 2
    assert report.duplicates == 1
    assert report.zero_quantity == 1
    assert report.return_lines == 3
    assert report.returned_units_applied == 4 + 5
    assert report.returned_units_unmatched == 4 + 5
    # the price of a merged order is the quantity-weighted mean
    s2 = history.lines[history.stores[history.lines["s"]] == "S2"]
    assert s2["price"].iloc[0] == pytest.approx((3 * 2.0 + 2 * 2.5) / 5)


def test_return_undoes_latest_earlier_order_only():
    raw = _lines(
        [
            ("S1", "A", "1", "2024-01-01", 10, 1.0),
            ("S1", "A", "2", "2024-01-15", 10, 1.0),
            ("S1", "A", "C3", "2024-01-20", -3, 1.0),
            ("S1", "A", "4", "2024-01-25", 10, 1.0),  # after the return: untouched
        ]
    )
    history, _ = build_history(raw)
    assert _orders(history) == {
        ("S1", "A", "2024-01-01"): 10,
        ("S1", "A", "2024-01-15"): 7,
        ("S1", "A", "2024-01-25"): 10,
    }


def test_weekly_matrix_sums_per_monday_week():
    raw = _lines(
        [
            ("S1", "A", "1", "2024-01-01", 2, 1.0),  # Monday
            ("S1", "A", "2", "2024-01-07", 3, 1.0),  # Sunday, same week
            ("S1", "A", "3", "2024-01-08", 4, 1.0),  # next Monday
            ("S2", "A", "4", "2024-01-08", 9, 1.0),  # pair not asked for
        ]
    )
    history, _ = build_history(raw)
    w0 = int(week_of_day(history.first_day))
    s1 = int(np.flatnonzero(history.stores == "S1")[0])
    m = weekly_matrix(history.lines, np.array([s1]), np.array([0]), w0, 3)
    assert m.tolist() == [[5.0, 4.0, 0.0]]


def test_reader_maps_columns_and_reports_bad_rows(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("Cust,Code,When,Qty,Inv\n13085.0,A,2024-01-01 10:00,3,1\n", encoding="utf-8")
    cols = ColumnMap.parse("store=Cust,product=Code,date=When,quantity=Qty,invoice=Inv")
    df = read_history([f], cols)
    assert df.loc[0, "store"] == "13085" and df.loc[0, "quantity"] == 3
    assert str(df.loc[0, "date"].date()) == "2024-01-01"
    with pytest.raises(UserError, match="no column 'Customer'"):
        read_history(
            [f], ColumnMap.parse("store=Customer,product=Code,date=When,quantity=Qty,invoice=Inv")
        )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Cust,Code,When,Qty,Inv\n1,A,2024-01-01,3,1\n1,A,yesterday,3,2\n", encoding="utf-8"
    )
    with pytest.raises(UserError, match="line 3: unreadable date"):
        read_history([bad], cols)
    with pytest.raises(UserError, match="missing invoice"):
        ColumnMap.parse("store=a,product=b,date=c,quantity=d")


READER_COLS = (
    "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity,invoice=InvoiceNo"
)


def test_reader_reads_every_data_sheet_of_a_workbook(tmp_path):
    """A history exported a year per sheet (as UCI's Online Retail II is) is read whole; a notes
    sheet is skipped; a bad row is named by its sheet."""

    def year(rows):
        return pd.DataFrame(
            rows, columns=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "CustomerID"]
        )

    book = tmp_path / "retail.xlsx"
    with pd.ExcelWriter(book) as xl:
        year([["1", "A", 2, pd.Timestamp("2010-03-01 09:30"), 13085.0]]).to_excel(
            xl, sheet_name="Year 2009-2010", index=False
        )
        pd.DataFrame({"About": ["exported by the shop"]}).to_excel(
            xl, sheet_name="Notes", index=False
        )
        year(
            [
                ["2", "B", 5, pd.Timestamp("2011-03-01 10:00"), 13085.0],
                ["3", "A", 1, pd.Timestamp("2011-03-08 10:00"), 12000.0],
            ]
        ).to_excel(xl, sheet_name="Year 2010-2011", index=False)
    df = read_history([book], ColumnMap.parse(READER_COLS))
    assert list(df["invoice"]) == ["1", "2", "3"]
    assert list(df["store"]) == ["13085", "13085", "12000"]
    assert list(df["quantity"]) == [2, 5, 1]
    assert [str(d.date()) for d in df["date"]] == ["2010-03-01", "2011-03-01", "2011-03-08"]

    with pd.ExcelWriter(book) as xl:
        year([["1", "A", 2, pd.Timestamp("2010-03-01"), 1]]).to_excel(
            xl, sheet_name="Y1", index=False
        )
        year([["2", "A", "two", pd.Timestamp("2011-03-01"), 1]]).to_excel(
            xl, sheet_name="Y2", index=False
        )
    with pytest.raises(
        UserError, match=r"retail.xlsx sheet 'Y2' line 2: unreadable quantity 'two'"
    ):
        read_history([book], ColumnMap.parse(READER_COLS))

    with pd.ExcelWriter(book) as xl:
        year([["1", "A", 2, pd.Timestamp("2010-03-01"), 1]]).to_excel(
            xl, sheet_name="Y1", index=False
        )
        year([["2", "A", 3, pd.Timestamp("2011-03-01"), 1]]).rename(
            columns={"CustomerID": "Customer ID"}
        ).to_excel(xl, sheet_name="Y2", index=False)
    # a sheet that has some of the columns is data with one renamed: refused, not skipped
    with pytest.raises(UserError, match=r"sheet 'Y2': no column 'CustomerID'") as err:
        read_history([book], ColumnMap.parse(READER_COLS))
    assert "Customer ID" in (err.value.hint or "")


def test_reader_takes_csv_with_bom_or_latin1(tmp_path):
    """Excel's "CSV UTF-8" starts with a BOM; older exports are Latin-1 ("£" in a description).
    Both read, with the same values."""
    text = (
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,CustomerID\n"
        "536365,85123A,HEART T-LIGHT £2,6,2010-12-01 08:26,17850\n"
    )
    bom = tmp_path / "bom.csv"
    bom.write_bytes(text.encode("utf-8-sig"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(text.encode("latin-1"))
    cols = ColumnMap.parse(READER_COLS)
    for f in (bom, latin):
        df = read_history([f], cols)
        assert df.loc[0, ["store", "product", "invoice", "quantity"]].tolist() == [
            "17850",
            "85123A",
            "536365",
            6,
        ]
