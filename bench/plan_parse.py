"""Parser alone: the seed plan, then a generated 200-page plan in every format; OCR per table image.

Prints medians and writes them to bench/results/plan_parse-<time>.json. Goals: the seed plan ≤ 1 s; the
200-page plan ≤ 2 s for the text formats (.txt, .md, .html, .docx); PDF and OCR are reported
separately (PDF layout analysis and OCR are slower by nature).

Usage: python bench/plan_parse.py [--pages 200] [--runs 5] [--seed path-to-plan]
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.engines.plan_documents import (  # noqa: E402
    build_docx,
    build_pdf,
    items,
    long_plan_markdown,
    markdown_to_html,
)

import results as bench_results  # noqa: E402
from sciencecity.engines.plandoc import parse_bytes, parse_file  # noqa: E402

#: the plan shipped with the application (a path inside this checkout, on every machine)
SEED = ROOT / "src" / "sciencecity" / "plans" / "data" / "guangming_sti_14th_fyp.txt"
SEED_GOAL_SECONDS = 1.0
TEXT_GOAL_SECONDS = 2.0
TEXT_FORMATS = ("txt", "md", "html", "docx")


def median_seconds(func, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def documents(pages: int) -> dict[str, bytes]:
    markdown = long_plan_markdown(pages)
    without_front = re.sub(r"^---\n.*?\n---\n", "", markdown, flags=re.DOTALL)
    body = without_front.split("## 目录", 1)[0] + without_front.split("## 目录", 1)[1].split("\n\n", 2)[2]
    plain = re.sub(r"^#+\s*", "", without_front, flags=re.MULTILINE)
    return {
        "md": markdown.encode("utf-8"),
        "txt": plain.encode("utf-8"),
        "html": markdown_to_html(markdown).encode("utf-8"),
        "docx": build_docx(items(body)),
        "pdf": build_pdf(items(body), header="示例市科技创新“十四五”规划"),
    }


def ocr_timings(runs: int) -> dict:
    """Seconds per table image when an OCR package is installed; otherwise says it is not."""
    try:
        from sciencecity.engines.plandoc import ocr
    except ImportError:
        return {"available": False, "reason": "no OCR module"}
    if not ocr.available():
        return {"available": False, "reason": ocr.unavailable_reason()}
    from tests.engines.plan_documents import table_image

    rows = [["指标", "单位", "2025年目标值"]] + [[f"第{k}项指标", "个", str(k * 15)] for k in range(1, 9)]
    image = table_image(rows)
    seconds = median_seconds(lambda: ocr.read_table_image(image), runs)
    return {"available": True, "engine": ocr.engine_name(), "rows": len(rows), "seconds_per_table_image": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=Path, default=SEED)
    args = parser.parse_args()

    results: dict = {"pages": args.pages, "runs": args.runs, "python": platform.python_version(), "formats": {}}
    ok = True
    if not args.seed.exists():
        parser.error(f"--seed {args.seed}: no such file")
    seed_seconds = median_seconds(lambda: parse_file(args.seed), args.runs * 4)
    results["seed"] = {"file": args.seed.name, "median_seconds": seed_seconds}
    print(f"seed plan {args.seed.name}: {seed_seconds * 1000:.1f} ms (goal ≤ {SEED_GOAL_SECONDS:.0f} s)")
    ok &= seed_seconds <= SEED_GOAL_SECONDS

    built = documents(args.pages)
    for name, data in built.items():
        doc = parse_bytes(data, f"plan.{name}")
        runs = max(1, args.runs if name != "pdf" else min(args.runs, 3))
        seconds = median_seconds(lambda data=data, name=name: parse_bytes(data, f"plan.{name}"), runs)
        counts = doc.counts()
        goal = TEXT_GOAL_SECONDS if name in TEXT_FORMATS else None
        results["formats"][name] = {
            "bytes": len(data),
            "median_seconds": seconds,
            "goal_seconds": goal,
            "chapters": counts["chapters"],
            "tasks": counts["tasks"],
            "indicators": counts["indicators"],
            "boxes": counts["boxes"],
        }
        print(
            f"{args.pages}-page plan as .{name:<4} {len(data) / 1024:8.0f} KiB  parse {seconds:6.3f} s"
            f"  ({counts['chapters']} chapters, {counts['tasks']} tasks, {counts['indicators']} indicators)"
            + (f"  goal ≤ {goal:.0f} s" if goal else "  (reported separately)")
        )
        if goal is not None:
            ok &= seconds <= goal
    results["ocr"] = ocr_timings(max(1, args.runs // 2))
    if results["ocr"].get("available"):
        print(f"OCR ({results['ocr']['engine']}): {results['ocr']['seconds_per_table_image']:.2f} s per table image")
    else:
        print(f"OCR: not measured ({results['ocr']['reason']})")
    bench_results.write("plan_parse", results)
    return 0 if ok else 2


if __name__ == "__main__":
    raise SystemExit(main())
