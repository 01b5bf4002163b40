"""Synthetic (demo) monitoring data for the current plan: indicator values over N years, task
progress and project states. Deterministic for a seed; re-running changes nothing. Every row it
writes is flagged ``is_synthetic`` and shown with a "synthetic" badge."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.engines.forecast import Target, reference_value
from sciencecity.plans.choices import ProjectStatus, SubmissionStatus, ValueSource, ValueStatus
from sciencecity.plans.models import (
    DISTRICT_SCOPE,
    MajorProject,
    ObservedValue,
    Plan,
    ProjectUpdate,
    ReportingRound,
    RoundSubmission,
    TaskProgressReport,
)

#: Units of counted things: their synthetic values are whole numbers.
COUNT_UNITS = {"家", "个", "件", "项", "人", "座"}

# How each indicator ends up by its target year, cycled so the dashboard shows every status.
_OUTCOMES = [1.08, 1.0, 0.93, 0.75, 1.15, 0.98, 0.85, 1.05, 0.6, 1.02]


@transaction.atomic
def generate_values(*, years: int = 10, seed: int = 2021, plan: Plan | None = None,
                    today: dt.date | None = None) -> dict[str, int]:
    """Synthetic values, progress reports and project states as of the demo reference day (see core.demo)."""
    plan = plan or Plan.objects.filter(is_current=True).first()
    if plan is None:
        return {}
    today = demo_as_of(today)
    counts = {"values": 0, "rounds": 0, "task_reports": 0, "project_updates": 0}
    last_year = plan.target_year or today.year
    first_year = last_year - years + 1
    existing = set(ObservedValue.objects.filter(indicator__plan=plan).values_list("indicator_id", "year"))
    new_values = []
    for index, indicator in enumerate(plan.indicators.prefetch_related("targets", "observations")):
        rng = random.Random(f"{seed}-indicator-{indicator.code}")
        target = indicator.targets.first()
        ref = reference_value(Target(target.comparator, target.year, target.value, target.low, target.high),
                              indicator.direction) if target else None
        known = sorted(((o.year, o.value) for o in indicator.observations.all()), key=lambda p: p[0])
        start_year, start_value = known[0] if known else (first_year, (ref or 100) * 0.5)
        end_value = (ref or start_value * 1.5) * _OUTCOMES[index % len(_OUTCOMES)]
        if known and known[-1][0] < last_year:
            anchor_year, anchor_value = known[-1]
        else:
            anchor_year, anchor_value = start_year, start_value
        for year in range(first_year, min(last_year, today.year - 1) + 1):
            if (indicator.pk, year) in existing:
                continue
            if year <= anchor_year:
                span = max(anchor_year - first_year, 1)
                value = start_value * (0.85 + 0.15 * (year - first_year) / span) if year < start_year else anchor_value
            else:
                share = (year - anchor_year) / max(last_year - anchor_year, 1)
                value = anchor_value + (end_value - anchor_value) * share
            value *= 1 + rng.uniform(-0.02, 0.02)
            new_values.append(ObservedValue(
                indicator=indicator, year=year, scope=DISTRICT_SCOPE,
                value=float(round(value)) if indicator.unit in COUNT_UNITS else round(value, 2), source=ValueSource.MANUAL,
                provenance="synthetic demo value", status=ValueStatus.APPROVED if year < last_year else ValueStatus.SUBMITTED,
                is_synthetic=True, note="合成数据 synthetic",
            ))
    ObservedValue.objects.bulk_create(new_values)
    counts["values"] = len(new_values)
    counts["rounds"] = _submitted_round(plan, today)

    reports = []
    for task in plan.tasks.filter(reports__isnull=True):
        rng = random.Random(f"{seed}-task-{task.code}")
        final = rng.choice([100, 100, 90, 80, 60, 45, 30])
        for year, share in ((2022, 0.3), (2023, 0.6), (2024, 0.85), (2025, 1.0)):
            if dt.date(year, 12, 31) > today:
                break
            reports.append(TaskProgressReport(
                task=task, period=str(year), as_of=dt.date(year, 12, 31), percent=int(final * share),
                narrative=f"【合成数据 synthetic】{task.title}：{year}年进展。", department=task.lead_department,
                is_synthetic=True,
            ))
    TaskProgressReport.objects.bulk_create(reports)
    counts["task_reports"] = len(reports)
    for task in plan.tasks.filter(reports__isnull=False).distinct():
        latest = task.reports.order_by("-as_of", "-id").first()
        if task.progress != latest.percent:
            task.progress, task.progress_as_of = latest.percent, latest.as_of
            task.save(update_fields=["progress", "progress_as_of", "updated_at"])

    statuses = [ProjectStatus.PLANNED, ProjectStatus.UNDER_CONSTRUCTION, ProjectStatus.UNDER_CONSTRUCTION,
                ProjectStatus.OPERATING, ProjectStatus.COMPLETED]
    updates = []
    for project in MajorProject.objects.filter(box__plan=plan, updates__isnull=True):
        rng = random.Random(f"{seed}-project-{project.code}")
        project.status = rng.choice(statuses)
        project.planned_investment = rng.choice([5000, 20000, 50000, 120000, 300000])
        done = {"planned": 0.0, "under_construction": 0.5, "operating": 0.95, "completed": 1.0}[project.status]
        project.actual_investment = round(float(project.planned_investment) * done * rng.uniform(0.8, 1.05), 2)
        project.start_date = dt.date(2021 + rng.randint(0, 2), rng.randint(1, 12), 1)
        project.end_date = dt.date(2025 + rng.randint(0, 2), 12, 31)
        project.is_synthetic = True
        project.save()
        updates.append(ProjectUpdate(project=project, date=min(today, dt.date(2025, 6, 30)), status=project.status,
                                     note="【合成数据 synthetic】项目进展。", investment_to_date=project.actual_investment,
                                     is_synthetic=True))
    ProjectUpdate.objects.bulk_create(updates)
    counts["project_updates"] = len(updates)
    if any(counts.values()):
        audit_record(action=AuditAction.GENERATE, object_type="plans.demo", object_id=plan.pk, object_repr=plan.title,
                     changes={"counts": [None, counts]}, reason=f"synthetic demo data, seed {seed}")
    return counts


def _submitted_round(plan: Plan, today: dt.date) -> int:
    """The demo's newest year is submitted, not approved: put it in an open reporting round whose
    departments have submitted, so that the bureau can approve it (and it then enters the dashboard and
    the report). Returns the number of rounds created (0 when it exists or nothing awaits approval)."""
    submitted = ObservedValue.objects.filter(indicator__plan=plan, status=ValueStatus.SUBMITTED, is_synthetic=True)
    year = max(submitted.values_list("year", flat=True), default=None)
    if year is None or ReportingRound.objects.filter(plan=plan, year=year).exists():
        return 0
    rnd = ReportingRound.objects.create(plan=plan, year=year, deadline=today + dt.timedelta(days=30))
    departments = sorted(set(submitted.filter(year=year).exclude(indicator__owner_department__isnull=True)
                             .values_list("indicator__owner_department_id", flat=True)))
    stamp = dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC)
    RoundSubmission.objects.bulk_create([
        RoundSubmission(round=rnd, department_id=department, status=SubmissionStatus.SUBMITTED, submitted_at=stamp)
        for department in departments])
    return 1


def reporting_departments(plan: Plan) -> list[tuple[str, str, list[str]]]:
    """(code, name, indicator codes) of each department that reports indicators of ``plan``: the
    organisations in which a department officer is granted."""
    result: dict[int, tuple[str, str, list[str]]] = {}
    for indicator in plan.indicators.select_related("owner_department").order_by("number"):
        department = indicator.owner_department
        if department is not None:
            result.setdefault(department.pk, (department.code or str(department.pk), department.name, []))[2].append(
                indicator.code)
    return list(result.values())
