import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sciencecity.core.audit import audit_verify
from sciencecity.core.models import AuditEvent
from sciencecity.plans import services
from sciencecity.plans.models import (
    Chapter,
    Commitment,
    Indicator,
    MajorProject,
    ObservedValue,
    Plan,
    ProjectBox,
    Section,
    TargetValue,
    Task,
)
from sciencecity.registry.models import Certification, Organisation
from tests.conftest import make_organisation

EXPECTED_INDICATORS = [
    (1, "全社会研发支出占GDP比重", "%", "eq", 6.0),
    (2, "基础研发经费占R&D比重", "%", "eq", 20.0),
    (3, "每万人发明专利拥有量", "件", "eq", 136.0),
    (4, "市级及以上创新载体数量", "个", "eq", 180.0),
    (5, "国家级高新技术企业", "家", "eq", 2100.0),
    (6, "技术合同成交金额", "亿元", "eq", 8.5),
    (7, "战略性新兴产业增加值占GDP比重", "%", "gt", 45.0),
    (8, "每万名就业人员中研发人员", "人•年", "gt", 800.0),
    (9, "新引进科研机构数量", "家", "gt", 20.0),
    (10, "区级以上众创空间和孵化器", "个", "gt", 40.0),
]


def test_bundled_plan_is_stored_with_the_exact_structure(plan):
    assert plan.title == "光明区“十四五”科技创新发展规划"
    assert Chapter.objects.filter(plan=plan).count() == 8
    assert Section.objects.filter(chapter__plan=plan).count() == 28
    assert Task.objects.filter(plan=plan).count() == 54
    assert ProjectBox.objects.filter(plan=plan, number__isnull=False).count() == 15
    assert ProjectBox.objects.filter(plan=plan, number__isnull=True).count() == 2
    assert MajorProject.objects.filter(box__plan=plan, box__number__isnull=False).count() == 68
    assert MajorProject.objects.filter(box__plan=plan).count() == 70
    assert plan.statements.filter(kind="goal").count() == 5
    assert plan.statements.filter(kind="strategy").count() == 5
    assert plan.statements.filter(kind="measure").count() == 6
    rows = [(i.number, i.name, i.unit, i.comparator, i.targets.get().value)
            for i in Indicator.objects.filter(plan=plan).order_by("number")]
    assert rows == EXPECTED_INDICATORS
    assert set(TargetValue.objects.filter(indicator__plan=plan).values_list("year", flat=True)) == {2025}
    baselines_2020 = dict(ObservedValue.objects.filter(indicator__plan=plan, year=2020, source="plan_text")
                          .values_list("indicator__number", "value"))
    assert {k: baselines_2020[k] for k in (1, 3, 4, 5)} == {1: 7.9, 3: 100.0, 4: 100.0, 5: 1486.0}
    assert ObservedValue.objects.get(indicator__number=1, year=2020).locked
    assert "国家级高新技术企业达到2100家左右" in "".join(
        Commitment.objects.filter(indicator__number=5).values_list("text", flat=True))
    assert plan.warnings.filter(code="target_below_baseline").count() == 1


def test_indicators_link_to_registry_computations(plan):
    keys = dict(Indicator.objects.filter(plan=plan).values_list("number", "source_key"))
    assert keys[4] == "registry.carriers" and keys[5] == "registry.hnte"
    assert keys[9] == "registry.new_institutions" and keys[10] == "registry.incubators"
    assert keys[1] == ""


def test_reimporting_the_same_document_changes_nothing(plan):
    counts = (Plan.objects.count(), Task.objects.count(), Organisation.objects.count(), AuditEvent.objects.count())
    result = services.plan_import_bundled()
    assert result.created is False and result.plan == plan
    assert (Plan.objects.count(), Task.objects.count(), Organisation.objects.count(), AuditEvent.objects.count()) == counts
    assert audit_verify().ok


def test_dry_run_writes_nothing(db):
    before = (Organisation.objects.count(), AuditEvent.objects.count())
    result = services.plan_import(actor=None, content=services.BUNDLED_PLAN.read_bytes(),
                                  filename="plan.txt", dry_run=True)
    assert result.plan is None and result.counts["tasks"] == 54
    assert Plan.objects.count() == 0 and Task.objects.count() == 0
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before


def test_broken_file_names_the_file_and_writes_nothing(db):
    with pytest.raises(ValidationError) as exc:
        services.plan_import(actor=None, content=b"\xff\xfe\x00garbage\x81\x82" * 10, filename="broken.docx")
    assert "broken.docx" in " ".join(exc.value.messages)
    assert Plan.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_box_items_link_to_existing_registry_organisations(db):
    existing = make_organisation(name="深圳超级计算中心二期", kind="major_facility", code="FAC-1")
    result = services.plan_import_bundled()
    project = MajorProject.objects.get(box__plan=result.plan, title__startswith="深圳超级计算中心二期")
    assert project.host == existing and project.host_match == "matched"
    assert Organisation.objects.filter(name="深圳超级计算中心二期").count() == 1
    created = MajorProject.objects.get(box__plan=result.plan, title__startswith="深圳中能同步辐射光源")
    assert created.host_match == "created" and created.host.kind == "major_facility"
    assert created.host.status == "planned"
    assert result.host_matches["created"] + result.host_matches.get("matched", 0) + result.host_matches.get("uncertain", 0) == 70


def test_registry_computation_counts_valid_high_tech_certificates(plan):
    indicator = Indicator.objects.get(plan=plan, number=5)
    for i, (issued, expires) in enumerate([(dt.date(2023, 1, 1), dt.date(2025, 12, 31)),
                                           (dt.date(2020, 1, 1), dt.date(2022, 12, 31)),
                                           (dt.date(2024, 6, 1), dt.date(2027, 5, 31))]):
        Certification.objects.create(organisation=make_organisation(), kind="hnte", number=f"GR{i}",
                                     issued_on=issued, expires_on=expires)
    value = services.indicator_value_compute(actor=None, indicator=indicator, year=2024)
    assert value.value == 2.0 and value.source == "computed"
    assert "高新技术企业" in value.provenance


def test_task_decomposition_and_progress(plan, plan_bureau, kcj, kcj_officer, tjj_officer):
    task = Task.objects.get(plan=plan, code="3.1.1")
    tjj = Organisation.objects.get(code="GOV-TJJ")
    changes = services.task_update(actor=plan_bureau, task=task,
                                   data={"lead_department": kcj, "supporting_departments": [tjj],
                                         "deadline": dt.date(2024, 6, 30), "deliverables": "建设方案"})
    assert "deadline" in changes and "supporting_departments" in changes
    with pytest.raises(PermissionDenied):
        services.task_update(actor=kcj_officer, task=task, data={"weight": 2})
    services.task_progress_report(actor=kcj_officer, task=task, period="2024", as_of=dt.date(2024, 12, 31),
                                  percent=60, narrative="完成建设方案")
    task.refresh_from_db()
    assert task.progress == 60
    # The supporting department may report too; a department not on the task may not.
    services.task_progress_report(actor=tjj_officer, task=task, period="2025", as_of=dt.date(2025, 6, 30),
                                  percent=70, narrative="推进")
    task.refresh_from_db()
    assert task.progress == 70
    other = Task.objects.get(plan=plan, code="6.1.1")
    other.supporting_departments.clear()
    other.lead_department = Organisation.objects.get(code="GOV-FGJ")
    other.save()
    with pytest.raises(PermissionDenied):
        services.task_progress_report(actor=tjj_officer, task=other, period="2025", as_of=dt.date(2025, 1, 1),
                                      percent=10, narrative="x")
    assert AuditEvent.objects.filter(object_type="plans.taskprogressreport").count() == 2


def test_value_lock_and_reopen(plan, plan_bureau, kcj, kcj_officer):
    indicator = Indicator.objects.get(plan=plan, number=5)
    assert indicator.owner_department == kcj
    rnd = services.round_open(actor=plan_bureau, plan=plan, year=2024, deadline=dt.date(2025, 3, 31))
    value, changed = services.indicator_value_set(actor=kcj_officer, indicator=indicator, year=2024, value=1900)
    assert changed and value.status == "draft"
    submission = services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
    assert submission.status == "submitted"
    services.submission_approve(actor=plan_bureau, submission=submission)
    value.refresh_from_db()
    assert value.locked
    with pytest.raises(ValidationError):
        services.indicator_value_set(actor=kcj_officer, indicator=indicator, year=2024, value=1950)
    with pytest.raises(ValidationError):
        services.value_reopen(actor=plan_bureau, value=value, reason=" ")
    services.value_reopen(actor=plan_bureau, value=value, reason="统计口径调整")
    assert AuditEvent.objects.filter(object_type="plans.observedvalue", object_id=str(value.pk),
                                     reason="统计口径调整").exists()
    services.indicator_value_set(actor=kcj_officer, indicator=indicator, year=2024, value=1950)
    value.refresh_from_db()
    assert value.value == 1950 and value.status == "draft"


def test_other_department_cannot_enter_values(plan, tjj_officer):
    indicator = Indicator.objects.get(plan=plan, number=5)  # owned by GOV-KCJ
    with pytest.raises(PermissionDenied):
        services.indicator_value_set(actor=tjj_officer, indicator=indicator, year=2024, value=1)
