"""Correcting an IP right or an incident of the profile: through the service (audited old → new, tiers
recomputed), refused input changes nothing, and only the enterprise's users and the bureau may edit."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sciencecity.core.models import AuditAction, AuditEvent
from sciencecity.enterprises import services
from sciencecity.enterprises.models import Incident, IntellectualProperty

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(filled, member):
    return services.incident_create(actor=member, organisation=filled, data={
        "kind": "quality", "occurred_on": timezone.localdate() - dt.timedelta(days=30), "description": "批次召回"})


def test_an_ip_right_is_corrected_with_its_audit(filled, member):
    ip = IntellectualProperty.objects.get(profile__organisation=filled)
    services.profile_item_update(actor=member, item=ip, data={"ip_class": "II", "kind": "utility_model",
                                                              "number": "ZL2024-1"})
    ip.refresh_from_db()
    assert (ip.ip_class, ip.kind, ip.number) == ("II", "utility_model", "ZL2024-1")
    event = AuditEvent.objects.filter(object_type="enterprises.intellectualproperty", object_id=str(ip.pk),
                                      action=AuditAction.UPDATE).get()
    assert event.changes["ip_class"] == ["I", "II"] and event.changes["kind"] == ["invention_patent", "utility_model"]
    assert event.actor_id == member.pk


def test_an_unchanged_item_writes_no_audit(filled, member):
    ip = IntellectualProperty.objects.get(profile__organisation=filled)
    before = AuditEvent.objects.count()
    services.profile_item_update(actor=member, item=ip, data={"ip_class": "I"})
    assert AuditEvent.objects.count() == before


def test_a_refused_correction_changes_nothing(incident, member):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.profile_item_update(actor=member, item=incident, data={"kind": "fire", "description": "改了"})
    assert "kind" in refused.value.message_dict
    incident.refresh_from_db()
    assert (incident.kind, incident.description) == ("quality", "批次召回")
    assert AuditEvent.objects.count() == before


def test_another_enterprise_may_not_correct(incident, stranger):
    with pytest.raises(PermissionDenied):
        services.profile_item_update(actor=stranger, item=incident, data={"description": "x"})
    assert Incident.objects.get(pk=incident.pk).description == "批次召回"


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("stranger", 403), ("member", 200),
                                             ("bureau", 200), ("sysadmin", 403)])
def test_edit_page_permission_matrix(client, login, incident, who, status, request):
    if who != "anonymous":
        login(request.getfixturevalue(who))
    assert client.get(f"/enterprises/items/incident/{incident.pk}/edit/").status_code == status
    response = client.post(f"/enterprises/items/incident/{incident.pk}/edit/",
                           {"kind": "safety", "occurred_on": incident.occurred_on.isoformat(), "description": "改"})
    assert response.status_code == (302 if status == 200 else status)
    incident.refresh_from_db()
    assert incident.kind == ("safety" if status == 200 else "quality")


def test_the_form_corrects_an_incident_and_back_to_the_profile(client, login, incident, member):
    login(member)
    page = client.get("/enterprises/my/").content.decode()
    assert f'data-testid="incident-edit-{incident.pk}"' in page
    response = client.post(f"/enterprises/items/incident/{incident.pk}/edit/",
                           {"kind": "quality", "occurred_on": "", "description": "批次召回"})
    assert response.status_code == 200 and "occurred_on" in response.context["form"].errors
    response = client.post(f"/enterprises/items/incident/{incident.pk}/edit/",
                           {"kind": "quality", "occurred_on": incident.occurred_on.isoformat(),
                            "description": "批次召回（已整改）"})
    assert response.status_code == 302 and response["Location"] == "/enterprises/my/"
    assert Incident.objects.get(pk=incident.pk).description == "批次召回（已整改）"


def test_unknown_kind_is_404(client, login, member):
    login(member)
    assert client.get("/enterprises/items/standard/1/edit/").status_code == 404
