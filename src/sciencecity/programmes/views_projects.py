"""Panel and decisions, public disclosure (资金公示), funded projects with milestones, horse-race rounds.

Who sees what: the panel and the race rounds are the bureau's; the disclosure page is public;
projects are seen by the bureau, the applicant organisation's users and the project manager.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sciencecity.core import permissions
from sciencecity.programmes import permissions as access
from sciencecity.programmes import selectors
from sciencecity.programmes.choices import (
    CallState,
    DecisionOutcome,
    Mechanism,
    MilestoneState,
    Outcome,
    ProjectState,
)
from sciencecity.programmes.forms import (
    DecisionForm,
    NotifyForm,
    PanelDecisionForm,
    PanelForm,
    PromoteForm,
    panel_pool,
)
from sciencecity.programmes.models import Call, ChangeRequest, FundedProject, ProjectMilestone
from sciencecity.programmes.permissions import can_manage_programmes
from sciencecity.programmes.services import decisions as decision_services
from sciencecity.programmes.services import projects as project_services
from sciencecity.registry.models import Person

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MilestoneRowForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    deliverables = forms.CharField(label=gettext_lazy("Deliverables"), required=False)
    due_date = forms.DateField(label=gettext_lazy("Due date"), widget=DATE_INPUT)
    tranche = forms.DecimalField(label=gettext_lazy("Tranche (10k CNY)"), max_digits=12, decimal_places=2,
                                 min_value=Decimal("0"))


class _OptionalRows(forms.BaseFormSet):
    """Every row may be left (or made) empty: an emptied row removes the milestone."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.empty_permitted = True
        return form


MilestoneRowFormSet = forms.formset_factory(MilestoneRowForm, formset=_OptionalRows, extra=1)


def _milestone_formset(project: FundedProject, data=None):
    pending = project.milestones.filter(state=MilestoneState.PENDING).order_by("order")
    return MilestoneRowFormSet(data, prefix="milestones", initial=None if data is not None else [
        {"title": m.title, "deliverables": m.deliverables, "due_date": m.due_date, "tranche": m.tranche}
        for m in pending])


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _valid(form):
    """The bound form when it is valid; otherwise a ValidationError naming each bad field (shown as a message)."""
    if not form.is_valid():
        raise ValidationError(form.error_text())
    return form


def _managers(post, applications) -> dict[int, Person]:
    codes = {a.pk: (post.get(f"manager_{a.pk}") or "").strip() for a in applications}
    people = {p.code: p for p in Person.objects.filter(code__in=[c for c in codes.values() if c])}
    return {pk: people[code] for pk, code in codes.items() if code in people}


@login_required
@require_http_methods(["GET", "POST"])
def panel(request, pk: int):
    """评审会: ranked list with spread, decisions and votes, then decide and notify."""
    permissions.require(can_manage_programmes(request.user))
    call = get_object_or_404(Call.objects.select_related("topic__topic_list"), pk=pk)
    meeting = decision_services.current_panel(call)
    panel_form = PanelForm(initial={"held_on": meeting.held_on if meeting else call.panel_on or timezone.localdate(),
                                    "members": list(meeting.members.all()) if meeting else [],
                                    "minutes": meeting.minutes if meeting else ""})
    notify_form = NotifyForm(initial={"start_date": timezone.localdate(),
                                      "end_date": timezone.localdate() + dt.timedelta(days=730)})
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "panel":
                panel_form = PanelForm(request.POST)
                if panel_form.is_valid():
                    decision_services.panel_save(actor=request.user, call=call, **panel_form.cleaned_data)
                    messages.success(request, _("Panel meeting saved."))
                    return redirect("programmes:panel", pk=call.pk)
            elif op == "decide":
                form = _valid(PanelDecisionForm(request.POST))
                application = get_object_or_404(call.applications, pk=form.cleaned_data["application"])
                decision_services.decision_record(actor=request.user, call=call, application=application,
                                                  data=form.service_data())
                messages.success(request, _("Decision on %(reference)s recorded.") % {
                    "reference": application.reference})
                return redirect(f"{request.path}#application-{application.pk}")
            elif op == "close_round":
                following = decision_services.competition_round_close(actor=request.user, call=call)
                messages.success(request, _("Round closed; round %(round)s is open.") % {"round": following.round})
                return redirect("programmes:panel", pk=call.pk)
            elif op == "promote":
                form = _valid(PromoteForm(request.POST))
                application = get_object_or_404(call.applications, pk=form.cleaned_data["application"])
                project = decision_services.reserve_promote(
                    actor=request.user, application=application, amount=form.cleaned_data["amount"],
                    manager=_managers(request.POST, [application]).get(application.pk),
                    reason=form.cleaned_data["reason"])
                messages.success(request, _("%(reference)s promoted from the reserve list; project %(code)s funded.") % {
                    "reference": application.reference, "code": project.code})
                return redirect("programmes:panel", pk=call.pk)
            elif op == "notify":
                notify_form = NotifyForm(request.POST)
                if notify_form.is_valid():
                    projects = decision_services.decisions_notify(
                        actor=request.user, call=call, managers=_managers(request.POST, call.applications.all()),
                        **notify_form.cleaned_data)
                    messages.success(request, _("Decisions notified; %(n)s project(s) funded.") % {"n": len(projects)})
                    return redirect("programmes:panel", pk=call.pk)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
    rows = selectors.ranking_rows(call) if call.state == CallState.PANEL else []
    decisions = {d.application_id: d for d in meeting.decisions.all()} if meeting else {}
    outcomes = [(c.value, c.label) for c in DecisionOutcome if call.mechanism == Mechanism.COMPETITION
                or c in decision_services.FUNDING_OUTCOMES]
    return render(request, "programmes/panel.html", {
        "call": call, "meeting": meeting, "rows": [(r, decisions.get(r.application.pk)) for r in rows],
        "panel_form": panel_form, "notify_form": notify_form, "outcomes": outcomes, "people": panel_pool()[:500],
        "funded": [d for d in decisions.values() if d.outcome == DecisionOutcome.FUND],
        "history": call.panels.prefetch_related("decisions__application", "members"),
        "is_talent": call.mechanism == Mechanism.TALENT, "is_competition": call.mechanism == Mechanism.COMPETITION,
        "is_race": call.mechanism == Mechanism.HORSE_RACE,
        "projects": project_services.visible_projects(request.user).filter(application__call=call),
        "reserve": decision_services.reserve_applications(call),
        "remaining_budget": decision_services.remaining_budget(call),
    })


@require_GET
def disclosure(request):
    """资金公示 (public): funded projects per call with organisation, title, amount, mechanism, date."""
    rows = list(decision_services.disclosure_rows())
    calls: dict[int, dict] = {}
    for project in rows:
        call = project.application.call
        entry = calls.setdefault(call.pk, {"call": call, "projects": [], "total": Decimal(0)})
        entry["projects"].append(project)
        entry["total"] += project.amount
    for entry in calls.values():
        if entry["call"].mechanism == Mechanism.COMPETITION:
            entry["rounds"] = decision_services.competition_results(entry["call"])
    return render(request, "programmes/disclosure.html", {"calls": list(calls.values())})


@login_required
@require_GET
def project_list(request):
    permissions.require(permissions.is_business_user(request.user))
    projects = project_services.visible_projects(request.user).order_by("-start_date", "code")
    return render(request, "programmes/project_list.html", {"projects": projects})


def _project_or_403(request, pk: int) -> FundedProject:
    project = get_object_or_404(FundedProject.objects.select_related(
        "application__call", "application__organisation", "manager"), pk=pk)
    permissions.require(access.can_view_project(request.user, project))
    return project


@login_required
@require_http_methods(["GET", "POST"])
def project_detail(request, pk: int):
    """A funded project: milestones and tranches, payments, change requests, mid-term, final acceptance."""
    project = _project_or_403(request, pk)
    plan = None
    if request.method == "POST":
        op, post = request.POST.get("op"), request.POST
        try:
            if op == "milestone_plan":
                plan = _milestone_formset(project, post)
                if not plan.is_valid():
                    raise ValidationError(_("Correct the milestone plan."))
                project_services.milestone_plan_set(
                    actor=request.user, project=project, reason=post.get("reason", ""),
                    milestones=[row.cleaned_data for row in plan if row.cleaned_data])
                messages.success(request, _("Milestone plan saved."))
            elif op == "change_submit":
                project_services.change_request_submit(actor=request.user, project=project,
                                                       description=post.get("description", ""))
                messages.success(request, _("Change request submitted."))
            elif op in ("change_approve", "change_refuse"):
                change = get_object_or_404(ChangeRequest, pk=post.get("change"), project=project)
                project_services.change_request_decide(actor=request.user, change=change,
                                                       approve=op == "change_approve", note=post.get("note", ""))
                messages.success(request, _("Change request decided."))
            elif op == "midterm":
                project_services.midterm_record(actor=request.user, project=project, result=post.get("result", ""))
                messages.success(request, _("Mid-term evaluation recorded."))
            elif op == "final":
                project_services.project_final_accept(actor=request.user, project=project,
                                                      outcome=post.get("outcome", ""), lessons=post.get("lessons", ""))
                messages.success(request, _("Final acceptance recorded."))
            return redirect("programmes:project_detail", pk=project.pk)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            project.refresh_from_db()
    return render(request, "programmes/project_detail.html", {
        "project": project, "call": project.application.call,
        "milestones": project.milestones.select_related("payment"),
        "payments": project.payments.all(), "changes": project.change_requests.all(),
        "can_report": access.is_project_member(request.user, project),
        "can_manage": access.is_project_manager(request.user, project),
        "is_active": project.state == ProjectState.ACTIVE, "outcomes": Outcome.choices,
        "plan": plan or _milestone_formset(project), "plan_reason": request.POST.get("reason", "") if plan else "",
    })


@login_required
@require_POST
def milestone_action(request, pk: int, milestone: int, action: str):
    """submit (the applicant's report) / accept (releases the tranche) / reject (with a note)."""
    project = _project_or_403(request, pk)
    item = get_object_or_404(ProjectMilestone, pk=milestone, project=project)
    if action not in project_services.MILESTONE_ACTIONS:
        return redirect("programmes:project_detail", pk=project.pk)
    try:
        result = project_services.milestone_action(actor=request.user, milestone=item, action=action,
                                                   text=request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        if action == "accept" and result is not None:
            messages.success(request, _("Milestone accepted; %(amount)s (10k CNY) released.") % {"amount": result.amount})
        else:
            messages.success(request, _("Milestone updated."))
    return redirect("programmes:project_detail", pk=project.pk)


@login_required
@require_http_methods(["GET", "POST"])
def race_round(request, pk: int):
    """赛马式: a milestone review round keeps the best k teams; the others are terminated."""
    permissions.require(can_manage_programmes(request.user))
    call = get_object_or_404(Call, pk=pk, mechanism=Mechanism.HORSE_RACE)
    teams = list(decision_services.race_teams(call).prefetch_related("milestones"))
    form = PanelForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            decisions = {}
            for team in teams:
                decision_form = _valid(DecisionForm(request.POST, prefix=str(team.application_id)))
                decisions[team.application_id] = decision_form.service_data()
            meeting = decision_services.race_round_decide(actor=request.user, call=call, decisions=decisions,
                                                          **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Round %(round)s decided.") % {"round": meeting.round})
            return redirect("programmes:race_round", pk=call.pk)
    return render(request, "programmes/race_round.html", {
        "call": call, "teams": teams, "form": form,
        "history": call.panels.filter(round__gt=1).prefetch_related("decisions__application__organisation"),
        "terminated": FundedProject.objects.filter(application__call=call, state=ProjectState.TERMINATED)
        .select_related("application__organisation"),
    })
