"""The incubation pipeline: 概念验证 → 众创空间 → 孵化器 → 加速器 → 科技园区, then graduated (or closed).

A start-up is a registry enterprise (often a spin-off of an achievement). Each move opens a
:class:`StartupStage` with its carrier (a registry organisation of the stage's kind) and closes
the previous one on the day of the move. Bureau officers move any start-up; an incubator operator
(role ``incubator_operator``) moves start-ups into or out of its own carrier.

Graduation rate of a cohort = start-ups that graduated / start-ups that entered the pipeline that
year (the year of their first stage).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction
from sciencecity.registry.choices import OrganisationKind
from sciencecity.registry.models import Organisation
from sciencecity.transfer.choices import IncubationStage
from sciencecity.transfer.models import Achievement, Startup, StartupStage
from sciencecity.transfer.permissions import can_move_startup

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: The pipeline's stages in order, each with the kind of carrier that hosts it.
PIPELINE = (
    (IncubationStage.CONCEPT, OrganisationKind.CONCEPT_VERIFICATION_CENTRE),
    (IncubationStage.MAKER_SPACE, OrganisationKind.MAKER_SPACE),
    (IncubationStage.INCUBATOR, OrganisationKind.INCUBATOR),
    (IncubationStage.ACCELERATOR, OrganisationKind.ACCELERATOR),
    (IncubationStage.PARK, OrganisationKind.SCIENCE_PARK),
)
CARRIER_KIND = dict(PIPELINE)
CARRIER_KINDS = tuple(CARRIER_KIND.values())
FINAL_STAGES = (IncubationStage.GRADUATED, IncubationStage.CLOSED)


# --- permissions


# --- writes
def _check_move(stage: str, carrier: Organisation | None, entered_on: dt.date, current: StartupStage | None,
                organisation: Organisation) -> None:
    if organisation.kind != OrganisationKind.ENTERPRISE:
        raise ValidationError({"organisation": _("A start-up is an enterprise in the registry.")})
    if stage not in IncubationStage.values:
        raise ValidationError({"stage": _("Choose a stage.")})
    if stage in CARRIER_KIND:
        if carrier is None:
            raise ValidationError({"carrier": _("Choose the carrier hosting this stage.")})
        if carrier.kind != CARRIER_KIND[stage]:
            raise ValidationError({"carrier": _("A “%(stage)s” stage is hosted by a %(kind)s.") % {
                "stage": IncubationStage(stage).label, "kind": OrganisationKind(CARRIER_KIND[stage]).label}})
    elif carrier is not None:
        raise ValidationError({"carrier": _("A graduated or closed start-up has no carrier.")})
    if entered_on > timezone.localdate():
        raise ValidationError({"entered_on": _("The date cannot be in the future.")})
    if current is not None:
        if current.stage in FINAL_STAGES:
            raise ValidationError({"stage": _("The start-up has already left the pipeline (“%(stage)s”).") % {
                "stage": IncubationStage(current.stage).label}})
        if current.stage == stage and current.carrier_id == (carrier.pk if carrier else None):
            raise ValidationError({"stage": _("The start-up is already at this stage with this carrier.")})
        if entered_on < current.entered_on:
            raise ValidationError({"entered_on": _("The move cannot be dated before the current stage began (%(day)s).")
                                   % {"day": current.entered_on.isoformat()}})
    elif stage in FINAL_STAGES:
        raise ValidationError({"stage": _("A start-up enters the pipeline at one of its stages.")})


@transaction.atomic
def _startup_move(*, actor: User | None, organisation: Organisation, stage: str, entered_on: dt.date,
                 carrier: Organisation | None = None, achievement: Achievement | None = None,
                 check_permission: bool) -> Startup:
    """Put ``organisation`` at ``stage`` (with ``carrier``) from ``entered_on``; the open stage closes that day."""
    startup = Startup.objects.select_for_update().filter(organisation=organisation).first()
    if check_permission:
        permissions.require(can_move_startup(actor, startup, carrier))
    current = startup.stages.order_by("-entered_on", "-pk").first() if startup else None
    _check_move(stage, carrier, entered_on, current, organisation)
    old = {"stage": startup.stage, "carrier": startup.carrier_id} if startup else {}
    if startup is None:
        startup = Startup(organisation=organisation, achievement=achievement)
    elif achievement is not None:
        startup.achievement = achievement
    startup.stage, startup.carrier = stage, carrier
    startup.full_clean()
    startup.save()
    if current is not None:
        current.left_on = entered_on
        current.save(update_fields=["left_on", "updated_at"])
    StartupStage.objects.create(startup=startup, stage=stage, carrier=carrier, entered_on=entered_on,
                                left_on=entered_on if stage in FINAL_STAGES else None)
    audit_record(action=AuditAction.TRANSITION if old else AuditAction.CREATE, actor=actor, obj=startup,
                 object_repr=organisation.name,
                 changes={"stage": [old.get("stage"), stage], "carrier": [old.get("carrier"), startup.carrier_id],
                          "entered_on": [None, entered_on.isoformat()],
                          **({"achievement": [None, achievement.pk]} if achievement else {})})
    return startup


def startup_move(
    *,
    actor: User | None,
    organisation: Organisation,
    stage: str,
    entered_on: dt.date,
    carrier: Organisation | None = None,
    achievement: Achievement | None = None,
) -> Startup:
    """:func:`_startup_move` for a user: the actor's permission is checked first."""
    return _startup_move(actor=actor, organisation=organisation, stage=stage, entered_on=entered_on,
                         carrier=carrier, achievement=achievement, check_permission=True)


def startup_move_unchecked(**kwargs: Any) -> Startup:
    """Internal: :func:`startup_move` without the permission check (importers, services that checked already)."""
    return _startup_move(**kwargs, check_permission=False)


# --- reads
@dataclass
class CohortRow:
    year: int
    entered: int
    graduated: int

    @property
    def rate(self) -> float | None:
        return round(100 * self.graduated / self.entered, 1) if self.entered else None


def stage_counts() -> list[tuple[str, str, int]]:
    """(stage, label, start-ups currently there) for every stage, in pipeline order."""
    counts = {s: 0 for s in IncubationStage.values}
    for stage in Startup.objects.values_list("stage", flat=True):
        counts[stage] += 1
    return [(s, str(IncubationStage(s).label), counts[s]) for s in IncubationStage.values]


def cohorts() -> list[CohortRow]:
    """Graduation rate per cohort year (the year a start-up entered the pipeline)."""
    rows: dict[int, CohortRow] = {}
    for item in Startup.objects.annotate(first=Min("stages__entered_on")).values("first", "stage"):
        if item["first"] is None:
            continue
        row = rows.setdefault(item["first"].year, CohortRow(item["first"].year, 0, 0))
        row.entered += 1
        row.graduated += item["stage"] == IncubationStage.GRADUATED
    return [rows[y] for y in sorted(rows)]


def graduation_rate(rows: list[CohortRow] | None = None) -> float | None:
    """All cohorts together, in per cent."""
    rows = cohorts() if rows is None else rows
    return CohortRow(0, sum(r.entered for r in rows), sum(r.graduated for r in rows)).rate


def carriers() -> QuerySet[Organisation]:
    """Concept-verification centres, maker spaces, incubators, accelerators and parks with their incubatees."""
    incubatees = Startup.objects.select_related("organisation", "achievement").order_by("organisation__name")
    return (Organisation.objects.filter(kind__in=CARRIER_KINDS).order_by("kind", "name")
            .prefetch_related(Prefetch("incubatees", queryset=incubatees)))


def startups() -> QuerySet[Startup]:
    return Startup.objects.select_related("organisation", "carrier", "achievement").prefetch_related("stages")
