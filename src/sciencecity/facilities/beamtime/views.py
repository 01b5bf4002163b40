"""Facility time pages: rounds, proposal form, proposal page (feasibility, review, report), schedule.
Thin: permission, form, service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.core import permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.facilities.beamtime import forms, selectors, services
from sciencecity.facilities.beamtime import permissions as rules
from sciencecity.facilities.beamtime.choices import Feasibility, RoundState
from sciencecity.facilities.beamtime.models import BeamtimeRound, ShiftRequest
from sciencecity.facilities.choices import InstrumentKind
from sciencecity.facilities.models import Instrument
from sciencecity.registry.acting import acting_organisation


def _round(code: str) -> BeamtimeRound:
    return get_object_or_404(BeamtimeRound.objects.select_related("facility"), code=code)


@login_required
def round_list(request):
    permissions.require(rules.can_use_beamtime(request.user) or permissions.is_officer(request.user))
    facilities = selectors.managed_facilities(request.user)
    form = forms.RoundForm(request.POST or None, facilities=facilities)
    if request.method == "POST":
        permissions.require(facilities.exists())
        if form.is_valid():
            data = dict(form.cleaned_data)
            facility = data.pop("facility")
            try:
                round_ = services.round_create(actor=request.user, facility=facility, data=data)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Round %(code)s opened.") % {"code": round_.code})
                return redirect("facilities:beamtime_round", round_.code)
    return render(request, "facilities/beamtime/round_list.html", {
        "rounds": selectors.rounds(), "form": form if facilities.exists() else None,
        "my_reviews": selectors.my_reviews(request.user)})


@login_required
def round_detail(request, code: str):
    permissions.require(rules.can_use_beamtime(request.user) or permissions.is_officer(request.user))
    round_ = _round(code)
    manager = rules.can_manage_round(request.user, round_)
    instruments = Instrument.objects.filter(host=round_.facility, kind=InstrumentKind.END_STATION)
    capacity_form = forms.CapacityForm(instruments=instruments) if manager else None
    return render(request, "facilities/beamtime/round_detail.html", {
        "round": round_, "manager": manager, "beamlines": round_.beamlines.select_related("instrument"),
        "proposals": selectors.visible_proposals(request.user, round_),
        "ranking": services.ranking(round_) if manager else [],
        "blockers": services.allocation_blockers(round_) if manager and round_.state != RoundState.OPEN else [],
        "capacity_form": capacity_form, "allocate_form": forms.AllocateForm(initial={"policy": round_.policy}),
        "can_propose": round_.state == RoundState.OPEN and rules.can_propose(request.user,
                                                                             acting_organisation(request)),
    })


@login_required
@require_POST
def round_action(request, code: str, action: str):
    round_ = _round(code)
    permissions.require(rules.can_manage_round(request.user, round_))
    try:
        if action == "capacity":
            instruments = Instrument.objects.filter(host=round_.facility, kind=InstrumentKind.END_STATION)
            form = forms.CapacityForm(request.POST, instruments=instruments)
            if not form.is_valid():
                raise ValidationError(" ".join(f"{form.fields[f].label}: {' '.join(e)}" if f in form.fields else
                                               " ".join(e) for f, e in form.errors.items()))
            services.round_beamline_set(actor=request.user, round_=round_, **form.cleaned_data)
            messages.success(request, _("Capacity saved."))
        elif action == "assign":
            count = services.reviewers_assign(actor=request.user, round_=round_)
            messages.success(request, _("%(count)s reviews assigned and released to the experts.") % {"count": count})
        elif action == "allocate":
            form = forms.AllocateForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose the optimal or the greedy-by-rank policy."))
            job = services.allocation_enqueue(actor=request.user, round_=round_, policy=form.cleaned_data["policy"])
            if not job.is_finished:
                return redirect("jobs:detail", job.pk)
            if job.state != "done":
                raise ValidationError(job.message)
            messages.success(request, job.message)
        else:
            raise Http404
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return redirect("facilities:beamtime_round", round_.code)


@login_required
def proposal_create(request, code: str):
    round_ = _round(code)
    organisation = acting_organisation(request)
    permissions.require(rules.can_propose(request.user, organisation))
    beamlines = list(round_.beamlines.select_related("instrument"))
    form = forms.ProposalForm(request.POST or None, beamlines=beamlines)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in ("title", "abstract", "keywords", "samples", "hazards", "priority",
                                                  "safety_declared")}
        try:
            proposal = services.proposal_submit(actor=request.user, round_=round_, organisation=organisation,
                                                data=data, requests=form.requests(), team=form.cleaned_data["team"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Proposal %(reference)s submitted.") % {"reference": proposal.reference})
            return redirect("facilities:beamtime_proposal", proposal.reference)
    return render(request, "facilities/beamtime/proposal_form.html", {"round": round_, "form": form,
                                                                     "organisation": organisation})


def _proposal(request, reference: str):
    proposal = selectors.proposal_for(reference)
    if proposal is None or not rules.can_view_proposal(request.user, proposal):
        raise Http404
    return proposal


@login_required
def proposal_detail(request, reference: str):
    proposal = _proposal(request, reference)
    user = request.user
    manager = rules.can_manage_round(user, proposal.round)
    requests = list(proposal.requests.select_related("beamline__instrument"))
    for item in requests:
        item.can_assess = rules.can_assess(user, item) and proposal.round.state in (RoundState.OPEN, RoundState.REVIEW)
        item.form = forms.FeasibilityForm(prefix=f"r{item.pk}", initial={
            "feasibility": item.feasibility if item.feasibility != Feasibility.PENDING else Feasibility.FEASIBLE,
            "shifts_granted": item.shifts_granted, "feasibility_note": item.feasibility_note})
    own_review = proposal.reviews.filter(expert_id=getattr(user, "person_id", None)).first() \
        if rules.is_reviewer(user) else None
    if own_review is not None and not rules.can_review(user, own_review):
        own_review = None
    report = getattr(proposal, "report", None) if hasattr(proposal, "report") else None
    return render(request, "facilities/beamtime/proposal_detail.html", {
        "proposal": proposal, "requests": requests, "manager": manager,
        "reviews": proposal.reviews.select_related("expert") if manager else [],
        "excluded": services.excluded_experts(proposal.round, proposal) if manager else [],
        "own_review": own_review,
        "review_form": forms.ReviewForm(initial={"score": own_review.score, "comment": own_review.comment})
        if own_review else None,
        "report": report, "can_report": rules.can_report(user, proposal),
        "report_form": forms.ReportForm(initial={"summary": report.summary, "results": report.results,
                                                 "publications": report.publications,
                                                 "shifts_used": report.shifts_used} if report else None),
    })


@login_required
@require_POST
def proposal_action(request, reference: str, action: str):
    proposal = _proposal(request, reference)
    try:
        if action == "feasibility":
            item = get_object_or_404(ShiftRequest, pk=request.POST.get("request") or 0, proposal=proposal) \
                if str(request.POST.get("request", "")).isdigit() else None
            if item is None:
                raise Http404
            form = forms.FeasibilityForm(request.POST, prefix=f"r{item.pk}")
            if not form.is_valid():
                raise ValidationError([f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()
                                       if f in form.fields] or [_("Check the form.")])
            services.feasibility_assess(actor=request.user, shift_request=item,
                                        verdict=form.cleaned_data["feasibility"],
                                        shifts_granted=form.cleaned_data["shifts_granted"],
                                        note=form.cleaned_data["feasibility_note"])
            messages.success(request, _("Feasibility saved."))
        elif action == "review":
            review = proposal.reviews.filter(expert_id=getattr(request.user, "person_id", None)).first()
            permissions.require(review is not None and rules.can_review(request.user, review))
            form = forms.ReviewForm(request.POST)
            if not form.is_valid():
                raise ValidationError([f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()
                                       if f in form.fields] or [_("Check the form.")])
            services.review_submit(actor=request.user, review=review, score=form.cleaned_data["score"],
                                   comment=form.cleaned_data["comment"])
            messages.success(request, _("Review submitted."))
        elif action == "report":
            permissions.require(rules.can_report(request.user, proposal))
            form = forms.ReportForm(request.POST)
            if not form.is_valid():
                raise ValidationError([f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()
                                       if f in form.fields] or [_("Check the form.")])
            services.report_submit(actor=request.user, proposal=proposal, data=form.cleaned_data)
            messages.success(request, _("Experiment report saved."))
        else:
            raise Http404
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return redirect(reverse("facilities:beamtime_proposal", args=[proposal.reference]))


@login_required
def schedule(request, code: str):
    permissions.require(rules.can_use_beamtime(request.user) or permissions.is_officer(request.user))
    round_ = _round(code)
    return render(request, "facilities/beamtime/schedule.html", {"round": round_,
                                                                "rows": selectors.schedule(round_)})
