"""Experts and declarations, the assignment job and the officers' proposal, the reviewer's pages
and the ranking. Thin views: permission, service or selector, render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sciencecity.core import permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.programmes import permissions as access
from sciencecity.programmes import selectors
from sciencecity.programmes.choices import AssignmentState, CallState, ConflictKind, DeclineReason, JobState
from sciencecity.programmes.models import (
    ApplicationAttachment,
    Assignment,
    AssignmentJob,
    Call,
    ConflictDeclaration,
    ExpertProfile,
    Review,
)
from sciencecity.programmes.permissions import can_manage_programmes
from sciencecity.programmes.services import assignment as assignment_services
from sciencecity.programmes.services import experts as expert_services
from sciencecity.programmes.services import reviews as review_services
from sciencecity.programmes.views import _questions
from sciencecity.registry.models import Organisation, Person


def _require_officer(request) -> None:
    permissions.require(can_manage_programmes(request.user))


# --------------------------------------------------------------------------------------------
# Forms


class DeclarationForm(forms.Form):
    organisation = forms.ModelChoiceField(label=gettext_lazy("Organisation"), required=False,
                                          queryset=Organisation.objects.order_by("name"))
    person = forms.ModelChoiceField(label=gettext_lazy("Person"), required=False,
                                    queryset=Person.objects.order_by("name"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind of interest"), choices=ConflictKind.choices)
    start_date = forms.DateField(label=gettext_lazy("From"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end_date = forms.DateField(label=gettext_lazy("Until"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = ExpertProfile
        fields = ["is_senior", "max_load", "active"]


class ExpertChoiceForm(forms.Form):
    expert = forms.ModelChoiceField(label=gettext_lazy("Expert"), queryset=Person.objects.none())

    def __init__(self, *args, loads, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["expert"]
        field.queryset = Person.objects.filter(pk__in=[row.person.pk for row in loads])
        labels = {row.person.pk: f"{row.person.name} ({row.load}/{row.max_load})" for row in loads}
        field.label_from_instance = lambda person: labels.get(person.pk, person.name)


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=DeclineReason.choices,
                               widget=forms.RadioSelect)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=300, widget=forms.Textarea(
        attrs={"rows": 3}))


class ReviewForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Comment"), widget=forms.Textarea(attrs={"rows": 6}),
                              required=False)
    conflict_flagged = forms.BooleanField(label=gettext_lazy("I have found a conflict of interest"),
                                          required=False)

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            help_text = gettext_lazy("In steps of 0.5, e.g. 7.5.")
            self.fields[f"score_{criterion.pk}"] = forms.DecimalField(
                label=f"{criterion.name} (0–{criterion.max_score}, ×{criterion.weight})", required=False,
                min_value=0, max_value=criterion.max_score, max_digits=5, decimal_places=1,
                help_text=f"{help_text} {criterion.descriptors}".strip(),
                widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}))

    def scores(self) -> dict[str, Any]:
        return {str(c.pk): self.cleaned_data.get(f"score_{c.pk}") for c in self.criteria}


# --------------------------------------------------------------------------------------------
# Experts and declarations


@login_required
def expert_list(request):
    _require_officer(request)
    pool = expert_services.expert_pool()
    inactive = ExpertProfile.objects.filter(active=False).select_related("person")
    return render(request, "programmes/expert_list.html", {"pool": pool, "inactive": inactive})


@login_required
def expert_detail(request, pk: int):
    person = get_object_or_404(Person, pk=pk)
    permissions.require(access.can_manage_declarations(request.user, person))
    is_officer = can_manage_programmes(request.user)
    expert_services.expert_profiles_ensure(actor=request.user)
    profile = ExpertProfile.objects.filter(person=person).first()
    action = request.POST.get("action") if request.method == "POST" else None
    declaration_form = DeclarationForm(request.POST if action == "declare" else None)
    profile_form = ProfileForm(request.POST if action == "profile" else None, instance=profile) if (
        is_officer and profile) else None
    if action == "declare" and declaration_form.is_valid():
        try:
            expert_services.declaration_add(actor=request.user, expert=person, data=declaration_form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(declaration_form, exc)
        else:
            messages.success(request, _("Declaration of interest recorded."))
            return redirect("programmes:expert_detail", pk=person.pk)
    elif action == "delete":
        declaration = get_object_or_404(ConflictDeclaration, pk=request.POST.get("declaration"), expert=person)
        expert_services.declaration_delete(actor=request.user, declaration=declaration)
        messages.success(request, _("Declaration removed."))
        return redirect("programmes:expert_detail", pk=person.pk)
    elif action == "profile" and profile_form is not None and profile_form.is_valid():
        expert_services.expert_profile_update(actor=request.user, profile=profile, data=profile_form.cleaned_data)
        messages.success(request, _("Expert profile saved."))
        return redirect("programmes:expert_detail", pk=person.pk)
    return render(request, "programmes/expert_detail.html", {
        "person": person, "profile": profile, "declaration_form": declaration_form, "profile_form": profile_form,
        "declarations": person.declarations.select_related("organisation", "person"),
        "affiliations": person.affiliations.select_related("organisation"),
        "publications": person.publications.all()[:20],
    })


# --------------------------------------------------------------------------------------------
# Assignment


@login_required
def assignment_overview(request, pk: int):
    _require_officer(request)
    call = get_object_or_404(Call, pk=pk)
    rows = selectors.overview_rows(call)
    why = None
    application_id, expert_id = request.GET.get("application"), request.GET.get("expert")
    if application_id and expert_id:
        application = get_object_or_404(call.applications, pk=application_id)
        expert = get_object_or_404(Person, pk=expert_id)
        why = {"application": application, "expert": expert,
               "reasons": assignment_services.why_not(application, expert)}
    loads = assignment_services.expert_loads(call)
    return render(request, "programmes/assignment_overview.html", {
        "call": call, "rows": rows, "loads": loads, "job": call.assignment_jobs.first(), "why": why,
        "pool": [row.person for row in loads],
        "proposed": sum(1 for r in rows for a in r["assignments"] if a.state == AssignmentState.PROPOSED),
    })


@login_required
@require_POST
def assignment_run(request, pk: int):
    _require_officer(request)
    call = get_object_or_404(Call, pk=pk)
    try:
        job = assignment_services.assignment_run(actor=request.user, call=call)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("programmes:assignment_overview", pk=call.pk)
    return redirect("programmes:assignment_job_status", pk=job.pk)


@login_required
def assignment_job_status(request, pk: int):
    _require_officer(request)
    job = get_object_or_404(AssignmentJob.objects.select_related("call"), pk=pk)
    if request.method == "POST":
        assignment_services.assignment_job_cancel(actor=request.user, job=job)
        messages.info(request, _("Cancellation requested."))
        return redirect("programmes:assignment_job_status", pk=job.pk)
    context = {"job": job, "running": job.state in (JobState.QUEUED, JobState.RUNNING),
               "messages_list": [line for line in job.message.splitlines() if line.strip()]}
    if request.headers.get("HX-Request"):
        return render(request, "programmes/assignment_job_progress.html", context)
    return render(request, "programmes/assignment_job.html", context)


@login_required
@require_POST
def assignment_release(request, pk: int):
    _require_officer(request)
    call = get_object_or_404(Call, pk=pk)
    count = assignment_services.assignment_release(actor=request.user, call=call)
    messages.success(request, _("%(count)s assignments released to the reviewers.") % {"count": count})
    return redirect("programmes:assignment_overview", pk=call.pk)


@login_required
def assignment_edit(request, pk: int):
    _require_officer(request)
    assignment = get_object_or_404(Assignment.objects.select_related("application__call", "expert"), pk=pk)
    call = assignment.application.call
    form = ExpertChoiceForm(request.POST or None, loads=assignment_services.expert_loads(call))
    if request.method == "POST" and form.is_valid():
        try:
            assignment_services.assignment_edit(actor=request.user, assignment=assignment,
                                                expert=form.cleaned_data["expert"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Assignment changed."))
            return redirect("programmes:assignment_overview", pk=call.pk)
    return render(request, "programmes/assignment_edit.html", {"assignment": assignment, "call": call, "form": form})


# --------------------------------------------------------------------------------------------
# Reviewers


@login_required
def my_reviews(request):
    permissions.require(access.is_reviewer(request.user))
    assignments = list(review_services.my_assignments(request.user))
    due = sum(1 for a in assignments if a.state == AssignmentState.RELEASED)
    return render(request, "programmes/review_list.html", {"assignments": assignments, "due": due})


def _reviewer_assignment(request, pk: int) -> Assignment:
    assignment = get_object_or_404(
        Assignment.objects.select_related("application__call", "application__organisation",
                                          "application__applicant"), pk=pk)
    permissions.require(access.can_review(request.user, assignment))
    return assignment


@login_required
def attachment_download(request, pk: int):
    """An application's attachment, for those who see the application and its released reviewers (audited)."""
    from django.http import FileResponse

    from sciencecity.core.audit import audit_record
    from sciencecity.core.models import AuditAction

    attachment = get_object_or_404(ApplicationAttachment.objects.select_related("application"), pk=pk)
    permissions.require(access.can_read_application_files(request.user, attachment.application))
    audit_record(action=AuditAction.EXPORT, actor=request.user, obj=attachment,
                 changes={"file": [None, attachment.file.name]})
    return FileResponse(attachment.file.open("rb"), as_attachment=True,
                        filename=attachment.file.name.rsplit("/", 1)[-1], content_type=attachment.content_type)


@login_required
def review_form(request, pk: int):
    assignment = _reviewer_assignment(request, pk)
    application = assignment.application
    criteria = list(application.call.criteria.all())
    existing = Review.objects.filter(assignment=assignment).first()
    initial = {"comment": existing.comment} if existing else {}
    if existing:
        initial.update({f"score_{key}": value for key, value in existing.scores.items()})
    form = ReviewForm(request.POST or None, criteria=criteria, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            review_services.review_submit(actor=request.user, assignment=assignment, scores=form.scores(),
                                          comment=form.cleaned_data["comment"],
                                          conflict_flagged=form.cleaned_data["conflict_flagged"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            if form.cleaned_data["conflict_flagged"]:
                messages.info(request, _("Thank you: the application has been withdrawn from you and re-assigned."))
            else:
                messages.success(request, _("Review submitted."))
            return redirect("programmes:my_reviews")
    members = [] if application.call.blind_review else list(application.members.select_related("person"))
    return render(request, "programmes/review_form.html", {
        "assignment": assignment, "application": application, "form": form, "criteria": criteria,
        "blind": application.call.blind_review, "members": members, "review": existing,
        "questions": _questions(application), "attachments": application.attachments.all(),
        "editable": application.call.state == CallState.REVIEW,
    })


@login_required
def review_decline(request, pk: int):
    assignment = _reviewer_assignment(request, pk)
    permissions.require(assignment.state == AssignmentState.RELEASED)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review_services.review_decline(actor=request.user, assignment=assignment, reason=form.cleaned_data["reason"],
                                       note=form.cleaned_data["note"])
        messages.info(request, _("Declined. The application will be reviewed by another expert."))
        return redirect("programmes:my_reviews")
    return render(request, "programmes/review_decline.html", {"assignment": assignment, "form": form,
                                                              "blind": assignment.application.call.blind_review})


@login_required
def ranking(request, pk: int):
    _require_officer(request)
    call = get_object_or_404(Call, pk=pk)
    return render(request, "programmes/review_ranking.html", {"call": call, "rows": selectors.ranking(call)})
