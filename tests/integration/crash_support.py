"""Fork a child that does some work until it is SIGKILLed (the durability tests).

The child is forked from the test process (a real separate process, its imports and statement
cache already warm, so each trial costs its work time, not an interpreter start-up); it prints
``ready`` once and then whatever its work reports, which the parent reads back after the kill.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from collections.abc import Callable


def run_and_kill(work: Callable[[], None], delay: float) -> str:
    """Run ``work`` in a forked child, SIGKILL it ``delay`` seconds after it said ``ready``
    and return what it printed after that."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        try:
            os.close(read_fd)
            os.dup2(write_fd, 1)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            work()
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(3)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        assert pipe.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        out = pipe.read()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    return out
