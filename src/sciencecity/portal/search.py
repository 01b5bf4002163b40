"""Global search from the header (全站搜索): organisations, people, achievements, demands, calls and
plan tasks, each group only when the user may see that kind, each row through that app's own
visibility rules, grouped by kind with the total and a link to the full, filtered list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sciencecity.core import permissions

PER_GROUP = 8
MAX_QUERY = 100


@dataclass
class Row:
    title: str
    detail: str
    url: str


@dataclass
class Group:
    kind: str
    label: str
    total: int
    rows: list[Row] = field(default_factory=list)
    more_url: str = ""


def _group(kind: str, label: Any, qs, row, more_url: str = "") -> Group:
    return Group(kind, str(label), qs.count(), [row(obj) for obj in qs[:PER_GROUP]], more_url)


MEANING_LIMIT = 4 * PER_GROUP


def _listing_group(user: Any, query: str, kind: str, label: Any, qs, row, more_url: str) -> Group:
    """Achievements or demands: ranked by the marketplace's hybrid (words and meaning) when its index
    has vectors — the total is then the number of matches up to ``MEANING_LIMIT`` and "more" opens
    the marketplace search —, else the title / keyword lookup, newest first."""
    from sciencecity.transfer.services import matching

    hits = matching.meaning_search(query, kind=kind, user=user, limit=MEANING_LIMIT)
    if not hits:
        return _group(kind, label, qs, row, more_url)
    return Group(kind, str(label), len(hits), [row(hit.obj) for hit in hits[:PER_GROUP]],
                 f"{reverse('transfer:search')}?{urlencode({'q': query, 'kind': kind})}")


def search_all(user: Any, query: str) -> list[Group]:
    """Groups with at least one result, in a fixed order."""
    from sciencecity.programmes import selectors as programme_selectors
    from sciencecity.registry import selectors as registry_selectors
    from sciencecity.transfer import selectors as transfer_selectors

    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return []
    encoded = urlencode({"q": query})
    groups = []
    if permissions.has_perm(user, "registry.view"):
        groups.append(_group("organisations", _("Organisations"),
                             registry_selectors.organisation_queryset({"q": query}),
                             lambda o: Row(o.name, o.get_kind_display(),
                                           reverse("registry:organisation_detail", args=[o.pk])),
                             f"{reverse('registry:organisation_list')}?{encoded}"))
        groups.append(_group("people", _("People"), registry_selectors.person_queryset({"q": query}),
                             lambda p: Row(p.name, p.title, reverse("registry:person_detail", args=[p.pk])),
                             f"{reverse('registry:person_list')}?{encoded}"))
    groups.append(_listing_group(user, query, "achievements", _("Achievements"),
                                 transfer_selectors.achievement_list(user, {"q": query}).order_by("-created_at"),
                                 lambda a: Row(a.title, a.owner.name,
                                               reverse("transfer:achievement_detail", args=[a.pk])),
                                 f"{reverse('transfer:achievement_list')}?{encoded}"))
    groups.append(_listing_group(user, query, "demands", _("Technology demands"),
                                 transfer_selectors.demand_list(user, {"q": query}).order_by("-created_at"),
                                 lambda d: Row(d.title, d.organisation.name,
                                               reverse("transfer:demand_detail", args=[d.pk])),
                                 f"{reverse('transfer:demand_list')}?{encoded}"))
    if permissions.has_perm(user, "programmes.use"):
        calls = programme_selectors.call_queryset(user).filter(Q(title__icontains=query) | Q(code__icontains=query))
        groups.append(_group("calls", _("Calls"), calls,
                             lambda c: Row(c.title, c.get_state_display(),
                                           reverse("programmes:call_detail", args=[c.pk]))))
    if permissions.has_perm(user, "plans.view_monitoring"):
        from sciencecity.plans.models import Task

        tasks = Task.objects.select_related("lead_department").filter(
            Q(title__icontains=query) | Q(code__icontains=query) | Q(text__icontains=query))
        groups.append(_group("tasks", _("Plan tasks"), tasks,
                             lambda t: Row(f"{t.code} {t.title}", t.lead_department.name if t.lead_department else "",
                                           reverse("plans:task_detail", args=[t.pk]))))
    return [g for g in groups if g.total]
