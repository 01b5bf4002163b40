# --- panel, decisions and funded projects (test_decisions / test_projects / test_mechanisms) ---------
import datetime as _dt
import itertools as _itertools
from decimal import Decimal as _Decimal

import pytest as _pytest

_call_seq = _itertools.count(1)


def make_call(**fields):
    """A call straight in the database (default: a competitive call at the panel stage)."""
    from sciencecity.programmes.models import Call

    n = next(_call_seq)
    defaults = {"code": f"TC{n:03d}", "title": f"测试指南{n}", "mechanism": "competitive", "state": "panel",
                "opens_on": _dt.date(2025, 1, 1), "closes_on": _dt.date(2025, 3, 1)}
    defaults.update(fields)
    return Call.objects.create(**defaults)


def make_application(call, organisation, *, requested="100", **fields):
    """An application under review (what the panel decides on)."""
    from sciencecity.programmes.models import Application

    n = call.applications.count() + 1
    defaults = {"reference": f"{call.code}-{n:04d}", "title": f"申报项目{call.code}-{n}", "abstract": "摘要",
                "requested_amount": _Decimal(requested), "state": "under_review"}
    defaults.update(fields)
    return Application.objects.create(call=call, organisation=organisation, **defaults)


@_pytest.fixture
def manager_person(db):
    from tests.conftest import make_person

    return make_person(name="项目经理人甲")


@_pytest.fixture
def panel_call(db, organisation):
    """A competitive call at the panel with a cap of 100, a budget of 150 and three applications
    (the first by ``organisation``)."""
    from tests.conftest import make_organisation

    call = make_call(max_request=_Decimal("100"), total_budget=_Decimal("150"))
    make_application(call, organisation, requested="80")
    make_application(call, make_organisation(), requested="120")
    make_application(call, make_organisation(), requested="60")
    return call


def fund(officer, call, amounts, manager, *, outcome_others="reject"):
    """Record fund decisions {reference: amount} (others get ``outcome_others``) and notify."""
    from sciencecity.programmes.services import decisions

    for application in call.applications.filter(state="under_review"):
        amount = amounts.get(application.reference)
        data = {"outcome": "fund", "amount": amount} if amount is not None else {"outcome": outcome_others}
        decisions.decision_record(actor=officer, call=call, application=application, data=data)
    funded = call.applications.filter(reference__in=list(amounts))
    return decisions.decisions_notify(actor=officer, call=call, managers={a.pk: manager for a in funded},
                                      start_date=_dt.date(2025, 6, 1), end_date=_dt.date(2027, 6, 1))


# --- calls, applications, integrity list (test_calls / test_applications / test_views) -------------
def make_open_call(officer, *, state="open", criteria=None, **fields):
    """A call created through the service (bureau officer), opened unless ``state="draft"``; open
    from yesterday for 30 days."""
    from django.utils import timezone

    from sciencecity.programmes.services import calls

    today = timezone.localdate()
    data = {"title": "光明区关键核心技术攻关指南", "mechanism": "competitive",
            "opens_on": today - _dt.timedelta(days=1), "closes_on": today + _dt.timedelta(days=30)}
    data.update(fields)
    call = calls.call_create(actor=officer, data=data,
                             criteria=criteria or [{"name": "创新性", "weight": _Decimal("0.6")},
                                                   {"name": "可行性", "weight": _Decimal("0.4")}])
    if state != "draft":
        call = calls.call_transition(actor=officer, call=call, new="open")
    return call


def make_draft(user, call, organisation, **data):
    """A draft application by ``user`` for ``organisation`` through the service."""
    from sciencecity.programmes.services import applications

    defaults = {"title": "新型钙钛矿光伏材料", "abstract": "研究钙钛矿太阳能电池的稳定性。", "keywords": "钙钛矿, 光伏",
                "requested_amount": _Decimal("100"),
                "budget_lines": [{"category": "设备费", "amount": "60"}, {"category": "材料费", "amount": "40"}]}
    defaults.update(data)
    members = defaults.pop("members", [])
    return applications.application_create(actor=user, call=call, organisation=organisation, data=defaults,
                                           members=members)


@_pytest.fixture
def open_call(bureau):
    return make_open_call(bureau)


@_pytest.fixture
def draft(enterprise_user, organisation, open_call):
    return make_draft(enterprise_user, open_call, organisation)


@_pytest.fixture
def reviewer_user(db):
    """A user with the expert role whose person has an expert profile (a reviewer)."""
    from sciencecity.accounts.choices import Role
    from sciencecity.programmes.models import ExpertProfile
    from tests.conftest import make_person, make_user

    person = make_person(name="评审专家甲")
    ExpertProfile.objects.create(person=person)
    return make_user(Role.EXPERT, username="reviewer_t", person=person)


# --- experts, assignment, reviews and ranking (test_experts / test_assignment / test_reviews) ---------
def make_expert(name, *, expertise=(), papers=(), senior=False, max_load=None, username=None):
    """A registry person of category "expert" with a profile, publications ``papers`` (title, year)
    and, with ``username``, a user holding the expert role whose person it is."""
    from sciencecity.accounts.choices import Role
    from sciencecity.programmes.models import ExpertProfile, Publication
    from tests.conftest import make_person, make_user

    person = make_person(name=name, categories=["expert"], expertise=list(expertise))
    ExpertProfile.objects.create(person=person, is_senior=senior, max_load=max_load)
    for title, year in papers:
        Publication.objects.create(title=title, year=year).authors.add(person)
    if username:
        person.user = make_user(Role.EXPERT, username=username, person=person)
    return person


def make_review_call(**fields):
    """A call under review with a one-criterion rubric (weight 1, out of 10)."""
    from sciencecity.programmes.models import Criterion

    defaults = {"state": "review", "reviews_per_application": 1, "max_load": 2, "conflict_years": 3}
    defaults.update(fields)
    call = make_call(**defaults)
    Criterion.objects.create(call=call, order=1, name="创新性", weight=_Decimal("1"), max_score=10,
                             descriptors="0–3 弱; 4–7 中; 8–10 强")
    return call


@_pytest.fixture
def review_world(db, bureau):
    """A call under review (1 reviewer each, load ≤ 2): three applications on batteries, perovskite
    solar cells and brain–computer interfaces; experts with matching publications (two with
    accounts), and one expert working at the battery applicant."""
    from tests.conftest import make_organisation

    call = make_review_call()
    battery_org = make_organisation(name="光明电池科技公司")
    apps = {
        "battery": make_application(call, battery_org, title="固态锂电池电解质", abstract="固态锂电池 电解质 界面 稳定性",
                                    keywords="锂电池, 电解质"),
        "solar": make_application(call, make_organisation(), title="钙钛矿太阳能电池",
                                  abstract="钙钛矿 太阳能电池 光伏 效率", keywords="钙钛矿, 光伏"),
        "bci": make_application(call, make_organisation(), title="脑机接口芯片", abstract="脑机接口 神经 信号 芯片",
                                keywords="脑机接口, 神经"),
    }
    experts = {
        "battery": make_expert("电池专家", expertise=["锂电池", "电解质"], papers=[("固态锂电池电解质界面研究", 2023)],
                               username="battery_expert"),
        "solar": make_expert("光伏专家", expertise=["钙钛矿", "光伏"], papers=[("钙钛矿太阳能电池效率", 2022)],
                             username="solar_expert"),
        "bci": make_expert("脑机专家", expertise=["脑机接口", "神经"], papers=[("脑机接口神经信号解码", 2024)]),
        "spare": make_expert("储能专家", expertise=["锂电池", "储能"], papers=[("锂电池储能系统", 2021)]),
        "insider": make_expert("电池公司专家", expertise=["锂电池", "电解质"], papers=[("锂电池电解质", 2024)]),
    }
    from sciencecity.registry.models import Affiliation

    Affiliation.objects.create(person=experts["insider"], organisation=battery_org)
    return {"call": call, "apps": apps, "experts": experts, "officer": bureau}
