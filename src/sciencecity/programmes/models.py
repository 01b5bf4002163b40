"""Funding programmes: demands → topics → calls with mechanisms → applications → conflict-free
review → panel decisions → funded projects with milestones and tranches; integrity list."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sciencecity.core.models import BaseModel, StoredVector
from sciencecity.programmes.choices import (
    ApplicationState,
    AssignmentState,
    CallState,
    ChangeRequestState,
    ConflictKind,
    DecisionOutcome,
    DeclineReason,
    DemandStatus,
    JobState,
    Mechanism,
    MemberRole,
    MilestoneState,
    Outcome,
    ProjectState,
    TopicListKind,
)

USER = settings.AUTH_USER_MODEL


class Demand(BaseModel):
    """技术需求. A technology problem submitted by an enterprise, department or facility (需求方出题)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("submitted by"), on_delete=models.PROTECT,
                                     related_name="programme_demands")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    sector = models.ForeignKey("registry.Sector", verbose_name=_("field"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    expected_results = models.TextField(_("expected results"), blank=True)
    budget = models.DecimalField(_("budget (10k CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    deadline = models.DateField(_("needed by"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DemandStatus.choices, default=DemandStatus.SUBMITTED)
    submitted_by = models.ForeignKey(USER, verbose_name=_("submitted by user"), null=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("technology demand")
        verbose_name_plural = _("technology demands")

    def __str__(self) -> str:
        return self.title


class TopicList(BaseModel):
    """项目清单. A curated list of topics (重点产业瓶颈技术 / 重大科技基础设施关键技术和设备 / 抢占技术前沿)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=TopicListKind.choices)
    year = models.PositiveIntegerField(_("year"))

    class Meta:
        ordering = ["-year", "name"]
        verbose_name = _("topic list")
        verbose_name_plural = _("topic lists")

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class Topic(BaseModel):
    """榜单题目. A topic traceable to the demands behind it."""

    topic_list = models.ForeignKey(TopicList, verbose_name=_("topic list"), on_delete=models.CASCADE,
                                   related_name="topics")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    sector = models.ForeignKey("registry.Sector", verbose_name=_("field"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    demands = models.ManyToManyField(Demand, verbose_name=_("demands"), blank=True, related_name="topics")
    acceptance_criteria = models.TextField(_("acceptance criteria"), blank=True)
    reward = models.DecimalField(_("reward (10k CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["topic_list_id", "id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.title


class Call(BaseModel):
    """项目申报指南 / 榜单. A call with its mechanism, dates, eligibility, rubric and review settings."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    mechanism = models.CharField(_("mechanism"), max_length=20, choices=Mechanism.choices)
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="calls")
    state = models.CharField(_("state"), max_length=10, choices=CallState.choices, default=CallState.DRAFT)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    review_until = models.DateField(_("reviews due"), null=True, blank=True)
    panel_on = models.DateField(_("panel meeting"), null=True, blank=True)
    notify_on = models.DateField(_("notification"), null=True, blank=True)
    # Eligibility
    eligible_kinds = models.JSONField(_("eligible organisation kinds"), default=list, blank=True)
    eligible_levels = models.JSONField(_("eligible levels"), default=list, blank=True)
    eligible_districts = models.JSONField(_("eligible districts"), default=list, blank=True)
    max_request = models.DecimalField(_("budget cap per application (10k CNY)"), max_digits=12, decimal_places=2,
                                      null=True, blank=True)
    total_budget = models.DecimalField(_("total budget (10k CNY)"), max_digits=14, decimal_places=2, null=True,
                                       blank=True)
    form_fields = models.JSONField(_("extra form fields"), default=list, blank=True)
    # Review
    reviews_per_application = models.PositiveSmallIntegerField(_("reviews per application"), default=3)
    min_load = models.PositiveSmallIntegerField(_("minimum reviews per expert"), default=0)
    max_load = models.PositiveSmallIntegerField(_("maximum reviews per expert"), default=6)
    require_senior = models.BooleanField(_("at least one senior (主审) expert per application"), default=False)
    blind_review = models.BooleanField(_("blind review (applicant hidden)"), default=False)
    conflict_years = models.PositiveSmallIntegerField(_("conflict window (years)"), default=3)
    alliance_conflicts = models.BooleanField(_("members of one alliance conflict"), default=False)
    normalise_scores = models.BooleanField(_("normalise scores per reviewer (z-score)"), default=True)
    # Mechanism parameters
    reward = models.DecimalField(_("reward paid on acceptance (10k CNY)"), max_digits=12, decimal_places=2,
                                 null=True, blank=True)
    acceptance_criteria = models.TextField(_("acceptance criteria"), blank=True)
    teams_funded = models.PositiveSmallIntegerField(_("teams funded in parallel"), default=1)
    keep_per_round = models.PositiveSmallIntegerField(_("teams kept at each milestone review"), default=1)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-opens_on", "code"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")),
                                              name="call_closes_after_opening")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def is_open_on(self, day: dt.date) -> bool:
        return self.state == CallState.OPEN and self.opens_on <= day <= self.closes_on


class Criterion(BaseModel):
    """评分指标. One criterion of a call's rubric with its weight and descriptors."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=100)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    max_score = models.PositiveSmallIntegerField(_("maximum score"), default=10)
    descriptors = models.TextField(_("descriptors"), blank=True)

    class Meta:
        ordering = ["call_id", "order", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return self.name


class Application(BaseModel):
    """申报书. An application to a call, versioned after each return for revision."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="applications")
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("applicant organisation"),
                                     on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey("registry.Person", verbose_name=_("applicant (person)"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="applications")
    title = models.CharField(_("title"), max_length=200)
    abstract = models.TextField(_("abstract"))
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    requested_amount = models.DecimalField(_("requested amount (10k CNY)"), max_digits=12, decimal_places=2)
    budget_lines = models.JSONField(_("budget table"), default=list, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    representative_works = models.JSONField(_("representative works"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=ApplicationState.choices,
                             default=ApplicationState.DRAFT)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["call_id", "reference"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class ApplicationMember(BaseModel):
    """团队成员."""

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="members")
    person = models.ForeignKey("registry.Person", verbose_name=_("person"), on_delete=models.PROTECT,
                               related_name="application_memberships")
    role = models.CharField(_("role"), max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)

    class Meta:
        ordering = ["application_id", "role", "id"]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["application", "person"], name="member_unique_person")]


class ApplicationAttachment(BaseModel):
    """附件 (type and size checked on upload)."""

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="attachments")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="programmes/attachments/%Y/")
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        ordering = ["application_id", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class ApplicationVersion(BaseModel):
    """A frozen copy of an application at each submission."""

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="versions")
    version = models.PositiveSmallIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["application_id", "version"]
        verbose_name = _("application version")
        verbose_name_plural = _("application versions")
        constraints = [models.UniqueConstraint(fields=["application", "version"], name="application_version_unique")]


class Publication(BaseModel):
    """论文/成果. A publication or achievement of a person (for expertise and co-authorship conflicts)."""

    title = models.CharField(_("title"), max_length=300)
    abstract = models.TextField(_("abstract"), blank=True)
    year = models.PositiveIntegerField(_("year"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    authors = models.ManyToManyField("registry.Person", verbose_name=_("authors"), related_name="publications")
    is_synthetic = models.BooleanField(_("synthetic (demo) data"), default=False)

    class Meta:
        ordering = ["-year", "id"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")

    def __str__(self) -> str:
        return self.title


class PublicationVector(StoredVector):
    """The dense vector (语义向量) of a publication's title and abstract under one embedding model, so
    that expert affinity by meaning loads it instead of embedding every expert's papers in each
    process (the job ``programmes.embed_publications`` computes them,
    ``programmes.services.paper_vectors``). ``text_hash`` is the SHA-1 of the text embedded: a vector
    of an older text is stale and is recomputed; it is also how a text is looked up."""

    publication = models.ForeignKey(Publication, verbose_name=_("publication"), on_delete=models.CASCADE,
                                    related_name="vectors")

    class Meta:
        verbose_name = _("publication vector")
        verbose_name_plural = _("publication vectors")
        constraints = [models.UniqueConstraint(fields=["publication", "model"], name="publication_vector_unique")]
        indexes = [models.Index(fields=["model", "text_hash"], name="publication_vector_text")]

    def __str__(self) -> str:
        return f"{self.publication_id} ({self.model})"


class ExpertProfile(BaseModel):
    """专家库条目. A registry person serving as an expert, with seniority and load override."""

    person = models.OneToOneField("registry.Person", verbose_name=_("person"), on_delete=models.CASCADE,
                                  related_name="expert_profile")
    is_senior = models.BooleanField(_("senior (主审) expert"), default=False)
    max_load = models.PositiveSmallIntegerField(_("maximum reviews (override)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["person__name"]
        verbose_name = _("expert profile")
        verbose_name_plural = _("expert profiles")

    def __str__(self) -> str:
        return str(self.person)


class ConflictDeclaration(BaseModel):
    """利益声明. An expert's declared interest in an organisation (or person) over a period."""

    expert = models.ForeignKey("registry.Person", verbose_name=_("expert"), on_delete=models.CASCADE,
                               related_name="declarations")
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("organisation"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("registry.Person", verbose_name=_("person"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=14, choices=ConflictKind.choices)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["expert_id", "-start_date"]
        verbose_name = _("declaration of interest")
        verbose_name_plural = _("declarations of interest")


class AssignmentJob(BaseModel):
    """A run of automatic reviewer assignment for a call (a job with progress)."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="assignment_jobs")
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.FloatField(_("progress"), default=0.0)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    message = models.TextField(_("message"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_by = models.ForeignKey(USER, verbose_name=_("started by"), null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("assignment job")
        verbose_name_plural = _("assignment jobs")


class Assignment(BaseModel):
    """评审分配. One expert reviewing one application."""

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="assignments")
    expert = models.ForeignKey("registry.Person", verbose_name=_("expert"), on_delete=models.PROTECT,
                               related_name="review_assignments")
    affinity = models.FloatField(_("affinity"), default=0.0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=AssignmentState.choices,
                             default=AssignmentState.PROPOSED)
    decline_reason = models.CharField(_("decline reason"), max_length=14, choices=DeclineReason.choices, blank=True)
    decline_note = models.CharField(_("decline note"), max_length=300, blank=True)
    job = models.ForeignKey(AssignmentJob, verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="assignments")

    class Meta:
        ordering = ["application_id", "-affinity"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [models.UniqueConstraint(fields=["application", "expert"], name="assignment_unique_pair")]


class Review(BaseModel):
    """评审意见. Scores per criterion with comments; a late-found conflict can be flagged."""

    assignment = models.OneToOneField(Assignment, verbose_name=_("assignment"), on_delete=models.CASCADE,
                                      related_name="review")
    scores = models.JSONField(_("scores"), default=dict)  # {criterion id: score}
    total = models.FloatField(_("weighted total"), default=0.0)
    comment = models.TextField(_("comment"))
    conflict_flagged = models.BooleanField(_("conflict found while reviewing"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ["assignment_id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")


class PanelMeeting(BaseModel):
    """评审会. The panel meeting of a call (or of one horse-race round)."""

    call = models.ForeignKey(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="panels")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    held_on = models.DateField(_("held on"))
    members = models.ManyToManyField("registry.Person", verbose_name=_("panel members"), blank=True, related_name="+")
    minutes = models.TextField(_("minutes"), blank=True)

    class Meta:
        ordering = ["call_id", "round"]
        verbose_name = _("panel meeting")
        verbose_name_plural = _("panel meetings")


class Decision(BaseModel):
    """决定. The panel's decision on an application, with the vote."""

    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="decisions")
    panel = models.ForeignKey(PanelMeeting, verbose_name=_("panel"), on_delete=models.CASCADE,
                              related_name="decisions")
    outcome = models.CharField(_("outcome"), max_length=10, choices=DecisionOutcome.choices)
    amount = models.DecimalField(_("amount (10k CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    votes_for = models.PositiveSmallIntegerField(_("votes for"), default=0)
    votes_against = models.PositiveSmallIntegerField(_("votes against"), default=0)
    votes_abstain = models.PositiveSmallIntegerField(_("abstentions"), default=0)
    rationale = models.TextField(_("rationale"), blank=True)
    decided_by = models.ForeignKey(USER, verbose_name=_("recorded by"), null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["panel_id", "id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [models.UniqueConstraint(fields=["application", "panel"], name="decision_unique_per_panel")]


class FundedProject(BaseModel):
    """立项项目. A funded application, managed by a 项目经理人."""

    application = models.OneToOneField(Application, verbose_name=_("application"), on_delete=models.PROTECT,
                                       related_name="project")
    code = models.CharField(_("code"), max_length=32, unique=True)
    manager = models.ForeignKey("registry.Person", verbose_name=_("project manager (项目经理人)"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="managed_projects")
    amount = models.DecimalField(_("funded amount (10k CNY)"), max_digits=12, decimal_places=2)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    state = models.CharField(_("state"), max_length=10, choices=ProjectState.choices, default=ProjectState.ACTIVE)
    is_frontier = models.BooleanField(_("frontier project (failure tolerated)"), default=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    lessons = models.TextField(_("lessons learned (失败再学习)"), blank=True)
    mid_term_result = models.TextField(_("mid-term evaluation"), blank=True)
    accepted_on = models.DateField(_("final acceptance"), null=True, blank=True)

    class Meta:
        ordering = ["-start_date", "code"]
        verbose_name = _("funded project")
        verbose_name_plural = _("funded projects")

    def __str__(self) -> str:
        return f"{self.code} {self.application.title}"


class ProjectMilestone(BaseModel):
    """里程碑 with its tranche: accepted milestones release their tranche."""

    project = models.ForeignKey(FundedProject, verbose_name=_("project"), on_delete=models.CASCADE,
                                related_name="milestones")
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=200)
    deliverables = models.TextField(_("deliverables"), blank=True)
    due_date = models.DateField(_("due"))
    tranche = models.DecimalField(_("tranche (10k CNY)"), max_digits=12, decimal_places=2, default=0)
    state = models.CharField(_("state"), max_length=10, choices=MilestoneState.choices, default=MilestoneState.PENDING)
    report = models.TextField(_("report"), blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["project_id", "order"]
        verbose_name = _("project milestone")
        verbose_name_plural = _("project milestones")
        constraints = [models.UniqueConstraint(fields=["project", "order"], name="programme_milestone_order")]


class Payment(BaseModel):
    """拨款. A tranche released (or a reward paid) on accepted results."""

    project = models.ForeignKey(FundedProject, verbose_name=_("project"), on_delete=models.PROTECT,
                                related_name="payments")
    milestone = models.OneToOneField(ProjectMilestone, verbose_name=_("milestone"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="payment")
    amount = models.DecimalField(_("amount (10k CNY)"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("released on"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["project_id", "paid_on"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")


class ChangeRequest(BaseModel):
    """变更申请 of a funded project."""

    project = models.ForeignKey(FundedProject, verbose_name=_("project"), on_delete=models.CASCADE,
                                related_name="change_requests")
    description = models.TextField(_("requested change"))
    state = models.CharField(_("state"), max_length=10, choices=ChangeRequestState.choices,
                             default=ChangeRequestState.PENDING)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")


class IntegrityEntryQuerySet(models.QuerySet):
    def in_force(self, day: dt.date | None = None):
        day = day or dt.date.today()
        return self.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))


class IntegrityEntry(BaseModel):
    """科研诚信黑名单. While in force it blocks applications and expert duty (tracks individuals)."""

    person = models.ForeignKey("registry.Person", verbose_name=_("person"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="integrity_entries")
    organisation = models.ForeignKey("registry.Organisation", verbose_name=_("organisation"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="integrity_entries")
    reason = models.TextField(_("reason"))
    source = models.CharField(_("source"), max_length=300)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)

    objects = IntegrityEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        verbose_name = _("integrity-list entry")
        verbose_name_plural = _("integrity-list entries")
        constraints = [models.CheckConstraint(condition=Q(person__isnull=False) | Q(organisation__isnull=False),
                                              name="integrity_entry_names_someone")]
