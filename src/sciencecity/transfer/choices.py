"""Choices of the technology-transfer marketplace."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TransferMode(models.TextChoices):
    ASSIGNMENT = "assignment", _("Assignment (转让)")
    LICENCE = "licence", _("Licence (许可)")
    EQUITY = "equity", _("Equity contribution (作价入股)")
    CO_DEVELOPMENT = "co_development", _("Joint development (合作开发)")
    SERVICE = "service", _("Technical service (技术服务)")


class IpType(models.TextChoices):
    INVENTION_PATENT = "invention_patent", _("Invention patent")
    UTILITY_MODEL = "utility_model", _("Utility model")
    DESIGN = "design", _("Design patent")
    SOFTWARE = "software", _("Software copyright")
    IC_LAYOUT = "ic_layout", _("IC layout design")
    PLANT_VARIETY = "plant_variety", _("Plant variety")
    KNOW_HOW = "know_how", _("Know-how / technical secret")
    NONE = "none", _("No registered IP")


class IpStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    GRANTED = "granted", _("Granted / in force")
    EXPIRED = "expired", _("Expired")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    REGISTERED = "registered", _("Registered users")
    INVITED = "invited", _("Invited organisations")


class ListingStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class FeedbackLabel(models.TextChoices):
    INTERESTING = "interesting", _("Interesting")
    TOO_EARLY = "too_early", _("Too early")
    ADVANTAGE_UNCLEAR = "advantage_unclear", _("Advantage unclear")
    ROUTE_UNCLEAR = "route_unclear", _("Route to market unclear")
    NOT_RELEVANT = "not_relevant", _("Not relevant")


class DealState(models.TextChoices):
    INTEREST = "interest", _("Expression of interest")
    CONTACT = "contact", _("Contacts exchanged")
    NEGOTIATION = "negotiation", _("Negotiation")
    AGREED = "agreed", _("Agreement")
    REGISTERED = "registered", _("Contract registered")
    DECLINED = "declined", _("Declined")
    CLOSED = "closed", _("Closed without agreement")


#: Deals still in progress (a party or the bureau may still act on them).
OPEN_STATES = (DealState.INTEREST, DealState.CONTACT, DealState.NEGOTIATION, DealState.AGREED)


class ContractType(models.TextChoices):
    """技术合同认定登记 types."""

    DEVELOPMENT = "development", _("Technology development (技术开发)")
    TRANSFER = "transfer", _("Technology transfer (技术转让)")
    LICENCE = "licence", _("Technology licence (技术许可)")
    CONSULTING = "consulting", _("Technical consulting (技术咨询)")
    SERVICE = "service", _("Technical service (技术服务)")


class IncubationStage(models.TextChoices):
    CONCEPT = "concept", _("Concept verification (概念验证)")
    MAKER_SPACE = "maker_space", _("Maker space (众创空间)")
    INCUBATOR = "incubator", _("Incubator (孵化器)")
    ACCELERATOR = "accelerator", _("Accelerator (加速器)")
    PARK = "park", _("Science park (科技园区)")
    GRADUATED = "graduated", _("Graduated")
    CLOSED = "closed", _("Closed")
