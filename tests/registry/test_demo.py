"""``sciencecity demo``: deterministic synthetic data, idempotent, one audit event per run."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from sciencecity.core.audit import audit_verify
from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.registry import demo
from sciencecity.registry.choices import LEGAL_ENTITY_KINDS
from sciencecity.registry.models import (
    Affiliation,
    Certification,
    Organisation,
    OrganisationAlias,
    Person,
    Relation,
    StatusChange,
)
from sciencecity.registry.services import organisation_search_text, person_search_text
from sciencecity.registry.validators import credit_code_problem

pytestmark = pytest.mark.django_db

#: The demo reference day these tests generate as of (core.demo records it; the calendar date plays no part).
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def _reference_day(db):
    """Record the reference day first, as a first ``sciencecity demo --as-of`` would."""
    from sciencecity.core.demo import demo_as_of

    demo_as_of(AS_OF)


#: What ``small`` with the default seed creates as of ``AS_OF``.
SMALL_COUNTS = {
    "registry.organisation": 300,
    "registry.organisation_sectors": 699,
    "registry.organisationalias": 71,
    "registry.statuschange": 300,
    "registry.certification": 42,
    "registry.relation": 13,
    "registry.person": 150,
    "registry.person_sectors": 150,
    "registry.affiliation": 193,
}


def run_demo(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("demo", *args, "--skip-checks", "--verbosity", "0", stdout=out)
    return out.getvalue()


def generate_events():
    return AuditEvent.objects.filter(action=AuditAction.GENERATE, object_type=demo.AUDIT_OBJECT_TYPE)


def demo_snapshot() -> dict[str, list]:
    """The demo rows keyed by code, without ids and timestamps, for comparing two runs."""
    return {
        "organisations": sorted(Organisation.objects.values_list(
            "code", "name", "name_en", "kind", "level", "status", "credit_code", "founded_on", "address",
            "district", "keywords", "search_text")),
        "sectors": sorted(Organisation.sectors.through.objects.values_list("organisation__code", "sector__code")),
        "aliases": sorted(OrganisationAlias.objects.values_list("organisation__code", "name")),
        "certifications": sorted(Certification.objects.values_list("organisation__code", "kind", "number")),
        "relations": sorted(Relation.objects.values_list("source__code", "kind", "target__code")),
        "people": sorted(Person.objects.values_list("code", "name", "name_en", "categories", "title", "email",
                                                    "expertise")),
        "affiliations": sorted(Affiliation.objects.values_list("person__code", "organisation__code", "position",
                                                               "is_primary")),
    }


def test_small_creates_the_expected_rows_and_one_audit_event():
    output = run_demo("--scale", "small")

    assert Organisation.objects.count() == 300
    assert Person.objects.count() == 150
    assert Organisation.sectors.through.objects.count() == SMALL_COUNTS["registry.organisation_sectors"]
    assert OrganisationAlias.objects.count() == SMALL_COUNTS["registry.organisationalias"]
    assert StatusChange.objects.count() == 300
    assert Certification.objects.count() == SMALL_COUNTS["registry.certification"]
    assert Relation.objects.count() == SMALL_COUNTS["registry.relation"]
    assert Person.sectors.through.objects.count() == 150
    assert Affiliation.objects.count() == SMALL_COUNTS["registry.affiliation"]
    assert "1918" in output

    event = generate_events().get()
    assert AuditEvent.objects.count() == 1
    assert event.reason == "synthetic demo data, scale small seed 2021"
    assert event.object_id == "small-2021"
    assert event.channel == "cli"
    assert event.changes == {"scale": "small", "seed": 2021, "created": SMALL_COUNTS}
    assert audit_verify().ok


def test_small_rows_are_synthetic_coded_and_valid():
    run_demo("--scale", "small")

    assert not Organisation.objects.filter(is_synthetic=False).exists()
    assert not Person.objects.filter(is_synthetic=False).exists()
    assert sorted(Organisation.objects.values_list("code", flat=True)) == [f"DEMO-ORG-{i:07d}" for i in range(1, 301)]
    assert sorted(Person.objects.values_list("code", flat=True)) == [f"DEMO-PER-{i:07d}" for i in range(1, 151)]
    legal_entities = Organisation.objects.filter(kind__in=LEGAL_ENTITY_KINDS)
    assert legal_entities.filter(credit_code__isnull=True).count() == 0
    assert Organisation.objects.exclude(kind__in=LEGAL_ENTITY_KINDS).filter(credit_code__isnull=False).count() == 0
    for code in Organisation.objects.exclude(credit_code=None).values_list("credit_code", flat=True):
        assert credit_code_problem(code) is None, code
        assert code[2:8] in {"440311", "440305", "440306", "440309", "440304", "440307"}
    for org in Organisation.objects.prefetch_related("aliases"):
        org.full_clean()
        assert org.search_text == organisation_search_text(org, [a.name for a in org.aliases.all()])
    for person in Person.objects.all():
        person.full_clean()
        assert person.search_text == person_search_text(person)
        assert person.email.split("@")[1] in demo.EMAIL_DOMAINS


def test_small_has_the_district_departments_and_plausible_content():
    run_demo("--scale", "small")
    today = AS_OF

    departments = set(Organisation.objects.filter(kind="government_department").values_list("name", flat=True))
    assert {"深圳市光明区科技创新局", "深圳市光明区发展和改革局", "深圳市光明区工业和信息化局",
            "深圳市光明区财政局", "深圳市市场监督管理局光明监管局"} <= departments
    assert Organisation.objects.filter(kind="enterprise").count() > 200
    enterprise = Organisation.objects.filter(kind="enterprise").first()
    assert enterprise.name.startswith("深圳") and enterprise.name.endswith("有限公司")
    assert enterprise.name_en.endswith(("Co., Ltd.", "Corp., Ltd."))
    assert enterprise.sectors.filter(code__startswith="HT-").count() == 1
    assert Organisation.objects.filter(district="光明区").count() > 250
    guangming = Organisation.objects.filter(district="光明区").exclude(code__lte=demo.organisation_code(len(demo.ANCHORS)))
    assert all(any(street in a for street in demo.GUANGMING_STREETS) for a in guangming.values_list("address", flat=True))
    founded = Organisation.objects.exclude(founded_on=None).values_list("founded_on", flat=True)
    assert min(founded) >= dt.date(1990, 1, 1) and max(founded) <= dt.date(2025, 12, 31)

    hnte = Certification.objects.filter(kind="hnte")
    assert hnte.count() == hnte.valid_on(today).count() > 0
    for cert in hnte:
        assert cert.organisation.kind == "enterprise"
        assert today - dt.timedelta(days=3 * 365) < cert.issued_on <= today
        assert cert.expires_on == demo._add_years(cert.issued_on, 3)

    for relation in Relation.objects.select_related("source", "target"):
        if relation.kind == "hosts":
            assert relation.source.kind in {"university", "research_institute"}
        else:
            assert (relation.kind, relation.source.kind, relation.target.kind) == ("member_of", "enterprise", "alliance")
    assert all(p.affiliations.filter(is_primary=True, end_date=None).count() == 1 for p in Person.objects.all())
    past = Affiliation.objects.filter(end_date__isnull=False)
    assert past.exists()
    for affiliation in past:
        assert today - dt.timedelta(days=5 * 365) <= affiliation.end_date <= today - dt.timedelta(days=365)
    officers = [p for p in Person.objects.all() if "officer" in p.categories]
    assert officers and all(
        p.affiliations.get(is_primary=True).organisation.kind == "government_department" for p in officers)


def test_rerun_creates_nothing_and_writes_no_audit_event():
    run_demo("--scale", "small")
    before = demo_snapshot()
    updated = max(Organisation.objects.values_list("updated_at", flat=True))

    with translation.override("en"):
        output = run_demo("--scale", "small")

    assert "0 rows" in output
    assert demo_snapshot() == before
    assert max(Organisation.objects.values_list("updated_at", flat=True)) == updated
    assert generate_events().count() == 1
    assert AuditEvent.objects.count() == 1


def test_generator_result_reports_zero_on_rerun():
    first = demo.demo_generate(scale="small")
    second = demo.demo_generate(scale="small")

    assert first.counts == SMALL_COUNTS
    assert second.created == 0
    assert set(second.counts.values()) == {0}


def test_another_seed_gives_different_data():
    run_demo("--scale", "small")
    first = demo_snapshot()
    Affiliation.objects.all().delete()
    Person.objects.all().delete()
    Organisation.objects.all().delete()

    run_demo("--scale", "small", "--seed", "7")

    second = demo_snapshot()
    assert [o[0] for o in second["organisations"]] == [o[0] for o in first["organisations"]]  # same codes
    different_names = sum(a[1] != b[1] for a, b in zip(first["organisations"], second["organisations"], strict=True))
    assert different_names > 250
    assert second["people"] != first["people"]
    assert {o[6] for o in first["organisations"]}.isdisjoint({o[6] for o in second["organisations"]} - {None})
    assert generate_events().count() == 2
    assert generate_events().order_by("-id").first().reason == "synthetic demo data, scale small seed 7"


def test_same_seed_gives_the_same_data():
    run_demo("--scale", "small")
    first = demo_snapshot()
    Affiliation.objects.all().delete()
    Person.objects.all().delete()
    Organisation.objects.all().delete()

    run_demo("--scale", "small")

    assert demo_snapshot() == first


def test_bigger_scale_adds_the_difference_and_small_is_a_prefix(monkeypatch):
    monkeypatch.setitem(demo.SCALES, "city", demo.Scale("city", 420, 230))
    run_demo("--scale", "small")
    result = demo.demo_generate(scale="city")
    stepwise = demo_snapshot()

    assert result.counts["registry.organisation"] == 120
    assert result.counts["registry.person"] == 80
    assert generate_events().count() == 2
    assert generate_events().order_by("-id").first().changes["created"] == result.counts

    Affiliation.objects.all().delete()
    Person.objects.all().delete()
    Organisation.objects.all().delete()
    demo.demo_generate(scale="city")
    assert demo_snapshot() == stepwise


def test_existing_real_credit_code_is_not_reused(make_real_organisation_with_demo_code):
    taken = make_real_organisation_with_demo_code
    run_demo("--scale", "small")

    assert Organisation.objects.filter(credit_code=taken).count() == 1
    assert Organisation.objects.get(credit_code=taken).is_synthetic is False
    assert Organisation.objects.filter(is_synthetic=True).count() == 300
    assert Organisation.objects.get(code=demo.organisation_code(30)).credit_code is None


@pytest.fixture
def make_real_organisation_with_demo_code():
    from tests.conftest import make_organisation

    code = demo.credit_code_for(demo.DEFAULT_SEED, 30, "enterprise", "440311")
    make_organisation(credit_code=code, name="真实企业")
    return code


def test_unknown_scale_is_refused():
    with pytest.raises(CommandError):
        run_demo("--scale", "galactic")
    assert not Organisation.objects.exists()
    assert not generate_events().exists()


def test_credit_codes_are_unique_across_a_national_range():
    codes = {demo.credit_code_for(demo.DEFAULT_SEED, i, "enterprise", "440311") for i in range(1, 400_001, 7)}
    assert len(codes) == len(range(1, 400_001, 7))
    assert all(credit_code_problem(c) is None for c in list(codes)[:2000])


def test_city_kind_mix_has_about_1500_high_tech_enterprises():
    """The pure generator at city size (no database): ≈ 80 % enterprises, ≈ 1,500 HNTE."""
    today = dt.date(2026, 6, 30)
    rows = [demo.organisation_row(demo.DEFAULT_SEED, i, today) for i in range(1, 20_001)]
    enterprises = sum(r.fields["kind"] == "enterprise" for r in rows)
    hnte = sum(any(c["kind"] == "hnte" for c in r.certifications) for r in rows)
    assert 15_500 < enterprises < 16_500
    assert 1_400 < hnte < 1_600


def test_real_departments_are_not_duplicated_by_the_demo():
    """With the bundled plan's real departments present, demo people join them instead of copies."""
    from sciencecity.registry.models import Affiliation
    from tests.conftest import make_organisation

    real = make_organisation(name="光明区科技创新局", kind="government_department", code="GOV-KCJ")
    run_demo("--scale", "small")
    assert not Organisation.objects.filter(name="深圳市光明区科技创新局").exists()
    assert Organisation.objects.filter(kind="government_department", is_synthetic=True).exists()  # the others
    assert Affiliation.objects.filter(organisation=real).exists()
    events = AuditEvent.objects.count()
    with translation.override("en"):
        assert "0 rows" in run_demo("--scale", "small")
    assert AuditEvent.objects.count() == events
