"""Who may do what with facility time (used by the pages and the API alike).

* a round is managed by the bureau or a facility manager of the facility's organisation;
* a proposal is submitted by a business user for an organisation they act for, and seen by that
  organisation, the round's managers, the scientists of its beamlines and its released reviewers;
* feasibility is assessed by the beamline's scientist (the instrument's manager) or a round manager;
* a review is written by its expert once released; the report by the proposal's organisation.
"""

from __future__ import annotations

from typing import Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions
from sciencecity.facilities.beamtime.choices import ProposalState, ReviewState


def can_use_beamtime(user: Any) -> bool:
    """Rounds, schedules and one's own proposals: any signed-in business user or expert."""
    return permissions.is_business_user(user) or permissions.has_role(user, Role.EXPERT)


def can_manage_facility(user: Any, facility: Any) -> bool:
    if permissions.is_bureau_officer(user):
        return True
    return (permissions.has_role(user, Role.FACILITY_MANAGER)
            and facility.pk in _facility_manager_organisations(user))


def _facility_manager_organisations(user: Any) -> set[int]:
    return set(user.memberships.filter(role=Role.FACILITY_MANAGER, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def can_manage_round(user: Any, round_: Any) -> bool:
    return can_manage_facility(user, round_.facility)


def can_propose(user: Any, organisation: Any) -> bool:
    """Users of enterprises, universities, institutes and facilities propose for their organisation; officers
    (who rank and allocate nothing here but oversee) do not."""
    return (organisation is not None and not permissions.is_officer(user)
            and organisation.pk in permissions.organisation_ids(user))


def is_beamline_scientist(user: Any, shift_request: Any) -> bool:
    return permissions._active(user) and shift_request.beamline.instrument.manager_id == user.pk


def can_assess(user: Any, shift_request: Any) -> bool:
    return is_beamline_scientist(user, shift_request) or can_manage_round(user, shift_request.proposal.round)


def is_reviewer(user: Any) -> bool:
    return permissions.has_role(user, Role.EXPERT) and getattr(user, "person_id", None) is not None


def can_review(user: Any, review: Any) -> bool:
    return (is_reviewer(user) and review.expert_id == user.person_id
            and review.state in (ReviewState.RELEASED, ReviewState.SUBMITTED))


def can_view_proposal(user: Any, proposal: Any) -> bool:
    if not permissions._active(user):
        return False
    if proposal.organisation_id in permissions.organisation_ids(user) or can_manage_round(user, proposal.round):
        return True
    if any(is_beamline_scientist(user, r) for r in proposal.requests.select_related("beamline__instrument")):
        return True
    return is_reviewer(user) and proposal.reviews.filter(
        expert_id=user.person_id, state__in=(ReviewState.RELEASED, ReviewState.SUBMITTED)).exists()


def can_report(user: Any, proposal: Any) -> bool:
    return (proposal.organisation_id in permissions.organisation_ids(user)
            and proposal.state in (ProposalState.ALLOCATED, ProposalState.REPORTED))


def register() -> None:
    """The facility time actions, by name, for pages, API and menus (``permissions.has_perm``)."""
    permissions.register("facilities.beamtime_use", can_use_beamtime)
    permissions.register("facilities.beamtime_manage_round", can_manage_round)
    permissions.register("facilities.beamtime_propose", can_propose)
    permissions.register("facilities.beamtime_assess", can_assess)
    permissions.register("facilities.beamtime_review", can_review)
    permissions.register("facilities.beamtime_view_proposal", can_view_proposal)
    permissions.register("facilities.beamtime_report", can_report)
