"""Technology-transfer marketplace: achievements (supply) and demands, matches with feedback,
deals through to registered technology contracts, brokers, topic watches, the incubation pipeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel, StoredVector
from sciencecity.transfer.choices import (
    ContractType,
    DealState,
    FeedbackLabel,
    IncubationStage,
    IpStatus,
    IpType,
    ListingStatus,
    Visibility,
)

USER = settings.AUTH_USER_MODEL


class Listing(BaseModel):
    """What an achievement and a demand share: a code, a title, fields and keywords, a status."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    sectors = models.ManyToManyField("registry.Sector", verbose_name=_("fields"), blank=True, related_name="+")
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=ListingStatus.choices, default=ListingStatus.ACTIVE)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Achievement(Listing):
    """科技成果. A research result offered for transfer."""

    owner = models.ForeignKey("registry.Organisation", verbose_name=_("owner organisation"), on_delete=models.PROTECT,
                              related_name="achievements")
    abstract = models.TextField(_("abstract"))
    trl = models.PositiveSmallIntegerField(_("technology readiness level (TRL 1–9)"))
    ip_type = models.CharField(_("IP type"), max_length=20, choices=IpType.choices, default=IpType.NONE)
    ip_number = models.CharField(_("IP number"), max_length=64, blank=True)
    ip_status = models.CharField(_("IP status"), max_length=10, choices=IpStatus.choices, blank=True)
    ip_holders = models.CharField(_("IP holders"), max_length=300, blank=True)
    inventors = models.CharField(_("inventors"), max_length=300, blank=True)
    modes = models.JSONField(_("transfer modes"), default=list)
    asking_terms = models.CharField(_("asking terms"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    invited = models.ManyToManyField("registry.Organisation", verbose_name=_("invited organisations"), blank=True,
                                     related_name="+")

    class Meta(Listing.Meta):
        verbose_name = _("achievement")
        verbose_name_plural = _("achievements")
        constraints = [models.CheckConstraint(condition=models.Q(trl__gte=1, trl__lte=9), name="achievement_trl_range")]


class TechDemand(Listing):
    """技术需求. An enterprise's technology need; the full text is shown only to matched parties when confidential."""

    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                     related_name="tech_demands")
    public_summary = models.TextField(_("public summary"))
    description = models.TextField(_("full description"), blank=True)
    confidential = models.BooleanField(_("full text only for matched parties"), default=False)
    budget_min = models.DecimalField(_("budget from (10k CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    budget_max = models.DecimalField(_("budget to (10k CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    deadline = models.DateField(_("needed by"), null=True, blank=True)
    modes = models.JSONField(_("preferred modes"), default=list, blank=True)
    min_trl = models.PositiveSmallIntegerField(_("minimum TRL"), null=True, blank=True)

    class Meta(Listing.Meta):
        verbose_name = _("technology demand")
        verbose_name_plural = _("technology demands")


class MatchFeedback(BaseModel):
    """Structured feedback on a suggestion, used to re-rank that user's suggestions."""

    user = models.ForeignKey(USER, verbose_name=_("user"), on_delete=models.CASCADE, related_name="match_feedback")
    demand = models.ForeignKey(TechDemand, verbose_name=_("demand"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="feedback")
    achievement = models.ForeignKey(Achievement, verbose_name=_("achievement"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="feedback")
    label = models.CharField(_("feedback"), max_length=20, choices=FeedbackLabel.choices)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("match feedback")
        verbose_name_plural = _("match feedback")
        constraints = [models.UniqueConstraint(fields=["user", "demand", "achievement"], name="feedback_unique")]


class Deal(BaseModel):
    """交易. Expression of interest → contact exchange (with consent) → negotiation → agreement → contract."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    achievement = models.ForeignKey(Achievement, verbose_name=_("achievement"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="deals")
    demand = models.ForeignKey(TechDemand, verbose_name=_("demand"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="deals")
    seller = models.ForeignKey("registry.Organisation", verbose_name=_("seller"), on_delete=models.PROTECT,
                               related_name="deals_selling")
    buyer = models.ForeignKey("registry.Organisation", verbose_name=_("buyer"), on_delete=models.PROTECT,
                              related_name="deals_buying")
    broker = models.ForeignKey("registry.Person", verbose_name=_("technology broker"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="brokered_deals")
    state = models.CharField(_("state"), max_length=12, choices=DealState.choices, default=DealState.INTEREST)
    message = models.TextField(_("message"), blank=True)
    contact_consent = models.BooleanField(_("owner consented to share contacts"), default=False)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")


class DealNote(BaseModel):
    """谈判记录."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(USER, verbose_name=_("author"), null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("note"))

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("negotiation note")
        verbose_name_plural = _("negotiation notes")


class TechContract(BaseModel):
    """技术合同认定登记. A registered technology contract; its amount feeds 技术合同成交金额."""

    deal = models.OneToOneField(Deal, verbose_name=_("deal"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="contract")
    contract_type = models.CharField(_("contract type"), max_length=12, choices=ContractType.choices)
    seller = models.ForeignKey("registry.Organisation", verbose_name=_("seller"), on_delete=models.PROTECT,
                               related_name="contracts_selling")
    buyer = models.ForeignKey("registry.Organisation", verbose_name=_("buyer"), on_delete=models.PROTECT,
                              related_name="contracts_buying")
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("contract amount (10k CNY)"), max_digits=14, decimal_places=2)
    technical_income = models.DecimalField(_("technical income (10k CNY)"), max_digits=14, decimal_places=2)
    registration_number = models.CharField(_("registration number"), max_length=40, unique=True)
    signed_on = models.DateField(_("signed on"))
    registered_on = models.DateField(_("registered on"))
    contract_file = models.FileField(_("written contract"), upload_to="transfer/contracts/%Y/")
    filed_by = models.ForeignKey(USER, verbose_name=_("filed by"), null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False)

    class Meta:
        ordering = ["-registered_on"]
        verbose_name = _("technology contract")
        verbose_name_plural = _("technology contracts")
        constraints = [models.CheckConstraint(condition=models.Q(technical_income__lte=models.F("amount")),
                                              name="contract_income_within_amount")]


class TopicWatch(BaseModel):
    """科技情报 topic: a saved query over listings, demands and funded projects, with alerts."""

    user = models.ForeignKey(USER, verbose_name=_("user"), on_delete=models.CASCADE, related_name="topic_watches")
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("query"), max_length=300)
    sector = models.ForeignKey("registry.Sector", verbose_name=_("field"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    last_alerted_at = models.DateTimeField(_("last alert"), null=True, blank=True)

    class Meta:
        ordering = ["user_id", "name"]
        verbose_name = _("topic watch")
        verbose_name_plural = _("topic watches")


class Startup(BaseModel):
    """孵化企业. A start-up (often a spin-off of an achievement) moving through the incubation pipeline."""

    organisation = models.OneToOneField("registry.Organisation", verbose_name=_("start-up"), on_delete=models.PROTECT,
                                        related_name="startup")
    achievement = models.ForeignKey(Achievement, verbose_name=_("spun off from"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="spinoffs")
    stage = models.CharField(_("stage"), max_length=12, choices=IncubationStage.choices)
    carrier = models.ForeignKey("registry.Organisation", verbose_name=_("carrier"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="incubatees")
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("start-up")
        verbose_name_plural = _("start-ups")


class StartupStage(BaseModel):
    """One stage of a start-up's path, with dates."""

    startup = models.ForeignKey(Startup, verbose_name=_("start-up"), on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField(_("stage"), max_length=12, choices=IncubationStage.choices)
    carrier = models.ForeignKey("registry.Organisation", verbose_name=_("carrier"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    entered_on = models.DateField(_("entered on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        ordering = ["startup_id", "entered_on"]
        verbose_name = _("start-up stage")
        verbose_name_plural = _("start-up stages")


class ListingVector(StoredVector):
    """The dense vector (语义向量) of a listing's text under one embedding model, persisted beside the
    in-memory lexical index: each process's index loads these instead of re-embedding (a background
    job computes them, ``transfer.services.vectors``). ``text_hash`` is the SHA-1 of the text that was
    embedded: a vector of an older text is stale and is recomputed."""

    source = models.CharField(_("source"), max_length=20)
    object_id = models.PositiveBigIntegerField(_("object id"))

    class Meta:
        verbose_name = _("listing vector")
        verbose_name_plural = _("listing vectors")
        constraints = [models.UniqueConstraint(fields=["source", "object_id", "model"], name="listing_vector_unique")]
        indexes = [models.Index(fields=["source", "model", "updated_at"], name="listing_vector_fresh")]

    def __str__(self) -> str:
        return f"{self.source}:{self.object_id} ({self.model})"
