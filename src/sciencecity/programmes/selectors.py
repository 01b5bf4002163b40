"""Reads of the calls side of the programmes (demands, topics, calls, applications, integrity list),
shared by the pages and the API, with the questions "who may see / do this" they depend on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sciencecity.core import permissions
from sciencecity.programmes.choices import ApplicationState, CallState, DemandStatus, Mechanism
from sciencecity.programmes.models import Application, Call, Demand, IntegrityEntry, TopicList
from sciencecity.programmes.permissions import (
    applicant_organisation_ids,
    can_manage_programmes,
    can_see_all_demands,
)
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
