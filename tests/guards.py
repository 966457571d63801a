"""A hang guard, not a speed test: speed is measured in bench/, never asserted in tests.

Inputs built to make a regex backtrack catastrophically would run for minutes or hours; linear
code reads them in well under a second. ``no_hang`` fails the test only in the first case, with a
bound so generous that no load on the machine can trip it.
"""

from __future__ import annotations

import contextlib
import signal

HANG_SECONDS = 60


class Hang(AssertionError):
    pass


@contextlib.contextmanager
def no_hang(seconds: int = HANG_SECONDS):
    def alarm(signum, frame):
        raise Hang(f"still running after {seconds} s: catastrophic backtracking or a loop")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
