"""Conflict facts from real registry data, each conflict with its rule; expert pool; declarations."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from sciencecity.core.models import AuditEvent
from sciencecity.engines import conflicts as rules
from sciencecity.programmes.models import ApplicationMember, ConflictDeclaration, ExpertProfile, Publication
from sciencecity.programmes.services import experts as services
from sciencecity.programmes.services.integrity import integrity_entry_add
from sciencecity.registry.models import Affiliation, OrganisationAlias, Relation
from tests.conftest import make_organisation, make_person
from tests.programmes.conftest import make_application, make_expert, make_review_call

TODAY = dt.date(2025, 6, 1)


@pytest.fixture
def world(db):
    call = make_review_call(conflict_years=3)
    applicant_org = make_organisation(name="光明新材料研究院有限公司", code="ORG-APPL")
    OrganisationAlias.objects.create(organisation=applicant_org, name="光明材料院")
    lead = make_person(name="申请人甲")
    member = make_person(name="成员乙")
    application = make_application(call, applicant_org, applicant=lead)
    ApplicationMember.objects.create(application=application, person=lead, role="lead")
    ApplicationMember.objects.create(application=application, person=member)
    return {"call": call, "org": applicant_org, "lead": lead, "member": member, "application": application}


def rules_of(world, expert, **call_fields):
    call = world["call"]
    for name, value in call_fields.items():
        setattr(call, name, value)
    facts = services.conflict_facts(call=call, expert_ids=[expert.pk], applications=[world["application"]],
                                    today=TODAY)
    found = facts.conflicts(expert.pk, world["application"].pk)
    with translation.override("en"):
        return [c.rule for c in found], [services.conflict_text(c, facts) for c in found]


def test_clean_expert_has_no_conflict(world):
    expert = make_expert("独立专家")
    Affiliation.objects.create(person=expert, organisation=make_organisation(name="另一所大学"))
    assert rules_of(world, expert) == ([], [])


def test_applicant_and_team_member_are_excluded(world):
    ExpertProfile.objects.create(person=world["member"])
    assert rules_of(world, world["member"])[0] == [rules.APPLICANT]


def test_alias_of_the_applicant_organisation_counts_as_the_same(world):
    duplicate = make_organisation(name="光明材料院", code="ORG-DUP")  # another record under the alias
    expert = make_expert("别名专家")
    Affiliation.objects.create(person=expert, organisation=duplicate)
    found, texts = rules_of(world, expert)
    assert found == [rules.SAME_ORGANISATION]
    assert texts[0].startswith("Same organisation: ") and "光明材料院" in texts[0]


def test_branch_of_the_applicant_organisation_counts_as_the_same(world):
    branch = make_organisation(name="新材料研究院东莞分院", code="ORG-BR")
    Relation.objects.create(source=branch, kind="branch_of", target=world["org"])
    expert = make_expert("分院专家")
    Affiliation.objects.create(person=expert, organisation=branch)
    assert rules_of(world, expert)[0] == [rules.SAME_ORGANISATION]


def test_past_affiliation_within_the_window_conflicts_outside_does_not(world):
    recent = make_expert("近期离职专家")
    Affiliation.objects.create(person=recent, organisation=world["org"], start_date=dt.date(2015, 1, 1),
                               end_date=dt.date(2023, 1, 1))
    old = make_expert("早年离职专家")
    Affiliation.objects.create(person=old, organisation=world["org"], start_date=dt.date(2010, 1, 1),
                               end_date=dt.date(2021, 12, 31))
    found, texts = rules_of(world, recent)
    assert found == [rules.SAME_ORGANISATION]
    assert texts == ["Same organisation within 3 years: 光明新材料研究院有限公司 (until 2023-01-01)"]
    assert rules_of(world, old) == ([], [])
    # A longer window (call setting) catches the older affiliation too.
    assert rules_of(world, old, conflict_years=5)[0] == [rules.SAME_ORGANISATION]


def test_coauthored_publication_within_the_window(world):
    recent, old = make_expert("合著专家"), make_expert("旧合著专家")
    Publication.objects.create(title="合著论文", year=2024).authors.add(recent, world["member"])
    Publication.objects.create(title="旧论文", year=2020).authors.add(old, world["lead"])
    found, texts = rules_of(world, recent)
    assert found == [rules.COAUTHOR] and texts == ["Co-author of 成员乙 (2024)"]
    assert rules_of(world, old) == ([], [])


def test_joint_earlier_application(world):
    expert = make_expert("合作项目专家")
    earlier_call = make_review_call(code="OLD01", state="decided")
    earlier = make_application(earlier_call, make_organisation(), state="rejected",
                               submitted_at=timezone.make_aware(dt.datetime(2024, 3, 1)))
    ApplicationMember.objects.create(application=earlier, person=expert, role="lead")
    ApplicationMember.objects.create(application=earlier, person=world["lead"])
    found, texts = rules_of(world, expert)
    assert found == [rules.JOINT_PROJECT] and texts == ["Joint project with 申请人甲 (2024)"]


def test_declared_interest(world):
    expert = make_expert("顾问专家")
    ConflictDeclaration.objects.create(expert=expert, organisation=world["org"], kind="advisory",
                                       start_date=dt.date(2024, 1, 1))
    found, texts = rules_of(world, expert)
    assert found == [rules.DECLARED]
    assert texts == ["Declared interest (Advisory or board role) in 光明新材料研究院有限公司"]


def test_alliance_only_when_the_call_says_so(world):
    alliance = make_organisation(name="光明新能源创新联合体", kind="alliance", code="ORG-ALL")
    partner = make_organisation(name="联合体成员企业", code="ORG-PART")
    Relation.objects.create(source=world["org"], kind="member_of", target=alliance)
    Relation.objects.create(source=partner, kind="member_of", target=alliance)
    expert = make_expert("联合体专家")
    Affiliation.objects.create(person=expert, organisation=partner)
    assert rules_of(world, expert, alliance_conflicts=False) == ([], [])
    found, texts = rules_of(world, expert, alliance_conflicts=True)
    assert found == [rules.ALLIANCE] and texts == ["Same alliance: 光明新能源创新联合体"]


def test_integrity_list_excludes_the_expert(world, bureau):
    expert = make_expert("失信专家")
    integrity_entry_add(actor=bureau, person=expert, reason="数据造假", source="市科技局通报",
                        start_date=dt.date(2025, 1, 1))
    assert rules_of(world, expert)[0] == [rules.INTEGRITY]


def test_pool_creates_profiles_on_demand_and_skips_inactive(db):
    registry_expert = make_person(name="登记专家", categories=["expert", "researcher"])
    make_person(name="普通研究人员", categories=["researcher"])
    inactive = make_expert("停用专家")
    ExpertProfile.objects.filter(person=inactive).update(active=False)
    pool = services.expert_pool()
    assert [p.person.name for p in pool] == ["登记专家"]
    assert ExpertProfile.objects.filter(person=registry_expert).exists()
    assert AuditEvent.objects.filter(object_type="programmes.expertprofile", action="create").count() == 1


def test_declaration_by_the_expert_or_the_bureau_only(world, bureau, enterprise_user, login):
    from sciencecity.accounts.choices import Role
    from tests.conftest import make_user

    expert = make_expert("声明专家", username="declaring_expert")
    data = {"organisation": world["org"], "kind": "financial", "start_date": dt.date(2024, 1, 1)}
    declaration = services.declaration_add(actor=expert.user, expert=expert, data=data)
    assert declaration.kind == "financial"
    assert AuditEvent.objects.filter(object_type="programmes.conflictdeclaration", action="create").count() == 1
    with pytest.raises(PermissionDenied):
        services.declaration_add(actor=enterprise_user, expert=expert, data=data)
    with pytest.raises(ValidationError):
        services.declaration_add(actor=bureau, expert=expert, data={"kind": "other"})
    other_expert = make_user(Role.EXPERT, username="other_expert", person=make_expert("别的专家"))
    assert login(other_expert).get(reverse("programmes:expert_detail", args=[expert.pk])).status_code == 403

    client = login(expert.user)
    page = client.get(reverse("programmes:expert_detail", args=[expert.pk]))
    assert page.status_code == 200 and "光明新材料研究院有限公司" in page.content.decode()
    response = client.post(reverse("programmes:expert_detail", args=[expert.pk]), {
        "action": "declare", "person": world["lead"].pk, "kind": "family", "note": "亲属"})
    assert response.status_code == 302
    assert ConflictDeclaration.objects.filter(expert=expert, person=world["lead"], kind="family").exists()
    assert rules_of(world, expert)[0] == [rules.DECLARED, rules.DECLARED]


def test_officer_sets_seniority_and_load(bureau, login):
    expert = make_expert("主审候选")
    client = login(bureau)
    assert client.get(reverse("programmes:expert_list")).status_code == 200
    response = client.post(reverse("programmes:expert_detail", args=[expert.pk]),
                           {"action": "profile", "is_senior": "on", "max_load": "4", "active": "on"})
    assert response.status_code == 302
    profile = ExpertProfile.objects.get(person=expert)
    assert (profile.is_senior, profile.max_load, profile.active) == (True, 4, True)


def test_shared_terms_explain_affinity(db):
    assert services.shared_terms("固态锂电池电解质 界面 battery interface",
                                 ["锂电池电解质研究", "solid battery interface"])[:2] != []
    terms = services.shared_terms("battery electrolyte", ["battery research"])
    assert terms == ["battery"]
