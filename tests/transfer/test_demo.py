"""``sciencecity demo-marketplace``: deterministic, idempotent, synthetic, feeding indicator 6."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Sum

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.registry.demo import demo_generate as registry_demo
from sciencecity.transfer import demo
from sciencecity.transfer.choices import DealState, Visibility
from sciencecity.transfer.models import Achievement, Deal, Startup, StartupStage, TechContract, TechDemand

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)
SMALL_COUNTS = {"transfer.achievement": 60, "transfer.techdemand": 40, "transfer.deal": 14, "transfer.dealnote": 18,
                "transfer.techcontract": 20, "transfer.startup": 15, "transfer.startupstage": 27}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def registry(db):
    registry_demo(scale="small", today=TODAY)


def events():
    return AuditEvent.objects.filter(action=AuditAction.GENERATE, object_type=demo.AUDIT_OBJECT_TYPE)


def test_small_counts_and_one_audit_event(registry, media):
    result = demo.demo_generate(scale="small", today=TODAY)
    assert result.counts == SMALL_COUNTS
    assert (Achievement.objects.count(), TechDemand.objects.count(), TechContract.objects.count(),
            Startup.objects.count()) == (60, 40, 20, 15)
    assert events().count() == 1
    assert events().get().changes["created"] == SMALL_COUNTS


def test_rerun_creates_nothing_and_writes_no_event(registry, media):
    demo.demo_generate(scale="small", today=TODAY)
    before = AuditEvent.objects.count()
    result = demo.demo_generate(scale="small", today=TODAY)
    assert result.created == 0
    assert AuditEvent.objects.count() == before
    assert Achievement.objects.count() == 60 and StartupStage.objects.count() == 27


def test_same_seed_same_rows(registry, media):
    demo.demo_generate(scale="small", today=TODAY)
    first = list(Achievement.objects.order_by("code").values_list("code", "title", "abstract", "owner_id", "trl"))
    deleted = next(c for c in Achievement.objects.filter(deals__isnull=True, spinoffs__isnull=True)
                   .values_list("code", flat=True))
    Achievement.objects.filter(code=deleted).delete()
    assert demo.demo_generate(scale="small", today=TODAY).counts["transfer.achievement"] == 1
    assert list(Achievement.objects.order_by("code").values_list("code", "title", "abstract", "owner_id", "trl")) == first


def test_every_row_is_synthetic_and_labelled(registry, media):
    demo.demo_generate(scale="small", today=TODAY)
    for model in (Achievement, TechDemand, TechContract, Startup):
        assert not model.objects.filter(is_synthetic=False).exists()
    assert all(c.startswith("DEMO-ACH-") for c in Achievement.objects.values_list("code", flat=True))
    assert all(c.startswith("DEMO-TD-") for c in TechDemand.objects.values_list("code", flat=True))
    assert all(c.startswith("DEMO-DEAL-") for c in Deal.objects.values_list("code", flat=True))
    assert all(c.startswith("DEMO-TC-") for c in TechContract.objects.values_list("registration_number", flat=True))


def test_listings_are_plausible(registry, media):
    demo.demo_generate(scale="small", today=TODAY)
    for achievement in Achievement.objects.all():
        assert 100 <= len(achievement.abstract) <= 300
        assert 1 <= achievement.trl <= 9 and achievement.modes
        assert achievement.owner.kind in demo.RESEARCH_OWNER_KINDS
        assert achievement.sectors.exists()
    assert set(Achievement.objects.values_list("visibility", flat=True)) == {Visibility.PUBLIC, Visibility.REGISTERED}
    assert TechDemand.objects.filter(confidential=True).exists() and TechDemand.objects.filter(confidential=False).exists()
    assert len(set(Deal.objects.values_list("state", flat=True))) >= 5
    assert Deal.objects.filter(broker__isnull=False).exists()
    registered = Deal.objects.filter(state=DealState.REGISTERED)
    assert registered.count() == TechContract.objects.filter(deal__isnull=False).count() > 0
    for contract in TechContract.objects.filter(deal__isnull=False):
        assert (contract.seller_id, contract.buyer_id) == (contract.deal.seller_id, contract.deal.buyer_id)
    contract = TechContract.objects.order_by("registration_number").first()
    with contract.contract_file.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"
    for startup in Startup.objects.all():
        stages = list(startup.stages.order_by("entered_on", "pk"))
        assert stages and stages[-1].stage == startup.stage
        assert all(a.left_on == b.entered_on for a, b in zip(stages, stages[1:], strict=False))
        assert all(s.entered_on <= TODAY for s in stages)


def test_yearly_turnover_is_plausible_and_feeds_indicator_6(registry, media):
    from sciencecity.plans import selectors
    from sciencecity.plans.services import plan_import_bundled

    plan_import_bundled(actor=None)
    demo.demo_generate(scale="small", today=TODAY)
    plan = selectors.current_plan()
    rows = {r.indicator.source_key: r for r in selectors.indicator_rows(plan, as_of_year=2025)}
    for year in demo.CONTRACT_YEARS:
        total = TechContract.objects.filter(registered_on__year=year).aggregate(s=Sum("amount"))["s"]
        assert 30_000 <= total <= 90_000  # 3–9 亿元
        row = {r.indicator.source_key: r for r in selectors.indicator_rows(plan, as_of_year=year)}[demo.TURNOVER_SOURCE]
        assert row.live_value == pytest.approx(float(total) / 10_000)
    assert rows[demo.TURNOVER_SOURCE].live_value == pytest.approx(8.2)


def test_command_without_registry_demo_skips(media):
    out = io.StringIO()
    call_command("demo-marketplace", "--verbosity", "0", stdout=out)
    assert Achievement.objects.count() == 0 and not events().exists()


def test_command_small(registry, media):
    out = io.StringIO()
    call_command("demo-marketplace", "--scale", "small", "--verbosity", "0", stdout=out)
    assert Achievement.objects.count() == 60
    call_command("demo-marketplace", "--scale", "small", "--verbosity", "0", stdout=out)
    assert events().count() == 1


def test_contract_pdf_embeds_its_chinese_font_and_reads_back():
    import pypdf

    content = demo.contract_pdf(["技术合同（合成演示数据）", "合同金额：120.00 万元"])
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert "技术合同（合成演示数据）" in reader.pages[0].extract_text()
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for font in fonts.values():
        font = font.get_object()
        descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
        for described in descendants:
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded += [key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor]
    assert embedded, f"no embedded font program among {[f.get_object()['/BaseFont'] for f in fonts.values()]}"
