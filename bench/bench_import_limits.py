"""What the DTSEN import's early limit check costs a legitimate 100,000-person extract (issue #9).

Every upload is first counted in a streaming pass (``dtsen_file.check_limits``: CSV lines; for XLSX every entry
inflated once and the first sheet's rows counted) so a province-sized file is refused before pandas parses it.
Baseline: the reader alone (``dtsen_file._read_csv`` / ``_read_xlsx``), measured in the same run. Also: refusing
a 2,000,000-row CSV held in memory vs parsing the 100,000-person one. Run: python -m bench.bench_import_limits
"""

from __future__ import annotations

import io

from bench.bench_register import FAMILIES, _renumber, _xlsx
from bench.common import median_seconds, report
from core import demo_register, dtsen_file
from core.errors import InvalidInput

KEL = "31.75.01.1003"


def main() -> None:
    frame = _renumber(demo_register.generate(KEL, FAMILIES, seed=11), KEL, offset=0)
    csv, xlsx = demo_register.to_csv(frame), _xlsx(frame)
    rows = [line for line in csv.split(b"\n")[1:] if line]
    province = b"\n".join([csv.split(b"\n", 1)[0]] + rows * 20)  # ~2,000,000 rows

    def check(data: bytes) -> float:
        return median_seconds(lambda: dtsen_file.check_limits(io.BytesIO(data), len(data)), repeat=5)

    def refuse() -> None:
        try:
            dtsen_file.check_limits(io.BytesIO(province), len(province), max_mb=10_000)
        except InvalidInput:
            return
        raise AssertionError("not refused")

    report(f"DTSEN limit check ({len(frame):,} persons; CSV {len(csv) / 2**20:.1f} MB, XLSX "
           f"{len(xlsx) / 2**20:.1f} MB)", [
        ("CSV check vs CSV reader", check(csv), median_seconds(lambda: dtsen_file._read_csv(csv), repeat=3)),
        ("XLSX check vs XLSX reader", check(xlsx), median_seconds(lambda: dtsen_file._read_xlsx(xlsx), repeat=3)),
        (f"refuse {len(rows) * 20:,}-row CSV vs read 100k CSV", median_seconds(refuse, repeat=5),
         median_seconds(lambda: dtsen_file._read_csv(csv), repeat=3)),
    ], "none")


if __name__ == "__main__":
    main()
