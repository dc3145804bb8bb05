"""Crash points for the crash-safety tests.

`MLSD_TEST_KILL_AFTER=<name>` makes the process SIGKILL itself, as a crash would, when it reaches the
point of that name, so a test hits a window of a few milliseconds every time instead of by luck. The
points: `header` (a new session's transcript header is written, its first checkpoint is not) and
`final-checkpoint` (the report is checkpointed, the transcript's report line is not written).
"""

from __future__ import annotations

import os
import signal

from agent.config import requested_kill_point


def kill_point(name: str) -> None:
    """SIGKILL this process here if a test asked for a crash at `name`."""
    if requested_kill_point() == name:
        os.kill(os.getpid(), signal.SIGKILL)
