"""Facility time reads: rounds, a user's proposals, what a user has to do, the schedule."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from sciencecity.core import permissions
from sciencecity.facilities.beamtime import permissions as rules
from sciencecity.facilities.beamtime.choices import ReviewState
from sciencecity.facilities.beamtime.models import (
    BeamtimeProposal,
    BeamtimeReview,
    BeamtimeRound,
    ShiftRequest,
)
from sciencecity.registry.choices import OrganisationKind


def rounds():
    return BeamtimeRound.objects.select_related("facility").order_by("-closes_on", "code")


def managed_facilities(user: Any):
    """Organisations on which the user may open rounds (facilities and labs; all of them for the bureau)."""
    from sciencecity.registry.models import Organisation

    qs = Organisation.objects.filter(kind__in=[OrganisationKind.MAJOR_FACILITY, OrganisationKind.LABORATORY,
                                               OrganisationKind.RESEARCH_PLATFORM])
    if permissions.is_bureau_officer(user):
        return qs.order_by("name")
    return qs.filter(pk__in=rules._facility_manager_organisations(user)).order_by("name") \
        if getattr(user, "is_authenticated", False) else qs.none()


def visible_proposals(user: Any, round_: BeamtimeRound):
    """The round's proposals the user may see: all for its managers; else own organisation's, the ones on
    the user's beamlines and the ones the user reviews."""
    qs = round_.proposals.select_related("organisation").order_by("reference")
    if rules.can_manage_round(user, round_):
        return qs
    condition = Q(organisation_id__in=permissions.organisation_ids(user))
    if getattr(user, "is_authenticated", False):
        condition |= Q(requests__beamline__instrument__manager=user)
        if getattr(user, "person_id", None):
            condition |= Q(reviews__expert_id=user.person_id,
                           reviews__state__in=(ReviewState.RELEASED, ReviewState.SUBMITTED))
    return qs.filter(condition).distinct()


def my_reviews(user: Any):
    if not rules.is_reviewer(user):
        return BeamtimeReview.objects.none()
    return (BeamtimeReview.objects.filter(expert_id=user.person_id,
                                          state__in=(ReviewState.RELEASED, ReviewState.SUBMITTED))
            .select_related("proposal__round").order_by("state", "proposal__reference"))


def schedule(round_: BeamtimeRound) -> list[dict[str, Any]]:
    """Per beamline, its allocated slots in time order, and the shifts left free (reserved included)."""
    rows = []
    slots = (ShiftRequest.objects.filter(proposal__round=round_, shifts_allocated__gt=0)
             .select_related("proposal__organisation", "beamline__instrument").order_by("beamline_id", "starts_at"))
    by_line: dict[int, list[ShiftRequest]] = {}
    for slot in slots:
        by_line.setdefault(slot.beamline_id, []).append(slot)
    for line in round_.beamlines.select_related("instrument").order_by("instrument__code"):
        items = by_line.get(line.pk, [])
        used = sum(s.shifts_allocated for s in items)
        rows.append({"beamline": line, "slots": items, "used": used, "free": line.shifts - used})
    return rows


def proposal_for(reference: str):
    return (BeamtimeProposal.objects.select_related("round__facility", "organisation", "applicant")
            .filter(reference=reference).first())
