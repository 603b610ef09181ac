"""Run a command and learn its peak memory (resident set), for tests about memory staying bounded.

A fresh wrapper process runs the command as its only child and reports ``RUSAGE_CHILDREN``'s ``ru_maxrss``,
so the figure is the command's own peak — not the test process's, nor that of earlier subprocesses.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_WRAPPER = ("import resource, subprocess, sys\n"
            "done = subprocess.run(sys.argv[1:])\n"
            "sys.stderr.write('\\nPEAK_KB=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.exit(done.returncode)\n")


def run_measured(args: list[str], *, env: dict | None = None, input: str | None = None,
                 timeout: float = 600) -> tuple[subprocess.CompletedProcess, float]:
    """(the finished process, its peak resident memory in MB)."""
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *args], capture_output=True, text=True, env=env,
                          input=input, cwd=ROOT, timeout=timeout)
    found = re.search(r"PEAK_KB=(\d+)", done.stderr)
    assert found, done.stderr
    return done, int(found.group(1)) / 1024


def muskel(*args: str) -> list[str]:
    return [sys.executable, "-m", "core.cli", *args]
