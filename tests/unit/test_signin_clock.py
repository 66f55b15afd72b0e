"""The sign-in throttle is capped whatever the clock does (issue 23 finding 2)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from mangalm_desktop.domain.enums import Role
from mangalm_desktop.security import signin
from mangalm_desktop.security.roles import Identity

ASHA = Identity("asha", Role.AGENT, uuid.uuid4(), "A01")
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def _online_ok(user: str, password: str) -> Identity:
    if password != "right":
        raise signin.SignInFailed("Wrong user name or password.")
    return ASHA


def _offline(_u: str, _p: str) -> Identity:
    raise signin.OnlineUnavailable


def test_clock_set_back_never_makes_the_wait_longer_than_a_minute(engine) -> None:
    signin.sign_in(engine, "asha", "right", online_check=_online_ok, now=T0)
    t = T0
    for _ in range(8):  # enough failures for the 60 s cap
        with pytest.raises(signin.SignInFailed):
            signin.sign_in(engine, "asha", "wrong", online_check=_offline, now=t)
        t += dt.timedelta(seconds=61)
    t -= dt.timedelta(seconds=61)  # the moment of the last failure
    back = t - dt.timedelta(hours=1)  # someone sets the clock back an hour
    with pytest.raises(signin.SignInThrottled) as exc:
        signin.sign_in(engine, "asha", "right", online_check=_offline, now=back)
    assert exc.value.wait_seconds <= signin.MAX_DELAY_S
    # ... and a minute of real time later (still an hour behind) the right password works
    later = back + dt.timedelta(seconds=signin.MAX_DELAY_S)
    assert (
        signin.sign_in(engine, "asha", "right", online_check=_offline, now=later).identity == ASHA
    )
