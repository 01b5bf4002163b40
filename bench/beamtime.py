"""Facility time allocation: 2,000 proposals over 27 beamlines, optimal against greedy-by-rank.

The instance is generated from a fixed seed, shaped like a synchrotron user round: 70 % of the
proposals ask for one beamline, 25 % for two and 5 % for three; 3–24 shifts per beamline
(multiples of 3, i.e. whole days of three 8-hour shifts); review scores 1.0–5.0 with two
decimals (the mean of a panel's grades); beamlines oversubscribed about 2.5 times; 10 % of the
proposals are industry rapid-access ones and each beamline reserves 10 % of its shifts for them
(机时优先保障). The files are written as the CLI's CSVs and the end-to-end run is timed: read both
CSVs, build the problem, solve, write the allocation CSV.

Printed and written to ``bench/results/beamtime.json``: the median of the runs for the optimal
policy (end to end and the solve alone) and for greedy-by-rank, the optimal total, the greedy
total and their ratio, HiGHS's bound and gap, and the machine.

Usage: python bench/beamtime.py [--runs N] [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sciencecity.engines.beamtime import (  # noqa: E402
    allocate_by_rank,
    allocate_optimal,
    native_stdout_silenced,
    read_problem,
    write_allocation_csv,
)

PROPOSALS = 2_000
BEAMLINES = 27
OVERSUBSCRIPTION = 2.5
PRIORITY_SHARE = 0.10
RESERVED_SHARE = 0.10
SEED = 20261207


def write_instance(folder: Path, seed: int = SEED) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    lines = [f"BL{i:02d}" for i in range(1, BEAMLINES + 1)]
    popularity = rng.uniform(0.5, 1.5, BEAMLINES)
    popularity /= popularity.sum()
    demand = np.zeros(BEAMLINES, dtype=int)
    proposals_path, capacity_path = folder / "proposals.csv", folder / "capacity.csv"
    with proposals_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["proposal", "beamline", "shifts", "score", "priority"])
        for p in range(PROPOSALS):
            count = rng.choice([1, 2, 3], p=[0.70, 0.25, 0.05])
            chosen = rng.choice(BEAMLINES, size=count, replace=False, p=popularity)
            score = round(float(rng.uniform(1.0, 5.0)), 2)
            priority = int(rng.random() < PRIORITY_SHARE)
            for b in chosen:
                shifts = int(rng.integers(1, 9)) * 3
                demand[b] += shifts
                writer.writerow([f"P{p:05d}", lines[b], shifts, f"{score:.2f}", priority])
    with capacity_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["beamline", "shifts", "reserved"])
        for b, code in enumerate(lines):
            capacity = int(demand[b] / OVERSUBSCRIPTION)
            writer.writerow([code, capacity, int(capacity * RESERVED_SHARE)])
    return proposals_path, capacity_path


def end_to_end(proposals: Path, capacity: Path, out: Path, policy: str):
    started = time.perf_counter()
    problem = read_problem(proposals, capacity)
    with native_stdout_silenced():
        result = allocate_optimal(problem) if policy == "optimal" else allocate_by_rank(problem)
    write_allocation_csv(result, out)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proposals, capacity = write_instance(folder, args.seed)
        out = folder / "allocation.csv"
        optimal_times, optimal_solve, rank_times = [], [], []
        for _ in range(args.runs):
            seconds, optimal = end_to_end(proposals, capacity, out, "optimal")
            optimal_times.append(seconds)
            optimal_solve.append(optimal.seconds)
            seconds, rank = end_to_end(proposals, capacity, out, "rank")
            rank_times.append(seconds)
        problem = read_problem(proposals, capacity)
    figures = {
        "instance": {"proposals": PROPOSALS, "beamlines": BEAMLINES, "rows": sum(len(p.requests) for p in problem.proposals),
                     "requested_shifts": sum(r.shifts for p in problem.proposals for r in p.requests),
                     "capacity_shifts": sum(b.shifts for b in problem.beamlines),
                     "reserved_shifts": sum(b.reserved for b in problem.beamlines),
                     "priority_proposals": sum(p.priority for p in problem.proposals), "seed": args.seed},
        "runs": args.runs,
        "optimal_end_to_end_median_s": round(statistics.median(optimal_times), 4),
        "optimal_solve_median_s": round(statistics.median(optimal_solve), 4),
        "rank_end_to_end_median_s": round(statistics.median(rank_times), 4),
        "time_ratio_optimal_to_rank": round(statistics.median(optimal_times) / statistics.median(rank_times), 2),
        "optimal_total": round(optimal.total_score, 2),
        "optimal_accepted": len(optimal.accepted),
        "optimal_status": optimal.status,
        "highs_bound": round(optimal.bound, 4) if optimal.bound is not None else None,
        "highs_gap": optimal.gap,
        "rank_total": round(rank.total_score, 2),
        "rank_accepted": len(rank.accepted),
        "rank_to_optimal_ratio": round(rank.total_score / optimal.total_score, 5),
        "rank_below_optimal_pct": round(100 * (optimal.total_score - rank.total_score) / optimal.total_score, 3),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
    }
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "beamtime.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
