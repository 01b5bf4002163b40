"""Reads of the calls side of the programmes (demands, topics, calls, applications, integrity list),
shared by the pages and the API, with the questions "who may see / do this" they depend on."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sciencecity.core import permissions
from sciencecity.programmes.choices import (
    ApplicationState,
    AssignmentState,
    CallState,
    DemandStatus,
    Mechanism,
)
from sciencecity.programmes.models import (
    Application,
    Assignment,
    Call,
    Demand,
    IntegrityEntry,
    Review,
    TopicList,
)
from sciencecity.programmes.permissions import (
    applicant_organisation_ids,
    can_manage_programmes,
    can_see_all_demands,
)
from sciencecity.programmes.services.assignment import (
    call_loads,
    exclusion_removals,
    max_load_of,
    reason_texts,
)
from sciencecity.programmes.services.experts import (
    call_applications,
    conflict_facts,
    conflict_text,
    expert_pool,
)
from sciencecity.programmes.services.reviews import DECIDED_STATES
from sciencecity.registry.models import Organisation, Person

#: Next steps of a call and the label of the button that takes it (draft → … → decided).
CALL_NEXT_STEPS: dict[str, tuple[str, ...]] = {
    CallState.DRAFT: (CallState.OPEN,),
    CallState.OPEN: (CallState.CLOSED,),
    CallState.CLOSED: (CallState.OPEN, CallState.REVIEW),
    CallState.REVIEW: (CallState.PANEL,),
    CallState.PANEL: (CallState.DECIDED,),
    CallState.DECIDED: (),
}


# --- who may do what


# --- calls
def open_calls(day: dt.date | None = None) -> QuerySet[Call]:
    day = day or timezone.localdate()
    return (Call.objects.filter(state=CallState.OPEN, closes_on__gte=day).select_related("topic")
            .order_by("closes_on", "code"))


def call_queryset(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[Call]:
    params = params or {}
    qs = Call.objects.select_related("topic").annotate(application_count=Count("applications"))
    if not can_manage_programmes(user):
        qs = qs.exclude(state=CallState.DRAFT)
    if params.get("mechanism") in Mechanism.values:
        qs = qs.filter(mechanism=params["mechanism"])
    if params.get("state") in CallState.values:
        qs = qs.filter(state=params["state"])
    return qs.order_by("-opens_on", "code")


def call_eligibility_problems(call: Call, organisation: Organisation | None, day: dt.date | None = None) -> list[str]:
    """Why ``organisation`` may not start an application to ``call`` now (the rules that do not depend on
    the application's content; the full check runs at submission)."""
    from django.utils.translation import gettext as _

    from sciencecity.programmes.services.integrity import listed_organisation

    day = day or timezone.localdate()
    if organisation is None:
        return [_("Choose the organisation you act for.")]
    problems = []
    if not call.is_open_on(day):
        problems.append(_("The call is not open for applications."))
    if call.eligible_kinds and organisation.kind not in call.eligible_kinds:
        problems.append(_("Organisations of the kind “%(kind)s” may not apply to this call.") % {
            "kind": organisation.get_kind_display()})
    if call.eligible_levels and organisation.level not in call.eligible_levels:
        problems.append(_("Organisations at the level “%(level)s” may not apply to this call.") % {
            "level": organisation.get_level_display()})
    if call.eligible_districts and organisation.district not in call.eligible_districts:
        problems.append(_("The call is for organisations located in %(districts)s.") % {
            "districts": "、".join(call.eligible_districts)})
    if listed_organisation(organisation.pk, day):
        problems.append(_("The organisation is on the research-integrity list."))
    return problems


# --- demands and topics
def demand_queryset(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[Demand]:
    params = params or {}
    qs = Demand.objects.select_related("organisation", "sector").prefetch_related("topics")
    if not can_see_all_demands(user):
        qs = qs.filter(organisation_id__in=permissions.organisation_ids(user))
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(code__icontains=q)
                       | Q(organisation__name__icontains=q))
    if params.get("status") in DemandStatus.values:
        qs = qs.filter(status=params["status"])
    if params.get("sector"):
        qs = qs.filter(sector__code=params["sector"])
    if str(params.get("organisation") or "").isdigit():
        qs = qs.filter(organisation_id=int(params["organisation"]))
    return qs


def topic_lists() -> QuerySet[TopicList]:
    from django.db.models import Prefetch

    from sciencecity.programmes.models import Topic

    return TopicList.objects.prefetch_related(
        Prefetch("topics", queryset=Topic.objects.select_related("sector").prefetch_related("demands__organisation")))


# --- applications
def application_queryset(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[Application]:
    params = params or {}
    qs = Application.objects.select_related("call", "organisation", "applicant")
    if not can_manage_programmes(user):
        qs = qs.filter(organisation_id__in=applicant_organisation_ids(user))
    if str(params.get("call") or "").isdigit():
        qs = qs.filter(call_id=int(params["call"]))
    if params.get("state") in ApplicationState.values:
        qs = qs.filter(state=params["state"])
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(reference__icontains=q) | Q(organisation__name__icontains=q))
    return qs.order_by("-created_at")


# --- integrity list
def integrity_entries(day: dt.date | None = None) -> tuple[list[IntegrityEntry], list[IntegrityEntry]]:
    """(in force, past or future) entries."""
    day = day or timezone.localdate()
    rows = list(IntegrityEntry.objects.select_related("person", "organisation"))
    in_force = [e for e in rows if e.start_date <= day and (e.end_date is None or e.end_date >= day)]
    others = [e for e in rows if e not in in_force]
    return in_force, others


# --- pickers (team members, applicant, integrity entries)
def person_search(query: str, limit: int = 20) -> list[Person]:
    query = (query or "").strip()
    if not query:
        return []
    qs = Person.objects.filter(Q(name__icontains=query) | Q(name_en__icontains=query) | Q(code__iexact=query)
                               | Q(search_text__contains=query.casefold()))
    return list(qs.prefetch_related("affiliations__organisation").order_by("name", "id")[:limit])


def organisation_search(query: str, limit: int = 20) -> list[Organisation]:
    query = (query or "").strip()
    if not query:
        return []
    qs = Organisation.objects.filter(Q(name__icontains=query) | Q(name_en__icontains=query) | Q(code__iexact=query)
                                     | Q(search_text__contains=query.casefold()))
    return list(qs.order_by("name", "id")[:limit])


# --- review ranking (see :mod:`sciencecity.programmes.services.reviews` for how reviews are written)
# Normalisation (``call.normalise_scores``): each reviewer's weighted totals in the call become
# z-scores, ``z = (total − reviewer's mean) / reviewer's standard deviation`` (population), then are
# put back on the call's 0–100 scale as ``call mean + call standard deviation × z`` so that they can
# be read like the raw totals. A reviewer with a single review in the call, or whose totals all
# agree (no spread), gives no information about their harshness: their raw total is kept.


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _std(values: list[float]) -> float:
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


@dataclass
class RankingRow:
    application: Application
    scores: list[float] = field(default_factory=list)  # reviewers' weighted totals
    normalised: list[float] = field(default_factory=list)
    rank: int | None = None

    @property
    def count(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float | None:
        return round(_mean(self.scores), 4) if self.scores else None

    @property
    def score(self) -> float | None:
        """What the ranking sorts by: the mean normalised score."""
        return round(_mean(self.normalised), 4) if self.normalised else None

    @property
    def minimum(self) -> float | None:
        return min(self.scores) if self.scores else None

    @property
    def maximum(self) -> float | None:
        return max(self.scores) if self.scores else None

    @property
    def spread(self) -> float | None:
        """Standard deviation of the reviewers' totals (population)."""
        return round(_std(self.scores), 4) if self.scores else None


def normalised_totals(reviews: list[tuple[int, int, float]], *, normalise: bool = True) -> dict[tuple[int, int], float]:
    """``{(reviewer, application): score}`` from ``(reviewer, application, total)`` rows (see module doc)."""
    if not normalise or not reviews:
        return {(r, a): t for r, a, t in reviews}
    totals = [t for _r, _a, t in reviews]
    call_mean, call_std = _mean(totals), _std(totals)
    by_reviewer: dict[int, list[float]] = defaultdict(list)
    for reviewer, _application, total in reviews:
        by_reviewer[reviewer].append(total)
    result = {}
    for reviewer, application, total in reviews:
        own = by_reviewer[reviewer]
        spread = _std(own)
        if len(own) < 2 or spread == 0:
            result[(reviewer, application)] = total
        else:
            result[(reviewer, application)] = round(call_mean + call_std * (total - _mean(own)) / spread, 4)
    return result


def ranking(call: Call) -> list[RankingRow]:
    """Applications under review (or decided) ranked by mean normalised score; unreviewed last and without a
    rank (``rank`` None: a number would suggest a place they have not earned)."""
    applications = list(call.applications.filter(
        state__in=(ApplicationState.UNDER_REVIEW, *DECIDED_STATES)).select_related("organisation"))
    rows = {a.pk: RankingRow(a) for a in applications}
    reviews = [(r.assignment.expert_id, r.assignment.application_id, r.total)
               for r in Review.objects.filter(assignment__application__in=applications, conflict_flagged=False,
                                              assignment__state=AssignmentState.SUBMITTED)
               .select_related("assignment").order_by("assignment_id")]
    scores = normalised_totals(reviews, normalise=call.normalise_scores)
    for reviewer, application, total in reviews:
        rows[application].scores.append(total)
        rows[application].normalised.append(scores[(reviewer, application)])
    ordered = sorted(rows.values(), key=lambda r: (r.score is None, -(r.score or 0), r.application.reference))
    for rank, row in enumerate((row for row in ordered if row.score is not None), start=1):
        row.rank = rank
    return ordered


# --- the panel's ranking -----------------------------------------------------------------------------------
def ranking_rows(call: Call) -> list[RankingRow]:
    """The applications before the panel, ranked by mean normalised review score (with spread)."""
    return [row for row in ranking(call) if row.application.state == ApplicationState.UNDER_REVIEW]


# --- reviewer assignment
def overview_rows(call: Call) -> list[dict[str, Any]]:
    """Per application: its assignments (with reasons in words) and the excluded experts with rules."""
    applications = call_applications(call)
    pool = {p.person_id: p.person for p in expert_pool()}
    facts = conflict_facts(call=call, expert_ids=list(pool), applications=applications)
    matrix = facts.matrix()
    people: dict[int, str] = {pk: p.name for pk, p in pool.items()}
    assignments: dict[int, list[Assignment]] = {}
    for a in Assignment.objects.filter(application__call=call).select_related("expert").order_by(
            "application_id", "-affinity", "id"):
        a.reason_texts = reason_texts(a.reasons)
        assignments.setdefault(a.application_id, []).append(a)
    loads = call_loads(call)
    profiles = {p.person_id: p for p in expert_pool()}
    full = {pk for pk in pool if loads.get(pk, 0) >= max_load_of(call, profiles.get(pk))}
    rows = []
    for application in applications:
        found_here = {e: found for (e, a), found in matrix.items() if a == application.pk}
        excluded = [(pool[e], [conflict_text(c, facts, people) for c in found]) for e, found in found_here.items()]
        mine = assignments.get(application.pk, [])
        rows.append({"application": application, "assignments": mine,
                     "excluded": sorted(excluded, key=lambda item: item[0].name),
                     "removals": exclusion_removals(found_here, full) if not mine else []})
    return rows
