"""Enterprise service pages: my profile (figures, IP, incidents, certificates with reminders), my
high-tech self-assessment and tech-SME evaluation, the Excel import; for the bureau the reserve
pool (with its chart), the tiers and their criteria, the tier history and the certificate list.
Thin: permission, form, service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sciencecity.core import permissions as core_permissions
from sciencecity.core.forms import apply_validation_error
from sciencecity.enterprises import cultivation, forms, permissions, selectors, services
from sciencecity.enterprises.choices import Tier
from sciencecity.enterprises.models import EnterpriseProfile, FiscalYear, Incident, IntellectualProperty
from sciencecity.registry.acting import acting_organisation
from sciencecity.registry.models import Certification, Organisation


def _own_enterprise(request) -> Organisation | None:
    org = acting_organisation(request)
    if org is not None and org.kind == "enterprise" and permissions.is_member(request.user, org):
        return org
    return None


def _organisation(request, code: str | None, *, edit: bool = False) -> Organisation:
    """The enterprise of the page: ``code`` (an officer, or a member) or the user's own."""
    if code is None:
        org = _own_enterprise(request)
        if org is None:
            raise PermissionDenied("not_an_enterprise_user")
        return org
    org = get_object_or_404(Organisation, code=code, kind="enterprise")
    allowed = permissions.can_edit_profile(request.user, org) if edit else permissions.can_view_financials(
        request.user, org)
    core_permissions.require(allowed)
    return org


def _urls(org: Organisation, own: bool) -> dict:
    """The page links of one enterprise: the own pages without a code, the officer's with it."""
    def url(name, *args):
        return reverse(f"enterprises:{name}", args=args) if own else reverse(f"enterprises:{name}_of",
                                                                               args=(org.code, *args))
    return {"profile": url("profile"), "edit": url("profile_edit"), "year_new": url("year_new"),
            "ip_new": url("ip_new"), "incident_new": url("incident_new"), "assessment": url("assessment"),
            "tech_sme": url("tech_sme")}


def _context(request, org: Organisation, code: str | None) -> dict:
    return {"organisation": org, "own": code is None, "urls": _urls(org, code is None),
            "code": code or "", "can_edit": permissions.can_edit_profile(request.user, org)}


def _audit_read(request, org: Organisation) -> None:
    services.financials_read_audit(actor=request.user, organisation=org, channel="web")


@login_required
def index(request):
    if _own_enterprise(request) is not None:
        return redirect("enterprises:profile")
    if permissions.can_manage_cultivation(request.user):
        return redirect("enterprises:pool")
    raise PermissionDenied("not_an_enterprise_user")


@login_required
def profile(request, code: str | None = None):
    org = _organisation(request, code)
    _audit_read(request, org)
    profile = selectors.profile_of(org)
    day = timezone.localdate()
    context = _context(request, org, code)
    context.update({
        "profile": profile,
        "years": list(profile.fiscal_years.all()) if profile else [],
        "ip_rights": list(profile.ip_rights.all()) if profile else [],
        "incidents": list(profile.incidents.all()) if profile else [],
        "certificates": selectors.certificate_statuses(org, day=day),
        "tiers": [(s.get_tier_display(), s) for s in org.tier_memberships.filter(left_at__isnull=True)],
        "history": selectors.tier_history(organisation=org, limit=20),
        "today": day,
    })
    return render(request, "enterprises/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request, code: str | None = None):
    org = _organisation(request, code, edit=True)
    if request.method == "GET":
        _audit_read(request, org)  # the form shows the valuation
    instance = services.profile_for(org) or EnterpriseProfile(organisation=org)
    form = forms.ProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_save(actor=request.user, organisation=org, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect(_urls(org, code is None)["profile"])
    return render(request, "enterprises/profile_form.html", {**_context(request, org, code), "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def year_edit(request, code: str | None = None, year: int | None = None):
    org = _organisation(request, code, edit=True)
    if request.method == "GET":
        _audit_read(request, org)
    instance = FiscalYear(year=timezone.localdate().year - 1)
    if year is not None:
        instance = get_object_or_404(FiscalYear.objects.prefetch_related("months"), profile__organisation=org,
                                     year=year)
    form = forms.FiscalYearForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.fiscal_year_save(actor=request.user, organisation=org, year=form.cleaned_data["year"],
                                      data=form.service_data(), months=form.months())
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Figures of %(year)s saved.") % {"year": form.cleaned_data["year"]})
            return redirect(_urls(org, code is None)["profile"])
    return render(request, "enterprises/year_form.html", {**_context(request, org, code), "form": form,
                                                          "year": year})


def _item_form(request, org: Organisation, code: str | None, form, save, template_title):
    """The add / correct page of an IP right or incident: ``save(data)`` calls the service."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(_urls(org, code is None)["profile"])
    return render(request, "enterprises/item_form.html", {**_context(request, org, code), "form": form,
                                                          "title": template_title})


def _item_new(request, code, form_class, service, template_title):
    org = _organisation(request, code, edit=True)
    return _item_form(request, org, code, form_class(request.POST or None),
                      lambda data: service(actor=request.user, organisation=org, data=data), template_title)


@login_required
@require_http_methods(["GET", "POST"])
def ip_new(request, code: str | None = None):
    return _item_new(request, code, forms.IpForm, services.ip_right_create, _("Add an IP right"))


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request, code: str | None = None):
    return _item_new(request, code, forms.IncidentForm, services.incident_create, _("Declare an incident"))


#: The profile items the edit and delete pages handle: URL kind → (model, form).
ITEM_KINDS = {"ip": (IntellectualProperty, forms.IpForm), "incident": (Incident, forms.IncidentForm)}


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request, kind: str, pk: int):
    """Correct an IP right or an incident (the enterprise or the bureau; audited)."""
    model, form_class = ITEM_KINDS.get(kind, (None, None))
    if model is None:
        raise Http404
    item = get_object_or_404(model.objects.select_related("profile__organisation"), pk=pk)
    org = item.profile.organisation
    core_permissions.require(permissions.can_edit_profile(request.user, org))
    code = None if _own_enterprise(request) == org else org.code
    title = _("Edit the IP right") if kind == "ip" else _("Edit the incident")
    return _item_form(request, org, code, form_class(request.POST or None, instance=item),
                      lambda data: services.profile_item_update(actor=request.user, item=item, data=data), title)


@login_required
@require_POST
def item_delete(request, kind: str, pk: int):
    model = ITEM_KINDS.get(kind, (None, None))[0]
    if model is None:
        raise Http404
    item = get_object_or_404(model.objects.select_related("profile__organisation"), pk=pk)
    org = item.profile.organisation
    core_permissions.require(permissions.can_edit_profile(request.user, org))
    services.profile_item_delete(actor=request.user, item=item)
    messages.success(request, _("Removed."))
    own = _own_enterprise(request) == org
    return redirect(_urls(org, own)["profile"])


@login_required
@require_POST
def annual_report_file(request, pk: int):
    cert = get_object_or_404(Certification.objects.select_related("organisation"), pk=pk)
    core_permissions.require(permissions.can_edit_profile(request.user, cert.organisation))
    try:
        year = int(request.POST.get("year", ""))
        services.annual_report_file(actor=request.user, certification=cert, year=year)
    except (ValueError, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [_("Not a year.")])))
    else:
        messages.success(request, _("Annual report for %(year)s recorded.") % {"year": year})
    own = _own_enterprise(request) == cert.organisation
    return redirect(_urls(cert.organisation, own)["profile"])


@login_required
def assessment(request, code: str | None = None):
    org = _organisation(request, code)
    _audit_read(request, org)
    profile = selectors.profile_of(org)
    context = _context(request, org, code)
    if profile is not None:
        result = selectors.assessment_of(profile)
        labels = {"ip": _("Intellectual property"), "conversion": _("Technology conversion"),
                  "rd_management": _("R&D management"), "growth": _("Growth")}
        parts = result.hnte.parts
        context.update({"result": result, "hnte": result.hnte, "score_chart": {
            "labels": [str(labels.get(p.code, p.code)) for p in parts],
            "datasets": [{"label": _("Certain points"), "data": [p.min for p in parts]},
                         {"label": _("Points the experts may add"), "data": [p.max - p.min for p in parts]}]}})
    return render(request, "enterprises/assessment.html", context)


@login_required
def tech_sme(request, code: str | None = None):
    org = _organisation(request, code)
    _audit_read(request, org)
    profile = selectors.profile_of(org)
    context = _context(request, org, code)
    if profile is not None:
        context["result"] = selectors.assessment_of(profile)
    return render(request, "enterprises/tech_sme.html", context)


# --- the bureau ----------------------------------------------------------------------------------

def _bureau(request) -> None:
    core_permissions.require(permissions.can_manage_cultivation(request.user))


@login_required
def pool(request):
    _bureau(request)
    figures = selectors.pool_figures()
    criteria = cultivation.criteria()[Tier.RESERVE]
    chart = {"labels": [p["month"] for p in figures["points"]],
             "datasets": [{"label": _("Pool size at the end of the month"), "data": [p["size"] for p in figures["points"]]},
                          {"label": _("Certified from the pool"), "data": [p["converted"] for p in figures["points"]]}]}
    return render(request, "enterprises/pool.html", {"chart": chart,
        "members": selectors.current_members(Tier.RESERVE), "figures": figures, "criteria": criteria,
        "certificates": selectors.hnte_certificate_list()})


@login_required
@require_http_methods(["GET", "POST"])
def tiers(request):
    _bureau(request)
    rows = cultivation.criteria()
    chosen = request.POST.get("tier") if request.method == "POST" else None
    tier_forms = []
    for tier in Tier.values:
        bound = request.POST if chosen == tier else None
        form = forms.TierCriteriaForm(bound, instance=rows[tier], prefix=tier)
        if bound is not None and form.is_valid():
            try:
                row = cultivation.tier_criteria_update(actor=request.user, tier=tier, data=form.cleaned_data,
                                                       recompute=False)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Criteria saved; memberships are being recomputed."))
                job = cultivation.tier_recompute_enqueue(actor=request.user, reason=_(
                    "criteria of %(tier)s changed") % {"tier": row.get_tier_display()})
                return redirect("jobs:detail", job.pk)
        tier_forms.append((tier, rows[tier].get_tier_display(), form, selectors.current_members(tier)))
    return render(request, "enterprises/tiers.html", {"tier_forms": tier_forms})


@login_required
def history(request):
    _bureau(request)
    tier = request.GET.get("tier") or None
    if tier and tier not in Tier.values:
        tier = None
    return render(request, "enterprises/history.html", {
        "events": selectors.tier_history(tier=tier), "tier": tier, "tiers": Tier.choices})


@login_required
@require_POST
def recompute(request):
    _bureau(request)
    job = cultivation.tier_recompute_enqueue(actor=request.user, reason=_("recomputed by the bureau"))
    return redirect("jobs:detail", job.pk)
