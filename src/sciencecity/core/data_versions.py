"""Data versions: cache keys that change when the data behind a cached page or block changes.

Every audited write raises the counter of its object type (``registry.organisation``) in the same
transaction (:func:`bump`, called by ``audit_record``); a cache puts the counters of the object types
it shows into its key (:func:`key`). A write thus empties exactly the caches that showed the old data,
in every web worker at once (the counters live in the database, so this holds with a per-process
cache too), and a rolled-back write empties nothing. The project rule "every write of domain data is
audited" is what makes this complete; the caches also expire after a short time, which bounds what a
write made outside the services (a shell, a migration) could leave stale.

One query per request reads all counters (:func:`versions`, memoised on the request).
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from sciencecity.core.models import DataVersion

_TABLE = DataVersion._meta.db_table


def bump(area: str, *, using: str = "default") -> None:
    """Raise the counter of ``area`` (an object type such as ``transfer.techdemand``) by one."""
    if not area:
        return
    with connections[using].cursor() as cursor:
        # one statement, no read: concurrent writers of the same area each add one
        cursor.execute(
            f"INSERT INTO {_TABLE} (area, version) VALUES (%s, 1) "  # noqa: S608 - table name from the model
            f"ON CONFLICT (area) DO UPDATE SET version = {_TABLE}.version + 1",
            [area[:100]],
        )


def versions(request: Any = None) -> dict[str, int]:
    """Every counter, read once per request (pass the request to share the read within it)."""
    cached = getattr(request, "_data_versions", None) if request is not None else None
    if cached is None:
        cached = dict(DataVersion.objects.values_list("area", "version"))
        if request is not None:
            request._data_versions = cached
    return cached


def key(*areas: str, request: Any = None) -> str:
    """The part of a cache key that changes whenever data of one of ``areas`` is written."""
    current = versions(request)
    return ".".join(str(current.get(area, 0)) for area in areas)
