"""Bridge processes to be killed: ``python -m tests.zoho_server.push_worker`` is a zygote.

It imports everything once, then for each ``go <settings json>`` line on stdin forks a child
that runs the order push with real time (settings: central URL, server URL, ids, secrets,
which go into an in-memory keyring), and reports ``started <pid>``, ``done`` (from the child
if it finished) and ``exit <pid> <status>``. Forking a single-threaded, already-imported
process makes a fresh bridge process in milliseconds, so 50 SIGKILL trials stay fast; the
child opens its own database and HTTP connections after the fork.
"""

from __future__ import annotations

import json
import os
import sys
import time


def child(settings: dict) -> None:
    import keyring

    from mangalm_desktop.db.engine import make_engine
    from mangalm_desktop.security.memory_keyring import MemoryKeyring
    from mangalm_desktop.security.secrets import set_secret
    from mangalm_desktop.zoho import bridge
    from mangalm_desktop.zoho.clock import ManualClock
    from mangalm_desktop.zoho.config import SECRET_CLIENT, SECRET_REFRESH, ZohoConfig

    keyring.set_keyring(MemoryKeyring())
    set_secret(SECRET_CLIENT, settings["client_secret"])
    set_secret(SECRET_REFRESH, settings["refresh_token"])
    config = ZohoConfig(
        client_id=settings["client_id"],
        organization_id=settings["org_id"],
        accounts_url=settings["server_url"],
        timeout_s=5.0,
        backoff_base_s=0.05,
        per_minute=settings.get("per_minute", 100),
        daily_budget=100_000,
    )
    engine = make_engine(settings["pg_url"])
    # Simulated time from the real start: the bridges of 50 trials in a few seconds share the
    # central per-minute window, which on real time would make them sleep for minutes; the
    # kills, the server and the database run on real time all the same.
    clock = ManualClock(start=time.time())
    if "scaled" in settings:  # a clock shared with the server and the other processes
        from tests.zoho_server.support import ScaledClock

        clock = ScaledClock(*settings["scaled"])
    client = bridge.make_client(config, clock)
    print(f"started {os.getpid()}", flush=True)
    report = bridge.run_once(engine, client, ["orders"])
    print(f"done {report.requests}", flush=True)


def main() -> int:
    import keyring  # noqa: F401 - imported before forking, like everything below
    import sqlalchemy  # noqa: F401

    import mangalm_desktop.security.memory_keyring  # noqa: F401
    import mangalm_desktop.zoho.bridge  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd != "go":
            break
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(json.loads(arg))
            except BaseException as exc:  # report, never fall back into the zygote's loop
                print(f"error {type(exc).__name__}: {exc}", flush=True)
                code = 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
