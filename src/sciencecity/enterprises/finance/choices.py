"""Choices of tech finance (科技金融)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductKind(models.TextChoices):
    IP_PLEDGE = "ip_pledge", _("IP-pledge loan (知识产权质押贷款)")
    CREDIT_LOAN = "credit_loan", _("Credit loan (信用贷款)")
    INVESTMENT_LOAN = "investment_loan", _("Investment-loan linkage (投贷联动)")
    EQUITY_FUND = "equity_fund", _("Equity fund (股权投资基金)")
    INSURANCE = "insurance", _("Tech insurance (科技保险)")


class ProductStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class MatchState(models.TextChoices):
    """融资撮合: request → introduced → due diligence → funded / declined."""

    REQUESTED = "requested", _("Requested")
    INTRODUCED = "introduced", _("Introduced")
    DUE_DILIGENCE = "due_diligence", _("Due diligence")
    FUNDED = "funded", _("Funded")
    DECLINED = "declined", _("Declined")
