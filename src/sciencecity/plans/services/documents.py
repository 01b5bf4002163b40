"""Import of the plan document (the bundled plan, an upload, a browser upload staged with a dry run
and confirmed after the OCR cells are reviewed): chapters, tasks, indicators, boxes and major projects."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import uploads
from sciencecity.core.audit import audit_record, to_json
from sciencecity.core.models import AuditAction, ImportBatch, ImportStatus
from sciencecity.engines import plandoc
from sciencecity.engines.names import best_match
from sciencecity.plans import selectors, sources
from sciencecity.plans.choices import (
    HostMatch,
    ProjectStatus,
    StatementKind,
    ValueSource,
    ValueStatus,
)
from sciencecity.plans.models import (
    Chapter,
    Commitment,
    Indicator,
    MajorProject,
    ObservedValue,
    ParseWarning,
    Plan,
    ProjectBox,
    Section,
    Statement,
    TargetValue,
    Task,
)
from sciencecity.plans.services.common import require_bureau
from sciencecity.plans.services.setup import plan_setup_apply
from sciencecity.registry.choices import OrganisationKind, OrganisationStatus
from sciencecity.registry.models import Organisation, OrganisationAlias

if TYPE_CHECKING:
    from sciencecity.accounts.models import User


BUNDLED_PLAN = Path(__file__).resolve().parent.parent / "data" / "guangming_sti_14th_fyp.txt"
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
    require_bureau(actor)
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

    require_bureau(actor)
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
    require_bureau(actor)
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
