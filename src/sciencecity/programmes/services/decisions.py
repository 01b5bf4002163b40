"""Panel meetings, funding decisions, notification and elimination rounds (赛马式, 创新创业大赛).

The panel of a call (state "panel") records one decision per application: fund / do not fund /
reserve, or keep / eliminate in a competition round. "Decide and notify" closes the call: funded
applications become :class:`FundedProject` rows with a 项目经理人 and a milestone plan that
follows the call's mechanism; every applicant is notified.

Notification: there is no separate notification model. The decision itself (outcome, amount,
rationale) and the application's state change, recorded in the audit trail with the notice text
as its reason, *are* the notification; :func:`notification_for` reads them back for the
applicant's application page and API. This keeps one source of truth (a notice can never say
something other than the decision) and needs no migration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.programmes import notices
from sciencecity.programmes.choices import (
    ApplicationState,
    CallState,
    DecisionOutcome,
    Mechanism,
    ProjectState,
    TopicListKind,
)
from sciencecity.programmes.models import (
    Application,
    Call,
    Decision,
    FundedProject,
    PanelMeeting,
    ProjectMilestone,
)
from sciencecity.programmes.permissions import can_manage_programmes
from sciencecity.programmes.services.calls import call_transition
from sciencecity.programmes.services.common import next_code

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: Outcomes that decide funding, and those of an elimination round.
FUNDING_OUTCOMES = (DecisionOutcome.FUND, DecisionOutcome.REJECT, DecisionOutcome.RESERVE)
ROUND_OUTCOMES = (DecisionOutcome.KEEP, DecisionOutcome.ELIMINATE)
#: Mechanisms whose winners are limited to ``call.teams_funded``.
LIMITED_TEAMS = (Mechanism.OPEN_COMPETITION, Mechanism.HORSE_RACE)
DECISION_FIELDS = ("outcome", "amount", "votes_for", "votes_against", "votes_abstain", "rationale")


def candidates(call: Call):
    """Applications the panel decides on: under review and not eliminated in an earlier round."""
    return (call.applications.filter(state=ApplicationState.UNDER_REVIEW)
            .select_related("organisation", "applicant").order_by("reference"))


# --- panel --------------------------------------------------------------------------------------
def current_panel(call: Call) -> PanelMeeting | None:
    return call.panels.order_by("-round").first()


@transaction.atomic
def panel_save(*, actor: User | None, call: Call, held_on: dt.date, members: list[Any], minutes: str = "") -> PanelMeeting:
    """Create or update the call's current panel meeting (members are registry people)."""
    permissions.require(can_manage_programmes(actor))
    _require_state(call, CallState.PANEL)
    panel = current_panel(call)
    before = snapshot(panel, ["held_on", "minutes", "members"]) if panel else {}
    if panel is None:
        panel = PanelMeeting(call=call, round=1, held_on=held_on, minutes=minutes)
    panel.held_on, panel.minutes = held_on, minutes
    panel.full_clean()
    panel.save()
    panel.members.set(members)
    changes = diff(before, snapshot(panel, ["held_on", "minutes", "members"]))
    if changes:
        audit_record(action=AuditAction.UPDATE if before else AuditAction.CREATE, actor=actor, obj=panel,
                     changes=changes)
    return panel


def _require_state(call: Call, state: str) -> None:
    if call.state != state:
        raise ValidationError(_("The call is “%(state)s”; this needs the state “%(needed)s”.") % {
            "state": call.get_state_display(), "needed": CallState(state).label}, code="call_state")


def _panel_for_decisions(actor: User | None, call: Call) -> PanelMeeting:
    panel = current_panel(call)
    if panel is None:
        panel = panel_save(actor=actor, call=call, held_on=timezone.localdate(), members=[])
    return panel


def _clean_decision(call: Call, application: Application, data: dict[str, Any], *, round_outcomes: bool) -> None:
    outcome = data.get("outcome")
    allowed = ROUND_OUTCOMES if round_outcomes else FUNDING_OUTCOMES
    if call.mechanism == Mechanism.COMPETITION and not round_outcomes:
        allowed = FUNDING_OUTCOMES + ROUND_OUTCOMES
    if outcome not in allowed:
        raise ValidationError({"outcome": _("%(reference)s: the outcome must be one of %(allowed)s.") % {
            "reference": application.reference, "allowed": ", ".join(str(DecisionOutcome(o).label) for o in allowed)}})
    amount = data.get("amount")
    if outcome != DecisionOutcome.FUND:
        data["amount"] = None
        return
    if call.mechanism == Mechanism.OPEN_COMPETITION and call.reward and amount in (None, ""):
        amount = data["amount"] = call.reward
    if amount in (None, "") or Decimal(str(amount)) <= 0:
        raise ValidationError({"amount": _("%(reference)s: a funded application needs a positive amount.") % {
            "reference": application.reference}})
    amount = data["amount"] = Decimal(str(amount))
    if amount > application.requested_amount:
        raise ValidationError({"amount": _("%(reference)s: the amount %(amount)s exceeds the requested %(requested)s "
                                           "(10k CNY).") % {"reference": application.reference, "amount": amount,
                                                           "requested": application.requested_amount}})
    if call.max_request is not None and amount > call.max_request:
        raise ValidationError({"amount": _("%(reference)s: the amount %(amount)s exceeds the call's cap of %(cap)s "
                                           "(10k CNY).") % {"reference": application.reference, "amount": amount,
                                                           "cap": call.max_request}})


@transaction.atomic
def decision_record(*, actor: User | None, call: Call, application: Application, data: dict[str, Any]) -> Decision:
    """Record (or change) the current panel's decision on one application.

    ``data``: outcome, amount, votes_for, votes_against, votes_abstain, rationale. The amount of a
    funded application is at most the requested amount and the call's cap, and all funded amounts
    of the call together stay within its total budget.
    """
    permissions.require(can_manage_programmes(actor))
    call = Call.objects.select_for_update().get(pk=call.pk)
    _require_state(call, CallState.PANEL)
    if application.call_id != call.pk or application.state != ApplicationState.UNDER_REVIEW:
        raise ValidationError(_("%(reference)s is not before this panel.") % {"reference": application.reference})
    data = dict(data)
    _clean_decision(call, application, data, round_outcomes=False)
    panel = _panel_for_decisions(actor, call)
    decision = Decision.objects.filter(panel=panel, application=application).first()
    before = snapshot(decision, DECISION_FIELDS) if decision else {}
    if decision is None:
        decision = Decision(panel=panel, application=application)
    decision.outcome, decision.amount = data["outcome"], data["amount"]
    decision.rationale = data.get("rationale") or ""
    for key in ("votes_for", "votes_against", "votes_abstain"):
        setattr(decision, key, data.get(key) or 0)
    decision.decided_by = actor
    decision.full_clean()
    decision.save()
    _check_budget(call, panel)
    changes = diff(before, snapshot(decision, DECISION_FIELDS))
    if changes:
        audit_record(action=AuditAction.UPDATE if before else AuditAction.CREATE, actor=actor, obj=decision,
                     object_repr=f"{application.reference} {decision.get_outcome_display()}", changes=changes)
    return decision


def _check_budget(call: Call, panel: PanelMeeting) -> None:
    if call.total_budget is None:
        return
    total = panel.decisions.filter(outcome=DecisionOutcome.FUND).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    if total > call.total_budget:
        raise ValidationError({"amount": _("The funded amounts add up to %(total)s, over the call's budget of "
                                           "%(budget)s (10k CNY).") % {"total": total, "budget": call.total_budget}})


@transaction.atomic
def competition_round_close(*, actor: User | None, call: Call) -> PanelMeeting:
    """创新创业大赛: close the current round (all keep/eliminate); eliminated entries leave the
    competition and the next round opens with the kept ones."""
    permissions.require(can_manage_programmes(actor))
    call = Call.objects.select_for_update().get(pk=call.pk)
    _require_state(call, CallState.PANEL)
    if call.mechanism != Mechanism.COMPETITION:
        raise ValidationError(_("Only competitions have rounds before the decision."))
    panel = _panel_for_decisions(actor, call)
    decisions = {d.application_id: d for d in panel.decisions.all()}
    missing = [a.reference for a in candidates(call) if a.pk not in decisions
               or decisions[a.pk].outcome not in ROUND_OUTCOMES]
    if missing:
        raise ValidationError(_("Record keep or eliminate for every entry of the round: %(missing)s.") % {
            "missing": ", ".join(missing)})
    if not any(d.outcome == DecisionOutcome.KEEP for d in decisions.values()):
        raise ValidationError(_("Keep at least one entry for the next round."))
    _eliminate(actor, [d for d in decisions.values() if d.outcome == DecisionOutcome.ELIMINATE], panel.round)
    following = PanelMeeting.objects.create(call=call, round=panel.round + 1, held_on=timezone.localdate())
    following.members.set(panel.members.all())
    audit_record(action=AuditAction.CREATE, actor=actor, obj=following, changes={"round": [panel.round, following.round]},
                 reason=_("Round %(round)s closed.") % {"round": panel.round})
    return following


def _eliminate(actor: User | None, decisions: list[Decision], round_number: int) -> None:
    for decision in decisions:
        application = decision.application
        notice = _("Eliminated in round %(round)s.") % {"round": round_number}
        old = application.state
        application.state = ApplicationState.ELIMINATED
        application.save(update_fields=["state", "updated_at"])
        audit_record(action=AuditAction.TRANSITION, actor=actor, obj=application,
                     changes={"state": [old, application.state]}, reason=notice)
        project = FundedProject.objects.filter(application=application).first()
        if project is not None and project.state == ProjectState.ACTIVE:
            project.state = ProjectState.TERMINATED
            project.save(update_fields=["state", "updated_at"])
            audit_record(action=AuditAction.TRANSITION, actor=actor, obj=project,
                         changes={"state": [ProjectState.ACTIVE, ProjectState.TERMINATED]}, reason=notice)


# --- decide and notify ----------------------------------------------------------------------------
def _split(amount: Decimal, shares: list[Decimal]) -> list[Decimal]:
    """Tranches of ``amount`` in the given shares, to the cent; the last takes the remainder."""
    parts = [(amount * s).quantize(Decimal("0.01"), rounding=ROUND_DOWN) for s in shares[:-1]]
    return [*parts, amount - sum(parts, Decimal(0))]


def milestone_plan(call: Call, amount: Decimal, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The default milestones of a new project, by mechanism (order, title, deliverables, due, tranche)."""
    span = (end - start).days

    def due(fraction: float) -> dt.date:
        return start + dt.timedelta(days=round(span * fraction))

    if call.mechanism == Mechanism.OPEN_COMPETITION:
        return [{"title": _("Acceptance of the result against the acceptance criteria"),
                 "deliverables": call.acceptance_criteria, "due_date": end, "tranche": call.reward or amount}]
    if call.mechanism == Mechanism.POST_FUNDING:
        return [{"title": _("Verification of the results"), "deliverables": call.acceptance_criteria,
                 "due_date": end, "tranche": amount}]
    if call.mechanism in (Mechanism.MILESTONE, Mechanism.HORSE_RACE):
        tranches = _split(amount, [Decimal("0.3"), Decimal("0.4"), Decimal("0.3")])
        titles = [_("Start-up milestone"), _("Mid-term milestone"), _("Final milestone")]
        return [{"title": t, "deliverables": "", "due_date": due(f), "tranche": x}
                for t, f, x in zip(titles, (1 / 3, 2 / 3, 1.0), tranches, strict=True)]
    tranches = _split(amount, [Decimal("0.5"), Decimal("0.5")])
    return [{"title": _("Mid-term evaluation"), "deliverables": "", "due_date": due(0.5), "tranche": tranches[0]},
            {"title": _("Final acceptance"), "deliverables": "", "due_date": end, "tranche": tranches[1]}]


def _notice(decision: Decision) -> str:
    if decision.outcome == DecisionOutcome.FUND:
        return _("Funded: %(amount)s (10k CNY).") % {"amount": decision.amount}
    if decision.outcome == DecisionOutcome.RESERVE:
        return _("Not funded; placed on the reserve list.")
    return _("Not funded.")


@transaction.atomic
def decisions_notify(*, actor: User | None, call: Call, managers: dict[int, Any], start_date: dt.date,
                     end_date: dt.date) -> list[FundedProject]:
    """决定并通知: the call becomes "decided", funded applications become projects (with the
    项目经理人 from ``managers`` {application id: Person}), the others are rejected; every
    applicant is notified through the recorded decision."""
    permissions.require(can_manage_programmes(actor))
    call = Call.objects.select_for_update().get(pk=call.pk)
    _require_state(call, CallState.PANEL)
    if end_date <= start_date:
        raise ValidationError({"end_date": _("The projects must end after they start.")})
    panel = current_panel(call)
    decisions = {d.application_id: d for d in panel.decisions.select_related("application")} if panel else {}
    pending = [a.reference for a in candidates(call) if a.pk not in decisions]
    if pending:
        raise ValidationError(_("Decide on every application first: %(missing)s.") % {"missing": ", ".join(pending)})
    undecided = [d.application.reference for d in decisions.values() if d.outcome not in FUNDING_OUTCOMES]
    if undecided:
        raise ValidationError(_("Close the competition round or decide fund / not fund for: %(missing)s.") % {
            "missing": ", ".join(undecided)})
    funded = [d for d in decisions.values() if d.outcome == DecisionOutcome.FUND]
    if call.mechanism in LIMITED_TEAMS and len(funded) > call.teams_funded:
        raise ValidationError(_("This call funds at most %(n)s team(s); %(m)s are marked fund.") % {
            "n": call.teams_funded, "m": len(funded)})
    no_manager = [d.application.reference for d in funded if managers.get(d.application_id) is None]
    if no_manager:
        raise ValidationError({"manager": _("Choose a project manager (项目经理人) for: %(missing)s.") % {
            "missing": ", ".join(no_manager)}})
    if panel is not None:
        _check_budget(call, panel)
    call_transition(actor=actor, call=call, new=CallState.DECIDED, reason=_("Panel decisions notified."))
    projects = []
    for decision in sorted(decisions.values(), key=lambda d: d.application.reference):
        application = decision.application
        old = application.state
        application.state = (ApplicationState.FUNDED if decision.outcome == DecisionOutcome.FUND
                             else ApplicationState.REJECTED)
        application.save(update_fields=["state", "updated_at"])
        audit_record(action=AuditAction.TRANSITION, actor=actor, obj=application, acting_organisation=None,
                     changes={"state": [old, application.state]}, reason=_notice(decision))
        notices.application_decided(application, _notice(decision))
        if decision.outcome == DecisionOutcome.FUND:
            projects.append(_project_create(actor, call, application, decision.amount, managers[application.pk],
                                            start_date, end_date))
    return projects


def _project_create(actor: User | None, call: Call, application: Application, amount: Decimal, manager: Any,
                    start: dt.date, end: dt.date, reason: str = "") -> FundedProject:
    """The funded project with its 项目经理人 and the mechanism's default milestone plan."""
    is_frontier = bool(call.topic_id and call.topic.topic_list.kind == TopicListKind.FRONTIER)
    project = FundedProject(application=application, code=next_code(FundedProject, f"XM{start.year}"),
                            manager=manager, amount=amount, start_date=start, end_date=end,
                            is_frontier=is_frontier)
    project.full_clean()
    project.save()
    for order, row in enumerate(milestone_plan(call, amount, start, end), start=1):
        milestone = ProjectMilestone(project=project, order=order, **row)
        milestone.full_clean()
        milestone.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=project,
                 changes={**diff({}, snapshot(project, ["code", "application", "manager", "amount", "start_date",
                                                        "end_date", "is_frontier"])),
                          "milestones": [None, [[str(m.title), str(m.tranche)] for m in project.milestones.all()]]},
                 reason=reason)
    return project


# --- reserve list -----------------------------------------------------------------------------------
def _latest_decision(application: Application) -> Decision | None:
    return application.decisions.order_by("-panel__round").first()


def reserve_applications(call: Call) -> list[Application]:
    """替补: applications of a decided call whose latest decision is "reserve" and that are not funded."""
    if call.state != CallState.DECIDED:
        return []
    qs = (call.applications.filter(state=ApplicationState.REJECTED, project__isnull=True,
                                   decisions__outcome=DecisionOutcome.RESERVE)
          .distinct().select_related("organisation").order_by("reference"))
    return [a for a in qs if (d := _latest_decision(a)) is not None and d.outcome == DecisionOutcome.RESERVE]


def remaining_budget(call: Call) -> Decimal | None:
    """The call's total budget less the amounts of its funded projects (None: no budget set)."""
    if call.total_budget is None:
        return None
    funded = FundedProject.objects.filter(application__call=call).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return call.total_budget - funded


@transaction.atomic
def reserve_promote(*, actor: User | None, application: Application, amount: Any, manager: Any, reason: str,
                    start_date: dt.date | None = None, end_date: dt.date | None = None) -> FundedProject:
    """递补: fund a reserve-list application of a decided call (the bureau, with a reason).

    The amount is at most the requested amount, the call's cap and what is left of its budget. The
    project starts today (or ``start_date``) and ends with the call's other projects (or on
    ``end_date``; two years when there is none); its milestones follow the mechanism as on notify.
    """
    permissions.require(can_manage_programmes(actor))
    call = Call.objects.select_for_update().get(pk=application.call_id)
    _require_state(call, CallState.DECIDED)
    application = Application.objects.select_for_update().get(pk=application.pk)
    decision = _latest_decision(application)
    if (decision is None or decision.outcome != DecisionOutcome.RESERVE
            or FundedProject.objects.filter(application=application).exists()):
        raise ValidationError(_("%(reference)s is not on the reserve list.") % {"reference": application.reference},
                              code="not_reserve")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for promoting from the reserve list.")})
    if manager is None:
        raise ValidationError({"manager": _("Choose a project manager (项目经理人) for: %(missing)s.") % {
            "missing": application.reference}})
    data = {"outcome": DecisionOutcome.FUND, "amount": amount}
    _clean_decision(call, application, data, round_outcomes=False)
    amount = data["amount"]
    remaining = remaining_budget(call)
    if remaining is not None and amount > remaining:
        raise ValidationError({"amount": _("%(reference)s: the amount %(amount)s exceeds the call's remaining budget "
                                           "of %(remaining)s (10k CNY).") % {
            "reference": application.reference, "amount": amount, "remaining": remaining}})
    projects = FundedProject.objects.filter(application__call=call)
    if call.mechanism in LIMITED_TEAMS and projects.count() >= call.teams_funded:
        raise ValidationError(_("This call funds at most %(n)s team(s); %(m)s are marked fund.") % {
            "n": call.teams_funded, "m": projects.count() + 1})
    start = start_date or timezone.localdate()
    cohort_end = projects.order_by("-end_date").values_list("end_date", flat=True).first()
    end = end_date or (cohort_end if cohort_end and cohort_end > start else start + dt.timedelta(days=730))
    if end <= start:
        raise ValidationError({"end_date": _("The projects must end after they start.")})
    old = application.state
    application.state = ApplicationState.FUNDED
    application.save(update_fields=["state", "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=application, acting_organisation=None,
                 changes={"state": [old, application.state]},
                 reason=_("Promoted from the reserve list and funded: %(amount)s (10k CNY).") % {"amount": amount})
    return _project_create(actor, call, application, amount, manager, start, end, reason=reason.strip())


# --- horse-race rounds ----------------------------------------------------------------------------
def race_teams(call: Call):
    """The horse race's teams still running (active projects)."""
    return (FundedProject.objects.filter(application__call=call, state=ProjectState.ACTIVE)
            .select_related("application__organisation", "manager").order_by("application__reference"))


@transaction.atomic
def race_round_decide(*, actor: User | None, call: Call, held_on: dt.date, members: list[Any], minutes: str,
                      decisions: dict[int, dict[str, Any]]) -> PanelMeeting:
    """赛马式: one milestone review round. ``decisions`` {application id: {outcome keep/eliminate,
    votes…, rationale}} covers every running team; at most ``call.keep_per_round`` are kept; the
    eliminated teams' projects are terminated and receive no later tranche."""
    permissions.require(can_manage_programmes(actor))
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.mechanism != Mechanism.HORSE_RACE:
        raise ValidationError(_("Elimination rounds are for horse-race calls."))
    _require_state(call, CallState.DECIDED)
    teams = list(race_teams(call))
    if len(teams) < 2:
        raise ValidationError(_("The race is over: fewer than two teams are running."))
    missing = [p.application.reference for p in teams if p.application_id not in decisions]
    if missing:
        raise ValidationError(_("Decide keep or eliminate for every running team: %(missing)s.") % {
            "missing": ", ".join(missing)})
    rows = []
    for project in teams:
        data = dict(decisions[project.application_id])
        _clean_decision(call, project.application, data, round_outcomes=True)
        rows.append((project, data))
    kept = sum(1 for _p, d in rows if d["outcome"] == DecisionOutcome.KEEP)
    if kept == 0 or kept > call.keep_per_round:
        raise ValidationError(_("Keep between 1 and %(k)s team(s) in this round; %(kept)s are marked keep.") % {
            "k": call.keep_per_round, "kept": kept})
    last = current_panel(call)
    panel = PanelMeeting(call=call, round=(last.round if last else 1) + 1, held_on=held_on, minutes=minutes)
    panel.full_clean()
    panel.save()
    panel.members.set(members)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=panel, changes=diff({}, snapshot(
        panel, ["round", "held_on", "minutes", "members"])))
    created = []
    for project, data in rows:
        decision = Decision(panel=panel, application=project.application, decided_by=actor,
                            **{k: data.get(k) for k in DECISION_FIELDS if data.get(k) is not None})
        decision.full_clean()
        decision.save()
        created.append(decision)
        audit_record(action=AuditAction.CREATE, actor=actor, obj=decision,
                     object_repr=f"{project.application.reference} {decision.get_outcome_display()}",
                     changes=diff({}, snapshot(decision, DECISION_FIELDS)))
    _eliminate(actor, [d for d in created if d.outcome == DecisionOutcome.ELIMINATE], panel.round)
    return panel


# --- notification and disclosure ------------------------------------------------------------------
@dataclass
class Notice:
    outcome: str
    outcome_label: str
    amount: Decimal | None
    message: str
    notified_on: dt.date | None
    project: FundedProject | None


def notification_for(application: Application) -> Notice | None:
    """What the applicant was told: the final decision once the call is decided (None before)."""
    if application.state not in (ApplicationState.FUNDED, ApplicationState.REJECTED, ApplicationState.ELIMINATED):
        return None
    decision = application.decisions.select_related("panel").order_by("-panel__round").first()
    if decision is None:
        return None
    from sciencecity.core.models import AuditEvent

    event = (AuditEvent.objects.filter(object_type=application._meta.label_lower, object_id=str(application.pk),
                                       action=AuditAction.TRANSITION).order_by("-occurred_at").first())
    message = event.reason if event and event.reason else _notice(decision)
    project = FundedProject.objects.filter(application=application).first()
    outcome, amount = decision.outcome, decision.amount if decision.outcome == DecisionOutcome.FUND else None
    if project is not None and outcome == DecisionOutcome.RESERVE:  # promoted from the reserve list
        outcome, amount = DecisionOutcome.FUND, project.amount
    return Notice(outcome=outcome, outcome_label=str(DecisionOutcome(outcome).label), amount=amount, message=message,
                  notified_on=timezone.localdate(event.occurred_at) if event else None, project=project)


def disclosure_rows(call: Call | None = None):
    """资金公示: funded projects of decided calls — public data only (no reviewers, scores or votes)."""
    qs = (FundedProject.objects.filter(application__call__state=CallState.DECIDED)
          .select_related("application__call", "application__organisation")
          .order_by("-application__call__opens_on", "application__call__code", "code"))
    if call is not None:
        qs = qs.filter(application__call=call)
    return qs


def competition_results(call: Call) -> list[dict[str, Any]]:
    """Public results of a competition's rounds: who advanced in each round (title, organisation)."""
    rounds = []
    for panel in call.panels.order_by("round").prefetch_related("decisions__application__organisation"):
        kept = [d.application for d in panel.decisions.all()
                if d.outcome in (DecisionOutcome.KEEP, DecisionOutcome.FUND)]
        if kept:
            rounds.append({"round": panel.round, "held_on": panel.held_on, "advanced": kept})
    return rounds
