"""The window of plausible business dates, one definition for every reader of dates.

Why: a date outside it is a typo or a spreadsheet's zero date (0001-01-01, 1900-01-00, 2099,
9999-12-31). The importer refuses such dates; rows that still reach the database (imported
before that check, pulled from Zoho, synced from central) are left out of the forecast and the
reports, because pandas cannot even represent 0001 or 9999 and they crashed both (issue 23).
"""

from __future__ import annotations

import datetime as dt

EARLIEST_DATE = dt.date(2000, 1, 1)
"""No sale is older than this: earlier years are a typo or a spreadsheet's zero date."""
FUTURE_DAYS = 366
"""A date may be at most a year ahead of today (a due date); 2099 or 9999-12-31 is a typo."""


def latest_date(today: dt.date | None = None) -> dt.date:
    """The last plausible date as of ``today`` (default: the real today)."""
    return (today or dt.date.today()) + dt.timedelta(days=FUTURE_DAYS)


def is_plausible(day: dt.date, today: dt.date | None = None) -> bool:
    """Whether ``day`` lies in the window (``EARLIEST_DATE`` .. ``latest_date(today)``)."""
    return EARLIEST_DATE <= day <= latest_date(today)


def window_text(today: dt.date | None = None) -> str:
    """The window in words, for messages: "2000-01-01 to 2027-12-07"."""
    return f"{EARLIEST_DATE.isoformat()} to {latest_date(today).isoformat()}"
