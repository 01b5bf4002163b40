"""Audit chain cost: appending keyed events, verifying the chain with checkpoints, backup and restore.

    .venv/bin/python bench/audit_chain.py [--events 20000] [--database-url postgres://…/empty_db]

Without ``--database-url`` a fresh SQLite database under var/bench/ is used; with it, the database
must exist and be empty (it is migrated; PostgreSQL is dropped/recreated by the caller). Appends
``--events`` events (each with nested changes holding floats such as 1e16) through ``audit_record``,
one transaction each as a request would, writing a checkpoint every 1000; then times ``audit_verify``,
``backup_create`` and, on SQLite, a restore drill into a new file. Prints medians and writes
bench/results/audit_chain-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ["SCIENCECITY_VAR_DIR"] = str(VAR / "audit_chain")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        database = VAR / "audit_chain.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    checkpoints = VAR / "audit_chain" / "audit-checkpoints.jsonl"
    checkpoints.unlink(missing_ok=True)
    os.environ["AUDIT_CHECKPOINT_FILE"] = str(checkpoints)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sciencecity.config.base")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from sciencecity.core.audit import audit_record, audit_verify
    from sciencecity.core.backup import backup_create, backup_restore

    call_command("migrate", verbosity=0)
    per_event = []
    started = time.perf_counter()
    for i in range(args.events):
        t0 = time.perf_counter()
        audit_record(action="update", object_type="plans.observedvalue", object_id=i, object_repr=f"指标值 {i}",
                     changes={"value": [i * 1.5, 1e16 + i], "note": ["", "说明"], "nested": {"a": [1, 2.5, None]}})
        per_event.append(time.perf_counter() - t0)
    append_total = time.perf_counter() - started
    t0 = time.perf_counter()
    result = audit_verify()
    verify_seconds = time.perf_counter() - t0
    assert result.ok, result.problems[:3]
    out = {
        "time": dt.datetime.now(dt.UTC).isoformat(), "python": platform.python_version(),
        "database": connection.vendor, "events": args.events,
        "append_median_ms": round(statistics.median(per_event) * 1000, 3),
        "append_total_s": round(append_total, 2),
        "verify_s": round(verify_seconds, 2),
        "verify_events_per_s": round(result.checked / verify_seconds),
        "checkpoints": result.checkpoints,
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        backup = backup_create(out_dir=tmp)
        out["backup_s"] = round(time.perf_counter() - t0, 2)
        out["backup_bytes"] = backup.path.stat().st_size
        out["backup_method"] = backup.manifest["method"]
        if connection.vendor == "sqlite":
            t0 = time.perf_counter()
            restored = backup_restore(archive=backup.path, database_url=f"sqlite:///{tmp}/drill.sqlite3",
                                      media_root=f"{tmp}/media")
            out["restore_drill_s"] = round(time.perf_counter() - t0, 2)
            assert restored.ok
    for key, value in out.items():
        print(f"{key:>22}: {value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"audit_chain-{stamp}.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    sys.exit(main())
