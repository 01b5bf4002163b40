"""Automatic reviewer assignment as a job (评审专家自动分配), officers' edits, release and re-assignment.

``assignment_run`` builds an :class:`~sciencecity.engines.assignment.AssignmentProblem` from the
call's applications under review × the expert pool: text affinities (each application's best
``TOP_EXPERTS`` experts), conflicts and declined pairs as forbidden pairs, released/submitted
assignments as forced pairs, loads from the call with ``ExpertProfile.max_load`` overrides and the
call's senior (主审) rule; it solves it exactly with progress and cancel, and replaces the call's
proposed assignments with the answer. An infeasible call fails the job with messages that say
what to change.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.explain import Removal
from sciencecity.core.models import AuditAction
from sciencecity.engines import conflicts as conflict_rules
from sciencecity.engines.assignment import (
    AssignmentCancelled,
    AssignmentInfeasible,
    AssignmentProblem,
    InfeasibilityCode,
    InfeasibilityIssue,
    solve_assignment,
)
from sciencecity.programmes import notices
from sciencecity.programmes.choices import AssignmentState, CallState, JobState
from sciencecity.programmes.models import Application, Assignment, AssignmentJob, Call, ExpertProfile
from sciencecity.programmes.permissions import can_manage_programmes
from sciencecity.programmes.services.experts import (
    AffinityTable,
    affinity_table,
    call_applications,
    conflict_facts,
    conflict_text,
    expert_pool,
)
from sciencecity.registry.models import Person

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: Affinities kept per application (sparse score table, as OpenReview's top-N).
TOP_EXPERTS = 200
#: Assignment states that count towards an expert's load.
ACTIVE_STATES = (AssignmentState.PROPOSED, AssignmentState.RELEASED, AssignmentState.SUBMITTED)
#: Released work stays as it is when the job runs again.
FIXED_STATES = (AssignmentState.RELEASED, AssignmentState.SUBMITTED)

_ISSUE_MESSAGES = {
    InfeasibilityCode.TOO_FEW_ELIGIBLE_EXPERTS: gettext_lazy(
        "Application %(submission)s has only %(eligible)s eligible experts but needs %(needed)s: add experts "
        "or shorten the conflict window."),
    InfeasibilityCode.CAPACITY_TOO_SMALL: gettext_lazy(
        "The experts can take %(capacity)s reviews in all but the applications need %(needed)s: raise the "
        "maximum load to at least %(max_load_at_least)s or add experts."),
    InfeasibilityCode.MINIMUM_LOAD_TOO_HIGH: gettext_lazy(
        "The minimum loads add up to %(minimum_total)s reviews but the applications need only %(needed)s: "
        "lower the minimum load."),
    InfeasibilityCode.MINIMUM_LOAD_ABOVE_MAXIMUM: gettext_lazy(
        "Expert %(expert)s has a minimum load of %(min_load)s above the maximum %(max_load)s: lower the "
        "minimum load."),
    InfeasibilityCode.EXPERT_TOO_FEW_ELIGIBLE_APPLICATIONS: gettext_lazy(
        "Expert %(expert)s can review only %(eligible)s applications but has a minimum load of %(min_load)s: "
        "lower the minimum load."),
    InfeasibilityCode.FORCED_PAIR_FORBIDDEN: gettext_lazy(
        "Expert %(expert)s is released on application %(submission)s but in conflict with it: withdraw that "
        "assignment."),
    InfeasibilityCode.TOO_MANY_FORCED_EXPERTS: gettext_lazy(
        "Application %(submission)s already has %(forced)s released reviewers but takes only %(needed)s: "
        "raise the number of reviews per application."),
    InfeasibilityCode.FORCED_ABOVE_MAXIMUM_LOAD: gettext_lazy(
        "Expert %(expert)s already has %(forced)s released reviews but a maximum load of %(max_load)s: raise "
        "this expert's maximum load."),
    InfeasibilityCode.NO_ELIGIBLE_SENIOR_EXPERT: gettext_lazy(
        "Application %(submission)s has no eligible senior expert: add senior experts or shorten the conflict "
        "window."),
    InfeasibilityCode.SENIOR_CAPACITY_TOO_SMALL: gettext_lazy(
        "The senior experts can take %(capacity)s applications in all but %(needed)s need one: raise the "
        "senior experts' maximum load or add senior experts."),
    InfeasibilityCode.APPLICATIONS_SHARE_TOO_FEW_EXPERTS: gettext_lazy(
        "Applications %(submissions)s together need %(needed)s reviews but their eligible experts can give "
        "at most %(available)s: raise these experts' maximum load, add experts or shorten the conflict "
        "window."),
    InfeasibilityCode.MINIMUM_LOAD_UNREACHABLE: gettext_lazy(
        "The minimum loads cannot all be met with the eligible pairs: lower the minimum load."),
    InfeasibilityCode.SENIOR_REQUIREMENT_UNREACHABLE: gettext_lazy(
        "Not every application can get a senior expert within the senior experts' maximum loads: raise their "
        "maximum load or add senior experts."),
    InfeasibilityCode.NO_FEASIBLE_ASSIGNMENT: gettext_lazy(
        "No assignment meets all constraints together: raise the maximum load, add experts, lower the minimum "
        "load or shorten the conflict window."),
}


RULE_LABELS = {
    conflict_rules.INTEGRITY: gettext_lazy("Integrity list"),
    conflict_rules.APPLICANT: gettext_lazy("Applicant or team member"),
    conflict_rules.SAME_ORGANISATION: gettext_lazy("Same organisation"),
    conflict_rules.COAUTHOR: gettext_lazy("Co-author"),
    conflict_rules.JOINT_PROJECT: gettext_lazy("Joint project"),
    conflict_rules.DECLARED: gettext_lazy("Declared interest"),
    conflict_rules.ALLIANCE: gettext_lazy("Same alliance"),
}
"""Short names of the conflict rules (利益冲突回避), as an empty reviewer list explains itself."""

def issue_message(issue: InfeasibilityIssue, references: dict[str, str] | None = None,
                  names: dict[str, str] | None = None) -> str:
    """One infeasibility issue in the user's language, ids replaced by references and names."""
    references, names = references or {}, names or {}
    details = dict(issue.details)
    if "submission" in details:
        details["submission"] = references.get(str(details["submission"]), details["submission"])
    if "submissions" in details:
        shown = [references.get(str(s), str(s)) for s in details["submissions"]]
        more = details.get("count", len(shown)) - len(shown)
        details["submissions"] = ", ".join(shown) + (_(" and %(count)s more") % {"count": more} if more > 0 else "")
    if "expert" in details:
        details["expert"] = names.get(str(details["expert"]), details["expert"])
    if details.get("max_load_at_least") is None and issue.code == InfeasibilityCode.CAPACITY_TOO_SMALL:
        return _("The experts can take %(capacity)s reviews in all but the applications need %(needed)s: "
                 "add experts.") % details
    template = _ISSUE_MESSAGES.get(issue.code)
    try:
        return str(template) % details if template else issue.message
    except (KeyError, TypeError):
        return issue.message


# --------------------------------------------------------------------------------------------
# Reading: loads, reasons


def max_load_of(call: Call, profile: ExpertProfile | None) -> int:
    return profile.max_load if profile is not None and profile.max_load is not None else call.max_load


def call_loads(call: Call) -> Counter:
    """``{expert person id: assignments counting towards the load}`` in this call."""
    return Counter(Assignment.objects.filter(application__call=call, state__in=ACTIVE_STATES)
                   .values_list("expert_id", flat=True))


@dataclass
class ExpertLoad:
    person: Person
    load: int
    max_load: int
    is_senior: bool

    @property
    def full(self) -> bool:
        return self.load >= self.max_load


def expert_loads(call: Call) -> list[ExpertLoad]:
    """Every pool expert (and anyone assigned) with the load in this call and the maximum."""
    loads = call_loads(call)
    profiles = {p.person_id: p for p in expert_pool()}
    extra = set(loads) - set(profiles)
    for profile in ExpertProfile.objects.filter(person_id__in=extra).select_related("person"):
        profiles[profile.person_id] = profile
    rows = [ExpertLoad(p.person, loads.get(pk, 0), max_load_of(call, p), p.is_senior) for pk, p in profiles.items()]
    for person in Person.objects.filter(pk__in=extra - set(profiles)):
        rows.append(ExpertLoad(person, loads[person.pk], call.max_load, False))
    return sorted(rows, key=lambda r: (-r.load, r.person.name, r.person.pk))


def reason_texts(reasons: Sequence[Any]) -> list[str]:
    """The stored reasons of an assignment, in words."""
    texts = []
    for reason in reasons or []:
        code = reason.get("code") if isinstance(reason, dict) else str(reason)
        if code == "shared_terms" and reason.get("terms"):
            texts.append(_("Shared terms: %(terms)s") % {"terms": ", ".join(reason["terms"])})
        elif code == "no_conflict":
            texts.append(_("No conflict of interest"))
        elif code == "reassigned":
            texts.append(_("Re-assigned after a decline"))
        elif code == "edited":
            texts.append(_("Chosen by an officer"))
    return texts


def _reasons(table: AffinityTable, application_id: int, expert_id: int, *extra: str) -> list[dict[str, Any]]:
    return [{"code": "shared_terms", "terms": table.shared_terms(application_id, expert_id)},
            {"code": "no_conflict"}, *({"code": code} for code in extra)]


# --------------------------------------------------------------------------------------------
# The job


def _job_update(job: AssignmentJob, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    AssignmentJob.objects.filter(pk=job.pk).update(**fields)


def _job_cancelled(job: AssignmentJob) -> bool:
    return AssignmentJob.objects.filter(pk=job.pk, state=JobState.CANCELLED).exists()


@transaction.atomic
def assignment_job_create(*, actor: User | None, call: Call) -> AssignmentJob:
    permissions.require(can_manage_programmes(actor))
    if call.state != CallState.REVIEW:
        raise ValidationError(_("Reviewers are assigned while the call is under review."), code="call_not_in_review")
    job = AssignmentJob.objects.create(call=call, created_by=actor, stage=_("Queued"))
    audit_record(action=AuditAction.CREATE, actor=actor, obj=job, object_repr=str(call),
                 changes={"call": [None, call.pk]})
    return job


ASSIGNMENT_JOB_KIND = "programmes.assignment"


def assignment_run(*, actor: User | None, call: Call, today: dt.date | None = None) -> AssignmentJob:
    """Create an assignment job for ``call`` and queue it for the worker (the status page follows it).

    The request returns at once with the queued job; ``sciencecity worker`` solves it (tests run it inline).
    """
    from sciencecity.core.jobs import job_enqueue

    job = assignment_job_create(actor=actor, call=call)
    job_enqueue(kind=ASSIGNMENT_JOB_KIND, actor=actor, total=100, message=str(call),
                params={"assignment_job": job.pk, "actor": getattr(actor, "pk", None),
                        "today": today.isoformat() if today else None})
    job.refresh_from_db()
    return job


def assignment_job_background(background: Any, context: Any) -> dict[str, Any]:
    """The worker's side of :func:`assignment_run` (a ``core.jobs`` kind); safe to run again.

    A job a killed worker left ``running`` starts over (nothing was stored: the proposal is written
    in one transaction at the end, replacing earlier proposals); a job already finished (the worker
    died after storing) is left as it is, so a retry never writes twice.
    """
    from sciencecity.accounts.models import User
    from sciencecity.core.jobs import JobCancelled

    params = background.params
    job = AssignmentJob.objects.select_related("call").get(pk=params["assignment_job"])
    actor = User.objects.filter(pk=params.get("actor")).first()
    today = dt.date.fromisoformat(params["today"]) if params.get("today") else None
    if job.state == JobState.RUNNING and background.attempts > 1:
        AssignmentJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(state=JobState.QUEUED)
        job.refresh_from_db()
    if job.state == JobState.QUEUED:
        try:
            assignment_job_execute(job=job, actor=actor, today=today)
        except Exception as exc:
            _job_finish(job, actor, JobState.FAILED, (str(exc) or exc.__class__.__name__)[:1000], {})
            raise
    job.refresh_from_db()
    if job.state == JobState.CANCELLED:
        raise JobCancelled
    if job.state == JobState.FAILED:
        raise _JobFailed(job.message.splitlines()[0] if job.message else str(JobState.FAILED.label))
    context.job.message = job.message[:1000]
    return {"assignment_job": job.pk, "state": job.state, **job.result}


def assignment_job_background_cancel(job: AssignmentJob) -> None:
    """Cancel the queue entry of ``job`` too (a queued entry is dropped at once)."""
    from sciencecity.core.jobs import job_cancel
    from sciencecity.core.models import Job

    for background in Job.objects.filter(kind=ASSIGNMENT_JOB_KIND, params__assignment_job=job.pk,
                                         state__in=(JobState.QUEUED, JobState.RUNNING)):
        job_cancel(job=background)


@transaction.atomic
def assignment_job_cancel(*, actor: User | None, job: AssignmentJob) -> AssignmentJob:
    """Ask a queued or running job to stop (the solver checks between steps)."""
    permissions.require(can_manage_programmes(actor))
    updated = AssignmentJob.objects.filter(pk=job.pk, state__in=(JobState.QUEUED, JobState.RUNNING)).update(
        state=JobState.CANCELLED, stage=_("Cancelled"))
    if updated:
        job.refresh_from_db()
        audit_record(action=AuditAction.TRANSITION, actor=actor, obj=job, changes={"state": [None, job.state]})
        assignment_job_background_cancel(job)
    return job


@dataclass
class _Built:
    problem: AssignmentProblem
    table: AffinityTable
    fixed: set[tuple[int, int]]
    references: dict[str, str]
    names: dict[str, str]


def _build(call: Call, today: dt.date | None) -> _Built:
    applications = call_applications(call)
    pool = expert_pool()
    existing = list(Assignment.objects.filter(application__call=call).exclude(state=AssignmentState.PROPOSED)
                    .values_list("application_id", "expert_id", "state"))
    fixed = {(a, e) for a, e, state in existing if state in FIXED_STATES}
    declined = {(a, e) for a, e, state in existing if state == AssignmentState.DECLINED}
    profiles = {p.person_id: p for p in pool}
    expert_ids = list(profiles) + sorted({e for _a, e in fixed} - set(profiles))
    app_index = {a.pk: i for i, a in enumerate(applications)}
    exp_index = {pk: j for j, pk in enumerate(expert_ids)}
    fixed = {(a, e) for a, e in fixed if a in app_index}

    facts = conflict_facts(call=call, expert_ids=expert_ids, applications=applications, today=today)
    forbidden = ({(app_index[a], exp_index[e]) for e, a in facts.matrix()} |
                 {(app_index[a], exp_index[e]) for a, e in declined if a in app_index and e in exp_index})
    forced = {(app_index[a], exp_index[e]) for a, e in fixed}
    forbidden -= forced
    table = affinity_table(applications, expert_ids)

    subs, exps, scores = [], [], []
    for i in range(len(applications)):
        row = table.scores[i]
        order = np.argsort(-row, kind="stable")
        allowed = [j for j in order.tolist() if (i, j) not in forbidden][:TOP_EXPERTS]
        subs += [i] * len(allowed)
        exps += allowed
        scores += row[allowed].tolist()
    for i, j in forced:
        subs.append(i)
        exps.append(j)
        scores.append(float(table.scores[i, j]))
    problem = AssignmentProblem(
        submission_ids=[str(a.pk) for a in applications], expert_ids=[str(pk) for pk in expert_ids],
        edge_submission=np.asarray(subs, dtype=np.int64), edge_expert=np.asarray(exps, dtype=np.int64),
        edge_score=np.asarray(scores, dtype=float), per_submission=call.reviews_per_application,
        min_load=call.min_load, max_load=call.max_load,
        max_load_overrides={str(pk): p.max_load for pk, p in profiles.items() if p.max_load is not None},
        forbidden_pairs=np.asarray(sorted(forbidden), dtype=np.int64).reshape(-1, 2),
        forced_pairs=np.asarray(sorted(forced), dtype=np.int64).reshape(-1, 2),
        senior_expert_ids=[str(pk) for pk, p in profiles.items() if p.is_senior],
        require_senior=call.require_senior)
    names = dict(Person.objects.filter(pk__in=expert_ids).values_list("pk", "name"))
    return _Built(problem, table, fixed, {str(a.pk): a.reference for a in applications},
                  {str(pk): name for pk, name in names.items()})


def assignment_job_execute(*, job: AssignmentJob, actor: User | None = None, today: dt.date | None = None) -> AssignmentJob:
    """Run a queued job: gather, solve (progress, cancel), store the proposal or the reasons it failed."""
    call = job.call
    if not AssignmentJob.objects.filter(pk=job.pk, state=JobState.QUEUED).update(state=JobState.RUNNING):
        job.refresh_from_db()
        return job
    _job_update(job, state=JobState.RUNNING, stage=_("Gathering experts, conflicts and affinities"), progress=0.05)
    try:
        built = _build(call, today)
        if not built.problem.submission_ids:
            raise _JobFailed(_("No application of this call is under review."))
        if not built.problem.expert_ids:
            raise _JobFailed(_("The expert pool is empty: add experts to the registry."))
        stages = {"checking": _("Checking the constraints"), "solving": _("Solving"),
                  "pricing": _("Proving optimality"), "done": _("Storing the proposal")}

        def on_progress(stage: str, fraction: float) -> None:
            _job_update(job, stage=str(stages.get(stage, stage)), progress=round(0.2 + 0.7 * fraction, 3))

        result = solve_assignment(built.problem, on_progress=on_progress, should_cancel=lambda: _job_cancelled(job))
    except AssignmentInfeasible as exc:
        messages = [issue_message(issue, built.references, built.names) for issue in exc.issues]
        return _job_finish(job, actor, JobState.FAILED, "\n".join(messages),
                           {"issues": [{"code": str(i.code), "details": dict(i.details)} for i in exc.issues]})
    except AssignmentCancelled:
        return _job_finish(job, actor, JobState.CANCELLED, _("Cancelled before the proposal was stored."), {})
    except _JobFailed as exc:
        return _job_finish(job, actor, JobState.FAILED, str(exc), {})
    if _job_cancelled(job):
        return _job_finish(job, actor, JobState.CANCELLED, _("Cancelled before the proposal was stored."), {})
    return _store(job, actor, built, result)


class _JobFailed(Exception):
    pass


@transaction.atomic
def _job_finish(job: AssignmentJob, actor: User | None, state: str, message: str, result: dict) -> AssignmentJob:
    progress = 1.0 if state == JobState.DONE else job.progress
    _job_update(job, state=state, message=message, result=result, progress=progress, stage=str(JobState(state).label))
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=job, object_repr=str(job.call),
                 changes={"state": [JobState.RUNNING, state]}, reason=message[:500])
    return job


@transaction.atomic
def _store(job: AssignmentJob, actor: User | None, built: _Built, result) -> AssignmentJob:
    """Replace the call's proposed assignments with the solver's answer (released ones stay)."""
    call = job.call
    # One store per call at a time: a second job of the same call waits here for the first to commit, then
    # replaces its proposal (without the lock it failed on the pair both proposed, or added a second set).
    Call.objects.select_for_update().filter(pk=call.pk).first()
    Assignment.objects.filter(application__call=call, state=AssignmentState.PROPOSED).delete()
    rows = []
    for sid, eid, score in result.pairs():
        application_id, expert_id = int(sid), int(eid)
        if (application_id, expert_id) in built.fixed:
            continue
        rows.append(Assignment(application_id=application_id, expert_id=expert_id, affinity=round(score, 6),
                               reasons=_reasons(built.table, application_id, expert_id),
                               state=AssignmentState.PROPOSED, job=job))
    Assignment.objects.bulk_create(rows)
    summary = {"total": round(float(result.total_score), 6), "proposed": len(rows), "fixed": len(built.fixed),
               "seconds": round(float(result.seconds), 3), "solver": result.solver}
    _job_finish(job, actor, JobState.DONE, _("%(count)s assignments proposed; total affinity %(total).3f.") % {
        "count": len(rows), "total": summary["total"]}, summary)
    return job


# --------------------------------------------------------------------------------------------
# Officers' edits and release


def _conflict_texts(call: Call, application: Application, expert_ids: list[int],
                    today: dt.date | None = None) -> dict[int, list[str]]:
    facts = conflict_facts(call=call, expert_ids=expert_ids, applications=[application], today=today)
    people: dict[int, str] = {}
    found = {}
    for expert_id in expert_ids:
        conflicts = facts.conflicts(expert_id, application.pk)
        if conflicts:
            found[expert_id] = [conflict_text(c, facts, people) for c in conflicts]
    return found


def application_conflicts(application: Application, today: dt.date | None = None) -> list[tuple[Person, list[str]]]:
    """Every pool expert excluded from ``application``, with the rules (for "why not expert X")."""
    pool = {p.person_id: p.person for p in expert_pool()}
    found = _conflict_texts(application.call, application, list(pool), today)
    return [(pool[pk], texts) for pk, texts in found.items()]


def why_not(application: Application, expert: Person, today: dt.date | None = None) -> list[str]:
    """Why ``expert`` does not review ``application``: conflicts, a decline, load, or lower affinity."""
    call = application.call
    reasons = _conflict_texts(call, application, [expert.pk], today).get(expert.pk, [])
    profile = ExpertProfile.objects.filter(person=expert).first()
    if profile is None or not profile.active:
        reasons.append(_("Not in the active expert pool"))
    existing = application.assignments.filter(expert=expert).first()
    if existing is not None and existing.state == AssignmentState.DECLINED:
        reasons.append(_("Declined this application (%(reason)s)") % {"reason": existing.get_decline_reason_display()})
    elif existing is not None:
        reasons.append(_("Already assigned (%(state)s)") % {"state": existing.get_state_display()})
    load, limit = call_loads(call).get(expert.pk, 0), max_load_of(call, profile)
    if existing is None and load >= limit:
        reasons.append(_("Maximum load reached: %(load)s of %(max)s reviews") % {"load": load, "max": limit})
    if not reasons:
        reasons.append(_("Eligible; others had a higher affinity or the loads were better spread"))
    return reasons


def _check_choice(call: Call, application: Application, expert: Person, *, ignore: Assignment | None = None,
                  today: dt.date | None = None) -> None:
    """Refuse a conflicting, over-loaded, inactive or duplicate choice, naming the rule."""
    profile = ExpertProfile.objects.filter(person=expert, active=True).first()
    if profile is None:
        raise ValidationError(_("%(expert)s is not in the active expert pool.") % {"expert": expert.name},
                              code="not_in_pool")
    if application.assignments.filter(expert=expert).exclude(pk=getattr(ignore, "pk", None)).exists():
        raise ValidationError(_("%(expert)s is already assigned to this application (or declined it).") % {
            "expert": expert.name}, code="already_assigned")
    conflicts = _conflict_texts(call, application, [expert.pk], today).get(expert.pk)
    if conflicts:
        raise ValidationError(_("%(expert)s has a conflict of interest: %(rules)s") % {
            "expert": expert.name, "rules": "; ".join(conflicts)}, code="conflict")
    load = Assignment.objects.filter(application__call=call, state__in=ACTIVE_STATES, expert=expert).exclude(
        pk=getattr(ignore, "pk", None)).count()
    limit = max_load_of(call, profile)
    if load >= limit:
        raise ValidationError(_("Maximum load: %(expert)s already has %(load)s reviews in this call (maximum "
                                "%(max)s).") % {"expert": expert.name, "load": load, "max": limit}, code="max_load")


@transaction.atomic
def assignment_edit(*, actor: User | None, assignment: Assignment, expert: Person, today: dt.date | None = None) -> Assignment:
    """Swap the expert of a proposed assignment (before release)."""
    permissions.require(can_manage_programmes(actor))
    assignment = Assignment.objects.select_for_update().select_related("application__call").get(pk=assignment.pk)
    if assignment.state != AssignmentState.PROPOSED:
        raise ValidationError(_("Only proposed assignments can be changed."), code="not_proposed")
    application = assignment.application
    _check_choice(application.call, application, expert, ignore=assignment, today=today)
    table = affinity_table([application], [expert.pk])
    old = assignment.expert_id
    assignment.expert = expert
    assignment.affinity = round(table.score(application.pk, expert.pk), 6)
    assignment.reasons = _reasons(table, application.pk, expert.pk, "edited")
    assignment.save(update_fields=["expert", "affinity", "reasons", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=assignment, object_repr=application.reference,
                 changes={"expert": [old, expert.pk]})
    return assignment


@transaction.atomic
def assignment_release(*, actor: User | None, call: Call) -> int:
    """Release the call's proposed assignments to the reviewers (they see them on their reviews page)."""
    permissions.require(can_manage_programmes(actor))
    proposed = list(Assignment.objects.select_for_update().filter(application__call=call,
                                                                   state=AssignmentState.PROPOSED))
    for assignment in proposed:
        assignment.state = AssignmentState.RELEASED
        assignment.save(update_fields=["state", "updated_at"])
        audit_record(action=AuditAction.TRANSITION, actor=actor, obj=assignment,
                     object_repr=f"{assignment.application_id}/{assignment.expert_id}",
                     changes={"state": [AssignmentState.PROPOSED, AssignmentState.RELEASED]})
        notices.review_assigned(assignment)
    return len(proposed)


def best_eligible_expert(application: Application, today: dt.date | None = None) -> tuple[Person, AffinityTable] | None:
    """The pool expert with the best affinity who has no conflict, room in their load and has not
    been on this application; a senior first when the call needs one and none is left."""
    call = application.call
    pool = {p.person_id: p for p in expert_pool()}
    taken = set(application.assignments.values_list("expert_id", flat=True))
    loads = call_loads(call)
    candidates = [pk for pk, p in pool.items() if pk not in taken and loads.get(pk, 0) < max_load_of(call, p)]
    if not candidates:
        return None
    conflicted = _conflict_texts(call, application, candidates, today)
    candidates = [pk for pk in candidates if pk not in conflicted]
    if not candidates:
        return None
    table = affinity_table([application], candidates)
    need_senior = call.require_senior and not application.assignments.filter(
        state__in=ACTIVE_STATES, expert__expert_profile__is_senior=True).exists()
    best = max(candidates, key=lambda pk: (need_senior and pool[pk].is_senior, table.score(application.pk, pk), -pk))
    return pool[best].person, table


@transaction.atomic
def reassign(*, actor: User | None, application: Application, state: str = AssignmentState.RELEASED,
             today: dt.date | None = None) -> Assignment | None:
    """The bureau fills the application's missing reviewer slots, one at a time, with the best eligible expert."""
    permissions.require(actor, "programmes.manage")
    return reassign_slots(actor=actor, application=application, state=state, today=today)


def reassign_slots(*, actor: User | None, application: Application, state: str = AssignmentState.RELEASED,
                   today: dt.date | None = None) -> Assignment | None:
    """Internal: fill the missing slots with no permission check, inside the caller's transaction (a
    reviewer's decline re-assigns the application it leaves)."""
    created = None
    missing = application.call.reviews_per_application - application.assignments.filter(
        state__in=ACTIVE_STATES).count()
    for _slot in range(max(missing, 0)):
        choice = best_eligible_expert(application, today)
        if choice is None:
            audit_record(action=AuditAction.UPDATE, actor=actor, obj=application, success=False,
                         reason=_("No eligible expert is left to re-assign."))
            break
        expert, table = choice
        created = Assignment.objects.create(
            application=application, expert=expert, state=state,
            affinity=round(table.score(application.pk, expert.pk), 6),
            reasons=_reasons(table, application.pk, expert.pk, "reassigned"))
        audit_record(action=AuditAction.CREATE, actor=actor, obj=created, object_repr=application.reference,
                     changes={"expert": [None, expert.pk], "state": [None, state]},
                     reason=_("Re-assigned after a decline"))
        if state == AssignmentState.RELEASED:
            notices.review_assigned(created)
    return created


def exclusion_removals(conflicts: dict[int, list[Any]], full: set[int]) -> list[Removal]:
    """Why an application has no reviewer: per conflict rule, how many pool experts it excludes
    (an expert excluded by two rules counts for both), and how many free experts are at their
    maximum load. Conflicts of interest are not relaxable: no link."""
    counts: Counter = Counter()
    for found in conflicts.values():
        for rule in {c.rule for c in found}:
            counts[rule] += 1
    removals = [Removal(str(RULE_LABELS.get(rule, rule)), n) for rule, n in counts.most_common()]
    loaded = len(full - set(conflicts))
    if loaded:
        removals.append(Removal(str(_("Maximum load reached")), loaded))
    return removals
