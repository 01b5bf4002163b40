"""The policy editor's live preview and an enterprise's "my policies" on the demo database.

Measured in the same run, medians of several runs:

- building the table cold: every enterprise profile read through the ORM into columns (at start-up,
  the worker's warm-up does it; the preview then reuses it until the data change, checked by
  ``data_version``);
- the first preview after a data change: one enterprise's fiscal year is saved again (its values
  unchanged, only ``updated_at`` moves), then ``enterprise_table`` brings the cached table up to
  date by reading only the changed enterprises; the baseline is what it did before, the full cold
  build (ratio = cold build ÷ incremental update);
- the columnar evaluation of one rule (``vector.evaluate_all``) over that table, and the baseline:
  the per-enterprise loop (``lang.evaluate`` + ``lang.unmet_count``) over the same records;
- a whole warm preview (version check + evaluation), the editor's latency per keystroke pause;
- all published policies for one enterprise (``policies_for``), the "my policies" page's work.

Usage (after ``sciencecity bootstrap`` or ``demo`` + ``demo-enterprises`` + ``demo-policies``)::

    DATABASE_URL=sqlite:////tmp/demo.db PYTHONPATH=src python bench/policy_preview.py [--runs N]

Writes bench/results/policy_preview.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sciencecity.config.base")

RULE = 'revenue >= 1000 and rd_ratio >= 0.03 and (has_cert("hnte") or tier in ["gazelle", "unicorn"]) and not incident'
AMOUNT = "min(0.1 * rd_expense, 100)"


def _median(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from sciencecity.engines.rules import fields, lang, vector
    from sciencecity.enterprises.models import EnterpriseProfile
    from sciencecity.enterprises.policies import selectors

    n = EnterpriseProfile.objects.count()
    if not n:
        sys.exit("no enterprise profiles: run `sciencecity demo-enterprises` first")
    from django.utils import timezone

    today = timezone.localdate()
    table_s, columns = _median(lambda: selectors._build_table(today, None), args.runs)
    version_s, _version = _median(lambda: selectors.data_version(today), args.runs)
    signatures_s, _signatures = _median(selectors.source_signatures, args.runs)
    selectors.enterprise_table(today=today)  # fills the cache the editor's preview reuses
    from sciencecity.enterprises.models import FiscalYear

    change_times = []
    for year in FiscalYear.objects.filter(profile__organisation_id__in=columns.organisation_ids[:50])[: args.runs]:
        year.save()  # a data change (values as they were; only updated_at moves)
        started = time.perf_counter()
        patched = selectors.enterprise_table(today=today)
        change_times.append(time.perf_counter() - started)
        assert patched.reloaded == 1 and patched.table.n == columns.table.n
    change_s = statistics.median(change_times)
    compiled = vector.compile_policy("bench", RULE, fields.SCHEMA, AMOUNT)
    vector_s, result = _median(lambda: vector.evaluate_all([compiled], columns.table, columns.today), args.runs)
    records = [columns.table.record(i) for i in range(columns.table.n)]

    def loop():
        return [(lang.evaluate(compiled.condition, r, columns.today), lang.unmet_count(compiled.condition, r,
                                                                                     columns.today)) for r in records]

    loop_s, looped = _median(loop, args.runs)
    eligible = int((result.truth[0] == vector.TRUE).sum())
    assert eligible == sum(1 for truth, _ in looped if truth is True)
    preview_s, counts = _median(lambda: selectors.preview(RULE, AMOUNT), args.runs)
    org = columns.organisation_ids[0]
    mine_s, _mine = _median(lambda: selectors.policies_for(org), args.runs)
    figures = {
        "enterprises": n, "published_policies": selectors.published_policies().count(), "runs": args.runs,
        "rule": RULE, "eligible": eligible,
        "enterprise_table_cold_build_s": round(table_s, 4),
        "first_preview_after_change_table_s": round(change_s, 4), "all_source_signatures_s": round(signatures_s, 4),
        "after_change_speedup_vs_full_rebuild": round(table_s / change_s, 1),
        "vector_one_rule_s": round(vector_s, 5),
        "loop_one_rule_s": round(loop_s, 5), "vector_speedup_vs_loop": round(loop_s / vector_s, 1),
        "data_version_check_s": round(version_s, 4), "preview_warm_total_s": round(preview_s, 4),
        "my_policies_one_enterprise_s": round(mine_s, 4),
        "preview_counts": {k: v for k, v in counts.items() if k != "sample"},
    }
    for key, value in figures.items():
        print(f"{key:32} {value}")
    out = ROOT / "bench" / "results" / "policy_preview.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
