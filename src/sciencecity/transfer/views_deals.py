"""Deal pages (interest → contact → negotiation → agreement → registered contract), technology
contracts, technology brokers and the incubation pipeline. Thin: permission, form, service, render.

A deal is seen only by its parties, its broker and the bureau (others get 404); the actions check
the party (403) and the state (a message) in the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core import permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.registry.acting import acting_organisation
from sciencecity.transfer import forms_deals as forms
from sciencecity.transfer import permissions as access
from sciencecity.transfer import selectors
from sciencecity.transfer.choices import DealState, IncubationStage
from sciencecity.transfer.models import Deal, TechContract
from sciencecity.transfer.services import deals as services
from sciencecity.transfer.services import incubation as incubation_services

PAGE_SIZE = 50


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _buyer(request):
    """The enterprise the user acts for as a buyer (the acting organisation when it is one)."""
    ids = access.enterprise_organisation_ids(request.user)
    acting = acting_organisation(request)
    if acting is not None and acting.pk in ids:
        return acting
    from sciencecity.registry.models import Organisation

    return Organisation.objects.filter(pk__in=ids).order_by("pk").first()


# --- deals
@login_required
def deal_list(request):
    permissions.require(access.can_use_marketplace(request.user))
    qs = services.deal_queryset(request.user)
    state = request.GET.get("state", "")
    if state in DealState.values:
        qs = qs.filter(state=state)
    page, query = _page(request, qs)
    return render(request, "transfer/deal_list.html", {"page": page, "query": query, "state": state,
                                                       "states": DealState.choices})


@login_required
def deal_create(request):
    permissions.require(access.can_express_interest(request.user))
    achievement = get_object_or_404(selectors.achievement_queryset(request.user).select_related("owner"),
                                    pk=request.GET.get("achievement") or request.POST.get("achievement") or 0)
    buyer = _buyer(request)
    demand_id = request.GET.get("demand")
    form = forms.InterestForm(request.POST or None, buyer_ids=[buyer.pk],
                              initial={"demand": demand_id} if demand_id else None)
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_express_interest(actor=request.user, achievement=achievement, buyer=buyer,
                                                  message=form.cleaned_data["message"],
                                                  demand=form.cleaned_data["demand"],
                                                  broker=form.cleaned_data["broker"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Your interest was sent to %(owner)s.") % {"owner": achievement.owner.name})
            return redirect("transfer:deal_detail", pk=deal.pk)
    return render(request, "transfer/deal_form.html", {"form": form, "achievement": achievement, "buyer": buyer})


def _next_actor(deal: Deal) -> str:
    return {
        DealState.INTEREST: _("The owner (%(seller)s) accepts or declines.") % {"seller": deal.seller.name},
        DealState.CONTACT: _("Both sides negotiate."),
        DealState.NEGOTIATION: _("Both sides negotiate and record the agreement."),
        DealState.AGREED: _("The seller (%(seller)s) registers the technology contract.") % {"seller": deal.seller.name},
    }.get(deal.state, _("Nobody: the deal is finished."))


@login_required
def deal_detail(request, pk: int):
    deal = get_object_or_404(services.deal_queryset(request.user), pk=pk)
    return _deal_page(request, deal)


def _deal_page(request, deal: Deal, *, note_form=None, reason_form=None, broker_form=None, status=200):
    user = request.user
    actions = services.available_actions(user, deal)
    return render(request, "transfer/deal_detail.html", {
        "deal": deal, "actions": actions, "next_actor": _next_actor(deal),
        "contacts": services.deal_contacts(deal) if access.can_see_contacts(user, deal) else None,
        "notes": deal.notes.select_related("author"),
        "contract": TechContract.objects.filter(deal=deal).first(),
        "note_form": note_form or forms.NoteForm(), "reason_form": reason_form or forms.ReasonForm(),
        "broker_form": broker_form or forms.BrokerForm(initial={"broker": deal.broker_id}),
        "is_seller": access.is_seller(user, deal), "is_buyer": access.is_buyer(user, deal),
    }, status=status)


FORMS = {"reason_form": forms.ReasonForm, "note_form": forms.NoteForm, "broker_form": forms.BrokerForm}
#: action → (the form it posts, the service call, the message when done)
ACTIONS = {
    "accept": (None, lambda user, deal, data: services.deal_accept(actor=user, deal=deal),
               gettext_lazy("You accepted; contacts are now shared.")),
    "negotiate": (None, lambda user, deal, data: services.deal_negotiate(actor=user, deal=deal),
                  gettext_lazy("The negotiation is open.")),
    "decline": ("reason_form", lambda user, deal, data: services.deal_decline(actor=user, deal=deal, **data),
                gettext_lazy("You declined the interest.")),
    "agree": ("reason_form", lambda user, deal, data: services.deal_agree(actor=user, deal=deal, **data),
              gettext_lazy("The agreement is recorded; the seller registers the contract.")),
    "close": ("reason_form", lambda user, deal, data: services.deal_close(actor=user, deal=deal, **data),
              gettext_lazy("The deal is closed.")),
    "note": ("note_form", lambda user, deal, data: services.deal_note_add(actor=user, deal=deal, **data),
             gettext_lazy("Note added.")),
    "broker": ("broker_form", lambda user, deal, data: services.deal_broker_set(actor=user, deal=deal, **data),
               gettext_lazy("The broker is updated.")),
}


@login_required
def deal_action(request, pk: int, action: str):
    deal = get_object_or_404(services.deal_queryset(request.user), pk=pk)
    if action == "register":
        return _deal_register(request, deal)
    if action not in ACTIONS:
        raise Http404
    if request.method != "POST":
        return redirect("transfer:deal_detail", pk=deal.pk)
    form_name, run, done = ACTIONS[action]
    data = {}
    if form_name:
        form = FORMS[form_name](request.POST)
        if not form.is_valid():
            return _deal_page(request, deal, status=400, **{form_name: form})
        data = form.cleaned_data
    try:
        run(request.user, deal, data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("transfer:deal_detail", pk=deal.pk)


def _deal_register(request, deal: Deal):
    permissions.require(access.is_seller(request.user, deal))
    form = forms.ContractForm(request.POST or None, request.FILES or None, deal=deal)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_register(actor=request.user, deal=deal, data=form.service_data(),
                                                  contract_file=form.cleaned_data["contract_file"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Contract %(number)s registered.") % {"number": contract.registration_number})
            return redirect("transfer:deal_detail", pk=deal.pk)
    return render(request, "transfer/contract_form.html", {"form": form, "deal": deal})


# --- contracts
@login_required
def contract_list(request):
    permissions.require(access.can_use_marketplace(request.user))
    page, query = _page(request, services.contract_queryset(request.user))
    return render(request, "transfer/contract_list.html", {
        "page": page, "query": query, "can_file": access.can_file_contract(request.user),
        "all_contracts": permissions.is_bureau_officer(request.user),
    })


@login_required
def contract_create(request):
    permissions.require(access.can_file_contract(request.user))
    seller_ids = permissions.organisation_ids(request.user)
    form = forms.ContractForm(request.POST or None, request.FILES or None, seller_ids=seller_ids)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_register(actor=request.user, data=form.service_data(),
                                                  contract_file=form.cleaned_data["contract_file"],
                                                  seller=form.cleaned_data["seller"], buyer=form.cleaned_data["buyer"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Contract %(number)s registered.") % {"number": contract.registration_number})
            return redirect("transfer:contract_list")
    return render(request, "transfer/contract_form.html", {"form": form, "deal": None})


# --- brokers
@login_required
def broker_list(request):
    permissions.require(access.can_use_marketplace(request.user))
    return render(request, "transfer/broker_list.html", {
        "rows": selectors.broker_figures(), "states": DealState.choices,
    })


# --- incubation
@login_required
def incubation(request):
    permissions.require(access.can_view_incubation(request.user))
    user = request.user
    can_manage = access.can_manage_incubation(user)
    carrier_ids = None if permissions.is_bureau_officer(user) else access.operator_carrier_ids(user)
    form = forms.StartupMoveForm(request.POST or None, carrier_ids=carrier_ids) if can_manage else None
    if request.method == "POST":
        permissions.require(can_manage)
        if form.is_valid():
            data = form.cleaned_data
            try:
                incubation_services.startup_move(actor=user, organisation=data["organisation"], stage=data["stage"],
                                                 carrier=data["carrier"], entered_on=data["entered_on"],
                                                 achievement=data["achievement"])
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("%(name)s moved to “%(stage)s”.") % {
                    "name": data["organisation"].name, "stage": IncubationStage(data["stage"]).label})
                return redirect("transfer:incubation")
    counts = incubation_services.stage_counts()
    cohorts = incubation_services.cohorts()
    return render(request, "transfer/incubation.html", {
        "counts": counts, "cohorts": cohorts, "graduation_rate": incubation_services.graduation_rate(cohorts),
        "chart": {"labels": [label for _s, label, _n in counts], "values": [n for _s, _l, n in counts]},
        "carriers": incubation_services.carriers(), "startups": incubation_services.startups(), "form": form,
        "visible_achievement_ids": set(selectors.achievement_queryset(user).values_list("pk", flat=True)),
    }, status=400 if form is not None and form.errors else 200)


@login_required
def contract_file(request, pk: int):
    """The written contract, for the parties and the bureau (the download is audited as an export)."""
    from django.http import FileResponse

    from sciencecity.core.audit import audit_record
    from sciencecity.core.models import AuditAction

    contract = get_object_or_404(services.contract_queryset(request.user), pk=pk)
    audit_record(action=AuditAction.EXPORT, actor=request.user, obj=contract,
                 object_repr=contract.registration_number, changes={"file": [None, contract.contract_file.name]})
    return FileResponse(contract.contract_file.open("rb"), as_attachment=True,
                        filename=contract.contract_file.name.rsplit("/", 1)[-1])
