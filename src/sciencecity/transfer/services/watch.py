"""Topic watch (科技情报): saved topics over achievements, demands and funded projects, trends, alerts.

A watch is a query and an optional field. Its items are the ranked matches of the query in the
achievement, demand and funded-project indexes (:mod:`.matching`); its trends count the matching
items by year, field and organisation. A new listing that matches a watch alerts its owner with a
notification at once; :func:`watch_alerts_run` (``sciencecity transfer watch-alerts``) does the
same for everything created since a watch's last alert, funded projects included.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction, Notification
from sciencecity.engines.text import Listing, TextIndex
from sciencecity.engines.text.tokenize import BIGRAM_PREFIX
from sciencecity.transfer import permissions as access
from sciencecity.transfer.models import TopicWatch
from sciencecity.transfer.services import matching

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

WATCH_KINDS = ("achievements", "demands", "projects")
TREND_DEPTH = 500
TOP_ORGANISATIONS = 10


@transaction.atomic
def watch_create(*, actor: User | None, name: str, query: str, sector: Any = None) -> TopicWatch:
    permissions.require(access.can_use_marketplace(actor))
    watch = TopicWatch(user=actor, name=name.strip(), query=query.strip(), sector=sector,
                       last_alerted_at=timezone.now())
    watch.full_clean()
    watch.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=watch,
                 changes=diff({}, snapshot(watch, ["name", "query", "sector"])))
    return watch


@transaction.atomic
def watch_delete(*, actor: User | None, watch: TopicWatch) -> None:
    permissions.require(watch.user_id == getattr(actor, "pk", None))
    audit_record(action=AuditAction.DELETE, actor=actor, obj=watch,
                 changes=diff(snapshot(watch, ["name", "query", "sector"]), {}))
    watch.delete()


def _constraints(watch: TopicWatch) -> matching.Constraints:
    return matching.Constraints(sectors=frozenset({watch.sector.code}) if watch.sector_id else frozenset())


def watch_items(watch: TopicWatch, *, user: Any, limit: int = 10) -> dict[str, list[matching.MatchResult]]:
    """The watch's best matches in each source (funded projects only without a field: they carry none)."""
    out = {}
    for kind in WATCH_KINDS:
        if kind == "projects" and watch.sector_id:
            out[kind] = []
            continue
        out[kind] = matching.ranked(kind, watch.query, constraints=_constraints(watch), user=user, limit=limit,
                                    use_feedback=False)
    return out


def watch_trends(watch: TopicWatch, *, user: Any) -> dict[str, Any]:
    """Counts of matching items by year (per source), by field and by organisation (top ten), for charts."""
    from sciencecity.registry.models import Organisation, Sector

    by_year: dict[str, Counter] = {}
    by_sector: Counter = Counter()
    by_organisation: Counter = Counter()
    for kind, results in watch_items(watch, user=user, limit=TREND_DEPTH).items():
        entries = matching.entries_for(kind, [result.id for result in results])
        counter = by_year.setdefault(kind, Counter())
        for result in results:
            entry = entries.get(result.id)
            if entry is None:
                continue
            if entry.year:
                counter[entry.year] += 1
            by_sector.update(entry.sectors)
            if entry.organisation_id:
                by_organisation[entry.organisation_id] += 1
    years = sorted({y for c in by_year.values() for y in c})
    sector_names = dict(Sector.objects.filter(code__in=list(by_sector)).values_list("code", "name"))
    top = by_organisation.most_common(TOP_ORGANISATIONS)
    org_names = dict(Organisation.objects.filter(pk__in=[pk for pk, _n in top]).values_list("pk", "name"))
    labels = {"achievements": _("Achievements"), "demands": _("Demands"), "projects": _("Funded projects")}
    return {
        "years": {"labels": [str(y) for y in years],
                  "datasets": [{"label": str(labels[k]), "data": [by_year[k].get(y, 0) for y in years]}
                               for k in WATCH_KINDS]},
        "fields": {"labels": [sector_names.get(c, c) for c, _n in by_sector.most_common()],
                   "data": [n for _c, n in by_sector.most_common()]},
        "organisations": {"labels": [org_names.get(pk, str(pk)) for pk, _n in top], "data": [n for _pk, n in top]},
    }


# --- alerts
def _matches(query: str, listing: Listing) -> bool:
    """Whether one listing matches a watch query: it shares at least half of the query's words (one
    at least), synonyms counted."""
    tokenizer, synonyms = matching.engine_parts()
    index = TextIndex(tokenizer=tokenizer, synonyms=synonyms)
    index.add(listing)
    hits = index.search(query, k=1)
    if not hits or hits[0].explanation is None:
        return False
    words = {t for t in tokenizer.terms(query) if not t.startswith(BIGRAM_PREFIX)}
    matched = {m.synonym_of or m.term for m in hits[0].explanation.terms if not m.bigram}
    return len(matched) >= max(1, math.ceil(len(words) / 2))


def _listing_of(kind: str, obj: Any) -> tuple[Listing | None, frozenset[str]]:
    entries = {"achievements": matching._achievement_entries, "demands": matching._demand_entries,
               "projects": matching._project_entries}[kind]
    _pk, entry = next(iter(entries(type(obj).objects.filter(pk=obj.pk))))
    return entry.listing, entry.sectors


def _visible(kind: str, user: Any, obj: Any) -> bool:
    if kind == "achievements":
        return access.can_view_achievement(user, obj)
    if kind == "demands":
        return access.can_view_demand(user, obj)
    return True


def _url(kind: str, obj: Any) -> str:
    return matching._url(kind, obj.pk)


def alert_new_listing(kind: str, obj: Any) -> list[Notification]:
    """Notify every watch owner whose topic the new ``obj`` matches (called by the listing services)."""
    listing, sectors = _listing_of(kind, obj)
    if listing is None:
        return []
    created = []
    for watch in TopicWatch.objects.select_related("user", "sector"):
        if watch.sector_id and watch.sector.code not in sectors:
            continue
        if not watch.user.is_active or not _visible(kind, watch.user, obj) or not _matches(watch.query, listing):
            continue
        message = _("Topic “%(topic)s”: new item “%(title)s”.") % {"topic": watch.name, "title": listing.title[:120]}
        created.append(Notification(user=watch.user, message=message[:300], url=_url(kind, obj), category="watch"))
    return Notification.objects.bulk_create(created)


def watch_alerts_run(*, now: Any = None) -> int:
    """For each watch, notify about items created since its last alert (one notification per item,
    at most ten); returns the number of notifications."""
    from sciencecity.programmes.models import FundedProject
    from sciencecity.transfer.models import Achievement, TechDemand

    now = now or timezone.now()
    models = {"achievements": Achievement, "demands": TechDemand, "projects": FundedProject}
    count = 0
    for watch in TopicWatch.objects.select_related("user", "sector"):
        since = watch.last_alerted_at or watch.created_at
        created = []
        for kind in WATCH_KINDS:
            for obj in models[kind].objects.filter(created_at__gt=since, created_at__lte=now):
                listing, sectors = _listing_of(kind, obj)
                if listing is None or (watch.sector_id and watch.sector.code not in sectors):
                    continue
                if _visible(kind, watch.user, obj) and _matches(watch.query, listing):
                    message = _("Topic “%(topic)s”: new item “%(title)s”.") % {
                        "topic": watch.name, "title": listing.title[:120]}
                    created.append(Notification(user=watch.user, message=message[:300], url=_url(kind, obj), category="watch"))
        Notification.objects.bulk_create(created[:10])
        count += len(created[:10])
        TopicWatch.objects.filter(pk=watch.pk).update(last_alerted_at=now)
    return count
