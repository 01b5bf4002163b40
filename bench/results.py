"""Where every benchmark writes its figures: ``bench/results/<name>-<time>.json`` (not committed)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def machine() -> dict:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu or platform.processor(), "python": platform.python_version()}


def write(name: str, figures: dict) -> Path:
    """Write ``figures`` (with the time and the machine) and print where; returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{name}-{stamp}.json"
    out.write_text(json.dumps({"benchmark": name, "when": stamp, "machine": machine(), **figures},
                              ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results: {out.relative_to(ROOT)}")
    return out
