"""Marketplace search API latency with 100,000 achievements in the database.

    .venv/bin/python bench/transfer_search.py [--listings 100000] [--requests 200]

Builds a fresh SQLite database under var/bench/ (migrate, one owner organisation, synthetic
achievements of 100–300 characters from bench/text_corpus.py, bulk-inserted), then calls
``GET /api/transfer/search?q=…&kind=achievements`` in process through Django's test client, as an
anonymous visitor and as a logged-in enterprise user (who also gets the feedback path). Reports the
first request (lazy index build from the database), p50/p95 of the following requests, the
request after an achievement was changed (incremental catch-up, no rebuild) and the process memory.
Writes bench/results/transfer_search-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    database = VAR / "transfer_search.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sciencecity.config.base")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from sciencecity.accounts.choices import Role
    from sciencecity.accounts.models import Membership, User
    from sciencecity.registry.models import Organisation
    from sciencecity.transfer.choices import TransferMode
    from sciencecity.transfer.models import Achievement
    from sciencecity.transfer.services import listings as listing_services
    from text_corpus import rss_bytes, synthetic_listings, synthetic_queries

    owner = Organisation.objects.create(code="BENCH-UNI", name="基准大学", kind="university")
    enterprise = Organisation.objects.create(code="BENCH-ENT", name="基准企业", kind="enterprise")
    user = User.objects.create(username="bench-enterprise", must_change_password=False,
                               password_changed_at=dt.datetime.now(dt.UTC))
    Membership.objects.create(user=user, role=Role.ENTERPRISE_USER, organisation=enterprise)
    mode_of = {"转让": TransferMode.ASSIGNMENT, "许可": TransferMode.LICENCE, "作价入股": TransferMode.EQUITY,
               "合作开发": TransferMode.CO_DEVELOPMENT, "技术服务": TransferMode.SERVICE}
    started = time.perf_counter()
    batch = []
    for i, listing in enumerate(synthetic_listings(args.listings)):
        batch.append(Achievement(code=f"B{i:07d}", owner=owner, title=listing.title, abstract=listing.text,
                                 trl=listing.trl, modes=sorted(mode_of[m] for m in listing.modes),
                                 visibility="public" if i % 10 else "registered", is_synthetic=True))
        if len(batch) == 5000:
            Achievement.objects.bulk_create(batch)
            batch = []
    Achievement.objects.bulk_create(batch)
    insert_seconds = time.perf_counter() - started
    queries = [q for q, _filters in synthetic_queries(args.requests + 1)]

    def run(client: Client, label: str) -> dict[str, float]:
        started = time.perf_counter()
        first = client.get("/api/transfer/search", {"q": queries[0], "kind": "achievements", "limit": 10})
        assert first.status_code == 200, first.content
        first_ms = (time.perf_counter() - started) * 1000
        times = []
        for query in queries[1:]:
            started = time.perf_counter()
            response = client.get("/api/transfer/search", {"q": query, "kind": "achievements", "limit": 10})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        figures = {"first_request_ms": round(first_ms, 1), "p50_ms": round(statistics.median(times), 2),
                   "p95_ms": round(percentile(times, 0.95), 2), "requests": len(times)}
        print(f"{label:>10}: first {figures['first_request_ms']} ms, p50 {figures['p50_ms']} ms, "
              f"p95 {figures['p95_ms']} ms over {len(times)} requests")
        return figures

    anonymous = run(Client(), "anonymous")
    member_client = Client()
    member_client.force_login(user)
    member = run(member_client, "member")
    changed = Achievement.objects.order_by("pk").first()
    listing_services.achievement_update_unchecked(actor=None, achievement=changed,
                                        data={"title": "量子点显示基准成果"})
    started = time.perf_counter()
    response = member_client.get("/api/transfer/search", {"q": "量子点显示基准成果", "kind": "achievements"})
    after_update_ms = (time.perf_counter() - started) * 1000
    assert response.json()[0]["id"] == changed.pk
    print(f"after an update: {after_update_ms:.1f} ms (found at rank 1, no rebuild)")
    result = {
        "benchmark": "transfer_search", "time": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "database": "sqlite", "listings": args.listings, "insert_seconds": round(insert_seconds, 1),
        "anonymous": anonymous, "member": member, "after_update_ms": round(after_update_ms, 1),
        "rss_mb": round(rss_bytes() / 1048576, 1),
    }
    print(f"listings {args.listings} inserted in {insert_seconds:.1f} s; RSS {result['rss_mb']} MB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"transfer_search-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
