"""Tech-finance pages: products, financing needs, matching both ways, the matchmaking pipeline and
an enterprise's growth score with its formula. Thin: permission, form, service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.core import permissions as core_permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.engines.rules import growth
from sciencecity.engines.rules.i18n import translating
from sciencecity.enterprises.finance import permissions, selectors, services
from sciencecity.enterprises.finance.choices import ProductStatus
from sciencecity.enterprises.finance.forms import DeclineForm, FundForm, NeedForm, ProductForm
from sciencecity.enterprises.finance.models import FinancialProduct, FinancingNeed
from sciencecity.enterprises.policies.permissions import enterprise_organisation_ids
from sciencecity.enterprises.policies.views import acting_enterprise


@login_required
def finance_index(request):
    core_permissions.require(permissions.can_view_finance(request.user))
    products = FinancialProduct.objects.select_related("provider").order_by("kind", "code")
    if not permissions.can_manage_product(request.user):
        products = products.filter(status=ProductStatus.ACTIVE)
    return render(request, "enterprises/finance/index.html", {
        "products": products, "can_manage": permissions.can_manage_product(request.user),
        "can_post_need": permissions.can_post_need(request.user),
        "needs": permissions.need_queryset(request.user)[:50],
        "matches": permissions.match_queryset(request.user)[:50],
        "is_officer": core_permissions.is_bureau_officer(request.user)})


def _product_form(request, product: FinancialProduct | None):
    providers = None if core_permissions.is_bureau_officer(request.user) else \
        permissions.provider_organisation_ids(request.user)
    core_permissions.require(permissions.can_manage_product(request.user, product))
    form = ProductForm(request.POST or None, instance=product, providers=providers)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "provider"}
        try:
            if product is None:
                product = services.product_create(actor=request.user, provider=form.cleaned_data["provider"],
                                                  **values)
            else:
                product = services.product_update(actor=request.user, product=product, **values)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("The product is saved."))
            return redirect("enterprises:product_detail", product.pk)
    from sciencecity.enterprises.policies.views import field_help

    return render(request, "enterprises/finance/product_form.html", {"form": form, "product": product,
                                                                     "fields_help": field_help()})


@login_required
def product_create(request):
    return _product_form(request, None)


@login_required
def product_edit(request, pk: int):
    return _product_form(request, get_object_or_404(FinancialProduct, pk=pk))


@login_required
def product_detail(request, pk: int):
    core_permissions.require(permissions.can_view_finance(request.user))
    product = get_object_or_404(FinancialProduct.objects.select_related("provider"), pk=pk)
    can_manage = permissions.can_manage_product(request.user, product)
    return render(request, "enterprises/finance/product_detail.html", {
        "product": product, "can_manage": can_manage,
        "needs": selectors.needs_for_product(product) if can_manage else None})


@login_required
def need_create(request):
    orgs = enterprise_organisation_ids(request.user)
    core_permissions.require(bool(orgs))
    form = NeedForm(request.POST or None, organisations=orgs)
    if request.method == "POST" and form.is_valid():
        try:
            need = services.need_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("The financing need is posted."))
            return redirect("enterprises:need_detail", need.pk)
    return render(request, "enterprises/finance/need_form.html", {"form": form})


@login_required
def need_detail(request, pk: int):
    need = get_object_or_404(permissions.need_queryset(request.user), pk=pk)
    can_request = permissions.can_request(request.user, need)
    from django.utils.translation import gettext

    with translating(gettext):
        fits, nearly = selectors.products_for_need(need) if can_request else ([], [])
    requested = set(need.matches.values_list("product_id", flat=True))
    return render(request, "enterprises/finance/need_detail.html", {
        "need": need, "fits": fits, "nearly": nearly, "can_request": can_request, "requested": requested,
        "matches": need.matches.select_related("product__provider")})


@login_required
@require_POST
def match_request(request, pk: int):
    need = get_object_or_404(permissions.need_queryset(request.user), pk=pk)
    product = get_object_or_404(FinancialProduct, pk=request.POST.get("product") or 0) \
        if (request.POST.get("product") or "").isdigit() else None
    if product is None:
        messages.error(request, _("Choose a product."))
        return redirect("enterprises:need_detail", need.pk)
    try:
        match = services.match_request(actor=request.user, need=need, product=product)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("enterprises:need_detail", need.pk)
    messages.success(request, _("The request is sent to %(provider)s.") % {"provider": product.provider.name})
    return redirect("enterprises:match_detail", match.pk)


@login_required
def match_detail(request, pk: int):
    match = get_object_or_404(permissions.match_queryset(request.user), pk=pk)
    return render(request, "enterprises/finance/match_detail.html", {
        "match": match, "actions": permissions.available_actions(request.user, match),
        "fund_form": FundForm(), "decline_form": DeclineForm()})


@login_required
@require_POST
def match_action(request, pk: int, action: str):
    match = get_object_or_404(permissions.match_queryset(request.user), pk=pk)
    try:
        if action == "introduce":
            services.match_introduce(actor=request.user, match=match)
        elif action == "due_diligence":
            services.match_start_due_diligence(actor=request.user, match=match)
        elif action == "fund":
            form = FundForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
                return redirect("enterprises:match_detail", match.pk)
            services.match_fund(actor=request.user, match=match, amount=form.cleaned_data["amount"],
                                funded_on=form.cleaned_data["funded_on"])
        elif action == "decline":
            services.match_decline(actor=request.user, match=match, reason=request.POST.get("reason", ""))
        else:
            messages.error(request, _("Unknown action."))
            return redirect("enterprises:match_detail", match.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The match is updated."))
    return redirect("enterprises:match_detail", match.pk)


@login_required
def my_financing(request):
    """The enterprise's growth score (formula, components, weights), its needs and their matches."""
    orgs = enterprise_organisation_ids(request.user)
    organisation = acting_enterprise(request, orgs)
    from django.utils.translation import gettext

    with translating(gettext):
        score = selectors.growth_for(organisation.pk)
    needs = FinancingNeed.objects.filter(organisation=organisation).prefetch_related("matches__product")
    return render(request, "enterprises/finance/my_financing.html", {
        "organisation": organisation, "score": score, "components": growth.COMPONENTS, "needs": needs})


@login_required
def finance_pipeline(request):
    """The bureau's view of the matchmaking pipeline: counts and funded amounts per state."""
    core_permissions.require(core_permissions.is_bureau_officer(request.user))
    matches = permissions.match_queryset(request.user)
    summary = selectors.pipeline_summary(matches)
    largest = max([row["count"] for row in summary] + [1])
    for row in summary:
        row["width"] = round(100 * row["count"] / largest)
    chart = {"states": {"labels": [str(row["label"]) for row in summary],
                        "datasets": [{"label": _("Matches"), "data": [row["count"] for row in summary]}]},
             "funded": selectors.funded_by_month(matches, today=timezone.localdate())}
    return render(request, "enterprises/finance/pipeline.html", {"summary": summary, "matches": matches[:200],
                                                                 "chart": chart})
