"""Compare the p95 latency of two `make bench` results: the small data set, then the same run at scale.

    .venv-bench/bin/python bench/scale.py bench/results/<small>.json bench/results/<at scale>.json

The second run is one with `--demo …` (bulk data from `flask seed-demo`). Each workload of both
prints its p95 in each, and their ratio against the 1.5 the performance issue allows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ALLOWED_RATIO = 1.5
WORKLOADS = ("W2", "W3", "W4", "W6", "W7")


def p95_by_workload(path: Path) -> dict[str, float]:
    summary = json.loads(path.read_text())["summary"]
    return {row["workload"]: row["p95_ms"] for row in summary if row.get("p95_ms")}


def main(small_path: str, large_path: str) -> int:
    small, large = p95_by_workload(Path(small_path)), p95_by_workload(Path(large_path))
    print(f"{'workload':<9} {'p95 small ms':>13} {'p95 at scale ms':>16} {'ratio':>6}  (≤{ALLOWED_RATIO})")
    worst = 0.0
    for workload in WORKLOADS:
        if workload not in small or workload not in large:
            print(f"{workload:<9} {'—':>13} {'—':>16} {'—':>6}")
            continue
        ratio = large[workload] / small[workload]
        worst = max(worst, ratio)
        verdict = "ok" if ratio <= ALLOWED_RATIO else "OVER"
        print(f"{workload:<9} {small[workload]:13.2f} {large[workload]:16.2f} {ratio:6.2f}  {verdict}")
    return 0 if worst <= ALLOWED_RATIO else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
