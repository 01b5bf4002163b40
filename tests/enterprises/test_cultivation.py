"""Tiered cultivation: criteria as data, membership recomputed on data change, history, indicator 5 figures."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from sciencecity.core.models import AuditEvent
from sciencecity.enterprises import cultivation, services
from sciencecity.enterprises.models import TierMembership
from sciencecity.plans import sources
from sciencecity.registry.models import Certification

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The reasons are stored in the language active at the write; these tests read them in English."""
    with translation.override("en"):
        yield


def _open(org, tier):
    return TierMembership.objects.filter(organisation=org, tier=tier, left_at__isnull=True)


def test_possible_verdict_enters_the_reserve_pool_on_save_with_the_reason(filled, member):
    [stay] = _open(filled, "reserve")
    assert stay.entered_by == member
    assert "possible (27–74" in stay.entered_reason


def test_near_a_threshold_stays_in_the_pool_far_below_leaves_with_history(filled, member):
    year = timezone.localdate().year - 1
    # R&D 749 of 15,000 = 4.99 %: fails H5 but within 10 % of the 5 % band → still in the pool
    services.fiscal_year_save(actor=member, organisation=filled, year=year - 2, data={"rd_personnel": Decimal("149")})
    [stay] = _open(filled, "reserve")
    assert "within 10.0%" in stay.entered_reason or "possible" in stay.entered_reason
    # R&D 300 of 15,000 = 2 %: far below → leaves the pool, the stay is closed with who and why
    for y in range(year - 2, year + 1):
        services.fiscal_year_save(actor=member, organisation=filled, year=y,
                                  data={"rd_personnel": Decimal("50"), "rd_direct": Decimal("0")})
    assert not _open(filled, "reserve").exists()
    closed = TierMembership.objects.get(organisation=filled, tier="reserve")
    assert closed.left_by == member and "criteria no longer met" in closed.left_reason and not closed.certified
    assert AuditEvent.objects.filter(object_type="enterprises.tiermembership").count() >= 2


def test_certification_converts_a_pool_member_and_feeds_indicator_5(filled, bureau):
    today = timezone.localdate()
    figures = {f.key: value for f, value, _p in sources.related_figures("registry.hnte", year=today.year)}
    assert figures == {"enterprises.pool_conversions": 0.0, "enterprises.reserve_pool": 1.0}
    Certification.objects.create(organisation=filled, kind="hnte", number="GR-NEW", issued_on=today)
    counts = cultivation.memberships_recompute(actor=bureau, reason="test")
    assert counts == {"entered": 0, "left": 1}
    stay = TierMembership.objects.get(organisation=filled, tier="reserve")
    assert stay.certified and "certified" in stay.left_reason
    figures = {f.key: value for f, value, _p in sources.related_figures("registry.hnte", year=today.year)}
    assert figures == {"enterprises.pool_conversions": 1.0, "enterprises.reserve_pool": 0.0}


def test_tier_criteria_are_data_edited_by_the_bureau(filled, member, bureau):
    assert not _open(filled, "gazelle").exists()  # flat sales: no growth
    cultivation.tier_criteria_update(actor=bureau, tier="gazelle", data={"min_growth": Decimal("0")})
    [stay] = _open(filled, "gazelle")  # sales 5,000 ≥ 1,000, growth 0 % ≥ 0 %, 10 years old ≤ 10
    assert "growth 0.0%" in stay.entered_reason and stay.entered_by == bureau
    year = timezone.localdate().year - 1
    services.fiscal_year_save(actor=member, organisation=filled, year=year, data={"main_revenue": Decimal("3900")})
    assert not _open(filled, "gazelle").exists()  # 4,000 ÷ 5,000 − 1 = −20 % < 0


def test_criteria_page_refuses_bad_values_and_non_bureau(client, login, bureau, member):
    login(member)
    assert client.get("/enterprises/tiers/").status_code == 403
    login(bureau)
    response = client.post("/enterprises/tiers/", {"tier": "reserve", "reserve-margin": "2"})
    assert response.status_code == 200  # margin above 1 refused on the form
    assert cultivation.criteria()["reserve"].margin == Decimal("0.1")


def test_history_page_lists_entries(client, login, bureau, filled):
    login(bureau)
    page = client.get("/enterprises/tiers/history/?tier=reserve")
    assert page.status_code == 200 and filled.name in page.content.decode()


def test_indicator_5_page_shows_the_pool_beside_the_certified_count(client, login, bureau, filled):
    from django.urls import reverse

    from sciencecity.plans.models import Indicator
    from sciencecity.plans.services import plan_import_bundled

    plan_import_bundled()
    indicator = Indicator.objects.get(source_key="registry.hnte")
    login(bureau)
    page = client.get(reverse("plans:indicator_detail", args=[indicator.pk])).content.decode()
    assert 'data-testid="related-enterprises.reserve_pool"' in page
    assert 'data-testid="related-enterprises.pool_conversions"' in page


def test_the_city_wide_recompute_runs_as_a_job_with_progress(client, filled, bureau):
    """The bureau's recompute (and a criteria change on the tiers page) is a background job: progress per
    enterprise, the job page links back to the tiers; JOBS_INLINE runs it at once in the tests."""
    from sciencecity.core.models import Job

    Certification.objects.create(organisation=filled, kind="hnte", number="GR-JOB", issued_on=timezone.localdate())
    client.force_login(bureau)
    response = client.post("/enterprises/tiers/recompute/")
    job = Job.objects.get(kind=cultivation.RECOMPUTE_KIND)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert (job.state, job.progress_done, job.progress_total) == ("done", 1, 1)
    assert job.result == {"entered": 0, "left": 1, "url": "/enterprises/tiers/"}
    assert job.created_by == bureau and not _open(filled, "reserve").exists()
    assert client.get(f"/jobs/{job.pk}/").status_code == 200
    response = client.post("/enterprises/tiers/", {"tier": "gazelle", "gazelle-min_growth": "0",
                                                   "gazelle-min_sales": "1000", "gazelle-max_age_years": "10"})
    second = Job.objects.filter(kind=cultivation.RECOMPUTE_KIND).latest("id")
    assert response["Location"] == f"/jobs/{second.pk}/" and second.result["entered"] == 1
    assert _open(filled, "gazelle").exists()


def test_only_the_bureau_queues_the_recompute(client, member):
    from sciencecity.core.models import Job

    client.force_login(member)
    assert client.post("/enterprises/tiers/recompute/").status_code == 403
    with pytest.raises(PermissionDenied):
        cultivation.tier_recompute_enqueue(actor=member, reason="x")
    assert not Job.objects.exists()


def test_a_cancelled_recompute_changes_nothing(filled, bureau):
    from sciencecity.core.jobs import JobCancelled

    Certification.objects.create(organisation=filled, kind="hnte", number="GR-C", issued_on=timezone.localdate())
    before = AuditEvent.objects.count()

    def cancel(done, total):
        raise JobCancelled

    with pytest.raises(JobCancelled):
        cultivation.memberships_recompute(actor=bureau, reason="x", progress=cancel)
    assert _open(filled, "reserve").exists() and AuditEvent.objects.count() == before


def test_the_criteria_api_queues_the_recompute_job(client, filled, bureau):
    from sciencecity.core.models import Job

    client.force_login(bureau)
    response = client.put("/api/enterprises/tiers/gazelle/criteria", {"min_growth": "0"},
                          content_type="application/json")
    assert response.status_code == 200
    job = Job.objects.get(kind=cultivation.RECOMPUTE_KIND)
    assert response.json()["job"] == job.pk and job.result["entered"] == 1
    assert _open(filled, "gazelle").exists()
    assert client.get(f"/api/jobs/{job.pk}").json()["state"] == "done"
