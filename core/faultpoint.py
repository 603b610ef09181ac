"""Deterministic kill points for the fault tests (tests/fault): stop a process at one named step of a user action.

The promise "a process killed at any moment leaves no partial writes" can only be tested when the kill lands at a
known moment, e.g. after the photo is in the file store but before the transaction commits. ``faultpoint(name)``
does nothing unless the environment variable ``MUSKEL_FAULT_AT`` equals ``name``. Then it writes a marker file
(``MUSKEL_FAULT_MARKER``, or a line on stderr without it) and waits there: the test kills the process with
SIGKILL — or deletes the marker to let the action go on (used to resume a transaction after the database server
restarted underneath it). A point nobody releases within five minutes fails the action, so a forgotten fault
setting can never let a half-tested action commit late.

Production cost: one cached environment lookup per call.
"""

from __future__ import annotations

import functools
import os
import sys
import time

WAIT_LIMIT_SECONDS = 300


@functools.lru_cache(maxsize=1)
def _armed() -> tuple[str, str]:
    return os.environ.get("MUSKEL_FAULT_AT", ""), os.environ.get("MUSKEL_FAULT_MARKER", "")


def faultpoint(name: str) -> None:
    at, marker = _armed()
    if at and at == name:
        _stop_here(name, marker)


def _stop_here(name: str, marker: str) -> None:
    line = f"faultpoint {name} reached (pid {os.getpid()})\n"
    if not marker:
        sys.stderr.write(line)
        sys.stderr.flush()
        time.sleep(WAIT_LIMIT_SECONDS)
        raise RuntimeError(f"fault point {name} was not killed in time")
    tmp = f"{marker}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:  # written whole, then renamed: the test never reads half a marker
        fh.write(line)
    os.replace(tmp, marker)
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while os.path.exists(marker):
        if time.monotonic() > deadline:
            raise RuntimeError(f"fault point {name} was neither killed nor released in time")
        time.sleep(0.02)
