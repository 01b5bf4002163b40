"""Profile writes: validated, audited, nothing half-written; tiers recomputed after each change."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.enterprises import services
from sciencecity.enterprises.models import FiscalYear, MonthlyStaff
from tests.enterprises.conftest import year_figures

pytestmark = pytest.mark.django_db


def test_negative_staff_is_refused_naming_the_field_and_nothing_is_written(member, enterprise):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.fiscal_year_save(actor=member, organisation=enterprise, year=2025,
                                  data=year_figures(staff_average=Decimal("-3")))
    assert "staff_average" in refused.value.message_dict
    assert not FiscalYear.objects.exists()
    assert AuditEvent.objects.count() == before


def test_negative_staff_through_the_api_is_400_naming_the_field(client, login, member, enterprise):
    login(member)
    response = client.put(f"/api/enterprises/profiles/{enterprise.code}/years/2025",
                          {"staff_average": -1}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "staff_average"
    assert not FiscalYear.objects.exists()


def test_text_in_a_number_field_through_the_form_names_the_field(client, login, member, enterprise):
    login(member)
    response = client.post("/enterprises/my/years/new/", {"year": 2025, "main_revenue": "四千九百"})
    assert response.status_code == 200
    assert "main_revenue" in response.context["form"].errors
    assert not FiscalYear.objects.exists()


def test_year_write_is_audited_with_its_changes(member, enterprise):
    row, _changes, created = services.fiscal_year_save(actor=member, organisation=enterprise, year=2025,
                                                       data=year_figures())
    assert created
    _row, changes, created = services.fiscal_year_save(actor=member, organisation=enterprise, year=2025,
                                                       data={"main_revenue": Decimal("5000")})
    assert not created and changes["main_revenue"] == ["4900.00", "5000.00"]
    events = AuditEvent.objects.filter(object_type="enterprises.fiscalyear", object_id=str(row.pk))
    assert list(events.order_by("id").values_list("action", flat=True)) == [AuditAction.CREATE, AuditAction.UPDATE]


def test_monthly_staff_all_twelve_or_refused(member, enterprise):
    months = [{"start": 98, "end": 100, "st_start": 14, "st_end": 15}] * 11
    with pytest.raises(ValidationError):
        services.fiscal_year_save(actor=member, organisation=enterprise, year=2025, data={}, months=months)
    assert not FiscalYear.objects.exists()
    services.fiscal_year_save(actor=member, organisation=enterprise, year=2025, data={},
                              months=[*months, {"start": 100, "end": 102, "st_start": 15, "st_end": 16}])
    assert MonthlyStaff.objects.count() == 12


def test_more_st_staff_than_staff_in_a_month_is_refused(member, enterprise):
    months = [{"start": 10, "end": 10, "st_start": 11, "st_end": 1}] * 12
    with pytest.raises(ValidationError) as refused:
        services.fiscal_year_save(actor=member, organisation=enterprise, year=2025, data={}, months=months)
    assert "months[1].st_start" in refused.value.message_dict


def test_annual_report_only_for_a_year_of_validity(member, enterprise):
    from sciencecity.registry.models import Certification

    cert = Certification.objects.create(organisation=enterprise, kind="hnte", number="GR202344009999",
                                        issued_on=dt.date(2023, 12, 12))
    with pytest.raises(ValidationError):
        services.annual_report_file(actor=member, certification=cert, year=2026)  # 2023, 2024, 2025 only
    report = services.annual_report_file(actor=member, certification=cert, year=2024)
    assert report.year == 2024 and AuditEvent.objects.filter(object_type="enterprises.annualreport").count() == 1
