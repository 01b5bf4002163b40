"""Actions of the funding programmes, registered at ``ProgrammesConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions
from sciencecity.programmes.choices import AssignmentState, CallState

if TYPE_CHECKING:
    from sciencecity.programmes.models import Application, Assignment, Call, FundedProject
    from sciencecity.registry.models import Person


def can_manage_programmes(user: Any) -> bool:
    return permissions.is_bureau_officer(user)


def can_manage_declarations(user: Any, expert: Person) -> bool:
    """The expert (a user whose person is the expert) or the bureau."""
    return can_manage_programmes(user) or (
        permissions.is_business_user(user) and getattr(user, "person_id", None) == expert.pk)


def can_edit_application(user: Any, application: Application) -> bool:
    return application.organisation_id in permissions.organisation_ids(user)


#: What a reviewer sees of their work.
#: Assignment states in which the expert sees (and may submit) the review.
REVIEWER_STATES = (AssignmentState.RELEASED, AssignmentState.SUBMITTED)


def is_reviewer(user: Any) -> bool:
    return permissions.has_role(user, Role.EXPERT) and getattr(user, "person_id", None) is not None


def can_review(user: Any, assignment: Assignment) -> bool:
    """Only the assigned expert, and only once the assignment is released to them."""
    return (is_reviewer(user) and assignment.expert_id == user.person_id
            and assignment.state in REVIEWER_STATES)


def is_project_member(user: Any, project: FundedProject) -> bool:
    """A user of the applicant organisation."""
    return permissions.is_business_user(user) and project.application.organisation_id in permissions.organisation_ids(user)


def is_project_manager(user: Any, project: FundedProject) -> bool:
    """The bureau, or the project's 项目经理人."""
    if permissions.is_bureau_officer(user):
        return True
    return (permissions.is_business_user(user) and project.manager_id is not None
            and getattr(user, "person_id", None) == project.manager_id)


def can_view_project(user: Any, project: FundedProject) -> bool:
    return is_project_manager(user, project) or is_project_member(user, project)


def can_use_programmes(user: Any) -> bool:
    """Every business user (administrators do not handle business data)."""
    return permissions.is_business_user(user)


def can_see_all_demands(user: Any) -> bool:
    return permissions.is_officer(user)


def can_submit_demand(user: Any) -> bool:
    """Enterprises, departments, facilities … submit for an organisation they act for (not experts alone)."""
    return permissions.is_business_user(user) and bool(permissions.organisation_ids(user))


def can_apply(user: Any) -> bool:
    """Applicant organisations' users; officers and reviewers do not apply."""
    return (permissions.is_business_user(user) and not permissions.is_officer(user)
            and bool(permissions.organisation_ids(user)))


def can_view_call(user: Any, call: Call) -> bool:
    if not can_use_programmes(user):
        return False
    return call.state != CallState.DRAFT or can_manage_programmes(user)


def can_view_application(user: Any, application: Application) -> bool:
    if can_manage_programmes(user):
        return True
    return can_use_programmes(user) and application.organisation_id in applicant_organisation_ids(user)


def can_read_application_files(user: Any, application: Application) -> bool:
    """The attachments: whoever sees the application, and the experts it is released to for review."""
    return can_view_application(user, application) or (
        is_reviewer(user) and application.assignments.filter(expert_id=user.person_id,
                                                             state__in=REVIEWER_STATES).exists())


def applicant_organisation_ids(user: Any) -> set[int]:
    """Organisations whose applications the user sees: business memberships other than the expert role."""
    if not permissions.is_business_user(user):
        return set()
    return set(user.memberships.filter(organisation__isnull=False).exclude(role=Role.EXPERT)
               .values_list("organisation_id", flat=True))


def holds_expert_role(user: Any) -> bool:
    """The expert role, whether or not a person record is linked (the menu shows "My reviews")."""
    return permissions.has_role(user, Role.EXPERT)


def register() -> None:
    permissions.register_many(
        "programmes", use=can_use_programmes, see_review_menu=holds_expert_role,
        manage=can_manage_programmes, see_all_demands=can_see_all_demands, submit_demand=can_submit_demand,
        apply=can_apply, view_call=can_view_call, view_application=can_view_application,
        edit_application=can_edit_application, manage_declarations=can_manage_declarations,
        review=is_reviewer, review_assignment=can_review, view_project=can_view_project,
        manage_project=is_project_manager,
    )
