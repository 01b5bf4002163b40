"""Plan API: the plan structure (public), indicators and values, tasks, projects, import, export."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from sciencecity.core import permissions
from sciencecity.core.api import PUBLIC_AUTH, ErrorResponse, FiniteNumber, InputSchema, PageNumber
from sciencecity.plans import selectors, services
from sciencecity.plans.models import Indicator, MajorProject, ObservedValue, Plan, Task
from sciencecity.registry.models import Organisation

router = Router(tags=["plans"])
ERRORS = {400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse}


class PlanOut(Schema):
    id: int
    code: str
    title: str
    start_year: int | None
    target_year: int | None
    source_name: str
    is_current: bool
    counts: dict


class TaskOut(Schema):
    id: int
    code: str
    number: int
    title: str
    text: str
    line: int | None
    chapter: int
    section: int | None
    lead_department: int | None
    supporting_departments: list[int]
    deadline: dt.date | None
    deliverables: str
    weight: float
    progress: int | None = None

    @staticmethod
    def resolve_chapter(obj):
        return obj.chapter.number

    @staticmethod
    def resolve_section(obj):
        return obj.section.number if obj.section_id else None

    @staticmethod
    def resolve_lead_department(obj):
        return obj.lead_department_id

    @staticmethod
    def resolve_supporting_departments(obj):
        return [d.pk for d in obj.supporting_departments.all()]

    @staticmethod
    def resolve_progress(obj, context):
        return obj.progress if permissions.can_view_monitoring(context["request"].auth) else None


class TargetOut(Schema):
    year: int
    value: float | None
    low: float | None
    high: float | None
    comparator: str


class ValueOut(Schema):
    id: int
    year: int
    scope: str
    value: float
    source: str
    status: str
    provenance: str
    note: str
    is_synthetic: bool


class IndicatorOut(Schema):
    id: int
    code: str
    number: int
    name: str
    unit: str
    direction: str
    comparator: str
    target_year: int | None
    attribute: str
    target_text: str
    owner_department: int | None
    source_key: str
    targets: list[TargetOut]
    plausible_min: float = Field(description="Lowest value accepted (the indicator's own or derived from its unit)")
    plausible_max: float = Field(description="Highest value accepted")

    @staticmethod
    def resolve_plausible_min(obj):
        return obj.plausible_range()[0]

    @staticmethod
    def resolve_plausible_max(obj):
        return obj.plausible_range()[1]

    @staticmethod
    def resolve_owner_department(obj):
        return obj.owner_department_id

    @staticmethod
    def resolve_targets(obj):
        return list(obj.targets.all())


class IndicatorStatusOut(Schema):
    id: int
    code: str
    number: int
    name: str
    unit: str
    direction: str
    comparator: str
    target_year: int | None
    attribute: str
    owner_department: int | None
    source_key: str
    targets: list[TargetOut]
    status: str | None
    reason: str
    latest_year: int | None
    latest_value: float | None
    projected: float | None
    live_value: float | None
    live_provenance: str
    values: list[ValueOut]


class ValueIn(InputSchema):
    year: int
    value: FiniteNumber
    note: str = ""


class TaskPatch(InputSchema):
    lead_department: int | None = None
    supporting_departments: list[int] | None = None
    deadline: dt.date | None = None
    deliverables: str = Field("", description="Deliverables (empty clears them; null is refused)")
    weight: FiniteNumber = Field(1.0, gt=0, description="Weight in the progress roll-up")
    reason: str = ""


class ProgressIn(InputSchema):
    period: str
    as_of: dt.date
    percent: int
    narrative: str


class MajorProjectOut(Schema):
    id: int
    code: str
    box: str
    group: str
    title: str
    status: str
    host: int | None
    host_match: str
    planned_investment: float | None
    actual_investment: float | None
    is_synthetic: bool

    @staticmethod
    def resolve_box(obj):
        return str(obj.box)

    @staticmethod
    def resolve_host(obj):
        return obj.host_id


class MajorProjectPatch(InputSchema):
    status: str | None = None
    planned_investment: FiniteNumber | None = None
    actual_investment: FiniteNumber | None = None
    host: int | None = None
    note: str = ""


class ImportOut(Schema):
    created: bool
    dry_run: bool
    plan: int | None
    counts: dict
    warnings: list[dict]
    host_matches: dict


def _plan(plan_id: int) -> Plan:
    return get_object_or_404(Plan, pk=plan_id)


def _require_plan(request):
    permissions.require(permissions.can_view_plan(request.auth))


def _require_monitoring(request):
    user = request.auth
    if not getattr(user, "is_authenticated", False):
        from ninja.errors import AuthenticationError

        raise AuthenticationError
    permissions.require(permissions.can_view_monitoring(user))


@router.get("/", response={200: list[PlanOut], **ERRORS}, auth=PUBLIC_AUTH, summary="Imported plans")
def plan_list(request):
    _require_plan(request)
    return list(Plan.objects.all())


@router.get("/{int:plan_id}", response={200: PlanOut, **ERRORS}, auth=PUBLIC_AUTH, summary="One plan")
def plan_detail(request, plan_id: int):
    _require_plan(request)
    return _plan(plan_id)


@router.get("/{int:plan_id}/export", response={200: dict, **ERRORS}, auth=PUBLIC_AUTH,
            summary="Machine-readable plan (structure; values when you may see monitoring data)")
def plan_export(request, plan_id: int):
    _require_plan(request)
    from sciencecity.plans.report import plan_export as export

    return export(_plan(plan_id), include_values=permissions.can_view_monitoring(request.auth))


@router.get("/{int:plan_id}/tasks", response={200: list[TaskOut], **ERRORS}, auth=PUBLIC_AUTH, summary="Tasks")
@paginate(PageNumber)
def task_list(request, plan_id: int, department: int | None = None, overdue: bool = False):
    _require_plan(request)
    tasks = _plan(plan_id).tasks.select_related("chapter", "section").prefetch_related("supporting_departments")
    if department:
        tasks = tasks.for_department(department)
    if overdue:
        tasks = tasks.filter(deadline__lt=dt.date.today(), progress__lt=100)
    return tasks


@router.patch("/tasks/{int:task_id}", response={200: TaskOut, **ERRORS}, summary="Decompose a task (bureau)")
def task_patch(request, task_id: int, payload: TaskPatch):
    task = get_object_or_404(Task, pk=task_id)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    if "lead_department" in data:
        data["lead_department"] = get_object_or_404(Organisation, pk=data["lead_department"]) if data["lead_department"] else None
    if "supporting_departments" in data:
        data["supporting_departments"] = list(Organisation.objects.filter(pk__in=data["supporting_departments"] or []))
    services.task_update(actor=request.auth, task=task, data=data, reason=reason)
    return Task.objects.select_related("chapter", "section").get(pk=task_id)


@router.post("/tasks/{int:task_id}/reports", response={201: dict, **ERRORS}, summary="File progress on a task")
def task_report(request, task_id: int, payload: ProgressIn):
    task = get_object_or_404(Task, pk=task_id)
    report = services.task_progress_report(actor=request.auth, task=task, **payload.dict())
    return Status(201, {"id": report.pk, "task": task.code, "percent": report.percent})


@router.get("/{int:plan_id}/indicators", response={200: list[IndicatorOut], **ERRORS}, auth=PUBLIC_AUTH,
            summary="Indicators with targets")
def indicator_list(request, plan_id: int):
    _require_plan(request)
    return list(_plan(plan_id).indicators.prefetch_related("targets"))


@router.get("/{int:plan_id}/indicators/status", response={200: list[IndicatorStatusOut], **ERRORS},
            summary="Indicators with values, projection and status")
def indicator_status(request, plan_id: int):
    _require_monitoring(request)
    rows = selectors.indicator_rows(_plan(plan_id))
    result = []
    for row in rows:
        indicator = row.indicator
        data = {f: getattr(indicator, f) for f in ("id", "code", "number", "name", "unit", "direction", "comparator",
                                                  "target_year", "attribute", "source_key")}
        data["owner_department"] = indicator.owner_department_id
        data["targets"] = [TargetOut.from_orm(t).dict() for t in indicator.targets.all()]
        data.update({
            "status": row.assessment.status if row.assessment else None, "reason": row.reason,
            "latest_year": row.latest.year if row.latest else None,
            "latest_value": row.latest.value if row.latest else None,
            "projected": row.assessment.projected if row.assessment else None,
            "live_value": row.live_value, "live_provenance": row.live_provenance,
            "values": [ValueOut.from_orm(v).dict() for v in indicator.observations.all()],
        })
        result.append(data)
    return result


@router.post("/indicators/{int:indicator_id}/values", response={200: ValueOut, 201: ValueOut, **ERRORS},
             summary="Enter an observed value (draft until its round is approved)")
def value_set(request, indicator_id: int, payload: ValueIn):
    indicator = get_object_or_404(Indicator, pk=indicator_id)
    existed = ObservedValue.objects.filter(indicator=indicator, year=payload.year).exists()
    value, _changed = services.indicator_value_set(actor=request.auth, indicator=indicator, year=payload.year,
                                                   value=payload.value, note=payload.note, source="api")
    return Status(200 if existed else 201, value)


@router.get("/{int:plan_id}/projects", response={200: list[MajorProjectOut], **ERRORS}, auth=PUBLIC_AUTH,
            summary="Major projects")
@paginate(PageNumber)
def project_list(request, plan_id: int, status: str | None = None):
    _require_plan(request)
    projects = MajorProject.objects.filter(box__plan=_plan(plan_id)).select_related("box")
    return projects.filter(status=status) if status else projects


@router.patch("/projects/{int:project_id}", response={200: MajorProjectOut, **ERRORS}, summary="Update a project (bureau)")
def project_patch(request, project_id: int, payload: MajorProjectPatch):
    project = get_object_or_404(MajorProject, pk=project_id)
    data = payload.dict(exclude_unset=True)
    note = data.pop("note", "")
    if "host" in data:
        data["host"] = get_object_or_404(Organisation, pk=data["host"]) if data["host"] else None
    services.project_update(actor=request.auth, project=project, data=data, note=note)
    return MajorProject.objects.select_related("box").get(pk=project_id)


@router.post("/import", response={200: ImportOut, 201: ImportOut, **ERRORS},
             summary="Import a plan document (.pdf, .docx, .html, .md, .txt); dry_run=true writes nothing")
def plan_import(request, file: File[UploadedFile], dry_run: Form[bool] = False):
    result = services.plan_import(actor=request.auth, content=file.read(), filename=file.name, dry_run=dry_run)
    body = {"created": result.created, "dry_run": dry_run, "plan": result.plan.pk if result.plan else None,
            "counts": result.counts, "warnings": result.warnings, "host_matches": result.host_matches}
    return Status(201 if result.created and not dry_run else 200, body)




class IndicatorPatch(InputSchema):
    unit: str | None = None
    direction: str | None = None
    comparator: str | None = None
    target_value: FiniteNumber | None = None
    target_low: FiniteNumber | None = None
    target_high: FiniteNumber | None = None
    target_year: int | None = None
    attribute: str | None = None
    data_source: str | None = None
    owner_department: int | None = None
    source_key: str | None = None
    plausible_min: FiniteNumber | None = None
    plausible_max: FiniteNumber | None = None
    reason: str = ""


@router.patch("/indicators/{int:indicator_id}", response={200: IndicatorOut, **ERRORS},
              summary="Edit an indicator's metadata and target (bureau); a target change needs a reason")
def indicator_patch(request, indicator_id: int, payload: IndicatorPatch):
    permissions.require(permissions.can_manage_plan(request.auth))
    indicator = get_object_or_404(Indicator, pk=indicator_id)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    if data.get("owner_department") is not None:
        data["owner_department"] = get_object_or_404(Organisation, pk=data["owner_department"])
    services.indicator_update(actor=request.auth, indicator=indicator, data=data, reason=reason)
    return Indicator.objects.prefetch_related("targets").get(pk=indicator_id)
