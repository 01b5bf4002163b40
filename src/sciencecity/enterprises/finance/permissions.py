"""Who may do what in tech finance (used by the pages and the API alike).

=====================  ===========  ===========================  =====================  ==============
action                 anonymous    enterprise user (own need)   provider (investor)    bureau officer
=====================  ===========  ===========================  =====================  ==============
see products           no           yes                          yes                    yes
manage products        no           no                           own organisation's     yes
post a need            no           own enterprise               no                     no
request a product      no           own need                     no                     yes (matchmaker)
introduce              no           no                           own product            yes
due diligence, fund    no           no                           own product            no
decline                no           own need (withdraw)          own product            yes
=====================  ===========  ===========================  =====================  ==============
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions
from sciencecity.enterprises.finance.choices import MatchState
from sciencecity.enterprises.finance.models import FinanceMatch, FinancialProduct, FinancingNeed
from sciencecity.enterprises.policies.permissions import enterprise_organisation_ids


def provider_organisation_ids(user: Any) -> set[int]:
    """Banks, funds and insurers ``user`` acts for (the investor / bank role)."""
    if not permissions.is_business_user(user):
        return set()
    return set(user.memberships.filter(role=Role.INVESTOR, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def can_view_finance(user: Any) -> bool:
    return permissions.is_business_user(user) or permissions.is_bureau_officer(user)


def can_manage_product(user: Any, product: FinancialProduct | None = None, provider_id: int | None = None) -> bool:
    if permissions.is_bureau_officer(user):
        return True
    orgs = provider_organisation_ids(user)
    target = product.provider_id if product is not None else provider_id
    return bool(orgs) if target is None else target in orgs


def can_post_need(user: Any, organisation_id: int | None = None) -> bool:
    orgs = enterprise_organisation_ids(user)
    return bool(orgs) if organisation_id is None else organisation_id in orgs


def need_queryset(user: Any) -> QuerySet[FinancingNeed]:
    """Needs ``user`` may see: the enterprise's own, all for officers and for providers (open ones)."""
    qs = FinancingNeed.objects.select_related("organisation")
    if permissions.is_bureau_officer(user):
        return qs
    visible = Q(organisation_id__in=enterprise_organisation_ids(user))
    if provider_organisation_ids(user):
        visible |= Q(status="open")
    return qs.filter(visible) if permissions.is_business_user(user) else qs.none()


def match_queryset(user: Any) -> QuerySet[FinanceMatch]:
    qs = FinanceMatch.objects.select_related("need__organisation", "product__provider")
    if permissions.is_bureau_officer(user):
        return qs
    if not permissions.is_business_user(user):
        return qs.none()
    return qs.filter(Q(need__organisation_id__in=enterprise_organisation_ids(user))
                     | Q(product__provider_id__in=provider_organisation_ids(user)))


def is_applicant(user: Any, match: FinanceMatch) -> bool:
    return match.need.organisation_id in enterprise_organisation_ids(user)


def is_provider(user: Any, match: FinanceMatch) -> bool:
    return match.product.provider_id in provider_organisation_ids(user)


def can_request(user: Any, need: FinancingNeed) -> bool:
    return permissions.is_bureau_officer(user) or need.organisation_id in enterprise_organisation_ids(user)


OPEN_STATES = (MatchState.REQUESTED, MatchState.INTRODUCED, MatchState.DUE_DILIGENCE)


def available_actions(user: Any, match: FinanceMatch) -> list[str]:
    """The transitions ``user`` may make on ``match`` now (drives the buttons and who acts next)."""
    officer, provider, applicant = permissions.is_bureau_officer(user), is_provider(user, match), \
        is_applicant(user, match)
    actions = []
    if match.state == MatchState.REQUESTED and (officer or provider):
        actions.append("introduce")
    if match.state == MatchState.INTRODUCED and provider:
        actions.append("due_diligence")
    if match.state == MatchState.DUE_DILIGENCE and provider:
        actions.append("fund")
    if match.state in OPEN_STATES and (officer or provider or applicant):
        actions.append("decline")
    return actions
