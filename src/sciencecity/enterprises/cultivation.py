"""Tiered cultivation (梯次培育): 雏凤 / 瞪羚 / 独角兽 and the high-tech reserve pool (高企后备库).

The bureau's criteria are data (``TierCriteria``). Membership is recomputed whenever an
enterprise's data change (the profile services call ``memberships_recompute``) or the criteria
change; each stay is a ``TierMembership`` row with who or what opened and closed it, when and why.

Reserve pool: an enterprise without a valid high-tech certificate whose self-assessment verdict is
"certain" or "possible", or "not yet" only by a small margin: every failed hard condition is one of
the ratio conditions (H4 S&T staff, H5 R&D intensity, H6 high-tech income) within ``margin`` of its
threshold, and the maximum score is at least (1 − margin) × 71.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core import jobs
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction, Job
from sciencecity.engines.rules import hnte
from sciencecity.engines.rules import profile as engine
from sciencecity.enterprises import selectors
from sciencecity.enterprises.choices import Tier
from sciencecity.enterprises.models import TierCriteria, TierMembership
from sciencecity.registry.models import Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: The criteria a fresh installation starts with (the bureau edits them): 万元, shares, years.
DEFAULT_CRITERIA: dict[str, dict[str, Any]] = {
    Tier.RESERVE: {"margin": Decimal("0.10")},
    Tier.CHUFENG: {"max_age_years": 5, "max_sales": Decimal("5000"), "min_rd_ratio": Decimal("0.05")},
    Tier.GAZELLE: {"max_age_years": 10, "min_sales": Decimal("1000"), "min_growth": Decimal("0.20")},
    Tier.UNICORN: {"max_age_years": 10, "min_valuation": Decimal("700000")},
}
CRITERIA_FIELDS = ("min_sales", "max_sales", "min_growth", "min_rd_ratio", "max_age_years", "min_valuation",
                   "margin")
#: Ratio conditions and the value/threshold keys of their ``values`` (engine ``hnte``).
MARGIN_CONDITIONS = {"H4": ("st_share", "required"), "H5": ("rd_ratio", "band"), "H6": ("share", None)}


def criteria() -> dict[str, TierCriteria]:
    """The criteria of every tier (the defaults are stored on first use)."""
    rows = {c.tier: c for c in TierCriteria.objects.all()}
    missing = [TierCriteria(tier=tier, **values) for tier, values in DEFAULT_CRITERIA.items() if tier not in rows]
    if missing:
        TierCriteria.objects.bulk_create(missing, ignore_conflicts=True)
        rows = {c.tier: c for c in TierCriteria.objects.all()}
    return rows


@dataclass(frozen=True)
class Metrics:
    """The figures the tier criteria read, from the latest fiscal year before the assessment day."""

    sales: Fraction | None
    growth: Fraction | None
    rd_ratio: Fraction | None
    age_years: Fraction | None
    valuation: Fraction | None


def metrics(record: engine.EnterpriseProfile, valuation: Decimal | None) -> Metrics:
    latest = record.year(record.assessed_on.year - 1)
    previous = record.year(record.assessed_on.year - 2)
    sales = latest.sales if latest else None
    growth = None
    if sales is not None and previous is not None and previous.sales:
        growth = sales / previous.sales - 1
    rd_ratio = None
    if latest is not None and latest.rd is not None and sales:
        rd = latest.rd
        rd_ratio = sum((getattr(rd, name) for name in engine.RD_CATEGORIES), Fraction(0)) / sales
    age = None
    if record.registered_on is not None:
        age = Fraction((record.assessed_on - record.registered_on).days, 365)
    return Metrics(sales=sales, growth=growth, rd_ratio=rd_ratio, age_years=age,
                   valuation=None if valuation is None else Fraction(valuation))


def _pct(value: Fraction) -> str:
    return f"{float(value) * 100:.1f}%"


def tier_reasons(tier: TierCriteria, m: Metrics) -> tuple[bool, list[str]]:
    """Whether ``m`` meets every set bound of ``tier``, with the reasons (a bound on a missing figure fails)."""
    checks = [
        ("min_sales", m.sales, lambda v, b: v >= b, _("sales %(value)s万 ≥ %(bound)s万"), str),
        ("max_sales", m.sales, lambda v, b: v <= b, _("sales %(value)s万 ≤ %(bound)s万"), str),
        ("min_growth", m.growth, lambda v, b: v >= b, _("growth %(value)s ≥ %(bound)s"), _pct),
        ("min_rd_ratio", m.rd_ratio, lambda v, b: v >= b, _("R&D %(value)s ≥ %(bound)s of sales"), _pct),
        ("max_age_years", m.age_years, lambda v, b: v <= b, _("%(value)s years old ≤ %(bound)s"), str),
        ("min_valuation", m.valuation, lambda v, b: v >= b, _("valuation %(value)s万 ≥ %(bound)s万"), str),
    ]
    reasons, ok = [], True
    for name, value, test, template, fmt in checks:
        bound = getattr(tier, name)
        if bound is None:
            continue
        bound = Fraction(bound)
        if value is None:
            return False, [_("%(field)s not known") % {"field": TierCriteria._meta.get_field(name).verbose_name}]
        shown = round(float(value), 1) if fmt is str else fmt(value)
        if not test(value, bound):
            ok = False
        reasons.append(template % {"value": shown, "bound": round(float(bound), 2) if fmt is str else fmt(bound)})
    return ok, reasons


def holds_valid_hnte(loaded: selectors.LoadedProfile, day: dt.date) -> bool:
    validity = loaded.certificates.get("hnte")
    return validity is not None and validity[0] <= day <= validity[1]


def reserve_reason(assessment: hnte.HnteAssessment, margin: Fraction) -> str | None:
    """Why the enterprise belongs in the reserve pool, or None."""
    if assessment.verdict == hnte.CERTAIN:
        return _("self-assessment: certain (%(min)s–%(max)s points)") % {"min": assessment.score_min,
                                                                         "max": assessment.score_max}
    if assessment.verdict == hnte.POSSIBLE:
        return _("self-assessment: possible (%(min)s–%(max)s points)") % {"min": assessment.score_min,
                                                                          "max": assessment.score_max}
    failed = [c for c in assessment.conditions if c.status == hnte.FAIL and c.code != "H7"]
    if not failed or assessment.score_max < (1 - margin) * hnte.PASS_SCORE:
        return None
    near = []
    for condition in failed:
        keys = MARGIN_CONDITIONS.get(condition.code)
        value = condition.values.get(keys[0]) if keys else None
        if value is None:
            return None
        threshold = condition.values.get(keys[1]) if keys[1] else float(hnte.HIGH_TECH_SHARE)
        if threshold is None or Fraction(repr(value)) < (1 - margin) * Fraction(repr(threshold)):
            return None
        near.append(f"{condition.code} {_pct(Fraction(repr(value)))} / {_pct(Fraction(repr(threshold)))}")
    return _("within %(margin)s of the threshold: %(conditions)s") % {"margin": _pct(margin),
                                                                      "conditions": "; ".join(near)}


def evaluate(loaded: selectors.LoadedProfile, day: dt.date, rows: dict[str, TierCriteria]) -> dict[str, str]:
    """tier → reason, for every tier the enterprise qualifies for on ``day``."""
    record = loaded.record
    result: dict[str, str] = {}
    m = metrics(record, loaded.valuation)
    for tier in (Tier.CHUFENG, Tier.GAZELLE, Tier.UNICORN):
        row = rows.get(tier)
        if row is None:
            continue
        ok, reasons = tier_reasons(row, m)
        if ok and reasons:
            result[tier] = "; ".join(reasons)
    reserve = rows.get(Tier.RESERVE)
    if reserve is not None and not holds_valid_hnte(loaded, day):
        reason = reserve_reason(hnte.assess(record), Fraction(reserve.margin or 0))
        if reason:
            result[Tier.RESERVE] = reason
    return result


@transaction.atomic
def memberships_recompute(*, actor: User | None = None, organisations: Iterable[Organisation] | None = None,
                          reason: str = "", day: dt.date | None = None,
                          progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Open and close tier stays to match the current data; one audit event lists every change.

    ``progress(done, total)`` is called every ``PROGRESS_EVERY`` enterprises (the background job's
    progress; it may raise to cancel, and the transaction then rolls back). Returns how many stays
    were opened and closed."""
    day = day or timezone.localdate()
    rows = criteria()
    org_ids = None if organisations is None else [o.pk for o in organisations]
    profiles = selectors.load_profiles(assessed_on=day, organisation_ids=org_ids)
    open_stays = TierMembership.objects.filter(left_at__isnull=True)
    if org_ids is not None:
        open_stays = open_stays.filter(organisation_id__in=org_ids)
    current: dict[tuple[int, str], TierMembership] = {(s.organisation_id, s.tier): s for s in open_stays}
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    opened: list[TierMembership] = []
    closed: list[TierMembership] = []
    lines: list[list[Any]] = []
    seen: set[tuple[int, str]] = set()
    for number, profile in enumerate(profiles):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number, len(profiles))
        qualified = evaluate(profile, day, rows)
        code = profile.record.id
        for tier, why in qualified.items():
            key = (profile.organisation_id, tier)
            seen.add(key)
            if key not in current:
                full = f"{reason}: {why}" if reason else why
                opened.append(TierMembership(organisation_id=profile.organisation_id, tier=tier, entered_at=now,
                                             entered_by=user, entered_reason=full[:500]))
                lines.append([code, tier, "entered", full[:500]])
        for tier in Tier.values:
            key = (profile.organisation_id, tier)
            stay = current.get(key)
            if stay is None or key in seen:
                continue
            certified = tier == Tier.RESERVE and holds_valid_hnte(profile, day)
            why = (_("certified as a high-tech enterprise") if certified
                   else _("criteria no longer met"))
            stay.left_at, stay.left_by, stay.certified = now, user, certified
            stay.left_reason = (f"{reason}: {why}" if reason else why)[:500]
            closed.append(stay)
            lines.append([code, tier, "left", stay.left_reason])
    if opened:
        TierMembership.objects.bulk_create(opened)
    if closed:
        TierMembership.objects.bulk_update(closed, ["left_at", "left_by", "certified", "left_reason", "updated_at"])
    if lines:
        audit_record(action=AuditAction.UPDATE, actor=actor, object_type=TierMembership._meta.label_lower,
                     object_repr=str(TierMembership._meta.verbose_name_plural),
                     changes={"reason": reason, "day": day.isoformat(), "changes": lines})
    if progress is not None:
        progress(len(profiles), len(profiles))
    return {"entered": len(opened), "left": len(closed)}


# --- the city-wide recomputation as a background job ---------------------------------------------
RECOMPUTE_KIND = "enterprises.tier_recompute"
#: Enterprises between two progress reports of the job.
PROGRESS_EVERY = 200


def tier_recompute_enqueue(*, actor: User | None, reason: str) -> Job:
    """Queue the recomputation of every enterprise's tiers (tens of seconds at city scale: a
    self-assessment per enterprise); the job page shows its progress and can cancel it."""
    from sciencecity.core import permissions as core_permissions
    from sciencecity.enterprises.models import EnterpriseProfile

    core_permissions.require(actor, "enterprises.manage_cultivation")
    return jobs.job_enqueue(kind=RECOMPUTE_KIND, actor=actor, total=EnterpriseProfile.objects.count(),
                            message=reason[:1000], params={"reason": reason[:400]})


def _run_recompute(job: Job, context: jobs.JobContext) -> dict[str, Any]:
    from django.urls import reverse

    counts = memberships_recompute(actor=job.created_by, reason=job.params.get("reason", ""),
                                   progress=lambda done, total: context.progress(
                                       done, total, _("%(done)s of %(total)s enterprises assessed") % {
                                           "done": done, "total": total}))
    return counts | {"url": reverse("enterprises:tiers")}


def register() -> None:
    jobs.register(RECOMPUTE_KIND, _run_recompute, label=gettext_lazy("Cultivation tiers: recompute every enterprise"))


@transaction.atomic
def tier_criteria_update(*, actor: User | None, tier: str, data: dict[str, Any],
                         recompute: bool = True) -> TierCriteria:
    """Change the criteria of ``tier`` (the bureau), then recompute every enterprise's membership."""
    from sciencecity.core import permissions as core_permissions
    from sciencecity.core.audit import diff, snapshot

    core_permissions.require(actor, "enterprises.manage_cultivation")
    row = criteria()[tier]
    before = snapshot(row, CRITERIA_FIELDS)
    for name in CRITERIA_FIELDS:
        if name in data:
            setattr(row, name, data[name])
    row.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    row.full_clean()
    row.save()
    changes = diff(before, snapshot(row, CRITERIA_FIELDS))
    if changes:
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=row, changes=changes)
        if recompute:
            memberships_recompute(actor=actor, reason=_("criteria of %(tier)s changed") % {
                "tier": row.get_tier_display()})
    return row
