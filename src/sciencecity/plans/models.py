"""The plan (规划) as data: its tree, indicators and values, boxes and major projects, rounds."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel
from sciencecity.plans.choices import (
    Attribute,
    Comparator,
    Direction,
    HostMatch,
    ProjectStatus,
    RoundStatus,
    StatementKind,
    SubmissionStatus,
    TargetBasis,
    ValueSource,
    ValueStatus,
)

DISTRICT_SCOPE = "district"


class Plan(BaseModel):
    """规划. One imported plan document; identical re-imports are recognised by their hash."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=300)
    start_year = models.PositiveIntegerField(_("first year"), null=True, blank=True)
    target_year = models.PositiveIntegerField(_("target year"), null=True, blank=True)
    source_name = models.CharField(_("source file"), max_length=300)
    source_format = models.CharField(_("source format"), max_length=10)
    source_sha256 = models.CharField(_("source SHA-256"), max_length=64, unique=True)
    preface = models.TextField(_("preface"), blank=True)
    counts = models.JSONField(_("parsed counts"), default=dict)
    is_current = models.BooleanField(_("current plan"), default=True)

    class Meta:
        ordering = ["-is_current", "-created_at"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.title


class Chapter(BaseModel):
    """章."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="chapters")
    number = models.PositiveIntegerField(_("number"))
    label = models.CharField(_("label"), max_length=10)
    title = models.CharField(_("title"), max_length=300)
    intro = models.TextField(_("introduction"), blank=True)
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "number"]
        verbose_name = _("chapter")
        verbose_name_plural = _("chapters")
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="chapter_unique_number")]

    def __str__(self) -> str:
        return f"{self.label}、{self.title}"


class Section(BaseModel):
    """节."""

    chapter = models.ForeignKey(Chapter, verbose_name=_("chapter"), on_delete=models.CASCADE, related_name="sections")
    number = models.PositiveIntegerField(_("number"))
    label = models.CharField(_("label"), max_length=10)
    title = models.CharField(_("title"), max_length=300)
    intro = models.TextField(_("introduction"), blank=True)
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)

    class Meta:
        ordering = ["chapter_id", "number"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [models.UniqueConstraint(fields=["chapter", "number"], name="section_unique_number")]

    def __str__(self) -> str:
        return f"（{self.label}）{self.title}"


class TaskQuerySet(models.QuerySet):
    def for_department(self, organisation_id: int):
        return self.filter(Q(lead_department_id=organisation_id) | Q(supporting_departments__id=organisation_id)).distinct()


class Task(BaseModel):
    """任务. A numbered task; decomposed to a lead department, supporting departments, a deadline."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="tasks")
    chapter = models.ForeignKey(Chapter, verbose_name=_("chapter"), on_delete=models.CASCADE, related_name="tasks")
    section = models.ForeignKey(
        Section, verbose_name=_("section"), null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    code = models.CharField(_("code"), max_length=20)
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)
    lead_department = models.ForeignKey(
        "registry.Organisation", verbose_name=_("lead department"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="lead_tasks",
    )
    supporting_departments = models.ManyToManyField(
        "registry.Organisation", verbose_name=_("supporting departments"), blank=True, related_name="supporting_tasks"
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    deliverables = models.TextField(_("expected deliverables"), blank=True)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2, default=1)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    progress_as_of = models.DateField(_("progress as of"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["plan_id", "chapter__number", "section__number", "number"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="task_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class TaskProgressReport(BaseModel):
    """进展报告. A department's report on a task for a period."""

    task = models.ForeignKey(Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="reports")
    period = models.CharField(_("period"), max_length=20)  # e.g. 2024, 2024-H1, 2024-Q3
    as_of = models.DateField(_("as of"))
    percent = models.PositiveSmallIntegerField(_("progress (%)"))
    narrative = models.TextField(_("narrative"))
    evidence = models.FileField(_("evidence file"), upload_to="plans/evidence/%Y/", blank=True)
    department = models.ForeignKey(
        "registry.Organisation", verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False)

    class Meta:
        ordering = ["-as_of", "-id"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")


class Statement(BaseModel):
    """发展目标 / 发展策略 / 保障措施."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="statements")
    kind = models.CharField(_("kind"), max_length=10, choices=StatementKind.choices)
    order = models.PositiveIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "kind", "order"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")


class ProjectBox(BaseModel):
    """专栏. A box of major projects; ``number`` is empty for an unnumbered box."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="boxes")
    order = models.PositiveIntegerField(_("order"))
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=300)
    chapter = models.ForeignKey(Chapter, verbose_name=_("chapter"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="boxes")
    section = models.ForeignKey(Section, verbose_name=_("section"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="boxes")
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "order"]
        verbose_name = _("project box")
        verbose_name_plural = _("project boxes")

    def __str__(self) -> str:
        return f"专栏{self.number} {self.title}" if self.number else self.title


class MajorProject(BaseModel):
    """重大项目. One item of a 专栏 box, tracked to completion."""

    box = models.ForeignKey(ProjectBox, verbose_name=_("box"), on_delete=models.CASCADE, related_name="projects")
    code = models.CharField(_("code"), max_length=20)
    group = models.CharField(_("category"), max_length=100, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)
    host = models.ForeignKey("registry.Organisation", verbose_name=_("host organisation"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="major_projects")
    host_match = models.CharField(_("host match"), max_length=12, choices=HostMatch.choices, default=HostMatch.NONE)
    host_match_score = models.FloatField(_("host match score"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)
    planned_investment = models.DecimalField(_("planned investment (10k CNY)"), max_digits=14, decimal_places=2,
                                             null=True, blank=True)
    actual_investment = models.DecimalField(_("investment to date (10k CNY)"), max_digits=14, decimal_places=2,
                                            null=True, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("planned completion"), null=True, blank=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False)

    class Meta:
        ordering = ["box__order", "id"]
        verbose_name = _("major project")
        verbose_name_plural = _("major projects")

    def __str__(self) -> str:
        return self.title


class ProjectMilestone(BaseModel):
    """里程碑."""

    project = models.ForeignKey(MajorProject, verbose_name=_("project"), on_delete=models.CASCADE,
                                related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due"))
    done_date = models.DateField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")


class ProjectUpdate(BaseModel):
    """项目动态. A dated update of a major project."""

    project = models.ForeignKey(MajorProject, verbose_name=_("project"), on_delete=models.CASCADE,
                                related_name="updates")
    date = models.DateField(_("date"))
    status = models.CharField(_("status"), max_length=20, choices=ProjectStatus.choices)
    note = models.TextField(_("note"))
    investment_to_date = models.DecimalField(_("investment to date (10k CNY)"), max_digits=14, decimal_places=2,
                                             null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True,
                               on_delete=models.SET_NULL, related_name="+")
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("project update")
        verbose_name_plural = _("project updates")


class Indicator(BaseModel):
    """指标. A plan indicator (表1 row) with its metadata and optional registry computation."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("code"), max_length=20)
    number = models.PositiveIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    comparator = models.CharField(_("comparator"), max_length=6, choices=Comparator.choices, default=Comparator.EQ)
    target_year = models.PositiveIntegerField(_("target year"), null=True, blank=True)
    attribute = models.CharField(_("attribute"), max_length=4, choices=Attribute.choices, blank=True)
    target_text = models.CharField(_("target as written"), max_length=200, blank=True)
    target_basis = models.CharField(_("target basis"), max_length=20, choices=TargetBasis.choices, blank=True,
                                    default=TargetBasis.LEVEL)
    qualitative = models.BooleanField(_("target in words"), default=False,
                                      help_text=_("The target is a sentence (与GDP增长基本同步), not a number."))
    parent_number = models.PositiveIntegerField(_("sub-row of indicator"), null=True, blank=True)
    footnotes = models.JSONField(_("footnotes"), default=list, blank=True)
    marks = models.JSONField(_("note marks"), default=list, blank=True,
                             help_text=_("Marks in the row the footnotes refer to, e.g. * for another base year."))
    data_source = models.CharField(_("data source"), max_length=200, blank=True)
    owner_department = models.ForeignKey("registry.Organisation", verbose_name=_("owner department"), null=True,
                                         blank=True, on_delete=models.SET_NULL, related_name="owned_indicators")
    source_key = models.CharField(_("registry computation"), max_length=64, blank=True)
    table_number = models.PositiveIntegerField(_("table"), null=True, blank=True)
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)
    plausible_min = models.FloatField(
        _("plausible minimum"), null=True, blank=True,
        help_text=_("Values below are refused as typing errors. Empty: derived from the unit."))
    plausible_max = models.FloatField(
        _("plausible maximum"), null=True, blank=True,
        help_text=_("Values above are refused as typing errors. Empty: derived from the unit."))

    class Meta:
        ordering = ["plan_id", "number"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="indicator_unique_code")]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    def plausible_range(self) -> tuple[float, float]:
        """The range an observed value must fall in: the indicator's own, else one derived from its unit.

        Percentages (shares and growth rates) lie in −100…1,000; other units (counts, money, per-capita
        figures) in 0…10¹²; no unit −10¹²…10¹². Either bound may be set per indicator.
        """
        unit = (self.unit or "").strip()
        if "%" in unit or "％" in unit or "百分" in unit:
            low, high = -100.0, 1000.0
        elif unit:
            low, high = 0.0, 1e12
        else:
            low, high = -1e12, 1e12
        return (self.plausible_min if self.plausible_min is not None else low,
                self.plausible_max if self.plausible_max is not None else high)

    def clean(self) -> None:
        super().clean()
        for name in ("plausible_min", "plausible_max"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and abs(value) <= 1e15):
                raise ValidationError({name: _("Enter a finite number between −10¹⁵ and 10¹⁵.")})
        if self.plausible_min is not None and self.plausible_max is not None and self.plausible_min >= self.plausible_max:
            raise ValidationError({"plausible_max": _("The plausible maximum must be above the minimum.")})


class TargetValue(BaseModel):
    """目标值, keyed by (indicator, year, scope)."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE,
                                  related_name="targets")
    year = models.PositiveIntegerField(_("year"))
    scope = models.CharField(_("scope"), max_length=50, default=DISTRICT_SCOPE)
    value = models.FloatField(_("value"), null=True, blank=True)
    low = models.FloatField(_("low"), null=True, blank=True)
    high = models.FloatField(_("high"), null=True, blank=True)
    comparator = models.CharField(_("comparator"), max_length=6, choices=Comparator.choices, default=Comparator.EQ)

    class Meta:
        ordering = ["indicator_id", "year"]
        verbose_name = _("target value")
        verbose_name_plural = _("target values")
        constraints = [models.UniqueConstraint(fields=["indicator", "year", "scope"], name="target_unique_key")]


class ObservedValue(BaseModel):
    """实际值, keyed by (indicator, year, scope): from the plan text, a form, Excel or the registry."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE,
                                  related_name="observations")
    year = models.PositiveIntegerField(_("year"))
    scope = models.CharField(_("scope"), max_length=50, default=DISTRICT_SCOPE)
    value = models.FloatField(_("value"))
    source = models.CharField(_("source"), max_length=10, choices=ValueSource.choices)
    provenance = models.TextField(_("provenance"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ValueStatus.choices, default=ValueStatus.DRAFT)
    note = models.CharField(_("note"), max_length=300, blank=True)
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["indicator_id", "year"]
        verbose_name = _("observed value")
        verbose_name_plural = _("observed values")
        constraints = [models.UniqueConstraint(fields=["indicator", "year", "scope"], name="observed_unique_key")]

    @property
    def locked(self) -> bool:
        return self.status == ValueStatus.APPROVED


class Commitment(BaseModel):
    """文本中的量化承诺 (e.g. 在建和运营重大科技基础设施10个以上), linked to an indicator when it repeats one."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="commitments")
    text = models.CharField(_("text"), max_length=300)
    subject = models.CharField(_("subject"), max_length=200)
    value = models.FloatField(_("value"))
    value_high = models.FloatField(_("upper value"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    comparator = models.CharField(_("comparator"), max_length=6, choices=Comparator.choices, default=Comparator.EQ)
    year = models.PositiveIntegerField(_("year"), null=True, blank=True)
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="commitments")
    sentence = models.TextField(_("sentence"), blank=True)
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "line", "id"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")


class ParseWarning(BaseModel):
    """解析警告 kept with the plan so that officers can review them."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="warnings")
    code = models.CharField(_("code"), max_length=50)
    message = models.TextField(_("message"))
    line = models.PositiveIntegerField(_("source line"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "line", "id"]
        verbose_name = _("parse warning")
        verbose_name_plural = _("parse warnings")


class ReportingRound(BaseModel):
    """填报轮次. A yearly collection of indicator values from the departments."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="rounds")
    year = models.PositiveIntegerField(_("year"))
    deadline = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)

    class Meta:
        ordering = ["plan_id", "-year"]
        verbose_name = _("reporting round")
        verbose_name_plural = _("reporting rounds")
        constraints = [models.UniqueConstraint(fields=["plan", "year"], name="round_unique_year")]

    def __str__(self) -> str:
        return f"{self.plan.title} {self.year}"


class RoundSubmission(BaseModel):
    """One department's submission in a round: draft → submitted → approved (locks) / returned."""

    round = models.ForeignKey(ReportingRound, verbose_name=_("round"), on_delete=models.CASCADE,
                              related_name="submissions")
    department = models.ForeignKey("registry.Organisation", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="round_submissions")
    status = models.CharField(_("status"), max_length=10, choices=SubmissionStatus.choices,
                              default=SubmissionStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["round_id", "department_id"]
        verbose_name = _("round submission")
        verbose_name_plural = _("round submissions")
        constraints = [models.UniqueConstraint(fields=["round", "department"], name="submission_unique_department")]
