"""Reporting rounds: the submission state machine, locking, re-opening, and who may see and do what."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditAction, AuditEvent, ImportBatch
from sciencecity.plans import services
from sciencecity.plans.choices import SubmissionStatus, ValueStatus
from sciencecity.plans.importers import value_importer
from sciencecity.plans.models import ReportingRound, RoundSubmission
from tests.conftest import make_user

YEAR = 2025


@pytest.fixture
def rnd(plan, plan_bureau):
    return services.round_open(actor=plan_bureau, plan=plan, year=YEAR, deadline=dt.date(2026, 3, 31))


@pytest.fixture
def submission(rnd, kcj):
    return RoundSubmission.objects.get(round=rnd, department=kcj)


@pytest.fixture
def value(plan, kcj_officer, rnd):
    obj, _changed = services.indicator_value_set(actor=kcj_officer, indicator=plan.indicators.get(code="2"),
                                                 year=YEAR, value=8.0)
    return obj


def transitions(submission) -> list[list[str]]:
    return [e.changes["status"] for e in AuditEvent.objects.filter(
        action=AuditAction.TRANSITION, object_id=str(submission.pk)).order_by("id")]


# --- the state machine --------------------------------------------------------------------------
def test_round_open_creates_one_draft_submission_per_owner_department(rnd, plan):
    departments = set(plan.indicators.values_list("owner_department__code", flat=True))
    assert set(rnd.submissions.values_list("department__code", flat=True)) == departments
    assert set(rnd.submissions.values_list("status", flat=True)) == {SubmissionStatus.DRAFT}
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type__contains="reportinground").count() == 1


def test_submit_approve_locks_the_values(rnd, kcj, kcj_officer, plan_bureau, submission, value, plan):
    services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
    submission.refresh_from_db()
    value.refresh_from_db()
    assert (submission.status, submission.submitted_by, value.status) == (
        SubmissionStatus.SUBMITTED, kcj_officer, ValueStatus.SUBMITTED)
    services.submission_approve(actor=plan_bureau, submission=submission)
    submission.refresh_from_db()
    value.refresh_from_db()
    assert (submission.status, submission.decided_by) == (SubmissionStatus.APPROVED, plan_bureau)
    assert value.locked and value.approved_by == plan_bureau and value.approved_at is not None
    for actor in (kcj_officer, plan_bureau):
        with pytest.raises(ValidationError) as refused:
            services.indicator_value_set(actor=actor, indicator=value.indicator, year=YEAR, value=9.0)
        assert list(refused.value.error_dict) == ["value"]
    value.refresh_from_db()
    assert value.value == 8.0
    assert transitions(submission) == [["draft", "submitted"], ["submitted", "approved"]]


@pytest.mark.parametrize(("status", "action"), [
    ("draft", "approve"), ("draft", "return"), ("returned", "approve"), ("approved", "approve"),
    ("approved", "return"), ("approved", "submit"), ("submitted", "submit"),
])
def test_refused_transitions_change_nothing(status, action, rnd, kcj, kcj_officer, plan_bureau, submission):
    RoundSubmission.objects.filter(pk=submission.pk).update(status=status)
    submission.refresh_from_db()
    with pytest.raises(ValidationError):
        if action == "submit":
            services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
        elif action == "approve":
            services.submission_approve(actor=plan_bureau, submission=submission)
        else:
            services.submission_return(actor=plan_bureau, submission=submission, comment="please check")
    submission.refresh_from_db()
    assert submission.status == status
    assert transitions(submission) == []


def test_return_needs_a_comment_and_unlocks_for_revision(rnd, kcj, kcj_officer, plan_bureau, submission, value):
    services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
    submission.refresh_from_db()
    with pytest.raises(ValidationError):
        services.submission_return(actor=plan_bureau, submission=submission, comment="  ")
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    services.submission_return(actor=plan_bureau, submission=submission, comment="指标2口径有误，请核实")
    submission.refresh_from_db()
    value.refresh_from_db()
    assert (submission.status, submission.comment, value.status) == (
        SubmissionStatus.RETURNED, "指标2口径有误，请核实", ValueStatus.DRAFT)
    services.indicator_value_set(actor=kcj_officer, indicator=value.indicator, year=YEAR, value=8.2)
    services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    events = AuditEvent.objects.filter(action=AuditAction.TRANSITION, object_id=str(submission.pk)).order_by("id")
    assert [(e.changes["status"], e.reason) for e in events] == [
        (["draft", "submitted"], ""), (["submitted", "returned"], "指标2口径有误，请核实"),
        (["returned", "submitted"], "")]


def test_reopen_needs_a_reason_unlocks_and_is_audited(rnd, kcj, kcj_officer, plan_bureau, submission, value):
    services.submission_submit(actor=kcj_officer, rnd=rnd, department=kcj)
    submission.refresh_from_db()
    services.submission_approve(actor=plan_bureau, submission=submission)
    value.refresh_from_db()
    with pytest.raises(ValidationError):
        services.value_reopen(actor=plan_bureau, value=value, reason="")
    with pytest.raises(PermissionDenied):
        services.value_reopen(actor=kcj_officer, value=value, reason="typo")
    value.refresh_from_db()
    assert value.locked
    services.value_reopen(actor=plan_bureau, value=value, reason="统计局更正了数据")
    value.refresh_from_db()
    assert value.status == ValueStatus.DRAFT and value.approved_by is None
    event = AuditEvent.objects.filter(object_id=str(value.pk), action=AuditAction.UPDATE).latest("id")
    assert (event.changes, event.reason, event.actor) == (
        {"status": ["approved", "draft"]}, "统计局更正了数据", plan_bureau)
    obj, changed = services.indicator_value_set(actor=kcj_officer, indicator=value.indicator, year=YEAR, value=8.3)
    assert changed and obj.value == 8.3


# --- the pages through the views -----------------------------------------------------------------
def test_department_officer_submits_and_bureau_approves_through_the_pages(client, login, rnd, kcj, kcj_officer,
                                                                          plan_bureau, submission, value):
    login(kcj_officer)
    page = client.get(reverse("plans:round_detail", args=[rnd.pk]))
    assert f'data-testid="submit-{kcj.pk}"'.encode() in page.content
    assert f'data-testid="approve-{kcj.pk}"'.encode() not in page.content
    response = client.post(reverse("plans:submission_action", args=[rnd.pk, submission.pk, "submit"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:round_detail", args=[rnd.pk]) + f"#department-{kcj.pk}"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED

    login(plan_bureau)
    page = client.get(reverse("plans:round_detail", args=[rnd.pk]))
    assert f'data-testid="approve-{kcj.pk}"'.encode() in page.content
    client.post(reverse("plans:submission_action", args=[rnd.pk, submission.pk, "return"]), {"comment": ""})
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED  # a return without a comment is refused
    client.post(reverse("plans:submission_action", args=[rnd.pk, submission.pk, "approve"]))
    submission.refresh_from_db()
    value.refresh_from_db()
    assert submission.status == SubmissionStatus.APPROVED and value.locked
    page = client.get(reverse("plans:round_detail", args=[rnd.pk]))
    assert b'data-testid="locked-2"' in page.content
    # the locked marker is a word (an emoji 🔒 drew an empty box without an emoji font: issue 11)
    marker = re.search(rb'<span class="badge badge-locked" data-testid="locked-2">([^<]+)</span>', page.content)
    assert marker and marker.group(1).decode() in ("已锁定", "Locked")


def test_bureau_opens_a_round_once(client, login, plan, plan_bureau):
    login(plan_bureau)
    response = client.post(reverse("plans:round_list"), {"year": YEAR, "deadline": "2026-03-31"})
    rnd = ReportingRound.objects.get(plan=plan, year=YEAR)
    assert response["Location"] == reverse("plans:round_detail", args=[rnd.pk])
    assert rnd.deadline == dt.date(2026, 3, 31) and rnd.submissions.count() == 5
    client.post(reverse("plans:round_list"), {"year": YEAR, "deadline": "2026-05-01"})
    rnd.refresh_from_db()
    assert ReportingRound.objects.count() == 1 and rnd.deadline == dt.date(2026, 3, 31)


def test_round_list_shows_own_department_to_officers_and_all_with_next_actor_to_the_bureau(
        client, login, rnd, kcj, kcj_officer, tjj_officer, plan_bureau):
    login(kcj_officer)
    content = client.get(reverse("plans:round_list")).content.decode()
    assert "光明区科技创新局" in content and "光明区统计局" not in content
    assert 'data-testid="round-open"' not in content
    login(tjj_officer)
    content = client.get(reverse("plans:round_detail", args=[rnd.pk])).content.decode()
    assert "光明区统计局" in content and "光明区科技创新局" not in content
    login(plan_bureau)
    content = client.get(reverse("plans:round_list")).content.decode()
    for name in ("光明区科技创新局", "光明区统计局", "光明科学城开发建设署"):
        assert name in content
    assert content.count('data-next="department"') == 5
    assert 'data-testid="round-open"' in content


# --- permission matrix ----------------------------------------------------------------------------
USERS = ["anonymous", "enterprise", "owner_officer", "other_officer", "bureau", "sysadmin", "secadmin", "auditadmin"]


@pytest.fixture
def users(plan, kcj_officer, tjj_officer, plan_bureau, enterprise_user, sysadmin, secadmin, auditadmin):
    return {"anonymous": None, "enterprise": enterprise_user, "owner_officer": kcj_officer,
            "other_officer": tjj_officer, "bureau": plan_bureau, "sysadmin": sysadmin, "secadmin": secadmin,
            "auditadmin": auditadmin}


def _status(client, user, method: str, url: str, data=None) -> int:
    client.logout()
    if user is not None:
        client.force_login(user)
    response = client.post(url, data or {}) if method == "post" else client.get(url)
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return 401
    return response.status_code


PAGES = {
    "round_list": {"owner_officer": 200, "other_officer": 200, "bureau": 200},
    "round_detail": {"owner_officer": 200, "other_officer": 200, "bureau": 200},
    "round_template": {"owner_officer": 200, "bureau": 200},
    "round_upload": {"owner_officer": 200, "bureau": 200},
    "round_upload_detail": {"owner_officer": 200, "bureau": 200},
}


@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, users, rnd, kcj, kcj_officer, page):
    batch = ImportBatch.objects.create(kind=value_importer(rnd, kcj).kind, file_name="x.xlsx", sha256="0" * 64,
                                       content=b"", uploaded_by=kcj_officer, report={"results": []})
    url = {
        "round_list": reverse("plans:round_list"),
        "round_detail": reverse("plans:round_detail", args=[rnd.pk]),
        "round_template": reverse("plans:round_template", args=[rnd.pk, kcj.pk]),
        "round_upload": reverse("plans:round_upload", args=[rnd.pk, kcj.pk]),
        "round_upload_detail": reverse("plans:round_upload_detail", args=[batch.pk]),
    }[page]
    expected = {name: 401 if name == "anonymous" else PAGES[page].get(name, 403) for name in USERS}
    assert {name: _status(client, users[name], "get", url) for name in USERS} == expected


@pytest.mark.parametrize("action", ["submit", "approve", "return"])
def test_action_permission_matrix(client, users, rnd, submission, action):
    allowed = {"submit": {"owner_officer", "bureau"}, "approve": {"bureau"}, "return": {"bureau"}}[action]
    url = reverse("plans:submission_action", args=[rnd.pk, submission.pk, action])
    results = {}
    for name in USERS:
        # put the submission in the state the action starts from, so that only permission decides
        RoundSubmission.objects.filter(pk=submission.pk).update(
            status=SubmissionStatus.DRAFT if action == "submit" else SubmissionStatus.SUBMITTED)
        code = _status(client, users[name], "post", url, {"comment": "请核实"})
        submission.refresh_from_db()
        results[name] = (code, submission.status)
    start = SubmissionStatus.DRAFT if action == "submit" else SubmissionStatus.SUBMITTED
    done = {"submit": SubmissionStatus.SUBMITTED, "approve": SubmissionStatus.APPROVED,
            "return": SubmissionStatus.RETURNED}[action]
    assert results == {name: ((302, done) if name in allowed else (401 if name == "anonymous" else 403, start))
                       for name in USERS}


def test_unknown_action_and_foreign_submission_are_404(client, login, rnd, plan_bureau, submission, plan):
    login(plan_bureau)
    assert client.post(reverse("plans:submission_action", args=[rnd.pk, submission.pk, "delete"])).status_code == 404
    other = services.round_open(actor=plan_bureau, plan=plan, year=YEAR + 1, deadline=dt.date(2027, 3, 31))
    assert client.post(reverse("plans:submission_action", args=[other.pk, submission.pk, "approve"])).status_code \
        == 404
    assert client.get(reverse("plans:submission_action", args=[rnd.pk, submission.pk, "approve"])).status_code == 405


def test_department_without_indicators_has_no_template(client, login, rnd, plan_bureau):
    from sciencecity.registry.models import Organisation

    login(plan_bureau)
    czj = Organisation.objects.get(code="GOV-CZJ")  # 财政局 reports no indicator
    assert client.get(reverse("plans:round_template", args=[rnd.pk, czj.pk])).status_code == 404


def test_officer_of_a_department_in_another_role_is_refused(client, rnd, kcj):
    user = make_user(Role.ENTERPRISE_USER, kcj, username="kcj_enterprise_member")
    client.force_login(user)
    assert client.get(reverse("plans:round_template", args=[rnd.pk, kcj.pk])).status_code == 403
    assert client.get(reverse("plans:round_list")).status_code == 403


# --- no dead end: who acts next, and the buttons of whoever may act (issue 11, observation 3) ------
def test_bureau_who_uploaded_for_a_department_can_submit_and_then_approve(client, login, rnd, kcj, plan_bureau,
                                                                          submission, value):
    login(plan_bureau)
    page = client.get(reverse("plans:round_detail", args=[rnd.pk])).content.decode()
    assert f'data-testid="submit-{kcj.pk}"' in page
    client.post(reverse("plans:submission_action", args=[rnd.pk, submission.pk, "submit"]))
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    page = client.get(reverse("plans:round_detail", args=[rnd.pk])).content.decode()
    assert f'data-testid="approve-{kcj.pk}"' in page and f'data-testid="return-{kcj.pk}"' in page
    assert f'data-testid="submit-{kcj.pk}"' not in page


def test_round_page_names_the_department_officers_or_says_how_to_grant_one(client, login, rnd, kcj, plan_bureau,
                                                                          kcj_officer, plan):
    from sciencecity.registry.models import Organisation

    tjj = Organisation.objects.get(code="GOV-TJJ")
    page = login(plan_bureau).get(reverse("plans:round_detail", args=[rnd.pk])).content.decode()
    assert f'data-testid="officers-{kcj.pk}"' in page and "kcj_officer" in page
    hint = page.split(f'data-testid="no-officer-{tjj.pk}"', 1)[1].split("</p>", 1)[0]
    assert "GOV-TJJ" in hint


def test_the_audit_trail_names_the_organisation_each_actor_acts_for(rnd, kcj, plan_bureau):
    """Issue 11 obs. 9: the bureau approving a department's submission acts for the bureau, not the department."""
    submission = rnd.submissions.exclude(department=kcj).select_related("department").first()
    officer = make_user(Role.DEPARTMENT_OFFICER, submission.department, username="other_department")
    services.submission_submit(actor=officer, rnd=rnd, department=submission.department)
    services.submission_approve(actor=plan_bureau, submission=RoundSubmission.objects.get(pk=submission.pk))
    acting = [(e.changes["status"][1], e.acting_organisation_id) for e in AuditEvent.objects.filter(
        action=AuditAction.TRANSITION, object_id=str(submission.pk)).order_by("id")]
    assert acting == [("submitted", submission.department_id), ("approved", kcj.pk)]
