"""Run every benchmark and print one summary table: python -m bench [POSTGRES_URL] [--with-load]

Each benchmark builds its own data at the size its issue names and prints its own table as it goes; at the end
this prints every figure once more in one table — median, baseline, ratio, database — under a description of the
machine, which is what docs/benchmarks.md quotes. ``--with-load`` adds the browser load run (minutes, Chromium).
"""

import argparse
import os
import platform
import sqlite3

from bench import bench_audit, bench_dashboard, bench_documents, bench_import_limits, bench_login, \
    bench_login_throttle, bench_meeting, bench_photo, bench_register, bench_workflow
from bench.common import RESULTS


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory_gb() -> str:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "?"


def _postgres_version(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SHOW server_version").scalar()
    finally:
        engine.dispose()


def machine(url: str | None) -> str:
    load = open("/proc/loadavg", encoding="utf-8").read().split()[:3] if os.path.exists("/proc/loadavg") else []
    parts = [f"{_cpu_model()}, {os.cpu_count()} cores, {_memory_gb()} RAM", f"Python {platform.python_version()}",
             f"SQLite {sqlite3.sqlite_version}"]
    if url:
        parts.append(f"PostgreSQL {_postgres_version(url)}")
    if load:
        parts.append(f"load average {' '.join(load)}")
    return "; ".join(parts)


def summary(url: str | None, machine_before: str) -> None:
    print("\n" + "=" * 120)
    print(f"All benchmarks — machine at start: {machine_before}")
    print(f"                 machine at end:   {machine(url)}")
    print(f"{'benchmark':<34} {'measure':<46} {'database':<11} {'median':>11} {'baseline':>11} {'ratio':>7}  note")
    for row in RESULTS:
        base = row["baseline"]
        ratio = f"{row['seconds'] / base:7.2f}" if base else f"{'':>7}"
        base_text = f"{base * 1000:9.1f}ms" if base else f"{'':>11}"
        print(f"{row['benchmark'][:34]:<34} {row['measure'][:46]:<46} {row['database'][:11]:<11} "
              f"{row['seconds'] * 1000:9.1f}ms {base_text} {ratio}  {row['note']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("postgres_url", nargs="?", help="also run the database benchmarks on this PostgreSQL")
    parser.add_argument("--with-load", action="store_true", help="also run the browser load run (bench_load)")
    args = parser.parse_args()
    url = args.postgres_url
    before = machine(url)
    bench_login.main()
    bench_login_throttle.main()
    bench_audit.main(None)
    bench_register.main(None)
    bench_import_limits.main()
    bench_meeting.main()
    bench_photo.main(None)
    bench_documents.main(None)
    bench_workflow.main(None)
    bench_dashboard.main(None)
    if url:
        bench_photo.main(url)
        bench_audit.main(url)
        bench_register.main(url)
        bench_documents.main(url)
        bench_workflow.main(url)
        bench_dashboard.main(url)
    if args.with_load:
        from bench import bench_load

        bench_load.main([url] if url else [])
    summary(url, before)


main()
