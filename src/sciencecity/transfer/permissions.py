"""Actions of the technology-transfer marketplace, registered at ``TransferConfig.ready``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions
from sciencecity.transfer.choices import OPEN_STATES
from sciencecity.transfer.models import Achievement, Deal, TechDemand

if TYPE_CHECKING:
    from sciencecity.registry.models import Organisation
    from sciencecity.transfer.models import Startup


def _orgs(user: Any) -> set[int]:
    return permissions.organisation_ids(user)


def _business_orgs(user: Any) -> set[int]:
    return permissions.organisation_ids(user) if permissions.is_business_user(user) else set()


def can_use_marketplace(user: Any) -> bool:
    """Logged-in business users (administrators do not handle business data)."""
    return permissions.is_business_user(user)


def can_create_achievement(user: Any, organisation: Any = None) -> bool:
    """Any business user acting for an organisation posts its achievements."""
    if not permissions.is_business_user(user):
        return False
    orgs = _orgs(user)
    return bool(orgs) if organisation is None else organisation.pk in orgs


def enterprise_organisation_ids(user: Any) -> set[int]:
    if not permissions.is_business_user(user):
        return set()
    return set(user.memberships.filter(role=Role.ENTERPRISE_USER, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def can_create_demand(user: Any, organisation: Any = None) -> bool:
    """Enterprise users post their enterprise's technology demands."""
    orgs = enterprise_organisation_ids(user)
    return bool(orgs) if organisation is None else organisation.pk in orgs


def can_edit_achievement(user: Any, achievement: Achievement) -> bool:
    return permissions.is_business_user(user) and achievement.owner_id in _orgs(user)


def can_edit_demand(user: Any, demand: TechDemand) -> bool:
    return permissions.is_business_user(user) and demand.organisation_id in _orgs(user)


def can_view_achievement(user: Any, achievement: Achievement) -> bool:
    from sciencecity.transfer.selectors import achievement_queryset

    return achievement_queryset(user).filter(pk=achievement.pk).exists()


def can_view_demand(user: Any, demand: TechDemand) -> bool:
    from sciencecity.transfer.selectors import demand_queryset

    return demand_queryset(user).filter(pk=demand.pk).exists()


def can_read_achievement_details(user: Any, achievement: Achievement) -> bool:
    """IP, asking terms and inventors: logged-in business users who see the listing (not anonymous)."""
    return permissions.is_business_user(user) and can_view_achievement(user, achievement)


def can_read_demand_description(user: Any, demand: TechDemand) -> bool:
    """The full text: anyone who sees a non-confidential demand; the owner and deal parties otherwise."""
    if not demand.confidential:
        return can_view_demand(user, demand)
    if not permissions.is_business_user(user):
        return False
    from sciencecity.transfer.selectors import _deal_party

    orgs = _orgs(user)
    return demand.organisation_id in orgs or Deal.objects.filter(_deal_party(orgs, demand=demand)).exists()


def is_buyer(user: Any, deal: Deal) -> bool:
    return deal.buyer_id in enterprise_organisation_ids(user)


def is_seller(user: Any, deal: Deal) -> bool:
    return deal.seller_id in _business_orgs(user)


def is_party(user: Any, deal: Deal) -> bool:
    return is_buyer(user, deal) or is_seller(user, deal)


def is_deal_broker(user: Any, deal: Deal) -> bool:
    return deal.broker_id is not None and permissions.is_business_user(user) \
        and getattr(user, "person_id", None) == deal.broker_id


def can_express_interest(user: Any) -> bool:
    return bool(enterprise_organisation_ids(user))


def can_see_contacts(user: Any, deal: Deal) -> bool:
    """Both sides' contacts: once the owner has consented (by accepting), to the parties and the bureau."""
    return deal.contact_consent and (is_party(user, deal) or permissions.is_bureau_officer(user)
                                     or is_deal_broker(user, deal))


def can_set_broker(user: Any, deal: Deal) -> bool:
    return deal.state in OPEN_STATES and (is_party(user, deal) or permissions.is_bureau_officer(user))


def can_file_contract(user: Any, seller: Organisation | None = None) -> bool:
    """The seller's users file the registration."""
    orgs = _business_orgs(user)
    return bool(orgs) if seller is None else seller.pk in orgs


def operator_carrier_ids(user: Any) -> set[int]:
    if not permissions.has_role(user, Role.INCUBATOR_OPERATOR):
        return set()
    return set(user.memberships.filter(role=Role.INCUBATOR_OPERATOR, organisation__isnull=False)
               .values_list("organisation_id", flat=True))


def can_manage_incubation(user: Any) -> bool:
    return permissions.is_bureau_officer(user) or bool(operator_carrier_ids(user))


def can_move_startup(user: Any, startup: Startup | None, carrier: Organisation | None) -> bool:
    """The bureau: any move; an operator: moves into its carrier, or out of it."""
    if permissions.is_bureau_officer(user):
        return True
    own = operator_carrier_ids(user)
    return bool(own) and ((carrier is not None and carrier.pk in own)
                          or (startup is not None and startup.carrier_id in own))


def can_view_incubation(user: Any) -> bool:
    return permissions.is_business_user(user)


def can_import_listings(user: Any) -> bool:
    """The bureau loads achievements and demands in bulk from a spreadsheet."""
    return permissions.is_bureau_officer(user)


def register() -> None:
    from sciencecity.transfer import selectors

    permissions.register_many(
        "transfer", use=can_use_marketplace, create_achievement=can_create_achievement,
        create_demand=can_create_demand, edit_achievement=can_edit_achievement,
        edit_demand=can_edit_demand, read_achievement_details=can_read_achievement_details,
        read_demand_description=can_read_demand_description, express_interest=can_express_interest,
        see_deal_contacts=can_see_contacts, set_broker=can_set_broker, file_contract=can_file_contract,
        manage_incubation=can_manage_incubation, import_listings=can_import_listings, view_incubation=can_view_incubation,
    )
    permissions.register("transfer.view_achievement", can_view_achievement,
                         scope=lambda user, qs: qs & selectors.achievement_queryset(user))
    permissions.register("transfer.view_demand", can_view_demand,
                         scope=lambda user, qs: qs & selectors.demand_queryset(user))
