"""机时 models: rounds with shifts per beamline, proposals with requests per beamline, feasibility,
scientific reviews, the allocated schedule and experiment reports."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel
from sciencecity.engines.beamtime import MAX_SHIFTS
from sciencecity.facilities.beamtime.choices import (
    AllocationPolicy,
    Feasibility,
    ProposalState,
    ReviewState,
    RoundState,
)

USER = settings.AUTH_USER_MODEL
#: Hours of one shift (three 8-hour shifts a day, as synchrotrons count).
SHIFT_HOURS = 8


class BeamtimeRound(BaseModel):
    """机时申请轮次. A call for proposals on one facility's beamlines, with the shifts each can give."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    facility = models.ForeignKey("registry.Organisation", verbose_name=_("facility"), on_delete=models.PROTECT,
                                 related_name="beamtime_rounds")
    state = models.CharField(_("state"), max_length=10, choices=RoundState.choices, default=RoundState.OPEN,
                             db_index=True)
    closes_on = models.DateField(_("proposals close on"))
    schedule_starts_on = models.DateField(_("first day of the scheduled shifts"))
    reviews_per_proposal = models.PositiveSmallIntegerField(_("reviews per proposal"), default=2,
                                                            validators=[MinValueValidator(1), MaxValueValidator(9)])
    max_load = models.PositiveSmallIntegerField(_("maximum reviews per expert"), default=6,
                                                validators=[MinValueValidator(1), MaxValueValidator(200)])
    conflict_years = models.PositiveSmallIntegerField(_("conflict-of-interest window (years)"), default=3,
                                                      validators=[MaxValueValidator(20)])
    alliance_conflicts = models.BooleanField(_("same alliance is a conflict"), default=False)
    policy = models.CharField(_("allocation policy"), max_length=8, choices=AllocationPolicy.choices,
                              default=AllocationPolicy.OPTIMAL)
    allocation = models.JSONField(_("allocation summary"), default=dict, blank=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["-closes_on", "code"]
        verbose_name = _("facility time round")
        verbose_name_plural = _("facility time rounds")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class RoundBeamline(BaseModel):
    """线站机时. The shifts one beamline (an end-station instrument) gives in a round, some reserved for
    priority (industry rapid access, 机时优先保障)."""

    round = models.ForeignKey(BeamtimeRound, verbose_name=_("round"), on_delete=models.CASCADE,
                              related_name="beamlines")
    instrument = models.ForeignKey("facilities.Instrument", verbose_name=_("beamline"), on_delete=models.PROTECT,
                                   related_name="round_capacities")
    shifts = models.PositiveIntegerField(_("available shifts"), validators=[MaxValueValidator(MAX_SHIFTS)])
    reserved_shifts = models.PositiveIntegerField(_("shifts reserved for priority access"), default=0,
                                                  validators=[MaxValueValidator(MAX_SHIFTS)])

    class Meta:
        ordering = ["round", "instrument__code"]
        verbose_name = _("beamline capacity")
        verbose_name_plural = _("beamline capacities")
        constraints = [
            models.UniqueConstraint(fields=["round", "instrument"], name="round_beamline_unique"),
            models.CheckConstraint(condition=models.Q(reserved_shifts__lte=models.F("shifts")),
                                   name="round_beamline_reserve_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.round.code} {self.instrument.code}"


class BeamtimeProposal(BaseModel):
    """机时申请. A user proposal: team, samples, safety declaration and shifts asked per beamline."""

    round = models.ForeignKey(BeamtimeRound, verbose_name=_("round"), on_delete=models.PROTECT,
                              related_name="proposals")
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("organisation"),
                                     on_delete=models.PROTECT, related_name="beamtime_proposals")
    submitted_by = models.ForeignKey(USER, verbose_name=_("submitted by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="beamtime_proposals")
    applicant = models.ForeignKey("registry.Person", verbose_name=_("principal investigator"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="beamtime_proposals")
    team = models.ManyToManyField("registry.Person", verbose_name=_("team"), blank=True,
                                  related_name="beamtime_teams")
    title = models.CharField(_("title"), max_length=300)
    abstract = models.TextField(_("scientific case"))
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    samples = models.TextField(_("samples"))
    hazards = models.TextField(_("hazards (chemical, biological, radioactive, none)"))
    safety_declared = models.BooleanField(_("safety declaration signed"), default=False)
    priority = models.BooleanField(_("industry rapid access (priority shifts)"), default=False)
    state = models.CharField(_("state"), max_length=14, choices=ProposalState.choices,
                             default=ProposalState.SUBMITTED, db_index=True)
    score = models.FloatField(_("review score"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False, db_index=True)

    class Meta:
        ordering = ["round", "reference"]
        verbose_name = _("facility time proposal")
        verbose_name_plural = _("facility time proposals")
        constraints = [models.CheckConstraint(condition=models.Q(safety_declared=True),
                                              name="beamtime_proposal_safety_declared")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class ShiftRequest(BaseModel):
    """申请线站. Shifts a proposal asks for on one beamline; the scientist's feasibility verdict and the
    shifts granted; the shifts allocated and their place in the schedule."""

    proposal = models.ForeignKey(BeamtimeProposal, verbose_name=_("proposal"), on_delete=models.CASCADE,
                                 related_name="requests")
    beamline = models.ForeignKey(RoundBeamline, verbose_name=_("beamline"), on_delete=models.PROTECT,
                                 related_name="requests")
    shifts_requested = models.PositiveIntegerField(_("shifts requested"),
                                                   validators=[MinValueValidator(1), MaxValueValidator(MAX_SHIFTS)])
    feasibility = models.CharField(_("technical feasibility"), max_length=8, choices=Feasibility.choices,
                                   default=Feasibility.PENDING)
    shifts_granted = models.PositiveIntegerField(_("shifts granted"), null=True, blank=True,
                                                 validators=[MaxValueValidator(MAX_SHIFTS)])
    feasibility_note = models.TextField(_("feasibility comment"), blank=True)
    assessed_by = models.ForeignKey(USER, verbose_name=_("assessed by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    shifts_allocated = models.PositiveIntegerField(_("shifts allocated"), default=0)
    starts_at = models.DateTimeField(_("scheduled start"), null=True, blank=True)
    ends_at = models.DateTimeField(_("scheduled end"), null=True, blank=True)

    class Meta:
        ordering = ["proposal", "beamline__instrument__code"]
        verbose_name = _("shift request")
        verbose_name_plural = _("shift requests")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "beamline"], name="shift_request_unique_beamline"),
            models.CheckConstraint(condition=models.Q(shifts_granted__isnull=True) |
                                   models.Q(shifts_granted__lte=models.F("shifts_requested")),
                                   name="shift_request_granted_within_requested"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal.reference} {self.beamline.instrument.code} {self.shifts_requested}"


class BeamtimeReview(BaseModel):
    """科学评审. One expert's review of one proposal (assigned with the funding calls' conflict rules)."""

    proposal = models.ForeignKey(BeamtimeProposal, verbose_name=_("proposal"), on_delete=models.CASCADE,
                                 related_name="reviews")
    expert = models.ForeignKey("registry.Person", verbose_name=_("expert"), on_delete=models.PROTECT,
                               related_name="beamtime_reviews")
    state = models.CharField(_("state"), max_length=10, choices=ReviewState.choices, default=ReviewState.PROPOSED)
    affinity = models.FloatField(_("affinity"), default=0.0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    score = models.DecimalField(_("score (1–5, 5 best)"), max_digits=3, decimal_places=1, null=True, blank=True,
                                validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ["proposal", "-affinity", "id"]
        verbose_name = _("facility time review")
        verbose_name_plural = _("facility time reviews")
        constraints = [models.UniqueConstraint(fields=["proposal", "expert"], name="beamtime_review_unique_pair")]

    def __str__(self) -> str:
        return f"{self.proposal.reference} / {self.expert_id}"


class ExperimentReport(BaseModel):
    """实验报告. What the team did with its shifts: summary, results, publications."""

    proposal = models.OneToOneField(BeamtimeProposal, verbose_name=_("proposal"), on_delete=models.CASCADE,
                                    related_name="report")
    summary = models.TextField(_("summary"))
    results = models.TextField(_("results"), blank=True)
    publications = models.TextField(_("publications and data sets"), blank=True)
    shifts_used = models.PositiveIntegerField(_("shifts used"), validators=[MaxValueValidator(MAX_SHIFTS)])
    submitted_by = models.ForeignKey(USER, verbose_name=_("submitted by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("experiment report")
        verbose_name_plural = _("experiment reports")

    def __str__(self) -> str:
        return self.proposal.reference
