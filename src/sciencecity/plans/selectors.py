"""Reads for the plan dashboard, the report and the API."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Max, Prefetch
from django.utils.translation import gettext as _

from sciencecity.engines import forecast
from sciencecity.plans import sources
from sciencecity.plans.choices import Comparator, IndicatorStatus, ProjectStatus, ValueSource, ValueStatus
from sciencecity.plans.models import (
    DISTRICT_SCOPE,
    Indicator,
    MajorProject,
    ObservedValue,
    Plan,
    ProjectMilestone,
    Section,
    TargetValue,
    Task,
    TaskProgressReport,
)

STATUS_BADGE = {
    IndicatorStatus.ACHIEVED: "ok", IndicatorStatus.ON_TRACK: "ok", IndicatorStatus.AT_RISK: "warn",
    IndicatorStatus.OFF_TRACK: "bad", IndicatorStatus.NO_DATA: "",
}


def current_plan() -> Plan | None:
    return Plan.objects.filter(is_current=True).first() or Plan.objects.first()


def target_text(indicator: Indicator, target) -> str:
    if target is None:
        return indicator.target_text or "—"
    if target.comparator == Comparator.RANGE:
        return f"{_fmt(target.low)}–{_fmt(target.high)}"
    symbol = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}.get(target.comparator, "")
    suffix = _("about") if target.comparator == Comparator.APPROX else ""
    return f"{symbol}{_fmt(target.value)}{(' ' + suffix) if suffix else ''}"


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        value = float(value)
    return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def reason_text(assessment: forecast.Assessment, unit: str) -> str:
    p = {k: _fmt(v) if isinstance(v, float) else v for k, v in assessment.params.items()}
    p["unit"] = unit
    texts = {
        "no_data": _("No value reported yet."),
        "achieved": _("%(latest)s %(unit)s in %(latest_year)s already meets the target %(target)s."),
        "target_year_missed": _("The target year %(target_year)s has passed at %(latest)s %(unit)s, short of %(target)s."),
        "single_value": _("Only one value (%(latest)s %(unit)s in %(latest_year)s): no trend yet."),
        "projection_meets": _("The linear trend projects %(projected)s %(unit)s in %(target_year)s, meeting %(target)s."),
        "projection_close": _("The trend projects %(projected)s %(unit)s in %(target_year)s: close to but short of %(target)s."),
        "projection_short": _("The trend projects %(projected)s %(unit)s in %(target_year)s, well short of %(target)s."),
    }
    return texts.get(assessment.reason, assessment.reason) % p


@dataclass
class IndicatorRow:
    indicator: Indicator
    target: object | None
    target_display: str
    baseline: ObservedValue | None
    latest: ObservedValue | None
    series: list[dict] = field(default_factory=list)
    assessment: forecast.Assessment | None = None
    status_label: str = ""
    badge: str = ""
    reason: str = ""
    live_value: float | None = None
    live_provenance: str = ""
    live_year: int | None = None
    synthetic: bool = False

    @property
    def progress_percent(self) -> int | None:
        p = self.assessment.progress if self.assessment else None
        return None if p is None else max(0, min(100, round(p * 100)))


#: How far back a registry computation looks for the latest year that has data (the year asked and the one
#: before: a calendar year that has only begun counts nothing yet).
LIVE_LOOKBACK_YEARS = 2


def _today() -> dt.date:
    return dt.date.today()


def approved_values():
    """Observed values that official outputs use: approved (locked) ones only. Drafts and submitted values
    are shown to their department and the bureau on the working pages, never in the dashboard, the
    report, the export or the status API."""
    return ObservedValue.objects.filter(status=ValueStatus.APPROVED)


def pending_values(plan: Plan, user):
    """Values of ``plan`` not yet approved that ``user`` may see: all for the bureau, their own
    departments' for a department officer, none for anyone else."""
    from sciencecity.core import permissions

    values = ObservedValue.objects.filter(indicator__plan=plan).exclude(status=ValueStatus.APPROVED)
    if permissions.is_bureau_officer(user):
        return values
    if permissions.is_department_officer(user):
        return values.filter(indicator__owner_department__in=permissions.organisation_ids(user))
    return values.none()


def indicator_rows(plan: Plan, *, as_of_year: int | None = None, live: bool = True) -> list[IndicatorRow]:
    """One row per indicator from approved values only: "latest" is the latest year with approved data."""
    indicators = plan.indicators.select_related("owner_department").prefetch_related(
        "targets", Prefetch("observations", queryset=approved_values().filter(scope=DISTRICT_SCOPE).order_by("year"))
    )
    rows = []
    this_year = _today().year
    for indicator in indicators:
        observations = [o for o in indicator.observations.all() if as_of_year is None or o.year <= as_of_year]
        target = next(iter(indicator.targets.all()), None)
        row = IndicatorRow(indicator=indicator, target=target, target_display=target_text(indicator, target),
                           baseline=observations[0] if observations else None,
                           latest=observations[-1] if observations else None)
        row.series = [{"year": o.year, "value": o.value, "synthetic": o.is_synthetic, "source": o.source}
                      for o in observations]
        row.synthetic = any(o.is_synthetic for o in observations)
        if target is not None:
            row.assessment = forecast.assess(
                [forecast.Point(o.year, o.value) for o in observations],
                forecast.Target(target.comparator, target.year, target.value, target.low, target.high),
                indicator.direction,
            )
            row.status_label = str(IndicatorStatus(row.assessment.status).label)
            row.badge = STATUS_BADGE[row.assessment.status]
            row.reason = reason_text(row.assessment, indicator.unit)
        source = sources.get(indicator.source_key) if live else None
        if source is not None:
            up_to = as_of_year or this_year
            found = live_latest(source, up_to, plan_start=indicator.plan.start_year)
            if found is not None:
                row.live_year, row.live_value, row.live_provenance = found
            else:  # no data: say what was counted, show no value
                row.live_provenance = live_value(source, up_to, plan_start=indicator.plan.start_year)[1]
        rows.append(row)
    return rows


def live_latest(source, up_to_year: int, *, plan_start: int | None = None) -> tuple[int, float, str] | None:
    """The registry computation of the latest year up to ``up_to_year`` that has data (a non-zero value),
    looking back at most ``LIVE_LOOKBACK_YEARS``: a calendar year that has only begun counts nothing yet
    and must not show 0 next to last year's real figure. ``None`` when no year has data."""
    for year in range(up_to_year, up_to_year - LIVE_LOOKBACK_YEARS, -1):
        value, provenance = live_value(source, year, plan_start=plan_start)
        if value:
            return year, value, provenance
    return None


def live_value(source, year: int, *, plan_start: int | None = None) -> tuple[float, str]:
    """A registry computation, cached for ``INDICATOR_LIVE_CACHE_SECONDS`` (default 60 s)."""
    from django.conf import settings
    from django.core.cache import cache

    seconds = getattr(settings, "INDICATOR_LIVE_CACHE_SECONDS", 60)
    key = _live_key(source.key, year)
    cached = cache.get(key) if seconds else None
    if cached is None:
        cached = sources.compute(source, year=year, scope=DISTRICT_SCOPE, plan_start=plan_start)
        if seconds:
            cache.set(key, cached, seconds)
    return cached


def _live_key(source_key: str, year: int) -> str:
    return f"plans:live:{source_key}:{year}"


def live_value_forget(source_key: str, year: int) -> None:
    """Drop the cached live value (a service that just changed what the source counts calls this)."""
    from django.core.cache import cache

    cache.delete(_live_key(source_key, year))


def chapter_progress(plan: Plan) -> list[dict]:
    """Weighted task completion per chapter (weights from task decomposition)."""
    result = []
    tasks_by_chapter: dict[int, list[Task]] = defaultdict(list)
    for task in plan.tasks.select_related("chapter"):
        tasks_by_chapter[task.chapter_id].append(task)
    for chapter in plan.chapters.all():
        tasks = tasks_by_chapter.get(chapter.pk, [])
        if not tasks:
            continue
        weight = sum(float(t.weight) for t in tasks) or 1.0
        result.append({"chapter": chapter, "tasks": len(tasks),
                       "progress": round(sum(float(t.weight) * t.progress for t in tasks) / weight, 1)})
    return result


def section_progress(plan: Plan) -> dict[int, float]:
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for task in plan.tasks.filter(section__isnull=False):
        sums[task.section_id][0] += float(task.weight) * task.progress
        sums[task.section_id][1] += float(task.weight)
    return {sid: round(s / w, 1) if w else 0.0 for sid, (s, w) in sums.items()}


def department_progress(plan: Plan) -> list[dict]:
    rows: dict[int, dict] = {}
    for task in plan.tasks.select_related("lead_department").filter(lead_department__isnull=False):
        row = rows.setdefault(task.lead_department_id, {"department": task.lead_department, "tasks": 0,
                                                        "weighted": 0.0, "weight": 0.0, "overdue": 0})
        row["tasks"] += 1
        row["weighted"] += float(task.weight) * task.progress
        row["weight"] += float(task.weight)
    today = dt.date.today()
    for task in overdue_tasks(plan, today):
        if task.lead_department_id in rows:
            rows[task.lead_department_id]["overdue"] += 1
    result = []
    for row in rows.values():
        row["progress"] = round(row["weighted"] / row["weight"], 1) if row["weight"] else 0.0
        result.append(row)
    return sorted(result, key=lambda r: -r["tasks"])


def overdue_tasks(plan: Plan, today: dt.date | None = None):
    today = today or dt.date.today()
    return plan.tasks.filter(deadline__lt=today, progress__lt=100).select_related("lead_department", "chapter")


def project_board(plan: Plan) -> list[dict]:
    projects = MajorProject.objects.filter(box__plan=plan).select_related("box", "host")
    by_status: dict[str, list[MajorProject]] = defaultdict(list)
    for project in projects:
        by_status[project.status].append(project)
    return [{"status": value, "label": label, "projects": by_status.get(value, [])}
            for value, label in ProjectStatus.choices]


def data_as_of(plan: Plan) -> dt.datetime | None:
    stamps = [
        ObservedValue.objects.filter(indicator__plan=plan).exclude(source=ValueSource.PLAN_TEXT)
        .aggregate(m=Max("updated_at"))["m"],
        TaskProgressReport.objects.filter(task__plan=plan).aggregate(m=Max("updated_at"))["m"],
        MajorProject.objects.filter(box__plan=plan).aggregate(m=Max("updated_at"))["m"],
    ]
    stamps = [s for s in stamps if s]
    return max(stamps) if stamps else None


def value_years(plan: Plan) -> list[int]:
    """The years with approved data (the evaluate-as-of switch offers these)."""
    return sorted(set(approved_values().filter(indicator__plan=plan).values_list("year", flat=True)))


def mid_term_year(plan: Plan) -> int | None:
    """The middle year of the plan period (2023 for 2021–2025)."""
    if plan.start_year and plan.target_year:
        return (plan.start_year + plan.target_year) // 2
    return None


def dashboard(plan: Plan, *, as_of_year: int | None = None) -> dict:
    """The dashboard's data, cached until any value, report, project or task of the plan changes."""
    from django.core.cache import cache

    stamp = _data_version(plan)
    key = f"plans:dashboard:{plan.pk}:{as_of_year}:{stamp}"
    cached = cache.get(key)
    if cached is None:
        cached = _dashboard(plan, as_of_year=as_of_year)
        cache.set(key, cached, 300)
    return cached


def _data_version(plan: Plan) -> str:
    """One cheap query: the newest change among the plan's values, reports, projects, tasks and indicators."""
    from django.db.models import Count

    parts = [
        ObservedValue.objects.filter(indicator__plan=plan).aggregate(m=Max("updated_at"), n=Count("id")),
        # approval updates statuses in bulk without touching updated_at
        approved_values().filter(indicator__plan=plan).aggregate(m=Max("approved_at"), n=Count("id")),
        TaskProgressReport.objects.filter(task__plan=plan).aggregate(m=Max("updated_at"), n=Count("id")),
        MajorProject.objects.filter(box__plan=plan).aggregate(m=Max("updated_at"), n=Count("id")),
        Task.objects.filter(plan=plan).aggregate(m=Max("updated_at"), n=Count("id")),
        Indicator.objects.filter(plan=plan).aggregate(m=Max("updated_at"), n=Count("id")),
        TargetValue.objects.filter(indicator__plan=plan).aggregate(m=Max("updated_at"), n=Count("id")),
    ]
    return "|".join(f"{p['m'].timestamp() if p['m'] else 0}:{p['n']}" for p in parts) + f"|{dt.date.today()}"


def _dashboard(plan: Plan, *, as_of_year: int | None = None) -> dict:
    rows = indicator_rows(plan, as_of_year=as_of_year)
    today = dt.date.today()
    overdue = list(overdue_tasks(plan, today)[:50])
    board = project_board(plan)
    return {
        "plan": plan,
        "rows": rows,
        "status_counts": _status_counts(rows),
        "chapters": chapter_progress(plan),
        "departments": department_progress(plan),
        "overdue": overdue,
        "at_risk": [r for r in rows if r.assessment and r.assessment.status in ("at_risk", "off_track")],
        "board": board,
        "data_as_of": data_as_of(plan),
        "synthetic": any(r.synthetic for r in rows),
        "review": MajorProject.objects.filter(box__plan=plan, host_match="uncertain").count(),
        "as_of_year": as_of_year,
        "years": value_years(plan),
        "mid_term_year": mid_term_year(plan),
    }


def _status_counts(rows: list[IndicatorRow]) -> list[dict]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.assessment.status if row.assessment else "no_data"] += 1
    return [{"status": v, "label": label, "count": counts.get(v, 0), "badge": STATUS_BADGE[v]}
            for v, label in IndicatorStatus.choices]


def task_summary(plan: Plan) -> dict:
    """Task counts and weighted completion over the whole plan."""
    tasks = list(plan.tasks.only("weight", "progress"))
    weight = sum(float(t.weight) for t in tasks)
    return {
        "total": len(tasks),
        "completed": sum(1 for t in tasks if t.progress >= 100),
        "started": sum(1 for t in tasks if 0 < t.progress < 100),
        "not_started": sum(1 for t in tasks if t.progress == 0),
        "progress": round(sum(float(t.weight) * t.progress for t in tasks) / weight, 1) if weight else 0.0,
    }


def projects_behind_schedule(plan: Plan, today: dt.date | None = None) -> list[tuple[MajorProject, str]]:
    """Major projects behind schedule, with the reason: planned completion passed while not yet
    operating or completed, a milestone overdue, or a planned start passed without work begun."""
    today = today or dt.date.today()
    finished = (ProjectStatus.OPERATING, ProjectStatus.COMPLETED)
    overdue_milestones = defaultdict(int)
    for project_id in ProjectMilestone.objects.filter(
        project__box__plan=plan, due_date__lt=today, done_date__isnull=True
    ).values_list("project_id", flat=True):
        overdue_milestones[project_id] += 1
    result = []
    for project in MajorProject.objects.filter(box__plan=plan).select_related("box", "host"):
        if project.end_date and project.end_date < today and project.status not in finished:
            reason = _("Planned completion %(date)s has passed; status: %(status)s.") % {
                "date": project.end_date.isoformat(), "status": project.get_status_display()}
        elif overdue_milestones.get(project.pk):
            reason = _("%(count)s milestone(s) overdue.") % {"count": overdue_milestones[project.pk]}
        elif project.status == ProjectStatus.PLANNED and project.start_date and project.start_date < today:
            reason = _("Planned start %(date)s has passed; work has not begun.") % {"date": project.start_date.isoformat()}
        else:
            continue
        result.append((project, reason))
    return result


# --- reporting rounds
def next_actor(status: str) -> tuple[str, str]:
    """Who acts next on a submission in ``status`` ("department", "bureau" or nobody) and a sentence saying so."""
    return {
        "draft": ("department", _("The department: fill in the values and submit")),
        "returned": ("department", _("The department: revise and submit again")),
        "submitted": ("bureau", _("The bureau: approve or return")),
    }.get(status, ("", _("Nobody: approved, values locked")))


@dataclass
class SubmissionRow:
    """One department in a round: its submission, who acts next and its indicators with this year's values."""

    submission: object
    next_actor: str
    next_label: str
    values: list[tuple[Indicator, ObservedValue | None]] = field(default_factory=list)
    #: the active department officers of the department (who can fill in and submit)
    officers: list = field(default_factory=list)

    @property
    def filled(self) -> int:
        return sum(1 for _indicator, value in self.values if value is not None)


def round_submissions(rnd, department_ids: set[int] | None = None) -> list[SubmissionRow]:
    """The submissions of a round (only those of ``department_ids`` when given), with their values."""
    submissions = rnd.submissions.select_related("department", "submitted_by", "decided_by").order_by(
        "department__name")
    if department_ids is not None:
        submissions = submissions.filter(department_id__in=department_ids)
    submissions = list(submissions)
    indicators = defaultdict(list)
    for indicator in rnd.plan.indicators.filter(owner_department__in=[s.department_id for s in submissions]):
        indicators[indicator.owner_department_id].append(indicator)
    values = {v.indicator_id: v for v in ObservedValue.objects.filter(
        indicator__plan=rnd.plan, year=rnd.year, scope=DISTRICT_SCOPE).select_related("entered_by")}
    officers = department_officers({s.department_id for s in submissions})
    rows = []
    for submission in submissions:
        actor, label = next_actor(submission.status)
        rows.append(SubmissionRow(submission=submission, next_actor=actor, next_label=label, values=[
            (indicator, values.get(indicator.pk)) for indicator in indicators[submission.department_id]],
            officers=officers.get(submission.department_id, [])))
    return rows


def plan_document_diff(plan: Plan, document: dict) -> list[dict]:
    """What a newly read plan document changes against a stored plan: chapters, sections, tasks, indicators.

    ``document`` is :meth:`PlanDocument.to_dict`. Each change is ``{"what", "key", "change", "old",
    "new"}`` with ``change`` one of added / removed / changed, in document order.
    """
    old: dict[tuple[str, str], str] = {}
    for chapter in plan.chapters.all():
        old[("chapter", str(chapter.number))] = chapter.title
    for section in Section.objects.filter(chapter__plan=plan).select_related("chapter"):
        old[("section", f"{section.chapter.number}.{section.number}")] = section.title
    for task in plan.tasks.all():
        old[("task", task.code)] = task.title
    for indicator in plan.indicators.all():
        old[("indicator", str(indicator.number))] = _indicator_line(indicator.name, indicator.unit, indicator.target_text)
    new: dict[tuple[str, str], str] = {}
    for c_index, chapter in enumerate(document.get("chapters", []), start=1):
        number = chapter.get("number") or c_index
        new[("chapter", str(number))] = chapter["title"]
        for t_index, task in enumerate(chapter.get("tasks", []), start=1):
            new[("task", f"{number}.{task.get('number') or t_index}")] = task["title"]
        for s_index, section in enumerate(chapter.get("sections", []), start=1):
            s_number = section.get("number") or s_index
            new[("section", f"{number}.{s_number}")] = section["title"]
            for t_index, task in enumerate(section.get("tasks", []), start=1):
                new[("task", f"{number}.{s_number}.{task.get('number') or t_index}")] = task["title"]
    for indicator in document.get("indicators", []):
        new[("indicator", str(indicator.get("number")))] = _indicator_line(
            indicator["name"], indicator.get("unit", ""), (indicator.get("target_text") or "")[:50])
    order = {"chapter": 0, "section": 1, "task": 2, "indicator": 3}
    changes = []
    for key in sorted(set(old) | set(new), key=lambda k: (order[k[0]], _natural(k[1]))):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        changes.append({"what": key[0], "key": key[1], "change": change, "old": before or "", "new": after or ""})
    return changes


def _indicator_line(name: str, unit: str, target: str) -> str:
    return f"{name}（{unit}）→ {target}" if unit else f"{name} → {target}"


def _natural(code: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in code.split("."))


def department_officers(department_ids: set[int]) -> dict[int, list]:
    """Active users holding the department-officer role in each of ``department_ids``."""
    from sciencecity.accounts.choices import Role
    from sciencecity.accounts.models import Membership

    result: dict[int, list] = defaultdict(list)
    for membership in Membership.objects.filter(role=Role.DEPARTMENT_OFFICER, organisation_id__in=department_ids,
                                                user__is_active=True).select_related("user").order_by("user__username"):
        result[membership.organisation_id].append(membership.user)
    return result
