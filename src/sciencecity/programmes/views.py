"""Programme pages: index, demands, topic lists, calls (with the state machine), applications
(draft, submit with eligibility check, receipt, withdraw, return for revision, versions, attachments)
and the integrity list. Thin: permission, form, service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.core import permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.core.pagination import lazy_page
from sciencecity.programmes import forms, selectors
from sciencecity.programmes import permissions as access
from sciencecity.programmes.choices import ApplicationState, CallState, DemandStatus, Mechanism, MemberRole
from sciencecity.programmes.models import Application, Call, IntegrityEntry, TopicList
from sciencecity.programmes.services import applications as application_services
from sciencecity.programmes.services import calls as call_services
from sciencecity.programmes.services import integrity as integrity_services
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.models import Sector

PAGE_SIZE = 50


def _page(request, queryset):
    return lazy_page(request, queryset, PAGE_SIZE)


def _params(request) -> dict[str, str]:
    return {k: v for k, v in request.GET.items() if v and k != "page"}


def _require_programmes(request) -> None:
    permissions.require(access.can_use_programmes(request.user))


def _require_manager(request) -> None:
    permissions.require(access.can_manage_programmes(request.user))


# --- index
@login_required
def index(request):
    _require_programmes(request)
    user = request.user
    can_apply = access.can_apply(user)
    return render(request, "programmes/index.html", {
        "open_calls": selectors.open_calls(),
        "my_applications": selectors.application_queryset(user)[:20] if can_apply else None,
        "is_reviewer": access.holds_expert_role(user),
        "is_manager": access.can_manage_programmes(user),
        "can_submit_demand": access.can_submit_demand(user),
        "today": timezone.localdate(),
    })


# --- demands
@login_required
def demand_list(request):
    _require_programmes(request)
    params = _params(request)
    page, query = _page(request, selectors.demand_queryset(request.user, params))
    return render(request, "programmes/demand_list.html", {
        "page": page, "query": query, "params": params, "statuses": DemandStatus.choices,
        "sectors": Sector.objects.all(), "see_all": access.can_see_all_demands(request.user),
        "can_submit": access.can_submit_demand(request.user),
        "can_curate": access.can_manage_programmes(request.user),
    })


@login_required
def demand_create(request):
    permissions.require(access.can_submit_demand(request.user))
    organisation = acting_organisation(request)
    form = forms.DemandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            demand = call_services.demand_submit(actor=request.user, organisation=organisation,
                                                 data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Demand %(code)s submitted.") % {"code": demand.code})
            return redirect("programmes:demand_detail", pk=demand.pk)
    return render(request, "programmes/demand_form.html", {"form": form, "organisation": organisation})


@login_required
def demand_detail(request, pk: int):
    _require_programmes(request)
    demand = get_object_or_404(selectors.demand_queryset(request.user), pk=pk)
    return render(request, "programmes/demand_detail.html", {
        "demand": demand, "topics": demand.topics.select_related("topic_list"),
        "can_curate": access.can_manage_programmes(request.user),
    })


# --- topic lists and topics
@login_required
def topic_list(request):
    _require_programmes(request)
    is_manager = access.can_manage_programmes(request.user)
    form = forms.TopicListForm(request.POST or None)
    if request.method == "POST":
        _require_manager(request)
        if form.is_valid():
            try:
                created = call_services.topic_list_create(actor=request.user, **form.service_data())
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Topic list “%(name)s” created.") % {"name": created.name})
                return redirect("programmes:topic_list")
    return render(request, "programmes/topic_list.html", {
        "topic_lists": selectors.topic_lists(), "form": form if is_manager else None, "is_manager": is_manager,
    })


@login_required
def topic_create(request):
    _require_manager(request)
    initial = {"demands": [d for d in request.GET.getlist("demand") if d.isdigit()]}
    if request.GET.get("list", "").isdigit():
        initial["topic_list"] = request.GET["list"]
    form = forms.TopicForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            topic = call_services.topic_create(actor=request.user, topic_list=form.cleaned_data["topic_list"],
                                               data=form.service_data(),
                                               demands=list(form.cleaned_data["demands"]))
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Topic “%(title)s” created from %(n)s demand(s).") % {
                "title": topic.title, "n": topic.demands.count()})
            return redirect("programmes:topic_list")
    return render(request, "programmes/topic_form.html", {"form": form, "has_lists": TopicList.objects.exists()})


# --- calls
@login_required
def call_list(request):
    _require_programmes(request)
    params = _params(request)
    page, query = _page(request, selectors.call_queryset(request.user, params))
    return render(request, "programmes/call_list.html", {
        "page": page, "query": query, "params": params, "mechanisms": Mechanism.choices,
        "states": CallState.choices, "is_manager": access.can_manage_programmes(request.user),
    })


@login_required
def call_create(request):
    _require_manager(request)
    initial = {}
    if request.GET.get("topic", "").isdigit():
        initial["topic"] = request.GET["topic"]
    form = forms.CallForm(request.POST or None, initial=initial)
    fields = forms.FormFieldFormSet(request.POST or None, prefix="fields")
    criteria = forms.CriterionFormSet(request.POST or None, prefix="criteria")
    if request.method == "POST" and form.is_valid() and fields.is_valid() and criteria.is_valid():
        data = form.service_data()
        data["form_fields"] = [f.cleaned_data for f in fields.forms if f.cleaned_data]
        rubric = [f.cleaned_data for f in criteria.forms if f.cleaned_data]
        try:
            call = call_services.call_create(actor=request.user, data=data, criteria=rubric)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Call %(code)s created as a draft.") % {"code": call.code})
            return redirect("programmes:call_detail", pk=call.pk)
    return render(request, "programmes/call_form.html", {"form": form, "fields": fields, "criteria": criteria})


def _call_for(request, pk: int) -> Call:
    call = get_object_or_404(Call.objects.select_related("topic__topic_list"), pk=pk)
    if not access.can_view_call(request.user, call):
        if access.can_use_programmes(request.user):
            raise Http404
        permissions.require(False)
    return call


@login_required
def call_detail(request, pk: int):
    call = _call_for(request, pk)
    user = request.user
    is_manager = access.can_manage_programmes(user)
    organisation = acting_organisation(request) if access.can_apply(user) else None
    problems = selectors.call_eligibility_problems(call, organisation) if organisation else None
    return render(request, "programmes/call_detail.html", {
        "call": call, "criteria": call.criteria.all(), "is_manager": is_manager,
        "next_states": [(s, CallState(s).label) for s in selectors.CALL_NEXT_STEPS[call.state]] if is_manager else [],
        "flow": [(value, label, value == call.state) for value, label in CallState.choices],
        "organisation": organisation, "apply_problems": problems,
        "can_apply": organisation is not None and not problems,
        "kinds": _labels(call.eligible_kinds, "kind"), "levels": _labels(call.eligible_levels, "level"),
        "application_count": call.applications.count() if is_manager else None,
        "my_applications": selectors.application_queryset(user, {"call": call.pk}) if organisation else None,
    })


def _labels(values, which: str) -> list[str]:
    from sciencecity.registry.choices import Level, OrganisationKind

    choices = {"kind": OrganisationKind, "level": Level}[which]
    return [choices(v).label if v in choices.values else v for v in values or []]


@login_required
@require_POST
def call_transition(request, pk: int):
    _require_manager(request)
    call = get_object_or_404(Call, pk=pk)
    new = request.POST.get("state", "")
    if new not in CallState.values:
        raise Http404
    try:
        call_services.call_transition(actor=request.user, call=call, new=new, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The call is now “%(state)s”.") % {"state": CallState(new).label})
    return redirect("programmes:call_detail", pk=call.pk)


# --- applications
def _application_forms(request, call: Call, application: Application | None = None):
    data = request.POST if request.method == "POST" else None
    initial, lines, works = {}, None, None
    if application is not None:
        initial = {"title": application.title, "abstract": application.abstract, "keywords": application.keywords,
                   "requested_amount": application.requested_amount, "applicant": application.applicant_id,
                   "members": [m.person_id for m in application.members.all() if m.role == MemberRole.MEMBER]}
        initial.update({f"answer_{k}": v for k, v in (application.answers or {}).items()})
        lines, works = application.budget_lines or None, application.representative_works or None
    form = forms.ApplicationForm(data, call=call, initial=initial)
    budget = forms.BudgetLineFormSet(data, prefix="budget", initial=lines)
    work_set = forms.WorkFormSet(data, prefix="works", initial=works) if call.mechanism == Mechanism.TALENT else None
    return form, budget, work_set


def _application_data(form, budget, work_set) -> dict | None:
    valid = form.is_valid() & budget.is_valid() & (work_set is None or work_set.is_valid())
    if not valid:
        return None
    lines = forms.budget_lines(budget)
    total = forms.budget_total(budget)
    if lines and total != form.cleaned_data["requested_amount"]:
        form.add_error("requested_amount", _("The budget table adds up to %(total)s; the requested amount must "
                                             "equal it.") % {"total": total})
        return None
    data = {k: form.cleaned_data[k] for k in ("title", "abstract", "keywords", "requested_amount", "applicant")}
    data.update(budget_lines=lines, answers=form.answers())
    if work_set is not None:
        data["representative_works"] = forms.works(work_set)
    return data


def _picked(form, name):
    """The people or organisations chosen in a picker (shown again when the form comes back)."""
    value = form[name].value()
    ids = value if isinstance(value, list | tuple) else [value]
    ids = [int(v) for v in ids if str(v or "").isdigit()]
    return list(form.fields[name].queryset.filter(pk__in=ids)) if ids else []


def _form_page(request, call, form, budget, work_set, application=None):
    return render(request, "programmes/application_form.html", {
        "call": call, "form": form, "budget": budget, "works": work_set, "application": application,
        "picked_applicant": _picked(form, "applicant"), "picked_members": _picked(form, "members"),
    })


@login_required
def application_create(request, pk: int):
    permissions.require(access.can_apply(request.user))
    call = _call_for(request, pk)
    organisation = acting_organisation(request)
    problems = selectors.call_eligibility_problems(call, organisation)
    if problems:
        messages.error(request, " ".join(problems))
        return redirect("programmes:call_detail", pk=call.pk)
    form, budget, work_set = _application_forms(request, call)
    if request.method == "POST":
        data = _application_data(form, budget, work_set)
        if data is not None:
            try:
                application = application_services.application_create(
                    actor=request.user, call=call, organisation=organisation, data=data,
                    members=list(form.cleaned_data["members"]))
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Draft %(ref)s saved. Submit it when it is complete.") % {
                    "ref": application.reference})
                return redirect("programmes:application_detail", pk=application.pk)
    return _form_page(request, call, form, budget, work_set)


def _application_for(request, pk: int) -> Application:
    _require_programmes(request)
    application = get_object_or_404(Application.objects.select_related("call", "organisation", "applicant"), pk=pk)
    permissions.require(access.can_view_application(request.user, application))
    return application


@login_required
def application_edit(request, pk: int):
    application = _application_for(request, pk)
    permissions.require(access.can_edit_application(request.user, application))
    if application.state not in (ApplicationState.DRAFT, ApplicationState.RETURNED):
        messages.error(request, _("Only a draft or a returned application can be edited."))
        return redirect("programmes:application_detail", pk=application.pk)
    form, budget, work_set = _application_forms(request, application.call, application)
    if request.method == "POST":
        data = _application_data(form, budget, work_set)
        if data is not None:
            try:
                application_services.application_update(actor=request.user, application=application, data=data,
                                                        members=list(form.cleaned_data["members"]))
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("programmes:application_detail", pk=application.pk)
    return _form_page(request, application.call, form, budget, work_set, application)


@login_required
def application_list(request):
    _require_programmes(request)
    params = _params(request)
    page, query = _page(request, selectors.application_queryset(request.user, params))
    return render(request, "programmes/application_list.html", {
        "page": page, "query": query, "params": params, "states": ApplicationState.choices,
        "is_manager": access.can_manage_programmes(request.user),
        "calls": selectors.call_queryset(request.user).order_by("-opens_on")[:200],
    })


def _detail_context(request, application: Application, **extra) -> dict:
    editable = access.can_edit_application(request.user, application)
    open_for_edit = application.state in (ApplicationState.DRAFT, ApplicationState.RETURNED)
    returns = application.call.state in (CallState.OPEN, CallState.CLOSED)
    return {
        "application": application, "call": application.call,
        "members": application.members.select_related("person"),
        "attachments": application.attachments.all(), "versions": application.versions.all(),
        "can_edit": editable and open_for_edit,
        "can_withdraw": editable and application.state in (ApplicationState.DRAFT, ApplicationState.SUBMITTED,
                                                           ApplicationState.RETURNED),
        "can_return": access.can_manage_programmes(request.user)
        and application.state == ApplicationState.SUBMITTED and returns,
        "return_reason": _last_reason(application) if application.state == ApplicationState.RETURNED else "",
        "attachment_form": forms.AttachmentForm() if editable and open_for_edit else None,
        "reason_form": forms.ReasonForm(), "questions": _questions(application),
        **extra,
    }


def _questions(application: Application) -> list[tuple[str, str, bool]]:
    answers = application.answers or {}
    return [(q.get("label") or q["name"], answers.get(q["name"], ""), bool(q.get("required")))
            for q in application.call.form_fields or []]


def _last_reason(application: Application) -> str:
    from sciencecity.core.models import AuditEvent

    event = (AuditEvent.objects.filter(object_type="programmes.application", object_id=str(application.pk),
                                       action="transition").order_by("-id").first())
    return event.reason if event else ""


@login_required
def application_detail(request, pk: int):
    application = _application_for(request, pk)
    return render(request, "programmes/application_detail.html", _detail_context(request, application))


@login_required
def application_action(request, pk: int, action: str):
    application = _application_for(request, pk)
    if action == "receipt":
        if application.submitted_at is None:
            raise Http404
        return render(request, "programmes/application_receipt.html", {"application": application})
    if request.method != "POST" or action not in ("submit", "withdraw", "return", "attach"):
        raise Http404
    user = request.user
    try:
        if action == "submit":
            application_services.application_submit(actor=user, application=application)
            messages.success(request, _("Application %(ref)s submitted (version %(v)s).") % {
                "ref": application.reference, "v": Application.objects.get(pk=application.pk).version})
            return redirect("programmes:application_action", pk=application.pk, action="receipt")
        if action == "withdraw":
            application_services.application_withdraw(actor=user, application=application,
                                                      reason=request.POST.get("reason", ""))
            messages.success(request, _("Application withdrawn."))
        elif action == "return":
            form = forms.ReasonForm(request.POST)
            application_services.application_return(
                actor=user, application=application,
                reason=form.cleaned_data["reason"] if form.is_valid() else "")
            messages.success(request, _("Application returned for revision."))
        else:
            return _attach(request, application)
    except ValidationError as exc:
        if action == "submit":
            application.refresh_from_db()
            return render(request, "programmes/application_detail.html",
                          _detail_context(request, application, problems=exc.messages), status=400)
        messages.error(request, " ".join(exc.messages))
    return redirect("programmes:application_detail", pk=application.pk)


def _attach(request, application: Application):
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            application_services.attachment_add(actor=request.user, application=application,
                                                title=form.cleaned_data["title"], upload=form.cleaned_data["file"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Attachment added."))
            return redirect("programmes:application_detail", pk=application.pk)
    return render(request, "programmes/application_detail.html",
                  _detail_context(request, application, attachment_form=form), status=400)


# --- integrity list
@login_required
def integrity_list(request):
    _require_manager(request)
    add_form = forms.IntegrityEntryForm(request.POST if request.POST.get("op") == "add" else None,
                                        initial={"start_date": timezone.localdate()})
    end_form = forms.IntegrityEndForm(request.POST if request.POST.get("op") == "end" else None)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("op") == "add" and add_form.is_valid():
                integrity_services.integrity_entry_add(actor=request.user, **add_form.cleaned_data)
                messages.success(request, _("Entry added to the integrity list."))
                return redirect("programmes:integrity_list")
            if request.POST.get("op") == "end" and end_form.is_valid():
                entry = get_object_or_404(IntegrityEntry, pk=request.POST.get("entry"))
                integrity_services.integrity_entry_end(actor=request.user, entry=entry, **end_form.cleaned_data)
                messages.success(request, _("Entry ended."))
                return redirect("programmes:integrity_list")
        except ValidationError as exc:
            apply_validation_error(add_form if request.POST.get("op") == "add" else end_form, exc)
        status = 400
    in_force, others = selectors.integrity_entries()
    return render(request, "programmes/integrity_list.html", {
        "in_force": in_force, "others": others, "form": add_form, "end_form": end_form,
        "picked_person": _picked(add_form, "person"), "picked_organisation": _picked(add_form, "organisation"),
        "end_entry": request.POST.get("entry", "") if request.POST.get("op") == "end" else "",
    }, status=status)

