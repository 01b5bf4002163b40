"""Plan writes: import of the plan document, task decomposition and progress, indicator values and
reporting rounds, major projects. Every write is audited in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions, uploads
from sciencecity.core.audit import audit_record, diff, snapshot, to_json
from sciencecity.core.models import AuditAction, ImportBatch, ImportStatus
from sciencecity.engines import plandoc
from sciencecity.engines.names import best_match
from sciencecity.plans import selectors, sources
from sciencecity.plans.choices import (
    Comparator,
    HostMatch,
    ProjectStatus,
    StatementKind,
    SubmissionStatus,
    ValueSource,
    ValueStatus,
)
from sciencecity.plans.models import (
    DISTRICT_SCOPE,
    Chapter,
    Commitment,
    Indicator,
    MajorProject,
    ObservedValue,
    ParseWarning,
    Plan,
    ProjectBox,
    ProjectMilestone,
    ProjectUpdate,
    ReportingRound,
    RoundSubmission,
    Section,
    Statement,
    TargetValue,
    Task,
    TaskProgressReport,
)
from sciencecity.plans.permissions import can_enter_value, can_report_on_task
from sciencecity.registry.choices import OrganisationKind, OrganisationStatus
from sciencecity.registry.models import Organisation, OrganisationAlias

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

BUNDLED_PLAN = Path(__file__).resolve().parent / "data" / "guangming_sti_14th_fyp.txt"
#: Name similarity (character-bigram Dice) at or above which a box item is the registry organisation.
MATCH_SURE = 0.9
#: Between this and MATCH_SURE the link is kept but put on the review list.
MATCH_UNCERTAIN = 0.6

# Words in a box item's title that say what kind of organisation runs it (checked in order).
_KIND_WORDS = [
    (("实验室",), OrganisationKind.LABORATORY),
    (("孵化器",), OrganisationKind.INCUBATOR),
    (("众创空间",), OrganisationKind.MAKER_SPACE),
    (("加速器",), OrganisationKind.ACCELERATOR),
    (("概念验证", "验证平台"), OrganisationKind.CONCEPT_VERIFICATION_CENTRE),
    (("科学园", "科技园", "生命科学园", "光明园", "产业园"), OrganisationKind.SCIENCE_PARK),
    (("设施", "装置", "光源", "激光", "超级计算", "云脑"), OrganisationKind.MAJOR_FACILITY),
    (("研究院", "研究所"), OrganisationKind.NEW_RD_INSTITUTION),
    (("平台", "数据中心"), OrganisationKind.RESEARCH_PLATFORM),
    (("中心", "基地"), OrganisationKind.INNOVATION_CARRIER),
]


def infer_organisation_kind(title: str) -> str:
    for words, kind in _KIND_WORDS:
        if any(w in title for w in words):
            return kind
    return OrganisationKind.RESEARCH_PLATFORM


@dataclass
class PlanImportResult:
    plan: Plan | None
    created: bool
    counts: dict[str, int]
    warnings: list[dict[str, Any]]
    host_matches: dict[str, int] = field(default_factory=dict)


def _require_bureau(actor: User | None) -> None:
    if actor is not None:
        permissions.require(permissions.is_bureau_officer(actor))


def _parse(content: bytes, filename: str,
           ocr_overrides: dict[int, list[list[str]]] | None = None) -> plandoc.PlanDocument:
    if filename.lower().endswith((".docx", ".zip")):  # both are zip archives: refuse a bomb before unpacking
        unsafe = uploads.zip_problem(content, filename)
        if unsafe is not None:
            raise ValidationError({"file": unsafe.message()}, code=unsafe.code)
    try:
        return plandoc.parse_bytes(content, filename, ocr_overrides=ocr_overrides)
    except plandoc.PlanParseError as exc:
        raise ValidationError({"file": str(exc)}, code="plan_parse_error") from exc


def _plan_years(doc: plandoc.PlanDocument) -> tuple[int | None, int | None]:
    """规划期 as the parser read it from the document (title, stated period, 十X五, target years)."""
    if doc.period_start and doc.period_end:
        return doc.period_start, doc.period_end
    target = next((i.target_year for i in doc.indicators if i.target_year), None)
    match = re.search(r"(20\d\d)\s*[-—–至到]\s*(20\d\d)", doc.title or "")
    if match:
        return int(match.group(1)), int(match.group(2))
    return (target - 4 if target else None), target


def _host_candidates() -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for pk, name in Organisation.objects.exclude(kind=OrganisationKind.ENTERPRISE).values_list("pk", "name"):
        names.setdefault(pk, []).append(name)
    for pk, name in OrganisationAlias.objects.values_list("organisation_id", "name"):
        if pk in names:
            names[pk].append(name)
    return names


def _link_host(project: MajorProject, candidates: dict[int, list[str]], actor: User | None) -> str:

    best_id, score = best_match(project.title, candidates)
    if best_id is not None and score >= MATCH_UNCERTAIN:
        project.host_id = best_id
        project.host_match = HostMatch.MATCHED if score >= MATCH_SURE else HostMatch.UNCERTAIN
        project.host_match_score = round(score, 3)
        return project.host_match
    from sciencecity.registry.services import organisation_create_unchecked

    org = organisation_create_unchecked(
        actor=actor,
        data={"name": project.title[:200], "kind": infer_organisation_kind(project.title),
              "status": OrganisationStatus.PLANNED, "description": project.text[:2000],
              "keywords": project.group})
    candidates[org.pk] = [org.name]
    project.host = org
    project.host_match = HostMatch.CREATED
    project.host_match_score = round(score, 3)
    return HostMatch.CREATED


def plan_import(*, actor: User | None, content: bytes, filename: str, dry_run: bool = False,
                period: tuple[int, int] | None = None,
                ocr_overrides: dict[int, list[list[str]]] | None = None,
                accept_ocr: bool = False) -> PlanImportResult:
    """Store a parsed plan document. The same document again changes nothing; a dry run rolls back.

    ``period`` (first year, last year) overrides the plan period read from the document. Tables
    read from images by OCR are stored only once reviewed: ``ocr_overrides`` holds the officer's
    corrected cells; ``accept_ocr`` stores what OCR read as it is (the CLI's explicit choice).
    """
    _require_bureau(actor)
    sha = hashlib.sha256(content).hexdigest()
    existing = Plan.objects.filter(source_sha256=sha).first()
    if existing is not None:
        return PlanImportResult(existing, False, existing.counts, [])
    doc = _parse(content, filename, ocr_overrides)
    unreviewed = [t for t in doc.ocr_tables if not t.reviewed]
    if unreviewed and not dry_run and not accept_ocr:
        raise ValidationError({"file": ValidationError(
            _("%(file)s: %(count)s table(s) were read from images by OCR (%(captions)s); "
              "review and correct their cells before the plan is stored.")
            % {"file": filename, "count": len(unreviewed), "captions": "、".join(t.caption for t in unreviewed)},
            code="ocr_review_required")})
    if period is not None:
        first, last = period
        if not (1990 <= first <= last <= first + 15):
            raise ValidationError({"period": _("The plan period must run from a first to a last year, "
                                               "at most 15 years apart.")})
        doc.period_start, doc.period_end = first, last
    if not doc.chapters:
        raise ValidationError({"file": _("%(file)s: no chapter headings were recognised; nothing was imported.")
                               % {"file": filename}})
    try:
        with transaction.atomic():
            result = _plan_store(actor=actor, doc=doc, sha=sha, filename=filename)
            if dry_run:
                raise _DryRun(result)
    except _DryRun as dry:
        dry.result.plan = None
        return dry.result
    return result


class _DryRun(Exception):
    def __init__(self, result: PlanImportResult):
        self.result = result


def _free_number(number: int, used: set[int]) -> int:
    """``number`` if not taken yet, else the next number after the highest taken; marks it taken."""
    if number in used:
        number = max(used) + 1
    used.add(number)
    return number


def _plan_store(*, actor: User | None, doc: plandoc.PlanDocument, sha: str, filename: str) -> PlanImportResult:
    start, target = _plan_years(doc)
    Plan.objects.filter(is_current=True).update(is_current=False)
    plan = Plan.objects.create(
        code=f"plan-{sha[:12]}", title=doc.title[:300] or Path(filename).stem, start_year=start, target_year=target,
        source_name=filename[:300], source_format=doc.source_format or Path(filename).suffix.lstrip("."),
        source_sha256=sha, preface=doc.preface, counts=doc.counts(), is_current=True)
    chapters: dict[int, Chapter] = {}
    sections: dict[tuple[int, int], Section] = {}
    tasks = []
    chapter_numbers: set[int] = set()
    for c_index, ch in enumerate(doc.chapters, start=1):
        # a number the document repeats (its numbering_* warning says so) takes the next free one
        number = _free_number(ch.number or c_index, chapter_numbers)
        chapter = Chapter.objects.create(plan=plan, number=number, label=ch.label, title=ch.title[:300],
                                         intro=ch.intro_text, line=ch.line)
        chapters.setdefault(ch.number or c_index, chapter)
        task_numbers: set[int] = set()
        for t_index, t in enumerate(ch.tasks, start=1):
            t_number = _free_number(t.number or t_index, task_numbers)
            tasks.append(Task(plan=plan, chapter=chapter, code=f"{chapter.number}.{t_number}",
                              number=t_number, title=t.title[:300], text=t.text, line=t.line))
        section_numbers: set[int] = set()
        for s_index, sec in enumerate(ch.sections, start=1):
            section = Section.objects.create(chapter=chapter, number=_free_number(sec.number or s_index, section_numbers),
                                             label=sec.label, title=sec.title[:300], intro=sec.intro_text,
                                             line=sec.line)
            sections.setdefault((ch.number or c_index, sec.number or s_index), section)
            task_numbers = set()
            for t_index, t in enumerate(sec.tasks, start=1):
                t_number = _free_number(t.number or t_index, task_numbers)
                tasks.append(Task(plan=plan, chapter=chapter, section=section,
                                  code=f"{chapter.number}.{section.number}.{t_number}",
                                  number=t_number, title=t.title[:300], text=t.text, line=t.line))
    Task.objects.bulk_create(tasks)
    statements = []
    for kind, items in ((StatementKind.GOAL, doc.goals), (StatementKind.STRATEGY, doc.strategies),
                        (StatementKind.MEASURE, doc.measures)):
        statements += [Statement(plan=plan, kind=kind, order=i, title=s.title[:300], text=s.text, line=s.line)
                       for i, s in enumerate(items, start=1)]
    Statement.objects.bulk_create(statements)

    candidates = _host_candidates()
    host_matches: dict[str, int] = {}
    for order, box in enumerate(doc.boxes, start=1):
        project_box = ProjectBox.objects.create(
            plan=plan, order=order, number=box.number, title=box.title[:300],
            chapter=chapters.get(box.chapter_number), section=sections.get((box.chapter_number, box.section_number)),
            line=box.line)
        for group in box.groups:
            for i_index, item in enumerate(group.items, start=1):
                project = MajorProject(
                    box=project_box, code=f"{box.number or 'X' + str(order)}.{item.number or i_index}",
                    group=(group.title or "")[:100], number=item.number, title=item.title[:300], text=item.text,
                    line=item.line, status=ProjectStatus.PLANNED)
                outcome = _link_host(project, candidates, actor)
                host_matches[outcome] = host_matches.get(outcome, 0) + 1
                project.save()

    indicators: dict[int, Indicator] = {}
    by_parsed_number: dict[int | None, Indicator] = {}
    indicator_numbers: set[int] = set()
    for ind in doc.indicators:
        source = sources.match(ind.name)
        number = _free_number(ind.number or len(indicators) + 1, indicator_numbers)
        # a sub-row points at its parent's stored number (the parsed one may have been renumbered)
        parent = by_parsed_number.get(ind.parent_number) if ind.parent_number is not None else None
        indicator = Indicator.objects.create(
            plan=plan, code=str(number), number=number, name=ind.name[:200],
            unit=ind.unit[:30], direction=ind.direction, comparator=ind.comparator,
            target_year=ind.target_year or target, attribute=ind.attribute, target_text=ind.target_text[:200],
            target_basis=ind.target_basis, qualitative=ind.qualitative,
            parent_number=parent.number if parent is not None else None,
            footnotes=[note[:500] for note in ind.footnotes], marks=list(ind.marks),
            source_key=source.key if source else "", table_number=ind.table_number, line=ind.line)
        indicators[indicator.number] = indicator
        by_parsed_number.setdefault(ind.number, indicator)
        if indicator.target_year and (ind.target_value is not None or ind.target_low is not None):
            TargetValue.objects.create(indicator=indicator, year=indicator.target_year, value=ind.target_value,
                                       low=ind.target_low, high=ind.target_high, comparator=ind.comparator)
    baselines = {}
    for b in doc.baselines:
        indicator = by_parsed_number.get(b.indicator_number)
        if indicator is None or b.year is None:
            continue
        baselines[(indicator.pk, b.year)] = ObservedValue(
            indicator=indicator, year=b.year, value=b.value, source=ValueSource.PLAN_TEXT,
            provenance=b.sentence[:2000], status=ValueStatus.APPROVED, approved_at=timezone.now())
    ObservedValue.objects.bulk_create(baselines.values())
    Commitment.objects.bulk_create([
        Commitment(plan=plan, text=c.text[:300], subject=c.subject[:200], value=c.value, value_high=c.value_high,
                   unit=c.unit[:30], comparator=c.comparator, year=c.year,
                   indicator=by_parsed_number.get(c.indicator_number), sentence=c.sentence, line=c.line)
        for c in doc.commitments
    ])
    ParseWarning.objects.bulk_create([ParseWarning(plan=plan, code=w.code, message=w.message, line=w.line)
                                      for w in doc.warnings])
    counts = doc.counts()
    audit_record(action=AuditAction.IMPORT, actor=actor, obj=plan,
                 changes={"source": [None, filename], "sha256": [None, sha], "counts": [None, counts],
                          "host_matches": [None, host_matches]})
    warnings = [{"code": w.code, "message": w.message, "line": w.line} for w in doc.warnings]
    return PlanImportResult(plan, True, counts, warnings, host_matches)


def plan_import_bundled(*, actor: User | None = None) -> PlanImportResult:
    """Import the bundled Guangming plan and its default decomposition (both idempotent)."""
    import json

    result = plan_import(actor=actor, content=BUNDLED_PLAN.read_bytes(), filename=BUNDLED_PLAN.name)
    setup_file = BUNDLED_PLAN.with_suffix(".setup.json")
    if setup_file.exists() and result.plan is not None:
        plan_setup_apply(actor=actor, plan=result.plan, setup=json.loads(setup_file.read_text("utf-8")))
    return result


# --- task decomposition and progress
TASK_FIELDS = ("lead_department", "deadline", "deliverables", "weight")


def _check_department(org: Organisation | None) -> None:
    if org is not None and org.kind != OrganisationKind.GOVERNMENT_DEPARTMENT:
        raise ValidationError(_("%(name)s is not a government department.") % {"name": org.name})


@transaction.atomic
def task_update(*, actor: User | None, task: Task, data: dict[str, Any], reason: str = "") -> dict[str, list[Any]]:
    """Decompose a task: lead and supporting departments, deadline, deliverables, weight (bureau only)."""
    _require_bureau(actor)
    given, task = task, Task.objects.select_for_update().get(pk=task.pk)
    before = snapshot(task, [*TASK_FIELDS, "supporting_departments"])
    for key in TASK_FIELDS:
        if key in data:
            setattr(task, key, data[key])
    _check_department(task.lead_department)
    if "supporting_departments" in data:
        for org in data["supporting_departments"]:
            _check_department(org)
    task.full_clean()
    task.save()
    if "supporting_departments" in data:
        task.supporting_departments.set(data["supporting_departments"])
    changes = diff(before, snapshot(task, [*TASK_FIELDS, "supporting_departments"]))
    if changes:
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=task, changes=changes, reason=reason)
    given.refresh_from_db()
    return changes


@transaction.atomic
def task_progress_report(*, actor: User | None, task: Task, period: str, as_of: dt.date, percent: int, narrative: str,
                         evidence=None, department: Organisation | None = None) -> TaskProgressReport:
    """A department files progress on one of its tasks; the task's progress becomes the latest report's."""
    permissions.require(can_report_on_task(actor, task))
    if department is None:
        ids = permissions.organisation_ids(actor)
        department = Organisation.objects.filter(pk__in=ids, kind=OrganisationKind.GOVERNMENT_DEPARTMENT).first()
    report = TaskProgressReport(task=task, period=period.strip(), as_of=as_of, percent=percent,
                                narrative=narrative.strip(), department=department, reported_by=actor)
    if evidence is not None:
        report.evidence = evidence
    if not 0 <= percent <= 100:
        raise ValidationError({"percent": _("Progress is a percentage from 0 to 100.")})
    report.full_clean()
    report.save()
    latest = task.reports.order_by("-as_of", "-id").first()
    old = task.progress
    Task.objects.filter(pk=task.pk).update(progress=latest.percent, progress_as_of=latest.as_of)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=report, acting_organisation=department,
                 changes={"task": [None, task.code], "period": [None, report.period], "percent": [old, percent],
                          "narrative": [None, report.narrative], "evidence": [None, report.evidence.name or None]})
    return report


# --- indicator values and reporting rounds
def indicator_department(indicator: Indicator) -> Organisation | None:
    return indicator.owner_department


def check_plausible(indicator: Indicator, value: float) -> None:
    """Refuse a value outside the indicator's plausible range (NaN and infinities included), naming both."""
    low, high = indicator.plausible_range()
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise ValidationError({"value": _(
            "%(value)s is outside the plausible range of “%(name)s” (%(low)s to %(high)s %(unit)s); check the "
            "figure, or ask the bureau to widen the range.") % {
            "value": value, "name": indicator.name, "low": f"{low:g}", "high": f"{high:g}", "unit": indicator.unit}})


@transaction.atomic
def _indicator_value_set(*, actor: User | None, indicator: Indicator, year: int, value: float, source: str = ValueSource.MANUAL,
                        scope: str = DISTRICT_SCOPE, note: str = "", provenance: str = "",
                        check_permission: bool, is_synthetic: bool = False) -> tuple[ObservedValue, bool]:
    """Set an observed value (a draft until its round is approved). Locked (approved) values refuse.

    Returns the value and whether anything changed.
    """
    if check_permission:
        permissions.require(can_enter_value(actor, indicator))
    if value is None:
        raise ValidationError({"value": _("Enter a number.")})
    check_plausible(indicator, value)
    current = ObservedValue.objects.select_for_update().filter(indicator=indicator, year=year, scope=scope).first()
    if current is not None and current.locked:
        raise ValidationError({"value": _("The %(year)s value of “%(name)s” is approved and locked; the bureau must "
                                          "re-open it with a reason first.") % {"year": year, "name": indicator.name}})
    if current is not None and current.value == float(value) and current.note == note and current.source == source:
        return current, False
    before = snapshot(current, ["value", "source", "status", "note"]) if current else {}
    obj = current or ObservedValue(indicator=indicator, year=year, scope=scope)
    obj.value = float(value)
    obj.source = source
    obj.note = note[:300]
    obj.provenance = provenance or obj.provenance
    obj.status = ValueStatus.DRAFT
    obj.is_synthetic = is_synthetic
    obj.entered_by = actor if getattr(actor, "is_authenticated", False) else None
    obj.full_clean()
    obj.save()
    audit_record(action=AuditAction.UPDATE if current else AuditAction.CREATE, actor=actor, obj=obj,
                 object_repr=f"{indicator.name} {year}",
                 changes=diff(before, snapshot(obj, ["value", "source", "status", "note"])))
    return obj, True


def indicator_value_set(
    *,
    actor: User | None,
    indicator: Indicator,
    year: int,
    value: float,
    source: str = ValueSource.MANUAL,
    scope: str = DISTRICT_SCOPE,
    note: str = "",
    provenance: str = "",
    is_synthetic: bool = False) -> tuple[ObservedValue, bool]:
    """:func:`_indicator_value_set` for a user: the actor's permission is checked first."""
    return _indicator_value_set(actor=actor, indicator=indicator, year=year, value=value, source=source,
                                scope=scope, note=note, provenance=provenance, is_synthetic=is_synthetic,
                                check_permission=True)


def indicator_value_set_unchecked(**kwargs: Any) -> tuple[ObservedValue, bool]:
    """Internal: :func:`indicator_value_set` without the permission check (importers, services that checked already)."""
    return _indicator_value_set(**kwargs, check_permission=False)


@transaction.atomic
def indicator_value_compute(*, actor: User | None, indicator: Indicator, year: int) -> ObservedValue | None:
    """Store the registry computation of an indicator for a year, with its provenance.

    ``None`` when there is no computation, or when the registry counts nothing for that year and no
    value is stored yet: a year without data never becomes a stored 0 (a stored value that drops to 0,
    e.g. after a cancelled contract, is updated)."""
    source = sources.get(indicator.source_key)
    if source is None:
        return None
    value, provenance = sources.compute(source, year=year, scope=DISTRICT_SCOPE, plan_start=indicator.plan.start_year)
    current = ObservedValue.objects.filter(indicator=indicator, year=year, scope=DISTRICT_SCOPE).first()
    if current is not None and current.locked:
        return current
    if not value and current is None:
        return None
    obj, _changed = indicator_value_set_unchecked(actor=actor, indicator=indicator, year=year, value=value,
                                        source=ValueSource.COMPUTED, provenance=provenance)
    return obj


@transaction.atomic
def round_open(*, actor: User | None, plan: Plan, year: int, deadline: dt.date) -> ReportingRound:
    _require_bureau(actor)
    rnd, created = ReportingRound.objects.get_or_create(plan=plan, year=year, defaults={"deadline": deadline})
    if created:
        departments = Organisation.objects.filter(owned_indicators__plan=plan).distinct()
        RoundSubmission.objects.bulk_create([RoundSubmission(round=rnd, department=d) for d in departments])
        audit_record(action=AuditAction.CREATE, actor=actor, obj=rnd,
                     changes={"year": [None, year], "deadline": [None, deadline],
                              "departments": [None, [d.pk for d in departments]]})
    return rnd


def _submission_for(rnd: ReportingRound, department: Organisation) -> RoundSubmission:
    submission, _ = RoundSubmission.objects.get_or_create(round=rnd, department=department)
    return submission


def _transition(actor: User | None, submission: RoundSubmission, new: str, *, allowed_from: tuple[str, ...],
                comment: str = "") -> RoundSubmission:
    if submission.status not in allowed_from:
        raise ValidationError(_("A submission that is “%(status)s” cannot become “%(new)s”.") % {
            "status": submission.get_status_display(), "new": SubmissionStatus(new).label})
    old = submission.status
    submission.status = new
    submission.comment = comment
    now = timezone.now()
    if new == SubmissionStatus.SUBMITTED:
        submission.submitted_at, submission.submitted_by = now, actor
    else:
        submission.decided_at, submission.decided_by = now, actor
    submission.save()
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=submission,
                 object_repr=f"{submission.round} · {submission.department}",
                 changes={"status": [old, new]}, reason=comment, acting_organisation=submission.department)
    if new in (SubmissionStatus.APPROVED, SubmissionStatus.RETURNED):
        _notify_department(submission)
    return submission


def _notify_department(submission: RoundSubmission) -> None:
    """The department's accounts learn that the bureau approved or returned their submission."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from sciencecity.core.notifications import notification_send

    if submission.status == SubmissionStatus.APPROVED:
        message = _("Your %(round)s submission was approved.") % {"round": submission.round.year}
    else:
        message = _("Your %(round)s submission was returned for revision: %(comment)s") % {
            "round": submission.round.year, "comment": submission.comment[:120]}
    users = get_user_model().objects.filter(is_active=True, memberships__organisation_id=submission.department_id)
    notification_send(users=users.distinct(), message=message, category="round",
                      url=reverse("plans:round_detail", args=[submission.round_id]))


def _department_values(submission: RoundSubmission):
    return ObservedValue.objects.filter(indicator__plan=submission.round.plan,
                                        indicator__owner_department=submission.department,
                                        year=submission.round.year)


@transaction.atomic
def submission_submit(*, actor: User | None, rnd: ReportingRound, department: Organisation) -> RoundSubmission:
    """A department submits its values for the round's year."""
    if not (permissions.is_bureau_officer(actor) or department.pk in permissions.organisation_ids(actor)):
        raise PermissionDenied
    submission = _submission_for(rnd, department)
    _department_values(submission).filter(status=ValueStatus.DRAFT).update(status=ValueStatus.SUBMITTED)
    return _transition(actor, submission, SubmissionStatus.SUBMITTED,
                       allowed_from=(SubmissionStatus.DRAFT, SubmissionStatus.RETURNED))


@transaction.atomic
def submission_approve(*, actor: User | None, submission: RoundSubmission) -> RoundSubmission:
    """The bureau approves: the department's values for that year are locked."""
    _require_bureau(actor)
    values = _department_values(submission).exclude(status=ValueStatus.APPROVED)
    values.update(status=ValueStatus.APPROVED, approved_by=actor, approved_at=timezone.now())
    return _transition(actor, submission, SubmissionStatus.APPROVED, allowed_from=(SubmissionStatus.SUBMITTED,))


@transaction.atomic
def submission_return(*, actor: User | None, submission: RoundSubmission, comment: str) -> RoundSubmission:
    _require_bureau(actor)
    if not comment.strip():
        raise ValidationError({"comment": _("Say what the department should revise.")})
    _department_values(submission).filter(status=ValueStatus.SUBMITTED).update(status=ValueStatus.DRAFT)
    return _transition(actor, submission, SubmissionStatus.RETURNED, allowed_from=(SubmissionStatus.SUBMITTED,),
                       comment=comment)


@transaction.atomic
def value_reopen(*, actor: User | None, value: ObservedValue, reason: str) -> ObservedValue:
    """Unlock an approved value; the reason is required and audited."""
    _require_bureau(actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Re-opening an approved value needs a reason.")})
    if not value.locked:
        return value
    value.status = ValueStatus.DRAFT
    value.approved_by = None
    value.approved_at = None
    value.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=value, object_repr=f"{value.indicator.name} {value.year}",
                 changes={"status": [ValueStatus.APPROVED, ValueStatus.DRAFT]}, reason=reason)
    return value


# --- major projects
PROJECT_FIELDS = ("status", "planned_investment", "actual_investment", "start_date", "end_date", "host", "host_match")


@transaction.atomic
def project_update(*, actor: User | None, project: MajorProject, data: dict[str, Any], note: str = "",
                   date: dt.date | None = None) -> dict[str, list[Any]]:
    _require_bureau(actor)
    given, project = project, MajorProject.objects.select_for_update().get(pk=project.pk)
    before = snapshot(project, list(PROJECT_FIELDS))
    for key in PROJECT_FIELDS:
        if key in data:
            setattr(project, key, data[key])
    if "host" in data and "host_match" not in data:
        project.host_match = HostMatch.CONFIRMED
    project.full_clean()
    project.save()
    changes = diff(before, snapshot(project, list(PROJECT_FIELDS)))
    if changes or note:
        ProjectUpdate.objects.create(project=project, date=date or timezone.localdate(), status=project.status,
                                     note=note or _("Updated: %(fields)s") % {"fields": ", ".join(changes)},
                                     investment_to_date=project.actual_investment, author=actor)
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=project, changes=changes, reason=note)
    given.refresh_from_db()
    return changes


@transaction.atomic
def milestone_add(*, actor: User | None, project: MajorProject, title: str, due_date: dt.date) -> ProjectMilestone:
    _require_bureau(actor)
    milestone = ProjectMilestone(project=project, title=title.strip(), due_date=due_date)
    milestone.full_clean()
    milestone.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=milestone,
                 changes={"title": [None, milestone.title], "due_date": [None, due_date]})
    return milestone


@transaction.atomic
def milestone_done(*, actor: User | None, milestone: ProjectMilestone, done_date: dt.date) -> ProjectMilestone:
    _require_bureau(actor)
    old = milestone.done_date
    milestone.done_date = done_date
    milestone.save(update_fields=["done_date", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=milestone, changes={"done_date": [old, done_date]})
    return milestone


def importing_district(actor: User | None) -> str:
    """The district of the organisation the importing officer acts for ("" when unknown)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    ids = permissions.organisation_ids(actor)
    districts = sorted({d for d in Organisation.objects.filter(pk__in=ids).values_list("district", flat=True) if d})
    return districts[0] if len(districts) == 1 else ""


@transaction.atomic
def plan_setup_apply(*, actor: User | None, plan: Plan, setup: dict[str, Any]) -> dict[str, int]:
    """Apply a default decomposition (departments, indicator owners, chapter leads) where none is set yet.

    One transaction: missing departments are created through ``organisation_create`` (each audited);
    the owners and leads of a freshly imported plan are set and validated here and recorded as one
    audit event with the counts, like a bulk import (per-row events would bury the plan's later edits).
    """
    _require_bureau(actor)
    counts = {"departments": 0, "indicators": 0, "tasks": 0}
    departments: dict[str, Organisation] = {}
    district = setup.get("district") or importing_district(actor)
    for code, name, name_en in setup.get("departments", []):
        org = Organisation.objects.filter(code=code).first() or Organisation.objects.filter(name=name).first()
        if org is None:
            from sciencecity.registry.services import organisation_create_unchecked

            org = organisation_create_unchecked(actor=actor, data={
                "code": code, "name": name, "name_en": name_en, "kind": OrganisationKind.GOVERNMENT_DEPARTMENT,
                "level": "district", "district": district})
            counts["departments"] += 1
        departments[code] = org
    owners = setup.get("indicator_owners", {})
    for indicator in plan.indicators.filter(owner_department__isnull=True):
        code = owners.get(indicator.name)
        if code in departments:
            indicator.owner_department = departments[code]
            _check_department(indicator.owner_department)
            indicator.full_clean()
            indicator.save(update_fields=["owner_department", "updated_at"])
            counts["indicators"] += 1
    deadline = dt.date.fromisoformat(setup["deadline"]) if setup.get("deadline") else None
    for chapter_number, (lead, supporting) in setup.get("chapter_leads", {}).items():
        for task in plan.tasks.filter(chapter__number=int(chapter_number), lead_department__isnull=True):
            task.lead_department = departments.get(lead)
            task.deadline = task.deadline or deadline
            _check_department(task.lead_department)
            task.full_clean()
            task.save(update_fields=["lead_department", "deadline", "updated_at"])
            task.supporting_departments.set([departments[c] for c in supporting if c in departments])
            counts["tasks"] += 1
    if any(counts.values()):
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=plan, changes={"default_decomposition": [None, counts]},
                     reason="default decomposition of the bundled plan")
    return counts


# --- indicator metadata
INDICATOR_FIELDS = ("unit", "direction", "comparator", "target_year", "attribute", "data_source", "owner_department",
                    "source_key", "plausible_min", "plausible_max")
NULLABLE_FIELDS = ("target_year", "owner_department", "plausible_min", "plausible_max")
#: Keys of ``data`` for the target row (TargetValue of the target year): value, low, high.
TARGET_KEYS = {"target_value": "value", "target_low": "low", "target_high": "high"}
#: Changing any of these changes the target: a reason is required.
TARGET_CHANGES = ("comparator", "target_year", *TARGET_KEYS)


def _target_row(indicator: Indicator) -> TargetValue | None:
    rows = TargetValue.objects.select_for_update().filter(indicator=indicator, scope=DISTRICT_SCOPE)
    return rows.filter(year=indicator.target_year).first() or rows.order_by("year").first()


def _check_target(indicator: Indicator, target: dict[str, float | None]) -> None:
    if all(v is None for v in target.values()):
        return
    errors: dict[str, str] = {}
    if indicator.target_year is None:
        errors["target_year"] = _("A target needs a target year.")
    if indicator.comparator == Comparator.RANGE:
        if target["low"] is None or target["high"] is None:
            errors["target_low"] = _("A range target needs a low and a high value.")
        elif target["low"] > target["high"]:
            errors["target_high"] = _("The high value of the range is below its low value.")
    elif target["value"] is None:
        errors["target_value"] = _("Enter the target value.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def indicator_update(*, actor: User | None, indicator: Indicator, data: dict[str, Any], reason: str = "") -> dict[str, list[Any]]:
    """Edit an indicator's metadata and its target (the TargetValue row of its target year). Bureau only.

    ``data`` holds any of :data:`INDICATOR_FIELDS` (``owner_department`` an Organisation or None,
    ``source_key`` a registered source or "") and ``target_value``/``target_low``/``target_high``.
    Changing the target (value, range, comparator or year) requires a reason. Audited with the old
    and new values.
    """
    _require_bureau(actor)
    given, indicator = indicator, Indicator.objects.select_for_update().get(pk=indicator.pk)
    row = _target_row(indicator)
    current = {key: getattr(row, name) if row else None for key, name in TARGET_KEYS.items()}
    before = {**snapshot(indicator, INDICATOR_FIELDS), **to_json(current)}
    for key in INDICATOR_FIELDS:
        if key in data:
            value = data[key]
            setattr(indicator, key, "" if value is None and key not in NULLABLE_FIELDS else value)
    _check_department(indicator.owner_department)
    if indicator.source_key and sources.get(indicator.source_key) is None:
        raise ValidationError({"source_key": _("“%(key)s” is not a registry computation.") % {
            "key": indicator.source_key}})
    indicator.full_clean()
    target = {name: (float(data[key]) if data[key] is not None else None) if key in data else current[key]
              for key, name in TARGET_KEYS.items()}
    _check_target(indicator, target)
    changes = diff(before, {**snapshot(indicator, INDICATOR_FIELDS),
                            **to_json({key: target[name] for key, name in TARGET_KEYS.items()})})
    if any(key in changes for key in TARGET_CHANGES) and not reason.strip():
        raise ValidationError({"reason": _("Changing the target of an indicator needs a reason.")})
    if not changes:
        return changes
    indicator.save()
    if all(v is None for v in target.values()):
        if row is not None:
            row.delete()
    else:
        existing = TargetValue.objects.filter(indicator=indicator, year=indicator.target_year,
                                              scope=DISTRICT_SCOPE).first()
        if row is not None and existing is not None and existing.pk != row.pk:
            row.delete()
        row = existing or row or TargetValue(indicator=indicator, scope=DISTRICT_SCOPE)
        row.year = indicator.target_year
        row.comparator = indicator.comparator
        row.value, row.low, row.high = target["value"], target["low"], target["high"]
        row.full_clean()
        row.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=indicator, changes=changes, reason=reason)
    given.refresh_from_db()
    return changes


# --- plan document upload in the browser: stage (dry run with preview), review OCR cells, confirm
PLAN_UPLOAD_KIND = "plans.plan_document"


def _ocr_preview(doc: plandoc.PlanDocument) -> list[dict[str, Any]]:
    import base64

    tables = []
    for table in doc.ocr_tables:
        tables.append({
            "index": table.index, "caption": table.caption, "kind": table.kind, "line": table.line,
            "engine": table.engine, "seconds": round(table.seconds, 2), "method": table.method,
            "rows": table.rows,
            "image": base64.b64encode(table.image_bytes).decode("ascii") if table.image_bytes else "",
        })
    return tables


def plan_upload_stage(*, actor: User | None, content: bytes, filename: str,
                      period: tuple[int, int] | None = None) -> ImportBatch:
    """Keep an uploaded plan document for review: parse it (OCR included) and store the preview.

    Nothing of the plan is written; a file that cannot be read raises ValidationError and leaves
    nothing behind.
    """
    from django.conf import settings

    _require_bureau(actor)
    filename = (filename or "plan").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise ValidationError({"file": _("The file is larger than %(limit)s MB.")
                               % {"limit": settings.IMPORT_MAX_BYTES // 1048576}})
    doc = _parse(content, filename)
    if period is not None:
        doc.period_start, doc.period_end = period
    current = Plan.objects.filter(is_current=True).first()
    data = doc.to_dict()
    report = {
        "document": {key: data[key] for key in ("title", "source_format", "preface", "parts", "chapters",
                                                "indicators", "boxes", "warnings", "notes", "counts",
                                                "period_start", "period_end")},
        "ocr": _ocr_preview(doc),
        "period": list(period) if period else None,
        "diff": selectors.plan_document_diff(current, data) if current else None,
        "current_plan": current.title if current else "",
    }
    batch = ImportBatch(kind=PLAN_UPLOAD_KIND, file_name=filename, sha256=hashlib.sha256(content).hexdigest(),
                        size=len(content), content=content, uploaded_by=actor if getattr(actor, "is_authenticated",
                                                                                          False) else None,
                        status=ImportStatus.DRY_RUN, report=to_json(report))
    batch.full_clean(exclude=["content", "report"])
    batch.save()
    return batch


def plan_upload_confirm(*, actor: User | None, batch: ImportBatch,
                        ocr_cells: dict[int, list[list[str]]] | None = None) -> PlanImportResult:
    """Store a staged plan document with the officer's OCR corrections; the batch becomes confirmed."""
    _require_bureau(actor)
    if batch.kind != PLAN_UPLOAD_KIND or batch.status != ImportStatus.DRY_RUN:
        raise ValidationError(_("This upload was already confirmed or cannot be confirmed."))
    expected = {t["index"]: t["rows"] for t in batch.report.get("ocr", [])}
    overrides: dict[int, list[list[str]]] = {}
    for index, rows in expected.items():
        given = (ocr_cells or {}).get(index)
        if given is None:
            given = [[cell["text"] for cell in row] for row in rows]  # confirmed as read
        shape = [len(row) for row in rows]
        if [len(row) for row in given] != shape:
            raise ValidationError(_("The corrected table does not have the shape of the table read from the image."))
        overrides[index] = [[str(text).strip()[:500] for text in row] for row in given]
    period = tuple(batch.report["period"]) if batch.report.get("period") else None
    with transaction.atomic():
        result = plan_import(actor=actor, content=bytes(batch.content), filename=batch.file_name,
                             period=period, ocr_overrides=overrides)
        batch.status = ImportStatus.CONFIRMED
        batch.confirmed_at = timezone.now()
        batch.save(update_fields=["status", "confirmed_at", "updated_at"])
        if overrides and result.plan is not None:
            # which cells the officer changed, beside what OCR read there (row and column from 0)
            corrections = [
                {"table": index, "caption": table.get("caption", ""), "row": r, "column": c,
                 "read": cell["text"], "corrected": overrides[index][r][c]}
                for table in batch.report.get("ocr", []) for index in [table["index"]]
                for r, row in enumerate(table["rows"]) for c, cell in enumerate(row)
                if overrides[index][r][c] != cell["text"]
            ]
            audit_record(action=AuditAction.UPDATE, actor=actor, obj=result.plan,
                         changes={"ocr_review": [None, {str(k): v for k, v in overrides.items()}],
                                  "ocr_corrections": [None, corrections]},
                         reason="cells read from images by OCR, reviewed before storing")
    return result
