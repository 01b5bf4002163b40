"""科技金融. Financial products with eligibility on the rules engine, enterprises' financing needs,
and the matchmaking pipeline (request → introduced → due diligence → funded / declined)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel
from sciencecity.enterprises.finance.choices import MatchState, NeedStatus, ProductKind, ProductStatus

USER = settings.AUTH_USER_MODEL
POSITIVE = [MinValueValidator(0)]


class FinancialProduct(BaseModel):
    """金融产品. A loan, fund or insurance product of a bank, fund or insurer, with its eligibility rule."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices, db_index=True)
    provider = models.ForeignKey("registry.Organisation", verbose_name=_("provider"), on_delete=models.PROTECT,
                                 related_name="financial_products")
    min_amount = models.DecimalField(_("minimum amount (10k CNY)"), max_digits=16, decimal_places=2, null=True,
                                     blank=True, validators=POSITIVE)
    max_amount = models.DecimalField(_("maximum amount (10k CNY)"), max_digits=16, decimal_places=2, null=True,
                                     blank=True, validators=POSITIVE)
    term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    rate_note = models.CharField(_("rate or price"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    rule = models.TextField(_("eligibility rule"))
    status = models.CharField(_("status"), max_length=10, choices=ProductStatus.choices, default=ProductStatus.ACTIVE,
                              db_index=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("financial product")
        verbose_name_plural = _("financial products")
        constraints = [
            models.CheckConstraint(condition=models.Q(min_amount__isnull=True) | models.Q(max_amount__isnull=True)
                                   | models.Q(max_amount__gte=models.F("min_amount")),
                                   name="financial_product_amount_order"),
        ]

    def __str__(self) -> str:
        return self.name


class FinancingNeed(BaseModel):
    """融资需求. What an enterprise wants to raise, for what, and through which kind of product."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                     related_name="financing_needs")
    kind = models.CharField(_("kind of product wanted"), max_length=20, choices=ProductKind.choices, blank=True)
    amount = models.DecimalField(_("amount (10k CNY)"), max_digits=16, decimal_places=2,
                                 validators=[MinValueValidator(0.01)])
    purpose = models.TextField(_("purpose"))
    status = models.CharField(_("status"), max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN,
                              db_index=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("financing need")
        verbose_name_plural = _("financing needs")

    def __str__(self) -> str:
        return f"{self.organisation} · {self.amount}"


class FinanceMatch(BaseModel):
    """融资撮合. One need brought to one product, through the pipeline; ``funded_amount`` and
    ``funded_on`` feed the finance indicator."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    need = models.ForeignKey(FinancingNeed, verbose_name=_("financing need"), on_delete=models.PROTECT,
                             related_name="matches")
    product = models.ForeignKey(FinancialProduct, verbose_name=_("financial product"), on_delete=models.PROTECT,
                                related_name="matches")
    state = models.CharField(_("state"), max_length=16, choices=MatchState.choices, default=MatchState.REQUESTED,
                             db_index=True)
    funded_amount = models.DecimalField(_("funded amount (10k CNY)"), max_digits=16, decimal_places=2, null=True,
                                        blank=True, validators=POSITIVE)
    funded_on = models.DateField(_("funded on"), null=True, blank=True, db_index=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("finance match")
        verbose_name_plural = _("finance matches")
        constraints = [models.UniqueConstraint(fields=["need", "product"], name="finance_match_unique")]

    def __str__(self) -> str:
        return self.code
