"""Festival dates on the Indian calendar (they move every year) and the demand lift around them.

The lunar festivals cannot be computed from the Gregorian date with a one-liner, so the dates
are tabled for the years a demo can plausibly cover; a year outside the table falls back to the
nearest tabled year's day of year, which is close enough for a demo and keeps generation total.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

D = dt.date
FESTIVAL_DATES: dict[str, tuple[dt.date, ...]] = {
    "Diwali": (
        D(2019, 10, 27), D(2020, 11, 14), D(2021, 11, 4), D(2022, 10, 24), D(2023, 11, 12),
        D(2024, 11, 1), D(2025, 10, 20), D(2026, 11, 8), D(2027, 10, 29), D(2028, 10, 17),
        D(2029, 11, 5), D(2030, 10, 26),
    ),
    "Ganesh Chaturthi": (
        D(2019, 9, 2), D(2020, 8, 22), D(2021, 9, 10), D(2022, 8, 31), D(2023, 9, 19),
        D(2024, 9, 7), D(2025, 8, 27), D(2026, 9, 14), D(2027, 9, 4), D(2028, 8, 23),
        D(2029, 9, 12), D(2030, 9, 1),
    ),
    "Holi": (
        D(2019, 3, 21), D(2020, 3, 10), D(2021, 3, 29), D(2022, 3, 18), D(2023, 3, 8),
        D(2024, 3, 25), D(2025, 3, 14), D(2026, 3, 4), D(2027, 3, 22), D(2028, 3, 11),
        D(2029, 3, 1), D(2030, 3, 20),
    ),
    "Eid al-Fitr": (
        D(2019, 6, 5), D(2020, 5, 25), D(2021, 5, 14), D(2022, 5, 3), D(2023, 4, 22),
        D(2024, 4, 11), D(2025, 3, 31), D(2026, 3, 21), D(2027, 3, 10), D(2028, 2, 27),
        D(2029, 2, 15), D(2030, 2, 5),
    ),
}  # fmt: skip

# Shops stock up in the three weeks before a festival; the lift peaks in the last week.
LEAD_DAYS = 21
TAIL_DAYS = 2


def festival_dates(name: str, first: dt.date, last: dt.date) -> list[dt.date]:
    """The festival's dates whose stocking window touches [first, last]."""
    table = {d.year: d for d in FESTIVAL_DATES[name]}
    years = sorted(table)
    out = []
    for year in range(first.year - 1, last.year + 2):
        if year in table:
            day = table[year]
        else:
            ref = table[min(years, key=lambda y: abs(y - year))]
            day = dt.date(year, 1, 1) + dt.timedelta(days=ref.timetuple().tm_yday - 1)
        if first - dt.timedelta(days=TAIL_DAYS) <= day <= last + dt.timedelta(days=LEAD_DAYS):
            out.append(day)
    return out


def festival_profile(name: str, start: dt.date, n_days: int) -> np.ndarray:
    """0..1 per day from ``start``: how close the day is to the festival's peak buying week."""
    profile = np.zeros(n_days)
    last = start + dt.timedelta(days=n_days - 1)
    for day in festival_dates(name, start, last):
        center = (day - start).days
        for off in range(-LEAD_DAYS, TAIL_DAYS + 1):
            i = center + off
            if 0 <= i < n_days:
                # ramp up over the lead weeks, full in the last 8 days, drop right after
                w = (
                    1.0
                    if -8 <= off <= 0
                    else (max(0.0, (off + LEAD_DAYS) / 13) if off < 0 else 0.3)
                )
                profile[i] = max(profile[i], w)
    return profile


def month_profile(start: dt.date, n_days: int, months: set[int]) -> np.ndarray:
    """1.0 on days whose month is in ``months`` (season windows such as summer), else 0."""
    days = np.datetime64(start) + np.arange(n_days)
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    return np.isin(month, list(months)).astype(float)
