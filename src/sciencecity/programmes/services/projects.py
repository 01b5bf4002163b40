"""Funded projects: milestone reports, acceptance that releases the tranche (a Payment), change
requests, mid-term evaluation, final acceptance and the outcome class of frontier projects.

Who does what: the applicant organisation's users report on milestones and request changes; the
bureau and the project's 项目经理人 (the user whose ``person`` is the manager) accept or reject
milestones, decide change requests, record the mid-term evaluation and the final acceptance.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.programmes.choices import (
    ChangeRequestState,
    Mechanism,
    MilestoneState,
    Outcome,
    ProjectState,
)
from sciencecity.programmes.models import ChangeRequest, FundedProject, Payment, ProjectMilestone
from sciencecity.programmes.permissions import is_project_manager, is_project_member
from sciencecity.programmes.services.common import transition

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

MILESTONE_ACTIONS = ("submit", "accept", "reject")
CENT = Decimal("0.01")


# --- permissions ----------------------------------------------------------------------------------


def visible_projects(user: Any):
    """All projects for the bureau; the organisation's own and the managed ones for others."""
    qs = FundedProject.objects.select_related("application__call", "application__organisation", "manager")
    if permissions.is_bureau_officer(user):
        return qs
    if not permissions.is_business_user(user):
        return qs.none()
    from django.db.models import Q

    condition = Q(application__organisation_id__in=permissions.organisation_ids(user))
    if getattr(user, "person_id", None):
        condition |= Q(manager_id=user.person_id)
    return qs.filter(condition)


def _require_active(project: FundedProject) -> None:
    if project.state != ProjectState.ACTIVE:
        raise ValidationError(_("The project is “%(state)s”; nothing more can be reported or paid.") % {
            "state": project.get_state_display()}, code="project_not_active")


# --- milestones -----------------------------------------------------------------------------------
def _milestone_for(actor: User | None, milestone: ProjectMilestone, may) -> tuple[ProjectMilestone, FundedProject]:
    """The milestone locked for update, once ``may(actor, project)`` allows it and the project is active."""
    milestone = ProjectMilestone.objects.select_for_update().select_related(
        "project__application__organisation", "project__application__call").get(pk=milestone.pk)
    permissions.require(may(actor, milestone.project))
    _require_active(milestone.project)
    return milestone, milestone.project


@transaction.atomic
def milestone_submit(*, actor: User | None, milestone: ProjectMilestone, report: str) -> ProjectMilestone:
    """The applicant reports on a milestone (again after a rejection)."""
    milestone, project = _milestone_for(actor, milestone, is_project_member)
    if not report.strip():
        raise ValidationError({"report": _("Describe the results delivered for this milestone.")})
    milestone.report = report
    milestone.save(update_fields=["report", "updated_at"])
    transition(actor=actor, obj=milestone, field="state", new=MilestoneState.SUBMITTED,
               allowed_from=(MilestoneState.PENDING, MilestoneState.REJECTED), labels=MilestoneState,
               reason=report[:300])
    return milestone


@transaction.atomic
def milestone_accept(*, actor: User | None, milestone: ProjectMilestone, note: str = "",
                     on: dt.date | None = None) -> Payment | None:
    """Accept a submitted milestone and release its tranche as a Payment dated the acceptance day.

    揭榜挂帅: the tranche of the single acceptance milestone is the reward. 事前立项事后资助: the
    single verification milestone pays the whole amount, nothing is paid before it.
    """
    milestone, project = _milestone_for(actor, milestone, is_project_manager)
    on = on or timezone.localdate()
    milestone.decided_on, milestone.decision_note = on, note
    milestone.save(update_fields=["decided_on", "decision_note", "updated_at"])
    transition(actor=actor, obj=milestone, field="state", new=MilestoneState.ACCEPTED,
               allowed_from=(MilestoneState.SUBMITTED,), labels=MilestoneState, reason=note)
    if milestone.tranche <= 0:
        return None
    label = (_("Reward on acceptance (揭榜挂帅)") if project.application.call.mechanism == Mechanism.OPEN_COMPETITION
             else _("Tranche of milestone %(order)s") % {"order": milestone.order})
    payment = Payment(project=project, milestone=milestone, amount=milestone.tranche, paid_on=on, note=label)
    payment.full_clean()
    payment.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=payment, object_repr=f"{project.code} {label}",
                 changes=diff({}, snapshot(payment, ["project", "milestone", "amount", "paid_on"])))
    return payment


@transaction.atomic
def milestone_reject(*, actor: User | None, milestone: ProjectMilestone, note: str) -> ProjectMilestone:
    """Not accepted: no payment; the applicant may report again."""
    milestone, project = _milestone_for(actor, milestone, is_project_manager)
    if not note.strip():
        raise ValidationError({"note": _("Say why the milestone is not accepted.")})
    milestone.decided_on, milestone.decision_note = timezone.localdate(), note
    milestone.save(update_fields=["decided_on", "decision_note", "updated_at"])
    transition(actor=actor, obj=milestone, field="state", new=MilestoneState.REJECTED,
               allowed_from=(MilestoneState.SUBMITTED,), labels=MilestoneState, reason=note)
    return milestone


def milestone_action(*, actor: User | None, milestone: ProjectMilestone, action: str, text: str = "") -> Any:
    """Dispatch ``submit`` (text = report), ``accept`` or ``reject`` (text = note)."""
    if action == "submit":
        return milestone_submit(actor=actor, milestone=milestone, report=text)
    if action == "accept":
        return milestone_accept(actor=actor, milestone=milestone, note=text)
    if action == "reject":
        return milestone_reject(actor=actor, milestone=milestone, note=text)
    raise ValidationError(_("Unknown milestone action “%(action)s”.") % {"action": action})


# --- milestone plan -------------------------------------------------------------------------------
def _plan(milestones) -> list[list[str]]:
    """A milestone plan as audit data: [order, title, deliverables, due, tranche, state] per milestone."""
    return [[m.order, str(m.title), m.deliverables, m.due_date.isoformat(), str(m.tranche), m.state]
            for m in milestones]


def _plan_row(project: FundedProject, number: int, row: dict[str, Any]) -> dict[str, Any]:
    """One planned milestone, checked: a title, a due date within the project period, a tranche ≥ 0."""
    title = str(row.get("title") or "").strip()
    if not title:
        raise ValidationError({"title": _("Row %(n)s: give the milestone a title.") % {"n": number}})
    due = row.get("due_date")
    try:
        due = due if isinstance(due, dt.date) else dt.date.fromisoformat(str(due or ""))
    except ValueError:
        raise ValidationError({"due_date": _("Row %(n)s: give a due date (YYYY-MM-DD).") % {"n": number}}) from None
    if not project.start_date <= due <= project.end_date:
        raise ValidationError({"due_date": _("Row %(n)s: the due date %(due)s is outside the project period "
                                             "%(start)s – %(end)s.") % {
            "n": number, "due": due.isoformat(), "start": project.start_date.isoformat(),
            "end": project.end_date.isoformat()}})
    try:
        tranche = Decimal(str(row.get("tranche") if row.get("tranche") not in (None, "") else 0))
    except InvalidOperation:
        tranche = Decimal(-1)
    if not tranche.is_finite() or tranche < 0:
        raise ValidationError({"tranche": _("Row %(n)s: the tranche must be a number of at least 0.") % {"n": number}})
    return {"title": title, "deliverables": str(row.get("deliverables") or "").strip(), "due_date": due,
            "tranche": tranche.quantize(CENT)}


@transaction.atomic
def milestone_plan_set(*, actor: User | None, project: FundedProject, milestones: list[dict[str, Any]],
                       reason: str) -> FundedProject:
    """Replace the project's *pending* milestones with ``milestones`` (title, deliverables, due_date,
    tranche) — the bureau or the project's 项目经理人, with a reason.

    Submitted, accepted and rejected milestones stay as they are and keep their order numbers; the
    new ones take the free order numbers in the given sequence. Accepted tranches plus all planned
    ones (the new rows and the submitted or rejected milestones) never exceed the funded amount.
    """
    project = _locked_project(project)
    permissions.require(is_project_manager(actor, project))
    _require_active(project)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for changing the milestone plan.")})
    rows = [_plan_row(project, n, row) for n, row in enumerate(milestones, start=1)]
    existing = list(project.milestones.order_by("order"))
    kept = [m for m in existing if m.state != MilestoneState.PENDING]
    accepted = sum((m.tranche for m in kept if m.state == MilestoneState.ACCEPTED), Decimal("0.00"))
    planned = sum((m.tranche for m in kept if m.state != MilestoneState.ACCEPTED), Decimal("0.00"))
    planned += sum((r["tranche"] for r in rows), Decimal(0))
    if accepted + planned > project.amount:
        raise ValidationError({"tranche": _(
            "Accepted tranches (%(accepted)s) plus planned tranches (%(planned)s) come to %(total)s, more than the "
            "funded amount of %(amount)s (10k CNY).") % {"accepted": accepted, "planned": planned,
                                                         "total": accepted + planned, "amount": project.amount}})
    old = _plan(existing)
    project.milestones.filter(state=MilestoneState.PENDING).delete()
    used = {m.order for m in kept}
    free = (n for n in range(1, len(used) + len(rows) + 1) if n not in used)
    for row, order in zip(rows, free, strict=False):
        milestone = ProjectMilestone(project=project, order=order, **row)
        milestone.full_clean()
        milestone.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=project, reason=reason.strip(),
                 changes={"milestones": [old, _plan(project.milestones.order_by("order"))]})
    return project


# --- change requests, mid-term, final acceptance ---------------------------------------------------
@transaction.atomic
def change_request_submit(*, actor: User | None, project: FundedProject, description: str) -> ChangeRequest:
    permissions.require(is_project_member(actor, project))
    _require_active(project)
    change = ChangeRequest(project=project, description=description)
    change.full_clean()
    change.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=change, object_repr=f"{project.code} {description[:80]}",
                 changes={"description": [None, description]}, acting_organisation=project.application.organisation)
    return change


@transaction.atomic
def change_request_decide(*, actor: User | None, change: ChangeRequest, approve: bool, note: str = "") -> ChangeRequest:
    change = ChangeRequest.objects.select_for_update().select_related("project__application").get(pk=change.pk)
    permissions.require(is_project_manager(actor, change.project))
    change.decision_note = note
    change.save(update_fields=["decision_note", "updated_at"])
    transition(actor=actor, obj=change, field="state",
               new=ChangeRequestState.APPROVED if approve else ChangeRequestState.REFUSED,
               allowed_from=(ChangeRequestState.PENDING,), labels=ChangeRequestState, reason=note)
    return change


def _locked_project(project: FundedProject) -> FundedProject:
    return FundedProject.objects.select_for_update().select_related("application__organisation").get(pk=project.pk)


@transaction.atomic
def midterm_record(*, actor: User | None, project: FundedProject, result: str) -> FundedProject:
    """中期评估: the evaluation note."""
    project = _locked_project(project)
    permissions.require(is_project_manager(actor, project))
    _require_active(project)
    if not result.strip():
        raise ValidationError({"mid_term_result": _("Write the mid-term evaluation.")})
    old = project.mid_term_result
    project.mid_term_result = result
    project.save(update_fields=["mid_term_result", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=project, changes={"mid_term_result": [old, result]})
    return project


@transaction.atomic
def project_final_accept(*, actor: User | None, project: FundedProject, outcome: str = "", lessons: str = "",
                         on: dt.date | None = None) -> FundedProject:
    """结题验收. A frontier project needs its outcome class; "failed with lessons" needs the 失败再学习
    lessons record (failure is tolerated, unlearnt failure is not). Other projects need every
    milestone accepted."""
    project = _locked_project(project)
    permissions.require(is_project_manager(actor, project))
    _require_active(project)
    if project.is_frontier:
        if outcome not in Outcome.values:
            raise ValidationError({"outcome": _("Classify the outcome of this frontier project.")})
        if outcome == Outcome.FAILED_WITH_LESSONS and not lessons.strip():
            raise ValidationError({"lessons": _("A failed frontier project records its lessons (失败再学习).")})
    else:
        open_milestones = [m.title for m in project.milestones.exclude(state=MilestoneState.ACCEPTED)]
        if open_milestones:
            raise ValidationError(_("Milestones not yet accepted: %(titles)s.") % {"titles": "、".join(open_milestones)})
        if outcome and outcome not in Outcome.values:
            raise ValidationError({"outcome": _("Unknown outcome.")})
    before = snapshot(project, ["outcome", "lessons", "accepted_on"])
    project.outcome, project.lessons, project.accepted_on = outcome, lessons, on or timezone.localdate()
    project.save(update_fields=["outcome", "lessons", "accepted_on", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=project,
                 changes=diff(before, snapshot(project, ["outcome", "lessons", "accepted_on"])))
    transition(actor=actor, obj=project, field="state", new=ProjectState.COMPLETED,
               allowed_from=(ProjectState.ACTIVE,), labels=ProjectState)
    return project
