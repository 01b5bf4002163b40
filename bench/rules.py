"""Policy matching at city scale: 100,000 enterprises × 500 policies of about 10 clauses each.

The enterprises (30 fields: numbers with ~5 % unknown, text, bools, dates, two certificates) and
the policies (text rules of 8–12 clauses with and / or / not, ranges, lists, certificates on a
date, arithmetic; thresholds drawn from a realistic grid so that policies share clauses, as real
ones do; each with an amount formula) are generated from a fixed seed. Measured in the same run:

- the columnar pass (``vector.evaluate_all``: truth, fewest unmet clauses, amounts of eligible
  pairs) over all 100,000 × 500 pairs: median of several runs, and its peak traced memory;
- the plain per-enterprise Python loop (``lang.evaluate`` + ``lang.unmet_count`` + amount, per
  enterprise per policy) on a sample of enterprises, **extrapolated** linearly to 100,000, and the
  speed ratio; both give identical results on the sample (checked). The same for truth values
  alone (``lang.evaluate`` only against ``evaluate_all(costs=False)``) as the stricter ratio.

Goal: ≤ 2 s and ≥ 50× the loop. Writes bench/results/rules-<time>.json.

Usage: python bench/rules.py [--enterprises N] [--policies N] [--runs N] [--sample N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import results as bench_results  # noqa: E402
from sciencecity.engines.rules import lang, vector  # noqa: E402

SEED = 20261207
TODAY = dt.date(2026, 6, 30)
GOAL_SECONDS, GOAL_RATIO = 2.0, 50.0
NUMBERS = ["revenue", "sales", "total_income", "high_tech_income", "rd_expense", "rd_ratio", "net_assets",
           "total_assets", "total_costs", "staff", "st_staff", "st_share", "ip_class_i", "ip_class_ii",
           "conversions", "standards", "export_revenue", "tax_paid", "employees_graduates", "growth_rate"]
TEXTS = {"sector": ["电子信息", "生物与新医药", "航空航天", "新材料", "高技术服务", "新能源与节能", "资源与环境",
                    "先进制造与自动化"],
         "district": ["光明", "南山", "宝安", "龙华", "福田"],
         "size": ["micro", "small", "medium", "large"]}
BOOLS = ["listed", "incident", "specialised", "state_owned"]
DATES = ["registered_on"]
CERTS = ["hnte", "tech_sme"]
SCHEMA = {**{n: "number" for n in NUMBERS}, **{t: "text" for t in TEXTS}, **{b: "bool" for b in BOOLS},
          **{d: "date" for d in DATES}, **{c: "certificate" for c in CERTS}}


def make_columns(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The enterprises as columns (the form a selector would hand the engine)."""
    columns: dict[str, np.ndarray] = {}
    for name in NUMBERS:
        values = np.round(rng.lognormal(mean=7, sigma=1.5, size=n), 2)
        if name in ("rd_ratio", "st_share", "growth_rate"):
            values = np.round(rng.random(n) * 0.4, 4)
        if name in ("ip_class_i", "ip_class_ii", "conversions", "standards", "staff", "st_staff"):
            values = np.floor(rng.exponential(20 if name.startswith("st") or name == "staff" else 3, n))
        values[rng.random(n) < 0.05] = np.nan  # unknown
        columns[name] = values
    for name, choices in TEXTS.items():
        codes = rng.integers(0, len(choices), n).astype(np.int32)
        codes[rng.random(n) < 0.03] = -1
        columns[name] = codes
    for name in BOOLS:
        values = (rng.random(n) < 0.3).astype(np.int8)
        values[rng.random(n) < 0.03] = -1
        columns[name] = values
    start = dt.date(2005, 1, 1).toordinal()
    columns["registered_on"] = (start + rng.integers(0, 7500, n)).astype(np.float64)
    for name in CERTS:
        held = rng.random(n) < 0.4
        issued = (dt.date(2020, 1, 1).toordinal() + rng.integers(0, 2300, n)).astype(np.float64)
        columns[name + ":from"] = np.where(held, issued, np.nan)
        columns[name + ":until"] = np.where(held, issued + 3 * 365 - 1, np.nan)
    return columns


def make_table(n: int, rng: np.random.Generator) -> vector.Table:
    columns = make_columns(n, rng)
    vocabulary = {name: {text: i for i, text in enumerate(choices)} for name, choices in TEXTS.items()}
    return vector.Table(n=n, schema=SCHEMA, columns=columns, vocabulary=vocabulary)


def make_rules(count: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """(condition, amount formula) pairs of 8–12 clauses over a shared grid of thresholds."""
    grid = {name: np.round(np.quantile(rng.lognormal(7, 1.5, 10_000), [0.1, 0.25, 0.5, 0.75, 0.9]), 0)
            for name in NUMBERS}
    for name in ("rd_ratio", "st_share", "growth_rate"):
        grid[name] = np.array([0.03, 0.04, 0.05, 0.1, 0.2])
    for name in ("ip_class_i", "ip_class_ii", "conversions", "standards"):
        grid[name] = np.array([1, 2, 3, 5])
    for name in ("staff", "st_staff"):
        grid[name] = np.array([10, 20, 50, 100, 500])

    def pick(seq):
        return seq[int(rng.integers(len(seq)))]

    def leaf() -> str:
        kind = rng.random()
        if kind < 0.45:
            name = pick(NUMBERS)
            return f"{name} {pick(['>=', '>', '<=', '<'])} {pick(grid[name]):g}"
        if kind < 0.55:
            name = pick(NUMBERS)
            low, high = sorted(rng.choice(grid[name], 2, replace=False))
            return f"{name} between {low:g} and {high:g}"
        if kind < 0.65:
            name = pick(list(TEXTS))
            chosen = rng.choice(TEXTS[name], int(rng.integers(1, 4)), replace=False)
            return f"{name} {pick(['in', 'in', 'not in'])} [" + ", ".join(f'"{c}"' for c in chosen) + "]"
        if kind < 0.75:
            return pick(BOOLS) if rng.random() < 0.5 else f"not {pick(BOOLS)}"
        if kind < 0.85:
            on = pick(["today", "today + 180", 'date("2025-12-31")'])
            return f'has_cert("{pick(CERTS)}", on={on})'
        if kind < 0.92:
            return f"registered_on <= today - {pick([365, 730, 1095, 1825])}"
        a, b = rng.choice(NUMBERS, 2, replace=False)
        return f"{a} / {b} >= {pick([0.03, 0.05, 0.1, 0.6])}"

    rules = []
    for _ in range(count):
        clauses = int(rng.integers(8, 13))
        parts, used = [], 0
        while used < clauses:
            roll = rng.random()
            if roll < 0.2 and clauses - used >= 2:
                parts.append("(" + " or ".join(leaf() for _ in range(2)) + ")")
                used += 2
            elif roll < 0.27:
                parts.append(f"not ({leaf()})")
                used += 1
            else:
                parts.append(leaf())
                used += 1
        amount = pick(["min(0.1 * rd_expense, 200)", "min(0.05 * revenue, 500)", "20",
                       "max(min(0.2 * (rd_expense - 100), 300), 0)", "10 * ip_class_i + 2 * ip_class_ii"])
        rules.append((" and ".join(parts), amount))
    return rules


def peak_resident_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--policies", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=500, help="enterprises in the plain-loop sample")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    table = make_table(args.enterprises, rng)
    rules = make_rules(args.policies, rng)

    start = time.perf_counter()
    policies = [vector.compile_policy(f"P{i:04d}", condition, SCHEMA, amount)
                for i, (condition, amount) in enumerate(rules)]
    compile_seconds = time.perf_counter() - start
    clauses = [len(lang.conditions(p.condition)) for p in policies]
    unique = len({leaf.key for p in policies for leaf in lang.conditions(p.condition)})

    times, cpu = [], []
    result = None
    for _ in range(args.runs):
        result = None
        cpu_start, start = time.process_time(), time.perf_counter()
        result = vector.evaluate_all(policies, table, TODAY)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    tracemalloc.start()
    traced = vector.evaluate_all(policies, table, TODAY)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced

    sample = np.sort(rng.choice(args.enterprises, args.sample, replace=False))
    records = [table.record(i) for i in sample.tolist()]  # the same enterprises as dicts
    start = time.perf_counter()
    truth, unmet, _ = vector.records_evaluation(policies, records, TODAY)
    loop_sample = time.perf_counter() - start
    loop_full = loop_sample * args.enterprises / args.sample
    start = time.perf_counter()
    for record in records:  # truth alone, the bare minimum a loop must do
        for policy in policies:
            lang.evaluate(policy.condition, record, TODAY)
    truth_loop_full = (time.perf_counter() - start) * args.enterprises / args.sample
    truth_times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        vector.evaluate_all(policies, table, TODAY, costs=False)
        truth_times.append(time.perf_counter() - start)
    truth_median = statistics.median(truth_times)
    same = bool(np.array_equal(truth, result.truth[:, sample]) and np.array_equal(unmet, result.unmet[:, sample]))

    median = statistics.median(times)
    eligible = int((result.truth == vector.TRUE).sum())
    nearly = int(((result.unmet >= 1) & (result.unmet <= 1)).sum())
    figures = {
        "enterprises": args.enterprises, "policies": args.policies, "clauses_per_policy_mean": float(np.mean(clauses)),
        "clauses_total": int(sum(clauses)), "unique_clauses": unique, "pairs": args.enterprises * args.policies,
        "compile_seconds": round(compile_seconds, 3), "evaluate_seconds_median": round(median, 3),
        "evaluate_seconds_runs": [round(t, 3) for t in times], "cpu_seconds_median": round(statistics.median(cpu), 3),
        "loop_sample_enterprises": args.sample, "loop_sample_seconds": round(loop_sample, 3),
        "loop_extrapolated_seconds": round(loop_full, 1), "speedup": round(loop_full / median, 1),
        "truth_only_evaluate_seconds_median": round(truth_median, 3),
        "truth_only_loop_extrapolated_seconds": round(truth_loop_full, 1),
        "truth_only_speedup": round(truth_loop_full / truth_median, 1),
        "identical_on_sample": same, "peak_traced_mib": round(traced_peak / 2**20, 1),
        "peak_resident_mib": round(peak_resident_mib(), 1), "eligible_pairs": eligible,
        "nearly_eligible_pairs_1_clause": nearly, "goal_seconds": GOAL_SECONDS, "goal_speedup": GOAL_RATIO,
        "machine": f"{os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}, numpy {np.__version__}",
        "load": round(os.getloadavg()[0], 2), "seed": SEED,
    }
    print(f"instance: {args.enterprises:,} enterprises × {args.policies} policies, {figures['clauses_per_policy_mean']:.1f} "
          f"clauses per policy ({figures['clauses_total']:,} in all, {unique:,} distinct), seed {SEED}")
    print(f"machine: {figures['machine']} (load {figures['load']})")
    print(f"compile (parse + check) all policies: {compile_seconds:.3f} s")
    print(f"columnar evaluation, all {figures['pairs']:,} pairs (median of {args.runs}): {median:.3f} s "
          f"(goal ≤ {GOAL_SECONDS:g} s); CPU {figures['cpu_seconds_median']:.3f} s; runs "
          + ", ".join(f"{t:.3f}" for t in times))
    print(f"plain per-enterprise loop: {loop_sample:.2f} s for a sample of {args.sample} enterprises, extrapolated "
          f"to {loop_full:.0f} s for {args.enterprises:,} → {figures['speedup']:.0f}× (goal ≥ {GOAL_RATIO:g}×); "
          f"identical on the sample: {same}")
    print(f"truth values alone (no unmet counts): columnar {truth_median:.3f} s (median), loop extrapolated "
          f"{truth_loop_full:.0f} s → {figures['truth_only_speedup']:.0f}×")
    print(f"memory: peak traced during one evaluation {figures['peak_traced_mib']:.0f} MiB "
          f"(result matrices {2 * args.enterprises * args.policies / 2**20:.0f} MiB of it); "
          f"process peak resident {figures['peak_resident_mib']:.0f} MiB")
    print(f"eligible pairs {eligible:,}; nearly eligible (one clause short) {nearly:,}")
    bench_results.write("rules", figures)
    ok = median <= GOAL_SECONDS and figures["speedup"] >= GOAL_RATIO and same
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
