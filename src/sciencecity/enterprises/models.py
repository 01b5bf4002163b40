"""Enterprise services: the profile of an enterprise on the registry's organisation (yearly financial
and staff data as in enterprise-assessment-format.md, IP portfolio, standards, incidents) and tiered
cultivation (criteria, membership with history).

Certificates (高新技术企业, 科技型中小企业 with its 入库登记编号 as the number, 专精特新) are the
registry's ``Certification`` rows with their validity, so the indicator of certified enterprises
and these pages read one source; the 年报 filed on a high-tech certificate is kept here.

Amounts are 万元 (10k CNY) as ``Decimal``; staff are head counts (全年月平均数 or month by month).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel
from sciencecity.enterprises.choices import (
    IncidentKind,
    IpAcquisition,
    IpClass,
    IpKind,
    TechnologyDomain,
    Tier,
)

USER = settings.AUTH_USER_MODEL
NON_NEGATIVE = [MinValueValidator(0)]


def amount_field(label, *, signed: bool = False):
    """A 万元 amount: up to 10^12 万元, two decimals, empty = not known."""
    return models.DecimalField(label, max_digits=16, decimal_places=2, null=True, blank=True,
                               validators=[] if signed else NON_NEGATIVE)


def staff_field(label):
    return models.DecimalField(label, max_digits=10, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE)


class EnterpriseProfile(BaseModel):
    """企业画像. The assessment data of one enterprise of the registry (one per organisation)."""

    organisation = models.OneToOneField("registry.Organisation", verbose_name=_("enterprise"),
                                        on_delete=models.PROTECT, related_name="enterprise_profile")
    technology_domain = models.CharField(_("high-tech domain (国家重点支持的高新技术领域)"), max_length=20,
                                         choices=TechnologyDomain.choices, blank=True)
    standards_drafted = models.PositiveIntegerField(_("standards drafted (national, industry, local, group)"),
                                                    null=True, blank=True)
    self_rating = models.JSONField(_("self-rating of the expert-judged items"), default=dict, blank=True)
    valuation = amount_field(_("latest valuation (10k CNY)"))
    resident_mainland = models.BooleanField(_("resident enterprise in mainland China"), null=True, blank=True)
    forbidden_industry = models.BooleanField(_("products in a forbidden, restricted or obsolete category"), null=True,
                                             blank=True)
    incidents_declared = models.BooleanField(
        _("incidents declared (the list of incidents is complete)"), default=False)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["organisation__name", "id"]
        verbose_name = _("enterprise profile")
        verbose_name_plural = _("enterprise profiles")

    def __str__(self) -> str:
        return str(self.organisation)


class FiscalYear(BaseModel):
    """年度财务与人员数据. One fiscal year's figures of an enterprise (万元)."""

    profile = models.ForeignKey(EnterpriseProfile, verbose_name=_("enterprise profile"), on_delete=models.CASCADE,
                                related_name="fiscal_years")
    year = models.PositiveSmallIntegerField(_("fiscal year"), validators=[MinValueValidator(1980),
                                                                         MaxValueValidator(2100)])
    main_revenue = amount_field(_("main business revenue (主营业务收入)"))
    other_revenue = amount_field(_("other business revenue (其他业务收入)"))
    total_income = amount_field(_("total income (收入总额)"))
    non_taxable_income = amount_field(_("non-taxable income (不征税收入)"))
    high_tech_revenue = amount_field(_("high-tech product and service revenue (高新技术产品（服务）收入)"))
    technical_income = amount_field(_("technical income (技术性收入)"))
    rd_personnel = amount_field(_("R&D: personnel (人员人工费用)"))
    rd_direct = amount_field(_("R&D: direct inputs (直接投入费用)"))
    rd_depreciation = amount_field(_("R&D: depreciation (折旧费用)"))
    rd_amortisation = amount_field(_("R&D: amortisation of intangibles (无形资产摊销)"))
    rd_design = amount_field(_("R&D: design (设计费用)"))
    rd_equipment_testing = amount_field(_("R&D: equipment and testing (装备调试费用与试验费用)"))
    rd_commissioned_domestic = amount_field(_("R&D: commissioned in China (委托境内研发)"))
    rd_commissioned_abroad = amount_field(_("R&D: commissioned abroad (委托境外研发)"))
    rd_other = amount_field(_("R&D: other (其他费用)"))
    net_assets = amount_field(_("net assets (净资产)"), signed=True)
    total_assets = amount_field(_("total assets (资产总额)"))
    total_costs = amount_field(_("total costs (成本费用总额)"))
    staff_average = staff_field(_("staff, monthly average (职工总数)"))
    st_staff_average = staff_field(_("S&T staff, monthly average (科技人员数)"))
    conversions = models.PositiveIntegerField(_("technology conversions (科技成果转化数)"), null=True, blank=True)

    class Meta:
        ordering = ["profile", "-year"]
        verbose_name = _("fiscal year")
        verbose_name_plural = _("fiscal years")
        constraints = [models.UniqueConstraint(fields=["profile", "year"], name="enterprise_fiscal_year_unique")]

    def __str__(self) -> str:
        return f"{self.profile} {self.year}"

    def clean(self) -> None:
        if (self.staff_average is not None and self.st_staff_average is not None
                and self.st_staff_average > self.staff_average):
            raise ValidationError({"st_staff_average": _("More S&T staff than staff.")})


class MonthlyStaff(BaseModel):
    """月度人数. 月初 / 月末 head counts of all staff and of S&T staff in one month."""

    fiscal_year = models.ForeignKey(FiscalYear, verbose_name=_("fiscal year"), on_delete=models.CASCADE,
                                    related_name="months")
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    start = models.PositiveIntegerField(_("staff at month start"))
    end = models.PositiveIntegerField(_("staff at month end"))
    st_start = models.PositiveIntegerField(_("S&T staff at month start"))
    st_end = models.PositiveIntegerField(_("S&T staff at month end"))

    class Meta:
        ordering = ["fiscal_year", "month"]
        verbose_name = _("monthly staff")
        verbose_name_plural = _("monthly staff")
        constraints = [models.UniqueConstraint(fields=["fiscal_year", "month"], name="enterprise_month_unique")]

    def __str__(self) -> str:
        return f"{self.fiscal_year}-{self.month:02d}"


class IntellectualProperty(BaseModel):
    """知识产权. One IP right of the enterprise: class Ⅰ/Ⅱ, kind, how obtained, when granted."""

    profile = models.ForeignKey(EnterpriseProfile, verbose_name=_("enterprise profile"), on_delete=models.CASCADE,
                                related_name="ip_rights")
    ip_class = models.CharField(_("class"), max_length=2, choices=IpClass.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=IpKind.choices)
    acquired = models.CharField(_("how obtained"), max_length=12, choices=IpAcquisition.choices,
                                default=IpAcquisition.OWN)
    number = models.CharField(_("number"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    granted_on = models.DateField(_("granted on"), null=True, blank=True)

    class Meta:
        ordering = ["profile", "ip_class", "granted_on", "id"]
        verbose_name = _("intellectual property right")
        verbose_name_plural = _("intellectual property rights")

    def __str__(self) -> str:
        return self.number or self.title or self.get_kind_display()


class AnnualReport(BaseModel):
    """高企年报. The yearly report of a high-tech enterprise on one year of its certificate's validity,
    filed before 31 May of the next year (the certificate itself is the registry's ``Certification``)."""

    certification = models.ForeignKey("registry.Certification", verbose_name=_("certificate"),
                                      on_delete=models.CASCADE, related_name="annual_reports")
    year = models.PositiveSmallIntegerField(_("reported year"))
    filed_on = models.DateField(_("filed on"))
    filed_by = models.ForeignKey(USER, verbose_name=_("filed by"), on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")

    class Meta:
        ordering = ["certification", "year"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [models.UniqueConstraint(fields=["certification", "year"], name="enterprise_annual_report_unique")]

    def __str__(self) -> str:
        return f"{self.certification} {self.year}"


class Incident(BaseModel):
    """重大安全、重大质量事故或严重环境违法行为 (办法 第十一条(八))."""

    profile = models.ForeignKey(EnterpriseProfile, verbose_name=_("enterprise profile"), on_delete=models.CASCADE,
                                related_name="incidents")
    kind = models.CharField(_("kind"), max_length=12, choices=IncidentKind.choices)
    occurred_on = models.DateField(_("occurred on"))
    description = models.CharField(_("description"), max_length=500, blank=True)

    class Meta:
        ordering = ["profile", "-occurred_on"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on}"


class TierCriteria(BaseModel):
    """梯次培育标准. The bureau's criteria of one tier; empty bounds are not checked.

    For the reserve pool: ``margin`` is how close (a share of the threshold) a failed hard condition
    or the maximum score may be to count as "nearly" eligible."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, unique=True)
    min_sales = amount_field(_("minimum sales of the latest year (10k CNY)"))
    max_sales = amount_field(_("maximum sales of the latest year (10k CNY)"))
    min_growth = models.DecimalField(_("minimum sales growth of the latest year (share, 0.2 = 20 %)"), max_digits=8,
                                     decimal_places=4, null=True, blank=True)
    min_rd_ratio = models.DecimalField(_("minimum R&D share of sales (0.05 = 5 %)"), max_digits=8, decimal_places=4,
                                       null=True, blank=True, validators=NON_NEGATIVE)
    max_age_years = models.PositiveSmallIntegerField(_("maximum age (years since registration)"), null=True,
                                                     blank=True)
    min_valuation = amount_field(_("minimum valuation (10k CNY)"))
    margin = models.DecimalField(_("margin to a threshold (share, 0.1 = 10 %)"), max_digits=5, decimal_places=4,
                                 null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    updated_by = models.ForeignKey(USER, verbose_name=_("updated by"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")

    class Meta:
        ordering = ["tier"]
        verbose_name = _("tier criteria")
        verbose_name_plural = _("tier criteria")

    def __str__(self) -> str:
        return self.get_tier_display()

    def clean(self) -> None:
        if self.min_sales is not None and self.max_sales is not None and self.min_sales > self.max_sales:
            raise ValidationError({"max_sales": _("Below the minimum sales.")})


class TierMembership(BaseModel):
    """梯次库成员. One stay of an enterprise in a tier: who or what entered and removed it, when, why.
    The current members are the rows without ``left_at``."""

    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                     related_name="tier_memberships")
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, db_index=True)
    entered_at = models.DateTimeField(_("entered at"))
    entered_by = models.ForeignKey(USER, verbose_name=_("entered by"), on_delete=models.SET_NULL, null=True,
                                   blank=True, related_name="+")
    entered_reason = models.CharField(_("reason for entering"), max_length=500)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    left_by = models.ForeignKey(USER, verbose_name=_("left by"), on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    left_reason = models.CharField(_("reason for leaving"), max_length=500, blank=True)
    certified = models.BooleanField(_("left by becoming a certified high-tech enterprise"), default=False)

    class Meta:
        ordering = ["-entered_at", "id"]
        verbose_name = _("tier membership")
        verbose_name_plural = _("tier memberships")
        constraints = [models.UniqueConstraint(fields=["organisation", "tier"], condition=models.Q(left_at__isnull=True),
                                               name="enterprise_tier_one_open_stay")]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.get_tier_display()}"
