"""惠企政策库. Policies whose eligibility is a rule of ``engines.rules.lang`` over the enterprise
profile fields (``engines.rules.fields``), evaluated for every enterprise at once."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel
from sciencecity.enterprises.policies.choices import PolicyStatus

USER = settings.AUTH_USER_MODEL


class Policy(BaseModel):
    """政策. A support policy: issuer, 文号, validity, benefit, amount formula, materials and the
    eligibility rule (text, validated against the profile fields when saved)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    issuer = models.CharField(_("issuer"), max_length=200)
    document_number = models.CharField(_("document number"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    application_opens = models.DateField(_("applications open"), null=True, blank=True)
    application_closes = models.DateField(_("applications close"), null=True, blank=True)
    benefit = models.TextField(_("benefit"))
    amount_formula = models.CharField(_("amount formula (10k CNY)"), max_length=500, blank=True)
    materials = models.TextField(_("materials"), blank=True)
    rule = models.TextField(_("eligibility rule"))
    without_application = models.BooleanField(_("granted without application (免申即享)"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT,
                              db_index=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")

    class Meta:
        ordering = ["-valid_from", "code"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_until__isnull=True)
                                   | models.Q(valid_until__gte=models.F("valid_from")),
                                   name="policy_validity_order"),
        ]

    def __str__(self) -> str:
        return self.title


class PolicyMatch(BaseModel):
    """政策匹配. An enterprise found eligible for a policy, remembered so that a new match notifies
    its users once; removed when the enterprise no longer qualifies."""

    policy = models.ForeignKey(Policy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="matches")
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                     related_name="policy_matches")
    amount = models.DecimalField(_("estimated amount (10k CNY)"), max_digits=16, decimal_places=2, null=True,
                                 blank=True, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["policy", "organisation"]
        verbose_name = _("policy match")
        verbose_name_plural = _("policy matches")
        constraints = [models.UniqueConstraint(fields=["policy", "organisation"], name="policy_match_unique")]

    def __str__(self) -> str:
        return f"{self.policy} · {self.organisation}"
