"""Reviewer workflow: only released own assignments, blind calls, scoring, decline and late conflicts
with re-assignment, anonymised reviews for applicants, normalisation and ranking; the review API."""

import json
import math
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from sciencecity.accounts.models import User
from sciencecity.core.models import AuditEvent
from sciencecity.programmes import selectors
from sciencecity.programmes.models import Assignment, Criterion, Review
from sciencecity.programmes.services import assignment as assignment_services
from sciencecity.programmes.services import experts as expert_services
from sciencecity.programmes.services import reviews as services
from tests.conftest import make_organisation
from tests.programmes.conftest import make_application, make_expert, make_review_call

API = "/api/programmes"


@pytest.fixture
def released(review_world):
    """The world's assignment run and released: battery → 电池专家, solar → 光伏专家, bci → 脑机专家."""
    assignment_services.assignment_run(actor=review_world["officer"], call=review_world["call"])
    assignment_services.assignment_release(actor=review_world["officer"], call=review_world["call"])
    apps = review_world["apps"]
    return {**review_world, "assignment": {key: Assignment.objects.get(application=app) for key, app in apps.items()}}


def test_reviewer_sees_only_their_released_assignments(released, login):
    battery_user = released["experts"]["battery"].user
    client = login(battery_user)
    page = client.get(reverse("programmes:my_reviews")).content.decode()
    assert "固态锂电池电解质" in page and "钙钛矿太阳能电池" not in page
    assert 'data-testid="reviews-due"' in page
    api = client.get(f"{API}/reviews").json()
    assert [row["reference"] for row in api] == [released["apps"]["battery"].reference]
    assert api[0]["applicant_organisation"] == "光明电池科技公司"


def test_unreleased_assignments_stay_hidden(review_world, login):
    assignment_services.assignment_run(actor=review_world["officer"], call=review_world["call"])
    client = login(review_world["experts"]["battery"].user)
    assert client.get(f"{API}/reviews").json() == []
    mine = Assignment.objects.get(expert=review_world["experts"]["battery"])
    assert client.get(reverse("programmes:review_form", args=[mine.pk])).status_code == 403


def test_reviewer_cannot_open_another_application_page_or_api(released, login):
    client = login(released["experts"]["battery"].user)
    other = released["assignment"]["solar"]
    assert client.get(reverse("programmes:review_form", args=[other.pk])).status_code == 403
    assert client.get(reverse("programmes:review_decline", args=[other.pk])).status_code == 403
    assert client.get(f"{API}/reviews/{other.pk}").status_code == 403
    response = client.post(f"{API}/reviews/{other.pk}", data=json.dumps({"scores": {}, "comment": "x"}),
                           content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"]
    assert not Review.objects.exists()


def test_officers_and_applicants_are_not_reviewers(released, login, enterprise_user):
    mine = released["assignment"]["battery"]
    for user in (released["officer"], enterprise_user):
        client = login(user)
        assert client.get(reverse("programmes:review_form", args=[mine.pk])).status_code == 403
        assert client.get(f"{API}/reviews").status_code == 403


def test_blind_call_hides_the_applicant_in_page_and_api(released, login):
    call = released["call"]
    call.blind_review = True
    call.save()
    application = released["apps"]["battery"]
    application.applicant = expert_services.Person.objects.create(code="P-APPL", name="申请人丙")
    application.save()
    client = login(released["experts"]["battery"].user)
    mine = released["assignment"]["battery"]
    for url in (reverse("programmes:review_form", args=[mine.pk]), reverse("programmes:my_reviews")):
        page = client.get(url).content.decode()
        assert "固态锂电池电解质" in page
        assert "光明电池科技公司" not in page and "申请人丙" not in page
    row = client.get(f"{API}/reviews/{mine.pk}").json()
    assert row["blind"] is True
    assert (row["applicant_organisation"], row["applicant"], row["team"]) == (None, None, None)
    assert "光明电池科技公司" not in json.dumps(client.get(f"{API}/reviews").json(), ensure_ascii=False)


def test_scoring_computes_the_weighted_total(released, login):
    call = released["call"]
    first = call.criteria.get()
    second = Criterion.objects.create(call=call, order=2, name="可行性", weight=Decimal("3"), max_score=5)
    mine = released["assignment"]["battery"]
    client = login(released["experts"]["battery"].user)
    form = client.get(reverse("programmes:review_form", args=[mine.pk])).content.decode()
    assert "0–3 弱; 4–7 中; 8–10 强" in form  # descriptors shown
    bad = client.post(reverse("programmes:review_form", args=[mine.pk]),
                      {f"score_{first.pk}": "11", f"score_{second.pk}": "4", "comment": "好"})
    assert bad.status_code == 200 and not Review.objects.exists()
    response = client.post(reverse("programmes:review_form", args=[mine.pk]),
                           {f"score_{first.pk}": "8", f"score_{second.pk}": "4", "comment": "创新性强"})
    assert response.status_code == 302
    review = Review.objects.get(assignment=mine)
    # 100 × (1 × 8/10 + 3 × 4/5) / (1 + 3) = 80
    assert review.total == 80.0 and review.scores == {str(first.pk): 8, str(second.pk): 4}
    assert Assignment.objects.get(pk=mine.pk).state == "submitted"
    assert AuditEvent.objects.filter(object_type="programmes.review", action="create").count() == 1


def test_missing_score_or_comment_is_refused(released):
    mine, user = released["assignment"]["battery"], released["experts"]["battery"].user
    with pytest.raises(ValidationError):
        services.review_submit(actor=user, assignment=mine, scores={}, comment="评语")
    criterion = released["call"].criteria.get()
    with pytest.raises(ValidationError):
        services.review_submit(actor=user, assignment=mine, scores={str(criterion.pk): 5}, comment=" ")
    assert not Review.objects.exists() and Assignment.objects.get(pk=mine.pk).state == "released"


def test_decline_reassigns_to_the_best_eligible_expert(released, login):
    experts, apps = released["experts"], released["apps"]
    mine = released["assignment"]["battery"]
    client = login(experts["battery"].user)
    response = client.post(reverse("programmes:review_decline", args=[mine.pk]),
                           {"reason": "not_my_field", "note": "方向不符"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.state, mine.decline_reason, mine.decline_note) == ("declined", "not_my_field", "方向不符")
    # Not the insider (works at the applicant), not the decliner: the storage expert, best affinity left.
    replacement = Assignment.objects.get(application=apps["battery"], state="released")
    assert replacement.expert_id == experts["spare"].pk
    assert {"code": "reassigned"} in replacement.reasons
    assert client.get(f"{API}/reviews").json() == []
    assert AuditEvent.objects.filter(object_type="programmes.assignment", action="create",
                                     object_id=str(replacement.pk)).exists()


def test_decline_respects_loads(released):
    experts, apps = released["experts"], released["apps"]
    expert_services.ExpertProfile.objects.filter(person=experts["spare"]).update(max_load=0)
    replacement = services.review_decline(actor=experts["battery"].user, assignment=released["assignment"]["battery"],
                                          reason="too_many")
    assert replacement.expert_id not in (experts["battery"].pk, experts["insider"].pk, experts["spare"].pk)
    loads = assignment_services.call_loads(released["call"])
    assert max(loads.values()) <= released["call"].max_load
    assert Assignment.objects.filter(application=apps["battery"], state="released").count() == 1


def test_late_conflict_withdraws_and_reassigns(released):
    experts, apps = released["experts"], released["apps"]
    mine = released["assignment"]["solar"]
    review = services.review_submit(actor=experts["solar"].user, assignment=mine, scores={}, comment="申请人是我的学生",
                                    conflict_flagged=True)
    assert review.conflict_flagged
    mine.refresh_from_db()
    assert (mine.state, mine.decline_reason) == ("declined", "conflict")
    replacement = Assignment.objects.get(application=apps["solar"], state="released")
    assert replacement.expert_id != experts["solar"].pk
    facts = expert_services.conflict_facts(call=released["call"], expert_ids=[replacement.expert_id],
                                           applications=[apps["solar"]])
    assert facts.matrix() == {}
    # A later run never puts the declined pair back.
    rerun = assignment_services.assignment_run(actor=released["officer"], call=released["call"])
    assert rerun.state == "done"
    assert not Assignment.objects.filter(application=apps["solar"], expert=experts["solar"]).exclude(
        state="declined").exists()


def test_applicant_sees_anonymised_reviews_only_after_the_decision(released):
    mine, user = released["assignment"]["battery"], released["experts"]["battery"].user
    criterion = released["call"].criteria.get()
    services.review_submit(actor=user, assignment=mine, scores={str(criterion.pk): 7}, comment="方案可行")
    application = released["apps"]["battery"]
    assert services.anonymised_reviews(application) == []
    application.state = "funded"
    application.save()
    with translation.override("en"):
        shown = services.anonymised_reviews(application)
    assert shown == [{"label": "Reviewer 1", "total": 70.0, "scores": [("创新性", 7, 10)], "comment": "方案可行"}]
    assert "电池专家" not in str(shown)


# --- normalisation and ranking


@pytest.fixture
def harsh_and_lenient(db, bureau):
    call = make_review_call(reviews_per_application=2, max_load=2)
    apps = [make_application(call, make_organisation(), title=t) for t in ("甲项目", "乙项目")]
    harsh = make_expert("严格专家", username="harsh")
    lenient = make_expert("宽松专家", username="lenient")
    criterion = call.criteria.get()
    for expert, scores in ((harsh, (4, 2)), (lenient, (9, 8))):
        for application, score in zip(apps, scores, strict=True):
            assignment = Assignment.objects.create(application=application, expert=expert, state="released")
            services.review_submit(actor=expert.user, assignment=assignment, scores={str(criterion.pk): score},
                                   comment="评语")
    return call, apps


def test_z_scores_give_harsh_and_lenient_reviewers_the_same_say(harsh_and_lenient):
    call, (first, second) = harsh_and_lenient
    rows = selectors.ranking(call)
    # Totals: harsh 40, 20 (mean 30, sd 10); lenient 90, 80 (mean 85, sd 5): both give z = +1, −1.
    # Back on the call's scale: mean 57.5, sd √818.75 ≈ 28.6138.
    sd = math.sqrt(818.75)
    assert [row.application for row in rows] == [first, second]
    assert rows[0].normalised == [pytest.approx(57.5 + sd, abs=1e-4)] * 2
    assert rows[1].normalised == [pytest.approx(57.5 - sd, abs=1e-4)] * 2
    assert rows[0].score == pytest.approx(86.1138, abs=1e-4) and rows[1].score == pytest.approx(28.8862, abs=1e-4)
    assert (rows[0].mean, rows[0].minimum, rows[0].maximum, rows[0].spread) == (65.0, 40.0, 90.0, 25.0)
    assert (rows[1].mean, rows[1].minimum, rows[1].maximum, rows[1].spread) == (50.0, 20.0, 80.0, 30.0)
    assert [row.rank for row in rows] == [1, 2]


def test_normalisation_corrects_a_lenient_reviewer_on_one_application(db, bureau):
    """A lenient reviewer's middling score must not beat a harsh reviewer's best one."""
    call = make_review_call(reviews_per_application=1, max_load=2)
    a, b, c, d = (make_application(call, make_organisation(), title=t) for t in "ABCD")
    harsh, lenient = make_expert("严格", username="h2"), make_expert("宽松", username="l2")
    criterion = call.criteria.get()
    for expert, application, score in ((harsh, a, 6), (harsh, b, 2), (lenient, c, 9), (lenient, d, 10)):
        assignment = Assignment.objects.create(application=application, expert=expert, state="released")
        services.review_submit(actor=expert.user, assignment=assignment, scores={str(criterion.pk): score},
                               comment="评语")
    # Raw: D 100 > C 90 > A 60 > B 20. z: A +1, D +1, B −1, C −1 → A and D tie at the top.
    ranked = selectors.ranking(call)
    assert [row.application.title for row in ranked] == ["A", "D", "B", "C"]
    assert ranked[0].score == ranked[1].score
    call.normalise_scores = False
    call.save()
    assert [row.application.title for row in selectors.ranking(call)] == ["D", "C", "A", "B"]


def test_single_review_or_no_spread_keeps_raw_totals():
    rows = [(1, 10, 40.0), (2, 10, 90.0), (2, 11, 90.0), (3, 11, 70.0), (3, 12, 50.0)]
    scores = selectors.normalised_totals(rows)
    assert scores[(1, 10)] == 40.0  # one review
    assert scores[(2, 10)] == scores[(2, 11)] == 90.0  # no spread
    assert scores[(3, 11)] != 70.0


def test_ranking_page_and_api_for_officers_only(harsh_and_lenient, bureau, login):
    call, (first, second) = harsh_and_lenient
    client = login(bureau)
    page = client.get(reverse("programmes:ranking", args=[call.pk])).content.decode()
    assert "甲项目" in page and "86.11" in page
    api = client.get(f"{API}/calls/{call.pk}/ranking").json()
    assert [(row["rank"], row["reference"], row["score"], row["spread"]) for row in api] == [
        (1, first.reference, pytest.approx(86.1138, abs=1e-4), 25.0),
        (2, second.reference, pytest.approx(28.8862, abs=1e-4), 30.0)]
    reviewer = User.objects.get(username="harsh")
    assert login(reviewer).get(reverse("programmes:ranking", args=[call.pk])).status_code == 403
    assert login(reviewer).get(f"{API}/calls/{call.pk}/ranking").status_code == 403


def test_review_api_submit_and_decline(released, login):
    experts = released["experts"]
    criterion = released["call"].criteria.get()
    client = login(experts["battery"].user)
    mine = released["assignment"]["battery"]
    response = client.post(f"{API}/reviews/{mine.pk}", data=json.dumps(
        {"scores": {str(criterion.pk): 9}, "comment": "很好"}), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["review"]["total"] == 90.0 and response.json()["state"] == "submitted"
    client = login(experts["solar"].user)
    other = released["assignment"]["solar"]
    response = client.post(f"{API}/reviews/{other.pk}/decline", data=json.dumps({"reason": "too_many"}),
                           content_type="application/json")
    assert response.status_code == 200
    replacement = response.json()["replacement_expert_id"]
    assert replacement is not None and replacement != experts["solar"].pk


def test_officer_api_runs_jobs_and_lists_assignments(review_world, login):
    call, officer = review_world["call"], review_world["officer"]
    client = login(officer)
    job = client.post(f"{API}/calls/{call.pk}/assignment-jobs")
    assert job.status_code == 201 and job.json()["state"] == "done"
    assert client.get(f"{API}/assignment-jobs/{job.json()['id']}").json()["progress"] == 1.0
    rows = client.get(f"{API}/calls/{call.pk}/assignments").json()
    assert len(rows) == 3 and {row["state"] for row in rows} == {"proposed"}
    assert any(r.startswith("共享") or r for r in rows[0]["reasons"])
    reviewer = login(review_world["experts"]["battery"].user)
    assert reviewer.get(f"{API}/calls/{call.pk}/assignments").status_code == 403
    assert reviewer.post(f"{API}/calls/{call.pk}/assignment-jobs").status_code == 403


def test_service_refuses_a_stranger(released, enterprise_user):
    with pytest.raises(PermissionDenied):
        services.review_decline(actor=enterprise_user, assignment=released["assignment"]["battery"],
                                reason="conflict")


def test_half_points_are_accepted_and_other_fractions_refused_naming_the_step(released, login):
    call = released["call"]
    first = call.criteria.get()
    second = Criterion.objects.create(call=call, order=2, name="可行性", weight=Decimal("3"), max_score=5)
    mine = released["assignment"]["battery"]
    client = login(released["experts"]["battery"].user)
    url = reverse("programmes:review_form", args=[mine.pk])
    form = client.get(url).content.decode()
    assert 'step="0.5"' in form and "以 0.5 分为步长，例如 7.5。" in form
    bad = client.post(url, {f"score_{first.pk}": "7.3", f"score_{second.pk}": "4", "comment": "好"})
    assert bad.status_code == 200 and not Review.objects.exists()
    assert bad.context["form"].errors[f"score_{first.pk}"] == [
        f"“{first.name}”的评分以 0.5 分为步长（例如 7 或 7.5），不能打 7.3 分。"]
    response = client.post(url, {f"score_{first.pk}": "7.5", f"score_{second.pk}": "4", "comment": "创新性强"})
    assert response.status_code == 302
    review = Review.objects.get(assignment=mine)
    # 100 × (1 × 7.5/10 + 3 × 4/5) / (1 + 3) = 100 × 3.15 / 4 = 78.75
    assert review.total == 78.75 and review.scores == {str(first.pk): 7.5, str(second.pk): 4}
    assert client.get(url).context["form"].initial[f"score_{first.pk}"] == 7.5


def test_half_points_through_the_api(released, login):
    mine = released["assignment"]["solar"]
    criterion = released["call"].criteria.get()
    client = login(released["experts"]["solar"].user)
    refused = client.post(f"{API}/reviews/{mine.pk}", json.dumps({"scores": {str(criterion.pk): 6.25},
                                                                   "comment": "可"}), content_type="application/json")
    assert refused.status_code == 400 and not Review.objects.exists()
    done = client.post(f"{API}/reviews/{mine.pk}", json.dumps({"scores": {str(criterion.pk): 6.5}, "comment": "可"}),
                       content_type="application/json")
    assert done.status_code in (200, 201), done.content
    assert Review.objects.get(assignment=mine).scores == {str(criterion.pk): 6.5}


def test_reviewer_sees_the_full_proposal_and_its_attachments(released, login):
    from django.core.files.base import ContentFile

    from sciencecity.programmes.models import ApplicationAttachment

    mine = released["assignment"]["battery"]
    application = mine.application
    application.budget_lines = [{"category": "设备费", "amount": "120"}]
    application.save(update_fields=["budget_lines"])
    ApplicationAttachment.objects.create(application=application, title="可行性研究报告", size=4,
                                         content_type="application/pdf", file=ContentFile(b"%PDF", name="r.pdf"))
    page = login(released["experts"]["battery"].user).get(reverse("programmes:review_form", args=[mine.pk]))
    html = page.content.decode()
    assert 'data-testid="full-proposal"' in html and "设备费" in html and "可行性研究报告" in html


def test_reviewer_downloads_the_attachments_of_an_assigned_application_only(released, login):
    """Issue 11 obs. 9: the reviewer opens the attachments from the review page; nobody else assigned can."""
    from django.core.files.base import ContentFile

    from sciencecity.core.models import AuditAction, AuditEvent
    from sciencecity.programmes.models import ApplicationAttachment

    mine = released["assignment"]["battery"]
    attachment = ApplicationAttachment.objects.create(
        application=mine.application, title="可行性研究报告", size=8, content_type="application/pdf",
        file=ContentFile(b"%PDF-1.4", name="feasibility.pdf"))
    url = reverse("programmes:attachment_download", args=[attachment.pk])
    client = login(released["experts"]["battery"].user)
    assert f'href="{url}"' in client.get(reverse("programmes:review_form", args=[mine.pk])).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4"
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_id=str(attachment.pk)).count() == 1
    others = [e for key, e in released["experts"].items() if key != "battery"
              and not mine.application.assignments.filter(expert=e, state__in=("released", "submitted")).exists()]
    assert others and login(others[0].user).get(url).status_code == 403


def test_unreviewed_applications_are_listed_last_without_a_rank(harsh_and_lenient, bureau, login):
    call, (first, second) = harsh_and_lenient
    waiting = make_application(call, make_organisation(), title="丙项目")
    rows = selectors.ranking(call)
    assert [(row.application, row.rank) for row in rows] == [(first, 1), (second, 2), (waiting, None)]
    client = login(bureau)
    page = client.get(reverse("programmes:ranking", args=[call.pk])).content.decode()
    assert page.count('data-testid="not-ranked"') == 1 and "尚未评审" in page
    api = client.get(f"{API}/calls/{call.pk}/ranking").json()
    assert [row["rank"] for row in api] == [1, 2, None]
