"""The world of the facility time tests: a facility with two beamlines, its manager and scientists, three
experts (one affiliated with the first applicant organisation) and an open round (``make_beamtime_world``)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_person, make_user


@dataclass
class BeamtimeWorld:
    facility: Any
    manager: Any
    scientist1: Any
    scientist2: Any
    bl01: Any
    bl02: Any
    round: Any
    line01: Any
    line02: Any
    orgs: list
    applicants: list
    experts: list  # users with the expert role, each with a registry person


def make_beamtime_world(*, officer=None) -> BeamtimeWorld:
    from sciencecity.facilities.beamtime import services
    from sciencecity.facilities.models import Instrument
    from sciencecity.registry.models import Affiliation

    facility = make_organisation(name="光明同步辐射装置（合成）", kind="major_facility", code="FAC-SR")
    manager = make_user(Role.FACILITY_MANAGER, facility, username="fac_manager")
    scientist1 = make_user(Role.FACILITY_MANAGER, facility, username="scientist1")
    scientist2 = make_user(Role.FACILITY_MANAGER, facility, username="scientist2")
    bl01 = Instrument.objects.create(code="BL01", name="硬X射线衍射线站", kind="end_station", host=facility,
                                     manager=scientist1)
    bl02 = Instrument.objects.create(code="BL02", name="软X射线谱学线站", kind="end_station", host=facility,
                                     manager=scientist2)
    today = timezone.localdate()
    round_ = services.round_create(actor=manager, facility=facility, data={
        "code": "R2026A", "title": "2026年第一轮机时", "closes_on": today + dt.timedelta(days=30),
        "schedule_starts_on": dt.date(2027, 3, 1), "reviews_per_proposal": 2, "max_load": 4})
    line01 = services.round_beamline_set(actor=manager, round_=round_, instrument=bl01, shifts=10)
    line02 = services.round_beamline_set(actor=manager, round_=round_, instrument=bl02, shifts=4)
    orgs = [make_organisation(name=f"申请单位{i}") for i in range(1, 4)]
    applicants = [make_user(Role.ENTERPRISE_USER, org, username=f"applicant{i}") for i, org in enumerate(orgs, 1)]
    experts = []
    for i, topic in enumerate(["同步辐射 衍射 晶体结构", "X射线 谱学 催化", "材料 表征 衍射"], 1):
        person = make_person(name=f"评审专家{i}", categories=["expert"], expertise=topic.split())
        experts.append(make_user(Role.EXPERT, username=f"expert{i}", person=person))
    Affiliation.objects.create(person=experts[0].person, organisation=orgs[0], start_date=dt.date(2020, 1, 1))
    return BeamtimeWorld(facility, manager, scientist1, scientist2, bl01, bl02, round_, line01, line02, orgs,
                         applicants, experts)


PROPOSAL = {"abstract": "利用同步辐射X射线衍射研究催化材料的晶体结构", "keywords": "衍射 催化", "samples": "粉末样品 10 个",
            "hazards": "无", "safety_declared": True}


def submit(world, index, title, requests, **extra):
    """Proposal of applicant ``index`` (0-based) asking {line: shifts}."""
    from sciencecity.facilities.beamtime import services

    return services.proposal_submit(actor=world.applicants[index], round_=world.round, organisation=world.orgs[index],
                                    data={**PROPOSAL, "title": title, **extra}, requests=list(requests.items()))
