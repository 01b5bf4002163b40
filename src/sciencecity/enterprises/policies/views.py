"""Policy pages: library, editor with a live preview, 免申即享 list (and its Excel download),
application calendar, and "my policies" for an enterprise. Thin: permission, form, service, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sciencecity.core import permissions as core_permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.excel import xlsx_export
from sciencecity.core.forms import apply_validation_error
from sciencecity.core.importing import Column
from sciencecity.core.models import AuditAction
from sciencecity.engines.rules import fields, lang
from sciencecity.engines.rules.i18n import translating
from sciencecity.enterprises.policies import permissions, selectors, services
from sciencecity.enterprises.policies.choices import PolicyStatus
from sciencecity.enterprises.policies.forms import PolicyForm
from sciencecity.enterprises.policies.models import Policy
from sciencecity.registry.models import Organisation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible_policies(user):
    qs = Policy.objects.all()
    return qs if permissions.can_manage_policies(user) else qs.filter(status=PolicyStatus.PUBLISHED)


def field_help() -> list[dict]:
    from django.utils.translation import gettext

    return [{"name": f.name, "type": f.type, "label": gettext(f.label), "unit": f.unit} for f in fields.FIELDS]


@login_required
def policy_list(request):
    core_permissions.require(permissions.can_view_policies(request.user))
    policies = _visible_policies(request.user).order_by("-valid_from", "code")
    status = request.GET.get("status", "")
    if status in PolicyStatus.values:
        policies = policies.filter(status=status)
    return render(request, "enterprises/policies/policy_list.html", {
        "policies": policies, "can_manage": permissions.can_manage_policies(request.user),
        "statuses": PolicyStatus.choices, "status": status,
        "can_see_own": permissions.can_view_own_policies(request.user)})


def _editor(request, policy: Policy | None):
    core_permissions.require(permissions.can_manage_policies(request.user))
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.POLICY_FIELDS}
        try:
            if policy is None:
                policy = services.policy_create(actor=request.user, **values)
            else:
                policy = services.policy_update(actor=request.user, policy=policy, **values)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("The policy is saved."))
            return redirect("enterprises:policy_detail", policy.pk)
    initial_preview = None
    rule = form["rule"].value()
    if rule:
        initial_preview = _preview_context(rule, form["amount_formula"].value() or "")
    return render(request, "enterprises/policies/policy_form.html", {
        "form": form, "policy": policy, "fields_help": field_help(), "preview": initial_preview})


@login_required
def policy_create(request):
    return _editor(request, None)


@login_required
def policy_edit(request, pk: int):
    return _editor(request, get_object_or_404(Policy, pk=pk))


def _preview_context(rule: str, amount_formula: str) -> dict:
    from django.utils.translation import gettext

    with translating(gettext):
        try:
            return {"result": selectors.preview(rule, amount_formula)}
        except lang.RuleError as exc:
            return {"error": services.rule_message(exc)}


@login_required
@require_POST
def policy_preview(request):
    """The editor's live count (an htmx fragment): enterprises that qualify, may qualify, nearly do."""
    core_permissions.require(permissions.can_manage_policies(request.user))
    context = _preview_context(request.POST.get("rule", ""), request.POST.get("amount_formula", ""))
    return render(request, "enterprises/policies/_preview.html", {"preview": context})


@login_required
def policy_detail(request, pk: int):
    core_permissions.require(permissions.can_view_policies(request.user))
    policy = get_object_or_404(_visible_policies(request.user), pk=pk)
    return render(request, "enterprises/policies/policy_detail.html", {
        "policy": policy, "can_manage": permissions.can_manage_policies(request.user),
        "can_withdraw": policy.status != PolicyStatus.WITHDRAWN
        and core_permissions.has_perm(request.user, "enterprises.withdraw_policy", policy),
        "can_see_list": permissions.can_view_eligible_list(request.user)})


@login_required
@require_POST
def policy_withdraw(request, pk: int):
    """撤回 with a reason (the detail page's form); a refusal is shown on the detail page."""
    policy = get_object_or_404(Policy, pk=pk)
    core_permissions.require(request.user, "enterprises.withdraw_policy", policy)
    try:
        services.policy_withdraw(actor=request.user, policy=policy, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The policy is withdrawn."))
    return redirect("enterprises:policy_detail", policy.pk)


@login_required
def policy_eligible(request, pk: int):
    """The 免申即享 list: every enterprise the rule holds for, with its estimated amount (.xlsx too)."""
    core_permissions.require(permissions.can_view_eligible_list(request.user))
    policy = get_object_or_404(Policy, pk=pk)
    try:
        rows = selectors.eligible_enterprises(policy)
    except lang.RuleError as exc:
        messages.error(request, services.rule_message(exc))
        return redirect("enterprises:policy_detail", policy.pk)
    if request.GET.get("format") == "xlsx":
        columns = [Column("code", ("代码", "Code")), Column("name", ("企业", "Enterprise"), width=40),
                   Column("amount", ("预计金额（万元）", "Estimated amount (10k CNY)"), width=22)]
        audit_record(action=AuditAction.EXPORT, actor=request.user, obj=policy,
                     changes={"rows": [None, len(rows)], "format": [None, "xlsx"]})
        data = xlsx_export("免申即享", columns, ([r.code, r.name, r.amount] for r in rows))
        return FileResponse(data, as_attachment=True, filename=f"{policy.code}-eligible.xlsx", content_type=XLSX)
    total = sum(r.amount for r in rows if r.amount is not None)
    return render(request, "enterprises/policies/policy_eligible.html", {
        "policy": policy, "rows": rows, "total": round(total, 2)})


@login_required
def policy_calendar(request):
    core_permissions.require(permissions.can_view_policies(request.user))
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    year = min(max(year, 2000), 2100)
    return render(request, "enterprises/policies/policy_calendar.html", {
        "year": year, "months": [(dt.date(year, m, 1), items) for m, items in selectors.calendar(year)],
        "previous": year - 1, "next": year + 1})


@login_required
@require_POST
def policy_refresh(request):
    core_permissions.require(permissions.can_manage_policies(request.user))
    counts = services.policy_matches_refresh(actor=request.user)
    messages.success(request, _("Matches refreshed: %(created)s new, %(removed)s no longer eligible, "
                                "%(notified)s notifications.") % counts)
    return redirect("enterprises:policy_list")


def acting_enterprise(request, organisation_ids: set[int]) -> Organisation:
    """The enterprise the page is about: ``?organisation=`` when the user acts for it, else the first."""
    if not organisation_ids:
        raise PermissionDenied("permission_denied")
    wanted = request.GET.get("organisation", "")
    chosen = int(wanted) if wanted.isdigit() and int(wanted) in organisation_ids else min(organisation_ids)
    return Organisation.objects.get(pk=chosen)


@login_required
def my_policies(request):
    """An enterprise's eligible policies with the estimated amount, and nearly-eligible ones with the
    clauses it misses."""
    orgs = permissions.enterprise_organisation_ids(request.user)
    organisation = acting_enterprise(request, orgs)
    from django.utils.translation import gettext

    with translating(gettext):
        eligible, nearly = selectors.policies_for(organisation.pk)
    has_profile = hasattr(organisation, "enterprise_profile")
    return render(request, "enterprises/policies/my_policies.html", {
        "organisation": organisation, "eligible": eligible, "nearly": nearly, "has_profile": has_profile,
        "organisations": Organisation.objects.filter(pk__in=orgs).order_by("name") if len(orgs) > 1 else []})
