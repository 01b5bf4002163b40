"""Applications: the form (budget table, team, questions), eligibility at submission (each rule
with its message and nothing changed), receipt, withdrawal, return for revision and versions,
attachments (type, size, magic bytes), and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from sciencecity.core.models import AuditEvent
from sciencecity.programmes.choices import ApplicationState
from sciencecity.programmes.models import Application, ApplicationAttachment, ApplicationVersion, Call
from sciencecity.programmes.services import applications, calls, integrity
from tests.conftest import make_organisation, make_person, make_user
from tests.programmes.conftest import make_draft, make_open_call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Service messages in English (the pages ask for English with Accept-Language)."""
    with translation.override("en"):
        yield
PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 16


def _transitions(application):
    return AuditEvent.objects.filter(object_type="programmes.application", object_id=str(application.pk),
                                     action="transition")


def _assert_unchanged(application, problem):
    with pytest.raises(ValidationError) as exc:
        applications.application_submit(actor=application.created_by, application=application)
    assert problem in exc.value.messages
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT and application.submitted_at is None
    assert not ApplicationVersion.objects.filter(application=application).exists()
    assert not _transitions(application).exists()


# --- eligibility at submission
def test_window(bureau, enterprise_user, organisation, open_call):
    application = make_draft(enterprise_user, open_call, organisation)
    calls.call_transition(actor=bureau, call=open_call, new="closed")
    _assert_unchanged(application, f"The call is not open for applications (open {open_call.opens_on.isoformat()} to {open_call.closes_on.isoformat()}).")


def test_window_by_dates(bureau, enterprise_user, organisation):
    today = timezone.localdate()
    call = make_open_call(bureau, opens_on=today - dt.timedelta(days=10), closes_on=today - dt.timedelta(days=1))
    application = make_draft(enterprise_user, call, organisation)
    _assert_unchanged(application, f"The call is not open for applications (open {call.opens_on.isoformat()} to {call.closes_on.isoformat()}).")


def test_kind(bureau, enterprise_user, organisation):
    call = make_open_call(bureau, eligible_kinds=["university"])
    _assert_unchanged(make_draft(enterprise_user, call, organisation),
                      "Organisations of the kind “Enterprise” may not apply to this call.")


def test_level(bureau, enterprise_user, organisation):
    call = make_open_call(bureau, eligible_levels=["national", "provincial"])
    _assert_unchanged(make_draft(enterprise_user, call, organisation),
                      "Organisations at the level “No level” may not apply to this call.")


def test_district(bureau, enterprise_user, organisation):
    call = make_open_call(bureau, eligible_districts=["光明区"])
    _assert_unchanged(make_draft(enterprise_user, call, organisation), "The call is for organisations located in 光明区.")


def test_cap(bureau, enterprise_user, organisation):
    call = make_open_call(bureau, max_request=Decimal("80"))
    _assert_unchanged(make_draft(enterprise_user, call, organisation),
                      "The requested amount 100.00 exceeds the cap of 80.00 (10k CNY).")


def test_budget_sum(enterprise_user, organisation, open_call):
    application = make_draft(enterprise_user, open_call, organisation, requested_amount=Decimal("120"))
    _assert_unchanged(application, "The budget table adds up to 100 but the requested amount is 120.00.")


def test_integrity_list_organisation(bureau, enterprise_user, organisation, open_call):
    application = make_draft(enterprise_user, open_call, organisation)
    integrity.integrity_entry_add(actor=bureau, organisation=organisation, reason="数据造假", source="通报",
                                  start_date=timezone.localdate() - dt.timedelta(days=1))
    _assert_unchanged(application, "The organisation is on the research-integrity list.")


def test_integrity_list_member(bureau, enterprise_user, organisation, open_call):
    member = make_person(name="失信人员")
    application = make_draft(enterprise_user, open_call, organisation, members=[member])
    integrity.integrity_entry_add(actor=bureau, person=member, reason="抄袭", source="通报",
                                  start_date=timezone.localdate())
    _assert_unchanged(application, "A team member is on the research-integrity list.")


def test_ended_integrity_entry_no_longer_blocks(bureau, enterprise_user, organisation, open_call):
    application = make_draft(enterprise_user, open_call, organisation)
    entry = integrity.integrity_entry_add(actor=bureau, organisation=organisation, reason="数据造假", source="通报",
                                          start_date=timezone.localdate() - dt.timedelta(days=30))
    integrity.integrity_entry_end(actor=bureau, entry=entry, end_date=timezone.localdate() - dt.timedelta(days=1),
                                  reason="期满")
    applications.application_submit(actor=enterprise_user, application=application)
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED


def test_required_question(bureau, enterprise_user, organisation):
    call = make_open_call(bureau, form_fields=[{"name": "plan", "label": "技术路线", "required": True}])
    _assert_unchanged(make_draft(enterprise_user, call, organisation), "Answer the required question “技术路线”.")


def test_talent_call_needs_works_and_applicant(bureau, enterprise_user, organisation):
    call = make_open_call(bureau, mechanism="talent")
    application = make_draft(enterprise_user, call, organisation)
    _assert_unchanged(application, "A talent application lists representative works (代表作).")
    _assert_unchanged(application, "Name the individual applicant.")


# --- submission, receipt, withdrawal, return and versions
def test_submit_receipt_return_resubmit(login, bureau, enterprise_user, organisation, open_call):
    application = make_draft(enterprise_user, open_call, organisation)
    client = login(enterprise_user)
    response = client.post(reverse("programmes:application_action", args=[application.pk, "submit"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("programmes:application_action", args=[application.pk, "receipt"])
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED and application.version == 1
    receipt = client.get(response["Location"]).content.decode()
    assert application.reference in receipt and application.reference == f"{open_call.code}-0001"
    assert timezone.localtime(application.submitted_at).strftime("%Y-%m-%d %H:%M:%S") in receipt
    # the applicant cannot return it; the bureau can, with a reason
    assert client.post(reverse("programmes:application_action", args=[application.pk, "return"]),
                       {"reason": "x"}).status_code == 403
    officer = login(bureau)
    officer.post(reverse("programmes:application_action", args=[application.pk, "return"]), {"reason": ""})
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED
    officer.post(reverse("programmes:application_action", args=[application.pk, "return"]),
                 {"reason": "预算说明不充分"})
    application.refresh_from_db()
    assert application.state == ApplicationState.RETURNED
    client = login(enterprise_user)
    page = client.get(reverse("programmes:application_detail", args=[application.pk])).content.decode()
    assert "预算说明不充分" in page
    edit = client.post(reverse("programmes:application_edit", args=[application.pk]), {
        "title": "新型钙钛矿光伏材料（修改稿）", "abstract": "补充预算说明", "requested_amount": "90",
        "budget-TOTAL_FORMS": "2", "budget-INITIAL_FORMS": "0", "budget-MIN_NUM_FORMS": "0",
        "budget-MAX_NUM_FORMS": "1000", "budget-0-category": "设备费", "budget-0-amount": "50",
        "budget-1-category": "材料费", "budget-1-amount": "40"})
    assert edit.status_code == 302
    client.post(reverse("programmes:application_action", args=[application.pk, "submit"]))
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED and application.version == 2
    versions = list(application.versions.order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].snapshot["title"] == "新型钙钛矿光伏材料" and versions[1].snapshot["title"].endswith("（修改稿）")
    page = client.get(reverse("programmes:application_detail", args=[application.pk])).content.decode()
    assert page.count("Version ") + page.count("版本 ") >= 2 or page.count("data-testid=\"versions\"") == 1


def test_ineligible_submission_through_the_page_lists_problems(login, bureau, enterprise_user, organisation):
    call = make_open_call(bureau, max_request=Decimal("50"),
                          form_fields=[{"name": "plan", "label": "技术路线", "required": True}])
    application = make_draft(enterprise_user, call, organisation)
    response = login(enterprise_user).post(reverse("programmes:application_action", args=[application.pk, "submit"]),
                                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="eligibility-problems"' in page
    assert "exceeds the cap of 50.00" in page and "Answer the required question “技术路线”." in page
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT


def test_withdraw(login, enterprise_user, organisation, draft):
    applications.application_submit(actor=enterprise_user, application=draft)
    response = login(enterprise_user).post(reverse("programmes:application_action", args=[draft.pk, "withdraw"]),
                                           {"reason": "团队调整"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == ApplicationState.WITHDRAWN
    assert _transitions(draft).order_by("id").last().reason == "团队调整"


def test_application_form_creates_a_draft_with_team_budget_and_answers(login, bureau, enterprise_user, organisation):
    call = make_open_call(bureau, form_fields=[{"name": "plan", "label": "技术路线", "required": True}])
    lead, member = make_person(name="张研究员"), make_person(name="李工程师")
    data = {"title": "钙钛矿叠层电池", "abstract": "摘要", "keywords": "钙钛矿", "requested_amount": "100",
            "applicant": lead.pk, "members": [member.pk], "answer_plan": "先小试后中试",
            "budget-TOTAL_FORMS": "3", "budget-INITIAL_FORMS": "0", "budget-MIN_NUM_FORMS": "0",
            "budget-MAX_NUM_FORMS": "1000", "budget-0-category": "设备费", "budget-0-amount": "70",
            "budget-1-category": "测试费", "budget-1-amount": "20"}
    client = login(enterprise_user)
    response = client.post(reverse("programmes:application_create", args=[call.pk]), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "The budget table adds up to 90.00" in response.content.decode()
    assert not Application.objects.exists()
    data["budget-2-category"], data["budget-2-amount"] = "材料费", "10"
    response = client.post(reverse("programmes:application_create", args=[call.pk]), data)
    application = Application.objects.get()
    assert response.status_code == 302
    assert application.organisation == organisation and application.applicant == lead
    assert application.answers == {"plan": "先小试后中试"}
    assert application.budget_lines == [{"category": "设备费", "amount": "70.00"}, {"category": "测试费", "amount": "20.00"},
                                        {"category": "材料费", "amount": "10.00"}]
    assert sorted((m.person.name, m.role) for m in application.members.all()) == [("张研究员", "lead"), ("李工程师", "member")]
    applications.application_submit(actor=enterprise_user, application=application)


def test_talent_form_has_representative_works(login, bureau, enterprise_user, organisation):
    call = make_open_call(bureau, mechanism="talent")
    person = make_person(name="青年学者")
    response = login(enterprise_user).post(reverse("programmes:application_create", args=[call.pk]), {
        "title": "青年人才", "abstract": "摘要", "requested_amount": "0", "applicant": person.pk,
        "budget-TOTAL_FORMS": "0", "budget-INITIAL_FORMS": "0", "budget-MIN_NUM_FORMS": "0",
        "budget-MAX_NUM_FORMS": "1000", "works-TOTAL_FORMS": "1", "works-INITIAL_FORMS": "0",
        "works-MIN_NUM_FORMS": "0", "works-MAX_NUM_FORMS": "5", "works-0-title": "钙钛矿稳定性机理", "works-0-year": "2024",
        "works-0-venue": "Nature Energy", "works-0-why": "首次揭示界面降解机理"})
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.representative_works == [{"title": "钙钛矿稳定性机理", "year": 2024, "venue": "Nature Energy",
                                                  "why": "首次揭示界面降解机理"}]
    applications.application_submit(actor=enterprise_user, application=application)


# --- attachments
@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(("name", "content", "message"), [
    ("plan.exe", b"MZ\x90\x00", "“plan.exe”: attach PDF, Word (.docx), Excel (.xlsx), PNG or JPEG files."),
    ("plan.pdf", PNG, "“plan.pdf” is not really a .pdf file."),
    ("photo.png", PDF, "“photo.png” is not really a .png file."),
])
def test_attachment_refused(login, enterprise_user, draft, media, name, content, message):
    response = login(enterprise_user).post(reverse("programmes:application_action", args=[draft.pk, "attach"]),
                                           {"title": "附件", "file": SimpleUploadedFile(name, content)},
                                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApplicationAttachment.objects.exists()
    assert not list(media.rglob("*.*"))


def test_attachment_too_large(enterprise_user, draft, media, monkeypatch):
    monkeypatch.setattr(applications, "ATTACHMENT_MAX_BYTES", 10)
    with pytest.raises(ValidationError) as exc:
        applications.attachment_add(actor=enterprise_user, application=draft, title="",
                                    upload=SimpleUploadedFile("big.pdf", PDF))
    assert exc.value.message_dict == {"file": ["“big.pdf” is larger than 20 MB."]}
    assert not ApplicationAttachment.objects.exists()


def test_attachment_accepted(login, enterprise_user, other_enterprise_user, draft, media):
    url = reverse("programmes:application_action", args=[draft.pk, "attach"])
    assert login(other_enterprise_user).post(url, {"file": SimpleUploadedFile("a.pdf", PDF)}).status_code == 403
    response = login(enterprise_user).post(url, {"title": "可行性报告", "file": SimpleUploadedFile("report.pdf", PDF)})
    assert response.status_code == 302
    attachment = ApplicationAttachment.objects.get()
    assert (attachment.title, attachment.content_type, attachment.size) == ("可行性报告", "application/pdf", len(PDF))
    assert AuditEvent.objects.filter(object_type="programmes.applicationattachment", action="create").count() == 1


def test_no_attachment_after_submission(enterprise_user, draft, media):
    applications.application_submit(actor=enterprise_user, application=draft)
    draft.refresh_from_db()
    with pytest.raises(ValidationError):
        applications.attachment_add(actor=enterprise_user, application=draft, title="",
                                    upload=SimpleUploadedFile("late.pdf", PDF))


# --- API
def test_api_create_and_submit(client, login, bureau, enterprise_user, other_enterprise_user, organisation):
    call = make_open_call(bureau, max_request=Decimal("50"))
    member = make_person(name="王研究员")
    payload = {"call_id": call.pk, "title": "API 申报", "abstract": "摘要", "requested_amount": "100",
               "member_ids": [member.pk], "budget_lines": [{"category": "设备费", "amount": "100"}]}
    response = login(enterprise_user).post("/api/programmes/applications", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "draft" and body["member_ids"] == [member.pk] and body["organisation_id"] == organisation.pk
    response = client.post(f"/api/programmes/applications/{body['id']}/submit", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ineligible"
    assert error["details"] == ["The requested amount 100.00 exceeds the cap of 50.00 (10k CNY)."]
    assert Application.objects.get().state == "draft"
    assert login(other_enterprise_user).post(f"/api/programmes/applications/{body['id']}/submit").status_code == 403
    Call.objects.filter(pk=call.pk).update(max_request=Decimal("500"))
    response = login(enterprise_user).post(f"/api/programmes/applications/{body['id']}/submit")
    assert response.status_code == 200 and response.json()["state"] == "submitted"
    assert login(other_enterprise_user).get("/api/programmes/applications").json()["count"] == 0
    assert login(bureau).get("/api/programmes/applications").json()["count"] == 1


def test_api_create_refused_for_ineligible_organisation(login, bureau):
    call = make_open_call(bureau, eligible_kinds=["university"])
    user = make_user("enterprise_user", make_organisation())
    response = login(user).post("/api/programmes/applications", {
        "call_id": call.pk, "title": "t", "abstract": "a", "requested_amount": "1"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "ineligible"
    assert not Application.objects.exists()
