"""Deterministic synthetic demo data for the funding programmes (``sciencecity demo-programmes``).

Built on the registry's demo people and organisations (``sciencecity demo`` first):

* an expert profile for every demo expert (about a third senior, 主审) and two or three
  publications each, in their fields, with co-authors (they feed affinity and co-author conflicts);
* enterprise demands → a topic list → a topic (需求方出题);
* three calls: a 揭榜挂帅 call open for applications; a 赛马式 call under review whose
  applications were assigned to experts by the real assignment service and released; a decided
  competitive call with its panel, decisions, funded projects, milestones, one accepted milestone
  with its payment — so the public disclosure (资金公示) lists them.

Idempotent: demands and calls are keyed by ``DEMO-…`` codes (a call that exists is left alone),
profiles by person and publications by author; everything is written in one transaction with ONE
``generate`` audit event (object type ``programmes.demo``) — plus the assignment job's own events.
Publications carry ``is_synthetic`` (the other programme models have no such flag; their codes say
``DEMO``).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from sciencecity.core.audit import audit_record
from sciencecity.core.demo import demo_as_of
from sciencecity.core.models import AuditAction
from sciencecity.programmes.choices import (
    ApplicationState,
    AssignmentState,
    CallState,
    DecisionOutcome,
    DemandStatus,
    Mechanism,
    MemberRole,
    MilestoneState,
    TopicListKind,
)
from sciencecity.programmes.models import (
    Application,
    ApplicationMember,
    Assignment,
    AssignmentJob,
    Call,
    Criterion,
    Decision,
    Demand,
    ExpertProfile,
    FundedProject,
    PanelMeeting,
    Payment,
    ProjectMilestone,
    Publication,
    Topic,
    TopicList,
)
from sciencecity.registry.choices import OrganisationKind, PersonCategory
from sciencecity.registry.demo import DEFAULT_SEED, ORGANISATION_CODE_PREFIX, PERSON_CODE_PREFIX
from sciencecity.registry.models import Affiliation, Organisation, Person, Sector

AUDIT_OBJECT_TYPE = "programmes.demo"
OPEN_CALL = "DEMO-CALL-JBGS"
RACE_CALL = "DEMO-CALL-SMS"
DECIDED_CALL = "DEMO-CALL-JZ"
DEMAND_CODES = ("DEMO-XQ-0001", "DEMO-XQ-0002", "DEMO-XQ-0003")
TOPIC_LIST_NAME = "光明区重点产业瓶颈技术攻关榜单（演示）"
TOPIC_TITLE = "动力电池高首效硅碳负极材料产业化关键技术"
SENIOR_SHARE = 0.33
VENUES = ("中国科学：技术科学", "科学通报", "Nature Communications", "Advanced Materials", "IEEE Transactions",
          "中华医学杂志", "电子学报", "ACS Nano", "Cell Reports", "自动化学报")
TITLE_PATTERNS = ("{a}在{b}中的应用研究", "面向{b}的{a}关键技术", "基于{a}的{b}方法研究", "{a}与{b}的协同优化",
                  "{a}驱动的{b}新进展")
CRITERIA = ({"name": "创新性", "weight": Decimal("0.35")}, {"name": "技术可行性", "weight": Decimal("0.35")},
            {"name": "团队基础", "weight": Decimal("0.15")}, {"name": "预期效益", "weight": Decimal("0.15")})

#: Horse-race applications (title, approach): the same problem, different routes.
RACE_TEAMS = (
    ("纳米硅/多孔碳复合负极的规模化制备", "采用化学气相沉积在多孔碳骨架内均匀沉积纳米硅，缓解体积膨胀"),
    ("氧化亚硅预锂化负极材料开发", "通过可控预锂化提高首次库伦效率，兼顾循环寿命与成本"),
    ("硅碳负极用新型粘结剂与导电网络", "设计自修复粘结剂和碳纳米管导电网络，提升极片结构稳定性"),
    ("高首效硅碳负极连续化生产装备", "研制连续式包覆与热处理装备，实现吨级稳定生产"),
    ("硅基负极界面调控与电解液匹配", "构筑人工固态电解质界面并优化电解液添加剂组合"),
    ("低成本冶金硅制备纳米硅负极", "以冶金级硅为原料，经球磨与刻蚀工艺获得低成本纳米硅"),
    ("硅碳负极全生命周期失效分析", "建立多尺度表征与失效模型，指导材料与工艺迭代"),
    ("快充型硅碳负极材料设计", "通过梯度结构设计缩短锂离子扩散路径，实现4C快充"),
)
DECIDED_PROJECTS = (
    ("高通量柔性脑机接口电极关键技术", "脑机接口 神经电极 柔性电子", "200"),
    ("合成生物底盘细胞高效构建平台", "合成生物学 底盘细胞 代谢工程", "180"),
    ("Micro LED巨量转移良率提升技术", "Micro LED 巨量转移 新型显示", "150"),
    ("材料基因组高通量计算与实验平台", "材料基因组 高通量计算 机器学习", "160"),
    ("便携式高分辨超声成像设备研制", "医学影像 超声成像 医疗器械", "120"),
    ("工业质检小样本视觉检测系统", "人工智能 机器视觉 缺陷检测", "100"),
)
OPEN_APPLICANTS = (
    ("硅碳负极首效提升与中试验证", "依托已有吨级中试线，揭榜攻关硅碳负极首效与循环寿命指标"),
    ("高首效硅碳负极材料工程化", "联合电池企业开展材料—电芯—模组一体化验证"),
)


@dataclass
class DemoResult:
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    skipped: str = ""

    @property
    def created(self) -> int:
        return sum(self.counts.values())

    def add(self, key: str, n: int) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n


def _rng(seed: int, what: str, key: Any) -> random.Random:
    return random.Random(f"{seed}-programmes-{what}-{key}")


@dataclass
class Pool:
    experts: list[Person]
    people: list[Person]
    teams: list[tuple[int, int]]  # (organisation id, person id): demo researchers' and entrepreneurs' employers
    enterprises: list[int]

    @classmethod
    def load(cls) -> Pool:
        people = list(Person.objects.filter(code__startswith=PERSON_CODE_PREFIX, is_synthetic=True).order_by("code"))
        experts = [p for p in people if PersonCategory.EXPERT in (p.categories or [])]
        researchers = {p.pk for p in people
                       if {PersonCategory.RESEARCHER, PersonCategory.ENTREPRENEUR} & set(p.categories or [])}
        research_kinds = (OrganisationKind.UNIVERSITY, OrganisationKind.RESEARCH_INSTITUTE,
                          OrganisationKind.NEW_RD_INSTITUTION, OrganisationKind.LABORATORY, OrganisationKind.ENTERPRISE)
        teams, seen = [], set()
        for org, person in (Affiliation.objects.filter(person_id__in=researchers, end_date__isnull=True,
                                                       organisation__kind__in=research_kinds)
                            .order_by("person__code").values_list("organisation_id", "person_id")):
            if org not in seen:
                seen.add(org)
                teams.append((org, person))
        enterprises = list(Organisation.objects.filter(code__startswith=ORGANISATION_CODE_PREFIX,
                                                       kind=OrganisationKind.ENTERPRISE)
                           .order_by("code").values_list("pk", flat=True)[:50])
        return cls(experts, people, teams, enterprises)

    @property
    def usable(self) -> bool:
        needed = len(RACE_TEAMS) + len(DECIDED_PROJECTS) + len(OPEN_APPLICANTS)
        return len(self.experts) >= 8 and len(self.teams) >= needed and len(self.enterprises) >= 3


def demo_generate(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> DemoResult:
    """Create what is missing of the programmes demo; one audit event if anything was created."""
    today = demo_as_of(today)
    result = DemoResult(seed=seed)
    pool = Pool.load()
    if not pool.usable:
        result.skipped = "no registry demo data: run `sciencecity demo` first"
        return result
    with transaction.atomic():
        _experts(seed, pool, result)
        _publications(seed, pool, today, result)
        topic = _topic(seed, pool, today, result)
        teams = iter(pool.teams)
        decided = [next(teams) for _ in DECIDED_PROJECTS]
        race = [next(teams) for _ in RACE_TEAMS]
        opening = [next(teams) for _ in OPEN_APPLICANTS]
        if not Call.objects.filter(code=OPEN_CALL).exists():
            _open_call(seed, topic, opening, today, result)
        if not Call.objects.filter(code=DECIDED_CALL).exists():
            _decided_call(seed, pool, decided, today, result)
        if not Call.objects.filter(code=RACE_CALL).exists():
            _race_call(seed, race, today, result)
        if result.created:
            audit_record(action=AuditAction.GENERATE, object_type=AUDIT_OBJECT_TYPE, object_id=str(seed),
                         object_repr=f"programmes demo seed {seed}",
                         changes={"seed": seed, "created": dict(result.counts)},
                         reason=f"synthetic programmes demo data, seed {seed}")
    return result


# --- experts and publications
def _experts(seed: int, pool: Pool, result: DemoResult) -> None:
    have = set(ExpertProfile.objects.filter(person__in=pool.experts).values_list("person_id", flat=True))
    profiles = [ExpertProfile(person=p, is_senior=_rng(seed, "senior", p.code).random() < SENIOR_SHARE)
                for p in pool.experts if p.pk not in have]
    ExpertProfile.objects.bulk_create(profiles)
    result.add("programmes.expertprofile", len(profiles))


def _publications(seed: int, pool: Pool, today: dt.date, result: DemoResult) -> None:
    """Two or three papers per expert from the eight years before the demo day (co-authorship conflicts count
    the last three years, so fixed years would change who may review once the calendar moves on)."""
    authored = set(Publication.authors.through.objects.filter(publication__is_synthetic=True)
                   .values_list("person_id", flat=True))
    colleagues = [p for p in pool.people if PersonCategory.RESEARCHER in (p.categories or [])] or pool.people
    rows: list[tuple[Publication, list[int]]] = []
    for expert in pool.experts:
        if expert.pk in authored:
            continue
        rng = _rng(seed, "publications", expert.code)
        keywords = [str(k) for k in (expert.expertise or [])] or ["科技创新", "技术转移"]
        chinese = [k for k in keywords if not k.isascii()]
        keywords = chinese if len(chinese) >= 2 else keywords
        for _n in range(rng.randint(2, 3)):
            a, b = (rng.sample(keywords, 2) if len(keywords) > 1 else (keywords[0], "产业应用"))
            c = rng.choice(keywords)
            title = rng.choice(TITLE_PATTERNS).format(a=a, b=b)
            abstract = (f"本文围绕{a}与{b}的关键问题开展研究，提出了一种结合{c}的新方法。"
                        f"实验结果表明，该方法在{b}相关任务上较现有方法有明显提升，"
                        f"为{a}的工程化应用提供了理论依据和技术路线。")
            coauthors = [p.pk for p in rng.sample(colleagues, min(2, len(colleagues))) if p.pk != expert.pk]
            rows.append((Publication(title=title[:300], abstract=abstract, year=rng.randint(today.year - 8, today.year - 1),
                                     venue=rng.choice(VENUES), is_synthetic=True),
                         [expert.pk, *coauthors[: rng.randint(1, 2)]]))
    created = Publication.objects.bulk_create([p for p, _a in rows])
    through = Publication.authors.through
    through.objects.bulk_create([through(publication_id=p.pk, person_id=a)
                                 for p, (_pub, authors) in zip(created, rows, strict=True) for a in authors])
    result.add("programmes.publication", len(created))


# --- demand → topic list → topic
def _topic(seed: int, pool: Pool, today: dt.date, result: DemoResult) -> Topic:
    sector = Sector.objects.filter(code="IND-BATTERY").first()
    texts = (("动力电池负极首次效率偏低", "现有硅碳负极首次库伦效率不足88%，影响整车续航。"),
             ("负极材料循环寿命不足", "硅基负极循环500次后容量衰减超过20%，难以满足储能要求。"),
             ("硅碳负极量产一致性差", "批次间性能波动大，缺少在线检测手段。"))
    demands = []
    for n, code in enumerate(DEMAND_CODES):
        demand = Demand.objects.filter(code=code).first()
        if demand is None:
            title, description = texts[n]
            demand = Demand.objects.create(
                code=code, organisation_id=pool.enterprises[n], title=title, description=description, sector=sector,
                expected_results="首次库伦效率≥90%，1000次循环容量保持率≥85%，完成吨级中试。",
                budget=Decimal(300 + 100 * n), deadline=today + dt.timedelta(days=365), status=DemandStatus.ACCEPTED)
            result.add("programmes.demand", 1)
        demands.append(demand)
    topic_list = TopicList.objects.filter(name=TOPIC_LIST_NAME).first()
    if topic_list is None:
        topic_list = TopicList.objects.create(name=TOPIC_LIST_NAME, kind=TopicListKind.INDUSTRY_BOTTLENECK,
                                              year=today.year)
        result.add("programmes.topiclist", 1)
    topic = Topic.objects.filter(topic_list=topic_list, title=TOPIC_TITLE).first()
    if topic is None:
        topic = Topic.objects.create(
            topic_list=topic_list, title=TOPIC_TITLE, sector=sector, reward=Decimal(500),
            description="面向动力电池和储能电池需求，攻克高首效、长寿命硅碳负极材料的规模化制备技术。",
            acceptance_criteria="首次库伦效率≥90%；1000次循环容量保持率≥85%；建成吨级中试线并通过用户验证。")
        topic.demands.set(demands)
        result.add("programmes.topic", 1)
    return topic


# --- calls
def _call(code: str, title: str, mechanism: str, state: str, opens: dt.date, closes: dt.date, result: DemoResult,
          **fields: Any) -> Call:
    call = Call(code=code, title=title, mechanism=mechanism, state=state, opens_on=opens, closes_on=closes,
                description=f"【演示数据】{title}。", eligible_districts=["光明区"], **fields)
    call.full_clean(exclude=["created_by"])
    call.save()
    Criterion.objects.bulk_create([Criterion(call=call, order=n, max_score=10, **c)
                                   for n, c in enumerate(CRITERIA, start=1)])
    result.add("programmes.call", 1)
    result.add("programmes.criterion", len(CRITERIA))
    return call


def _applications(call: Call, teams: list[tuple[int, int]], items: list[tuple[str, str, str]], state: str,
                  submitted: dt.datetime, result: DemoResult) -> list[Application]:
    applications = Application.objects.bulk_create([
        Application(call=call, reference=f"{call.code}-{n:04d}", organisation_id=org, applicant_id=person,
                    title=title, abstract=abstract, keywords=keywords, requested_amount=Decimal(amount),
                    budget_lines=[{"item": "设备费", "amount": str(Decimal(amount) * Decimal("0.4"))},
                                  {"item": "人员劳务费", "amount": str(Decimal(amount) * Decimal("0.6"))}],
                    state=state, submitted_at=submitted)
        for n, ((org, person), (title, abstract, keywords, amount)) in enumerate(zip(teams, items, strict=False),
                                                                                  start=1)])
    applications = list(call.applications.order_by("reference"))
    ApplicationMember.objects.bulk_create([ApplicationMember(application=a, person_id=a.applicant_id,
                                                             role=MemberRole.LEAD) for a in applications])
    result.add("programmes.application", len(applications))
    result.add("programmes.applicationmember", len(applications))
    return applications


def _abstract(title: str, approach: str) -> str:
    return (f"项目“{title}”针对光明科学城重点产业的关键技术瓶颈，{approach}。"
            "项目团队具有扎实的前期研究基础和中试条件，计划在三年内完成关键技术攻关、样品验证和示范应用，"
            "形成发明专利和技术标准，推动成果在区内企业转化落地。")


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _open_call(seed: int, topic: Topic, teams: list[tuple[int, int]], today: dt.date, result: DemoResult) -> None:
    opens = today - dt.timedelta(days=15)
    call = _call(OPEN_CALL, "动力电池高首效硅碳负极材料揭榜挂帅项目", Mechanism.OPEN_COMPETITION, CallState.OPEN,
                 opens, today + dt.timedelta(days=45), result, topic=topic, reward=topic.reward,
                 acceptance_criteria=topic.acceptance_criteria, max_request=Decimal(500),
                 review_until=today + dt.timedelta(days=75))
    items = [(t, _abstract(t, a), "硅碳负极 锂离子电池 首次效率", "500") for t, a in OPEN_APPLICANTS]
    _applications(call, teams, items, ApplicationState.SUBMITTED, _at(opens + dt.timedelta(days=5)), result)


def _race_call(seed: int, teams: list[tuple[int, int]], today: dt.date, result: DemoResult) -> None:
    from sciencecity.programmes.services.assignment import assignment_job_execute

    opens = today - dt.timedelta(days=120)
    call = _call(RACE_CALL, "硅碳负极材料赛马式攻关项目", Mechanism.HORSE_RACE, CallState.REVIEW, opens,
                 opens + dt.timedelta(days=60), result, review_until=today + dt.timedelta(days=20),
                 panel_on=today + dt.timedelta(days=30), max_request=Decimal(300), total_budget=Decimal(900),
                 teams_funded=3, keep_per_round=1, reviews_per_application=3, max_load=4, require_senior=True)
    items = [(t, _abstract(t, a), "硅碳负极 锂离子电池 负极材料", str(200 + 10 * n))
             for n, (t, a) in enumerate(RACE_TEAMS)]
    _applications(call, teams, items, ApplicationState.UNDER_REVIEW, _at(opens + dt.timedelta(days=30)), result)
    job = AssignmentJob.objects.create(call=call, stage="demo")
    assignment_job_execute(job=job, today=today)
    released = Assignment.objects.filter(application__call=call, state=AssignmentState.PROPOSED).update(
        state=AssignmentState.RELEASED)
    result.add("programmes.assignmentjob", 1)
    result.add("programmes.assignment", released)


def _decided_call(seed: int, pool: Pool, teams: list[tuple[int, int]], today: dt.date, result: DemoResult) -> None:
    from sciencecity.programmes.services.decisions import milestone_plan

    year = today.year - 1
    opens, closes = dt.date(year, 3, 1), dt.date(year, 4, 30)
    held = dt.date(year, 6, 20)
    call = _call(DECIDED_CALL, f"{year}年度光明科学城基础研究与关键技术竞争性资助项目", Mechanism.COMPETITIVE,
                 CallState.DECIDED, opens, closes, result, review_until=dt.date(year, 6, 1), panel_on=held,
                 notify_on=dt.date(year, 7, 1), max_request=Decimal(200), total_budget=Decimal(600))
    items = [(t, _abstract(t, f"围绕{k.replace(' ', '、')}开展攻关"), k, amount) for t, k, amount in DECIDED_PROJECTS]
    applications = _applications(call, teams, items, ApplicationState.REJECTED, _at(opens + dt.timedelta(days=20)),
                                 result)
    panel = PanelMeeting.objects.create(call=call, round=1, held_on=held,
                                        minutes="【演示数据】评审会按综合排名择优资助前三项。")
    panel.members.set(pool.experts[:5])
    result.add("programmes.panelmeeting", 1)
    rng = _rng(seed, "votes", DECIDED_CALL)
    start, end = dt.date(year, 7, 1), dt.date(year + 2, 6, 30)
    for n, application in enumerate(applications):
        funded = n < 3
        amount = application.requested_amount if funded else None
        votes = rng.randint(5, 7) if funded else rng.randint(0, 3)
        Decision.objects.create(application=application, panel=panel,
                                outcome=DecisionOutcome.FUND if funded else DecisionOutcome.REJECT, amount=amount,
                                votes_for=votes, votes_against=7 - votes,
                                rationale="创新性突出、团队基础扎实。" if funded else "技术路线尚不清晰，暂不资助。")
        result.add("programmes.decision", 1)
        if not funded:
            continue
        Application.objects.filter(pk=application.pk).update(state=ApplicationState.FUNDED)
        project = FundedProject.objects.create(application=application, code=f"DEMO-XM{year}-{n + 1:04d}",
                                               manager=pool.experts[-1 - n], amount=amount, start_date=start,
                                               end_date=end)
        result.add("programmes.fundedproject", 1)
        for order, row in enumerate(milestone_plan(call, amount, start, end), start=1):
            milestone = ProjectMilestone.objects.create(project=project, order=order, **row)
            result.add("programmes.projectmilestone", 1)
            if n == 0 and order == 1 and milestone.due_date <= today:
                decided_on = milestone.due_date + dt.timedelta(days=10)
                ProjectMilestone.objects.filter(pk=milestone.pk).update(
                    state=MilestoneState.ACCEPTED, report="【演示数据】已完成中期目标，提交测试报告与专利申请材料。",
                    decided_on=decided_on, decision_note="中期检查通过，拨付第一笔经费。")
                Payment.objects.create(project=project, milestone=milestone, amount=milestone.tranche,
                                       paid_on=decided_on, note="中期里程碑验收通过后拨付")
                result.add("programmes.payment", 1)
