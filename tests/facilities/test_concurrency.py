"""50 clients at once through a real server (gunicorn on loopback, separate processes and connections), on
SQLite (file database, production settings: WAL, BEGIN IMMEDIATE) and PostgreSQL (exclusion constraint):
exactly one booking of overlapping slots succeeds and one voucher is never spent twice; nothing half-written."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

CLIENTS = 50


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgres://root@127.0.0.1:5432/postgres", connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001
        return False


DATABASES = [pytest.param("sqlite"),
             pytest.param("postgres", marks=pytest.mark.skipif(not _postgres_reachable(),
                                                               reason="PostgreSQL not reachable"))]


@pytest.fixture(scope="module", params=DATABASES)
def live(request):
    """One fresh database and server per database for both scenarios (migrating is the slow part)."""
    from booking import Live

    with Live(request.param, scenario="both", clients=CLIENTS) as server:
        yield server


def test_fifty_clients_book_overlapping_slots_exactly_one_wins(live):
    from booking import fire

    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    code = live.setup["instruments"][0]
    # client i asks for [start + i min, start + i min + 60 min): every pair overlaps
    calls = [(token, f"/api/facilities/instruments/{code}/bookings",
              {"start": (start + dt.timedelta(minutes=i)).isoformat(),
               "end": (start + dt.timedelta(minutes=i + 60)).isoformat()})
             for i, token in enumerate(live.setup["tokens"])]
    results = fire(live.port, calls)
    stored = live.check()
    statuses = [status for status, _, _ in results]
    assert statuses.count(201) == 1, [body for status, body, _ in results if status not in (201, 409)][:3] or statuses
    assert statuses.count(409) == CLIENTS - 1, statuses
    winner = next(body for status, body, _ in results if status == 201)
    for status, body, _ in results:
        if status == 409:
            assert body["error"]["code"] == "booking_conflict"
            assert body["error"]["details"]["conflict"]["booking_id"] == winner["id"]
    assert stored["bookings"] == 1
    assert stored["overlapping_pairs"] == 0
    assert stored["booking_audit_events"] == 1


def test_fifty_clients_spend_one_voucher_at_once_it_is_never_spent_twice(live):
    from booking import fire

    # balance 1,000 CNY; each client pays 600 of a different 600 CNY fee: only one can be paid
    calls = [(token, f"/api/facilities/usage/{usage_id}/voucher", {"voucher": "BENCH-CX-00001", "amount": "600"})
             for token, usage_id in zip(live.setup["voucher_tokens"], live.setup["usage_ids"], strict=True)]
    results = fire(live.port, calls)
    stored = live.check()
    statuses = [status for status, _, _ in results]
    assert statuses.count(201) == 1, [body for status, body, _ in results if status not in (201, 409)][:3] or statuses
    assert statuses.count(409) == CLIENTS - 1, statuses
    assert all(body["error"]["code"] == "voucher_spent" for status, body, _ in results if status == 409)
    assert stored["voucher_balance"] == "400.00"
    assert stored["redemptions"] == 1 and stored["redemption_audit_events"] == 1
    assert stored["voucher_paid_total"] == "600.00"
