"""Reviewer assignment at scale: 3,000 applications × 5,000 experts, 3 per application, load ≤ 6.

The instance is generated from a fixed seed: each application lists its top-200 experts (a
random 200 of the 5,000, scores uniform in [0, 1) written with six decimals), and 1 % of all
application × expert pairs are conflicts (-1 rows in the constraints file, 150,000 rows, about
1 % of the listed pairs among them). Both are written as OpenReview matcher CSVs to a
temporary folder, and the end-to-end run is timed: read the CSVs, build the problem, solve,
write the JSON. Printed: median of 5 runs, peak memory of one run in a fresh process, the
optimum, the greedy baseline and its ratio, the LP bound (the LP relaxation's value, proved
by column generation; with ``--full-lp`` also recomputed by HiGHS over all edges, ~10-15 s)
and the machine. Goal: ≤ 3 s end to end.

Usage: python bench/assignment.py [--full-lp] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import results  # noqa: E402
from sciencecity.engines.assignment import (  # noqa: E402
    greedy_assignment,
    problem_from_csv,
    solve_assignment,
    write_assignment_json,
)

APPLICATIONS = 3_000
EXPERTS = 5_000
TOP = 200
PER_APPLICATION = 3
MAX_LOAD = 6
CONFLICT_SHARE = 0.01
SEED = 20240405
GOAL_SECONDS = 3.0


def write_instance(folder: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Write scores.csv and constraints.csv for the bench instance into ``folder``."""
    rng = np.random.default_rng(seed)
    submission_ids = np.array([f"Sub{i:05d}" for i in range(APPLICATIONS)])
    expert_ids = np.array([f"~Expert_Number{j}1" for j in range(EXPERTS)])
    # A random 200 experts per application: the first 200 of a random permutation per row.
    experts = np.argsort(rng.random((APPLICATIONS, EXPERTS)), axis=1)[:, :TOP].ravel()
    applications = np.repeat(np.arange(APPLICATIONS), TOP)
    scores = rng.random(len(experts))
    scores_path = folder / "scores.csv"
    lines = [
        f"{s},{e},{v:.6f}"
        for s, e, v in zip(
            submission_ids[applications].tolist(), expert_ids[experts].tolist(), scores.tolist(), strict=True
        )
    ]
    scores_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    conflict_count = int(CONFLICT_SHARE * APPLICATIONS * EXPERTS)
    pair = rng.choice(APPLICATIONS * EXPERTS, size=conflict_count, replace=False)
    constraints_path = folder / "constraints.csv"
    lines = [
        f"{s},{e},-1"
        for s, e in zip(
            submission_ids[pair // EXPERTS].tolist(), expert_ids[pair % EXPERTS].tolist(), strict=True
        )
    ]
    constraints_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return scores_path, constraints_path


def end_to_end(scores: Path, constraints: Path, out: Path) -> tuple[float, dict[str, float]]:
    """One full run; returns the total score and the seconds of each step."""
    steps: dict[str, float] = {}
    cpu_start = time.process_time()
    start = time.perf_counter()
    problem = problem_from_csv(scores, constraints, per_submission=PER_APPLICATION, max_load=MAX_LOAD)
    steps["read + build"] = time.perf_counter() - start
    mark = time.perf_counter()
    assignment = solve_assignment(problem)
    steps["solve"] = time.perf_counter() - mark
    mark = time.perf_counter()
    write_assignment_json(assignment, out)
    steps["write json"] = time.perf_counter() - mark
    steps["total"] = time.perf_counter() - start
    steps["cpu"] = time.process_time() - cpu_start
    return assignment.total_score, steps


def full_lp_bound(scores: Path, constraints: Path) -> float:
    """The LP relaxation over all edges at once (HiGHS), independent of column generation."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    from sciencecity.engines.assignment import _prepare

    p = _prepare(problem_from_csv(scores, constraints, per_submission=PER_APPLICATION, max_load=MAX_LOAD))
    n = len(p.sub)
    columns = np.arange(n)
    a_eq = sp.csr_matrix((np.ones(n), (p.sub, columns)), shape=(p.n_sub, n))
    a_ub = sp.csr_matrix((np.ones(n), (p.exp, columns)), shape=(p.n_exp, n))
    result = linprog(-p.score, A_ub=a_ub, b_ub=p.hi, A_eq=a_eq, b_eq=p.k, bounds=(0, 1), method="highs")
    return -float(result.fun)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def peak_resident_mib() -> float:
    """This process's peak resident memory (VmHWM; ``ru_maxrss`` would carry the parent's over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_run(folder: Path) -> None:
    """Run once in this (fresh) process and print its peak resident memory in MiB as JSON."""
    before = peak_resident_mib()
    total, _ = end_to_end(folder / "scores.csv", folder / "constraints.csv", folder / "assignment.json")
    print(json.dumps({"peak_mib": peak_resident_mib(), "after_imports_mib": before, "total": total}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full-lp", action="store_true", help="also solve the whole LP with HiGHS (slow)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_run(args.child)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scores, constraints = write_instance(folder)
        out = folder / "assignment.json"
        runs = [end_to_end(scores, constraints, out) for _ in range(args.runs)]
        totals = {round(total, 9) for total, _ in runs}
        median = {step: statistics.median(r[1][step] for r in runs) for step in runs[0][1]}
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(folder)], capture_output=True, text=True, check=True
        )
        memory = json.loads(child.stdout)
        problem = problem_from_csv(scores, constraints, per_submission=PER_APPLICATION, max_load=MAX_LOAD)
        optimum = solve_assignment(problem)
        greedy = greedy_assignment(problem)
        written = json.loads(out.read_text(encoding="utf-8"))
        full = full_lp_bound(scores, constraints) if args.full_lp else None

    print(
        f"instance: {APPLICATIONS} applications × {EXPERTS} experts, top-{TOP} scores, k={PER_APPLICATION}, "
    )
    print(f"          max load {MAX_LOAD}, {CONFLICT_SHARE:.0%} of pairs in conflict, seed {SEED}")
    print(f"listed pairs: {int(problem.edge_score.size)}; columns in the final LP: {optimum.columns}")
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}")
    print(f"end to end (median of {args.runs}): {median['total']:.3f} s (goal ≤ {GOAL_SECONDS:.0f} s)")
    print(
        f"  CPU time of this process (median): {median['cpu']:.3f} s (the machine is shared; load {os.getloadavg()[0]:.1f})"
    )
    for step in ("read + build", "solve", "write json"):
        print(f"  {step}: {median[step]:.3f} s")
    print(
        f"peak memory (fresh process): {memory['peak_mib']:.0f} MiB ({memory['after_imports_mib']:.0f} MiB after imports)"
    )
    print(f"solver: {optimum.solver}, {optimum.pricing_rounds} LP round(s)")
    print(f"optimum total: {optimum.total_score:.6f} (same in every run: {len(totals) == 1})")
    print(
        f"LP bound: {optimum.lp_bound:.6f}"
        + (f" (whole LP by HiGHS: {full:.6f})" if full is not None else "")
    )
    print(
        f"greedy total: {greedy.total_score:.6f} in {greedy.seconds:.3f} s, "
        f"ratio {greedy.total_score / optimum.total_score:.6f}, unfilled slots {greedy.unfilled}"
    )
    print(f"json: {len(written)} applications, {sum(len(v) for v in written.values())} pairs")
    results.write("assignment", {
        "applications": APPLICATIONS, "experts": EXPERTS, "per_application": PER_APPLICATION, "max_load": MAX_LOAD,
        "runs": args.runs, "median_seconds": {k: round(v, 4) for k, v in median.items()}, "goal_seconds": GOAL_SECONDS,
        "peak_mib": memory["peak_mib"], "optimum_total": optimum.total_score, "lp_bound": optimum.lp_bound,
        "greedy_total": greedy.total_score, "greedy_ratio": greedy.total_score / optimum.total_score,
        "solver": optimum.solver, "load": os.getloadavg()[0]})
    return 0 if median["total"] <= GOAL_SECONDS else 2


if __name__ == "__main__":
    raise SystemExit(main())
