"""Writes of enterprise profiles: the profile, fiscal years (with monthly staff), IP rights,
incidents, and the 年报 filed on a high-tech certificate. Each is validated (``full_clean``), audited in the same transaction,
and followed by the recomputation of the enterprise's cultivation tiers (data changed)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions as core_permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.engines.rules import hnte
from sciencecity.enterprises import permissions
from sciencecity.enterprises.models import (
    AnnualReport,
    EnterpriseProfile,
    FiscalYear,
    Incident,
    IntellectualProperty,
    MonthlyStaff,
)
from sciencecity.registry.choices import CertificationKind
from sciencecity.registry.models import Certification, Organisation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

PROFILE_FIELDS = ("technology_domain", "standards_drafted", "self_rating", "valuation", "resident_mainland",
                  "forbidden_industry", "incidents_declared", "is_synthetic")
YEAR_FIELDS = ("main_revenue", "other_revenue", "total_income", "non_taxable_income", "high_tech_revenue",
               "technical_income", "rd_personnel", "rd_direct", "rd_depreciation", "rd_amortisation", "rd_design",
               "rd_equipment_testing", "rd_commissioned_domestic", "rd_commissioned_abroad", "rd_other",
               "net_assets", "total_assets", "total_costs", "staff_average", "st_staff_average", "conversions")
MONTH_FIELDS = ("start", "end", "st_start", "st_end")
IP_FIELDS = ("ip_class", "kind", "acquired", "number", "title", "granted_on")
INCIDENT_FIELDS = ("kind", "occurred_on", "description")


def _check(actor: User | None, organisation: Organisation, check_permission: bool = True) -> None:
    if check_permission:
        core_permissions.require(actor, "enterprises.edit_profile", organisation)


def _recompute(actor: User | None, organisation: Organisation, reason: str) -> None:
    from sciencecity.enterprises.cultivation import memberships_recompute

    memberships_recompute(actor=actor, organisations=[organisation], reason=reason)


def profile_for(organisation: Organisation) -> EnterpriseProfile | None:
    return EnterpriseProfile.objects.filter(organisation=organisation).first()


@transaction.atomic
def _profile_save(*, actor: User | None, organisation: Organisation, data: dict[str, Any], check_permission: bool,
                  recompute: bool = True) -> EnterpriseProfile:
    """Create or change the enterprise profile of ``organisation`` (``data``: ``PROFILE_FIELDS``)."""
    _check(actor, organisation, check_permission)
    if organisation.kind != "enterprise":
        raise ValidationError({"organisation": _("Only an enterprise has an enterprise profile.")})
    profile = profile_for(organisation)
    created = profile is None
    profile = profile or EnterpriseProfile(organisation=organisation)
    before = {} if created else snapshot(profile, PROFILE_FIELDS)
    for name in PROFILE_FIELDS:
        if name in data:
            setattr(profile, name, data[name])
    if profile.self_rating is None:
        profile.self_rating = {}
    profile.full_clean()
    profile.save()
    profile.refresh_from_db()
    changes = diff(before, snapshot(profile, PROFILE_FIELDS))
    if created or changes:
        audit_record(action=AuditAction.CREATE if created else AuditAction.UPDATE, actor=actor, obj=profile,
                     changes=changes, acting_organisation=organisation)
        if recompute:
            _recompute(actor, organisation, _("profile changed"))
    return profile


def profile_save(*, actor: User | None, organisation: Organisation, data: dict[str, Any],
                 recompute: bool = True) -> EnterpriseProfile:
    """:func:`_profile_save` for a user: the actor's permission is checked first."""
    return _profile_save(actor=actor, organisation=organisation, data=data, recompute=recompute, check_permission=True)


def profile_save_unchecked(**kwargs: Any) -> EnterpriseProfile:
    """Internal: :func:`profile_save` without the permission check (importers, services that checked already)."""
    return _profile_save(**kwargs, check_permission=False)


def _ensure_profile(actor: User | None, organisation: Organisation) -> EnterpriseProfile:
    return profile_for(organisation) or profile_save_unchecked(actor=actor, organisation=organisation, data={},
                                                               recompute=False)


def _months_snapshot(fiscal_year: FiscalYear) -> list[list[int]]:
    return [[m.month, m.start, m.end, m.st_start, m.st_end] for m in fiscal_year.months.order_by("month")]


@transaction.atomic
def _fiscal_year_save(*, actor: User | None, organisation: Organisation, year: int, data: dict[str, Any],
                      months: list[dict[str, Any]] | None = None, check_permission: bool,
                      recompute: bool = True) -> tuple[FiscalYear, dict[str, list[Any]], bool]:
    """Create or change one fiscal year's figures; ``months``: twelve ``{start, end, st_start, st_end}``
    (month by month head counts; ``[]`` removes them). Returns the year, the changes and whether it was created."""
    _check(actor, organisation, check_permission)
    profile = _ensure_profile(actor, organisation)
    row = FiscalYear.objects.filter(profile=profile, year=year).first()
    created = row is None
    row = row or FiscalYear(profile=profile, year=year)
    before = {} if created else {**snapshot(row, YEAR_FIELDS), "months": _months_snapshot(row)}
    for name in YEAR_FIELDS:
        if name in data:
            setattr(row, name, data[name])
    row.full_clean()
    month_rows = None
    if months is not None:
        if months and len(months) != 12:
            raise ValidationError({"months": _("Give all twelve months, or none.")})
        month_rows = []
        for number, month in enumerate(months, start=1):
            item = MonthlyStaff(fiscal_year=row, month=number, **{k: month.get(k) for k in MONTH_FIELDS})
            try:
                item.full_clean(exclude=["fiscal_year"])
            except ValidationError as exc:
                raise ValidationError({f"months[{number}].{k}": v for k, v in exc.message_dict.items()}) from None
            if item.st_start > item.start or item.st_end > item.end:
                raise ValidationError({f"months[{number}].st_start": _("More S&T staff than staff.")})
            month_rows.append(item)
    row.save()
    row.refresh_from_db()  # amounts as stored (4900 → 4900.00), so an unchanged figure is no change
    if month_rows is not None:
        row.months.all().delete()
        MonthlyStaff.objects.bulk_create(month_rows)
    after = {**snapshot(row, YEAR_FIELDS), "months": _months_snapshot(row)}
    changes = diff(before, after)
    if created or changes:
        audit_record(action=AuditAction.CREATE if created else AuditAction.UPDATE, actor=actor, obj=row,
                     changes=changes, acting_organisation=organisation)
        if recompute:
            _recompute(actor, organisation, _("figures of %(year)s changed") % {"year": year})
    return row, changes, created


def fiscal_year_save(*, actor: User | None, organisation: Organisation, year: int, data: dict[str, Any],
                     months: list[dict[str, Any]] | None = None,
                     recompute: bool = True) -> tuple[FiscalYear, dict[str, list[Any]], bool]:
    """:func:`_fiscal_year_save` for a user: the actor's permission is checked first."""
    return _fiscal_year_save(actor=actor, organisation=organisation, year=year, data=data, months=months,
                             recompute=recompute, check_permission=True)


def fiscal_year_save_unchecked(**kwargs: Any) -> tuple[FiscalYear, dict[str, list[Any]], bool]:
    """Internal: :func:`fiscal_year_save` without the permission check (importers that checked the row)."""
    return _fiscal_year_save(**kwargs, check_permission=False)


def _item_create(model, fields, *, actor: User | None, organisation: Organisation, data: dict[str, Any],
                 recompute: bool, reason: str):
    _check(actor, organisation)
    profile = _ensure_profile(actor, organisation)
    item = model(profile=profile, **{k: data[k] for k in fields if k in data and data[k] is not None})
    item.full_clean()
    item.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=item, changes=diff({}, snapshot(item, fields)),
                 acting_organisation=organisation)
    if recompute:
        _recompute(actor, organisation, reason)
    return item


@transaction.atomic
def ip_right_create(*, actor: User | None, organisation: Organisation, data: dict[str, Any],
                    recompute: bool = True) -> IntellectualProperty:
    return _item_create(IntellectualProperty, IP_FIELDS, actor=actor, organisation=organisation, data=data,
                        recompute=recompute, reason=_("IP added"))


@transaction.atomic
def incident_create(*, actor: User | None, organisation: Organisation, data: dict[str, Any],
                    recompute: bool = True) -> Incident:
    return _item_create(Incident, INCIDENT_FIELDS, actor=actor, organisation=organisation, data=data,
                        recompute=recompute, reason=_("incident declared"))


@transaction.atomic
def profile_item_update(*, actor: User | None, item: IntellectualProperty | Incident, data: dict[str, Any],
                        recompute: bool = True) -> IntellectualProperty | Incident:
    """Correct an IP right or incident of a profile (audited old → new; tiers recomputed when it changed).

    Invalid data changes nothing: the row is validated (``full_clean``) before it is saved."""
    organisation = item.profile.organisation
    _check(actor, organisation)
    fields = {IntellectualProperty: IP_FIELDS, Incident: INCIDENT_FIELDS}[type(item)]
    item = type(item).objects.select_for_update().get(pk=item.pk)
    before = snapshot(item, fields)
    for name in fields:
        if name in data:
            setattr(item, name, data[name])
    item.full_clean()
    changes = diff(before, snapshot(item, fields))
    if not changes:
        return item
    item.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=item, changes=changes, acting_organisation=organisation)
    if recompute:
        _recompute(actor, organisation, _("%(what)s changed") % {"what": item._meta.verbose_name})
    return item


@transaction.atomic
def profile_item_delete(*, actor: User | None, item: IntellectualProperty | Incident) -> None:
    """Remove an IP right or incident of a profile (audited with what it held)."""
    organisation = item.profile.organisation
    _check(actor, organisation)
    fields = {IntellectualProperty: IP_FIELDS, Incident: INCIDENT_FIELDS}[type(item)]
    audit_record(action=AuditAction.DELETE, actor=actor, obj=item, changes=diff(snapshot(item, fields), {}),
                 acting_organisation=organisation)
    item.delete()
    _recompute(actor, organisation, _("%(what)s removed") % {"what": item._meta.verbose_name})


@transaction.atomic
def annual_report_file(*, actor: User | None, certification: Certification, year: int,
                       filed_on: dt.date | None = None) -> AnnualReport:
    """Record the 年报 of ``year`` on a high-tech certificate (ends that year's reminder)."""
    organisation = certification.organisation
    _check(actor, organisation)
    if certification.kind != CertificationKind.HIGH_TECH_ENTERPRISE:
        raise ValidationError({"certification": _("Annual reports are filed on high-tech certificates.")})
    if year not in [y for y, _due in hnte.annual_report_deadlines(certification.issued_on)]:
        raise ValidationError({"year": _("%(year)s is not a year of the certificate's validity.") % {"year": year}})
    report = AnnualReport.objects.filter(certification=certification, year=year).first()
    if report is not None:
        return report
    report = AnnualReport(certification=certification, year=year, filed_on=filed_on or timezone.localdate(),
                          filed_by=actor if getattr(actor, "is_authenticated", False) else None)
    report.full_clean()
    report.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=report,
                 changes=diff({}, snapshot(report, ["certification", "year", "filed_on"])),
                 acting_organisation=organisation)
    return report


def financials_read_audit(*, actor: User | None, organisation: Organisation, channel: str) -> None:
    """Audit an authorised officer's read of an enterprise's figures (not the enterprise's own reads)."""
    if permissions.read_is_audited(actor, organisation):
        audit_record(action=AuditAction.FINANCIALS_VIEW, actor=actor, obj=organisation,
                     changes={"via": channel})
