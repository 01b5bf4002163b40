"""Parse time of the seed plan (光明区科技创新“十四五”规划): median of 20 runs per format; goal ≤ 1 s.

Usage: python bench/plan_parse.py [path-to-plan]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sciencecity.engines.plandoc import parse_file  # noqa: E402

SEED_CANDIDATES = [
    ROOT / "tests" / "engines" / "fixtures" / "guangming_st_plan_2021.txt",
    Path("/work/shared/seeds/000_1224e98ebac0c291.txt"),
]
RUNS = 20
GOAL_SECONDS = 1.0


def median_seconds(path: Path, runs: int = RUNS) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        parse_file(path)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> int:
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
    else:
        path = next((p for p in SEED_CANDIDATES if p.exists()), None)
        if path is None:
            print("seed plan not found", file=sys.stderr)
            return 1
    doc = parse_file(path)
    seconds = median_seconds(path)
    print(f"plan: {path.name}")
    print(f"counts: {doc.counts()}")
    print(f"parse time (median of {RUNS}): {seconds * 1000:.1f} ms (goal ≤ {GOAL_SECONDS:.0f} s)")
    return 0 if seconds <= GOAL_SECONDS else 2


if __name__ == "__main__":
    raise SystemExit(main())
