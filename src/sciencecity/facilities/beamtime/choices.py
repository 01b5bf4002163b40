"""Choices of facility time (机时) in one place."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoundState(models.TextChoices):
    """A round's states: proposals come in while open; then feasibility and review; then allocation."""

    OPEN = "open", _("Open for proposals")
    REVIEW = "review", _("Under review")
    ALLOCATED = "allocated", _("Shifts allocated")
    CLOSED = "closed", _("Closed")


class AllocationPolicy(models.TextChoices):
    OPTIMAL = "optimal", _("Optimal (largest total score)")
    RANK = "rank", _("Greedy by rank")


class ProposalState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ALLOCATED = "allocated", _("Shifts allocated")
    NOT_ALLOCATED = "not_allocated", _("Not allocated")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REPORTED = "reported", _("Experiment reported")


class Feasibility(models.TextChoices):
    """技术可行性. The beamline scientist's verdict on one requested beamline."""

    PENDING = "pending", _("Not yet assessed")
    FEASIBLE = "feasible", _("Feasible")
    PARTLY = "partly", _("Partly feasible")
    NOT_FEASIBLE = "not", _("Not feasible")


class ReviewState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    RELEASED = "released", _("Released to the reviewer")
    SUBMITTED = "submitted", _("Submitted")
