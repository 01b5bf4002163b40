"""Fixtures of the marketplace tests (shared by the listing and deal work packages: append only)."""

from __future__ import annotations

import itertools

import pytest

from sciencecity.accounts.choices import Role
from tests.conftest import make_organisation, make_user

_listing_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_matching_indexes():
    """Each test starts with empty per-process matching indexes (they are rebuilt from its database)."""
    from sciencecity.transfer.services import matching

    matching.reset()
    yield
    matching.reset()


def make_achievement(owner, *, actor=None, **data):
    """An achievement through the service (audited, indexed, notifying)."""

    n = next(_listing_seq)
    values = {"title": f"成果{n}", "abstract": f"测试成果摘要{n}", "trl": 5, "modes": ["licence"]}
    values.update(data)
    from sciencecity.transfer.services.listings import achievement_create_unchecked

    return achievement_create_unchecked(actor=actor, organisation=owner, data=values)


def make_demand(organisation, *, actor=None, **data):

    n = next(_listing_seq)
    values = {"title": f"需求{n}", "public_summary": f"测试需求摘要{n}"}
    values.update(data)
    from sciencecity.transfer.services.listings import demand_create_unchecked

    return demand_create_unchecked(actor=actor, organisation=organisation, data=values)


@pytest.fixture
def university(db):
    return make_organisation(kind="university", name="光明示例大学")


@pytest.fixture
def academic_user(db, university):
    return make_user(Role.ACADEMIC_USER, university, username="academic")


# --- deals, contracts, brokers, incubation (deal work package)
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def contract_pdf(name: str = "contract.pdf", content: bytes = PDF_BYTES):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def contract_data(**overrides):
    """A valid 技术合同认定登记 (amounts in 10k CNY), registered today."""
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    data = {"contract_type": "licence", "title": "硅碳负极材料专利实施许可合同", "amount": "1250.00",
            "technical_income": "1000.00", "registration_number": f"4403{today.year}000{next(_listing_seq):05d}",
            "signed_on": today - dt.timedelta(days=3), "registered_on": today}
    data.update(overrides)
    return data


@pytest.fixture
def deal_world(db, university, academic_user, enterprise_user, organisation):
    """An achievement of the university (seller, with a listing contact) and an enterprise buyer with a demand."""
    from types import SimpleNamespace

    achievement = make_achievement(university, title="高能量密度硅碳负极材料", abstract="用于锂离子电池的硅碳复合负极材料。",
                                   contact_name="王老师", contact_email="seller@example.edu.cn",
                                   contact_phone="0755-12345678")
    demand = make_demand(organisation, title="锂离子电池负极材料升级", public_summary="寻找提高负极容量的材料技术。")
    enterprise_user.email, enterprise_user.phone = "buyer@example.com", "13800000000"
    enterprise_user.save()
    return SimpleNamespace(seller=university, seller_user=academic_user, buyer=organisation, buyer_user=enterprise_user,
                           achievement=achievement, demand=demand)


@pytest.fixture
def english():
    """Messages in English (``pytestmark = pytest.mark.usefixtures("english")``)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    """The marketplace page tests compare English messages: the test client asks for English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def market(university):
    """A battery demand and three achievements: the relevant one, an unrelated one, a weaker one
    (test_matching, test_search_backends)."""
    enterprise = make_organisation(name="光明电池科技有限公司")
    battery = make_achievement(university, title="高能量密度硅碳负极材料",
                               abstract="用于锂离子电池的硅碳复合负极材料，循环寿命长，容量高。",
                               keywords="锂电池 负极 硅碳", trl=6, modes=["licence", "assignment"],
                               sectors=["IND-BATTERY"])
    vision = make_achievement(university, title="工业机器视觉缺陷检测", abstract="基于深度学习的表面缺陷检测相机系统。",
                              trl=7, modes=["licence"], sectors=["IND-AI"])
    separator = make_achievement(university, title="电池隔膜涂覆工艺", abstract="锂电池隔膜陶瓷涂覆，提高电池安全性。",
                                 trl=4, modes=["co_development"], sectors=["IND-BATTERY"])
    demand = make_demand(enterprise, title="锂离子电池负极材料升级",
                         public_summary="寻找提高锂离子电池负极容量与循环寿命的材料技术。",
                         keywords="负极 硅碳", min_trl=5, modes=["licence"], sectors=["IND-BATTERY"])
    return {"enterprise": enterprise, "battery": battery, "vision": vision, "separator": separator,
            "demand": demand}
