"""Helpers for benchmarks: a scratch database, repeated timing, and one printed table."""

from __future__ import annotations

import math
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

import sqlalchemy as sa

from core import db, setup
from core.config import Settings


def scratch_engine(url: str | None = None):
    """A fresh migrated database: SQLite in a temp dir unless a URL (e.g. PostgreSQL) is given."""
    root = Path(tempfile.mkdtemp(prefix="muskel-bench-"))
    settings = Settings(data_dir=root, database_url=url or f"sqlite:///{root / 'bench.db'}", idle_timeout_minutes=30)
    engine = db.get_engine(settings.database_url)
    setup.initialise(settings, engine)
    return engine


def _server_admin(url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def own_database(url: str, name: str) -> str:
    """A fresh database ``name`` beside the URL's (the tests own and empty that one); returns its URL."""
    admin = _server_admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, name: str) -> None:
    admin = _server_admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def median_seconds(fn: Callable[[], None], *, repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def sample_seconds(fn: Callable[[object], None], inputs: Iterable[object], *, warmup: int = 3) -> list[float]:
    """Seconds of ``fn(x)`` for every input (after calling it on the first ``warmup`` inputs untimed)."""
    inputs = list(inputs)
    for x in inputs[:warmup]:
        fn(x)
    samples = []
    for x in inputs:
        start = time.perf_counter()
        fn(x)
        samples.append(time.perf_counter() - start)
    return samples


def p95(samples: list[float]) -> float:
    """The 95th percentile (nearest-rank): 95 % of the samples are at most this."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# Every row reported in this process, for the one summary table `python -m bench` prints at the end.
RESULTS: list[dict] = []


def report(title: str, rows: list[tuple], database: str) -> None:
    """rows: (what, median seconds, baseline median seconds or None[, note such as a rate]).

    ``what`` may name another statistic (e.g. "p95"); the column is headed "median" as most rows are medians.
    """
    for what, value, base, *note in rows:
        RESULTS.append({"benchmark": title, "measure": what, "seconds": value, "baseline": base,
                        "note": note[0] if note else "", "database": database})
    print(f"\n{title}  [database: {database}; machine: {platform.machine()}, {platform.python_version()}]")
    print(f"{'measure':<48} {'median':>12} {'baseline':>12} {'ratio':>8}")
    for what, value, base, *note in rows:
        ratio = f"{value / base:8.2f}" if base else f"{'':>8}"
        base_text = f"{base * 1000:10.2f}ms" if base else f"{'':>12}"
        extra = f"  {note[0]}" if note and note[0] else ""
        print(f"{what:<48} {value * 1000:10.2f}ms {base_text} {ratio}{extra}")
