"""Mechanism-specific flows: 揭榜挂帅, 事前立项事后资助, 赛马式, 创新创业大赛, talent programmes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext

from sciencecity.programmes import selectors
from sciencecity.programmes.models import FundedProject, Payment
from sciencecity.programmes.services import decisions, projects
from tests.conftest import make_organisation, make_person
from tests.programmes.conftest import fund, make_application, make_call

pytestmark = pytest.mark.django_db


def _submit_accept(officer, member, milestone, on=None):
    projects.milestone_submit(actor=member, milestone=milestone, report="成果")
    return projects.milestone_accept(actor=officer, milestone=milestone, on=on)


def test_open_competition_pays_the_reward_on_acceptance_only(bureau, organisation, enterprise_user,
                                                              manager_person):
    call = make_call(mechanism="open_competition", reward=Decimal("500"), acceptance_criteria="良率≥95%",
                     max_request=Decimal("500"))
    winner = make_application(call, organisation, requested="500")
    loser = make_application(call, make_organisation(), requested="500")
    # the amount defaults to the reward
    decisions.decision_record(actor=bureau, call=call, application=winner, data={"outcome": "fund"})
    decisions.decision_record(actor=bureau, call=call, application=loser, data={"outcome": "reject"})
    (project,) = decisions.decisions_notify(actor=bureau, call=call, managers={winner.pk: manager_person},
                                            start_date=dt.date(2025, 6, 1), end_date=dt.date(2026, 6, 1))
    assert project.amount == Decimal("500")
    (milestone,) = project.milestones.all()
    assert (milestone.title, milestone.deliverables, milestone.tranche) == (
        gettext("Acceptance of the result against the acceptance criteria"), "良率≥95%", Decimal("500"))
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="良率96%")
    assert not Payment.objects.exists()  # nothing on submission
    projects.milestone_reject(actor=bureau, milestone=milestone, note="复测未达到")
    assert not Payment.objects.exists()  # nothing on rejection
    payment = _submit_accept(bureau, enterprise_user, milestone, on=dt.date(2026, 5, 1))
    assert (payment.amount, payment.paid_on) == (Decimal("500"), dt.date(2026, 5, 1))
    assert payment.note == gettext("Reward on acceptance (揭榜挂帅)")
    assert Payment.objects.count() == 1


def test_post_funding_pays_nothing_until_verification(bureau, organisation, enterprise_user, manager_person):
    call = make_call(mechanism="post_funding")
    application = make_application(call, organisation, requested="200")
    (project,) = fund(bureau, call, {application.reference: "200"}, manager_person)
    (milestone,) = project.milestones.all()
    assert milestone.tranche == Decimal("200")
    assert project.payments.count() == 0
    projects.milestone_submit(actor=enterprise_user, milestone=milestone, report="第三方检测报告")
    assert project.payments.count() == 0
    payment = projects.milestone_accept(actor=bureau, milestone=milestone)
    assert payment.amount == Decimal("200")
    assert list(project.payments.values_list("amount", flat=True)) == [Decimal("200")]


@pytest.fixture
def race(bureau, organisation, manager_person):
    """赛马式: three teams funded in parallel (90 each: 27 / 36 / 27); one is kept per round."""
    call = make_call(mechanism="horse_race", teams_funded=3, keep_per_round=1)
    teams = [make_application(call, organisation), make_application(call, make_organisation()),
             make_application(call, make_organisation())]
    funded = fund(bureau, call, {a.reference: "90" for a in teams}, manager_person)
    return call, teams, funded


def test_horse_race_funds_three_and_keeps_one(race, bureau, enterprise_user):
    call, teams, funded = race
    call.refresh_from_db()
    assert len(funded) == 3 and call.state == "decided"
    # milestone 1 of every team is accepted and paid
    for project in funded:
        member = enterprise_user if project.application.organisation_id == teams[0].organisation_id else None
        milestone = project.milestones.get(order=1)
        if member is None:
            from sciencecity.accounts.choices import Role
            from tests.conftest import make_user

            member = make_user(Role.ENTERPRISE_USER, project.application.organisation)
        _submit_accept(bureau, member, milestone)
    assert Payment.objects.count() == 3
    with pytest.raises(ValidationError) as exc:  # keeping two is more than k = 1
        decisions.race_round_decide(actor=bureau, call=call, held_on=dt.date(2025, 12, 1), members=[], minutes="",
                                    decisions={teams[0].pk: {"outcome": "keep"}, teams[1].pk: {"outcome": "keep"},
                                               teams[2].pk: {"outcome": "eliminate"}})
    assert "1" in str(exc.value)
    assert call.panels.count() == 1
    panel = decisions.race_round_decide(
        actor=bureau, call=call, held_on=dt.date(2025, 12, 1), members=[make_person()], minutes="第一轮",
        decisions={teams[0].pk: {"outcome": "keep", "votes_for": 5}, teams[1].pk: {"outcome": "eliminate"},
                   teams[2].pk: {"outcome": "eliminate"}})
    assert panel.round == 2 and panel.decisions.count() == 3
    states = {p.application_id: p.state for p in FundedProject.objects.all()}
    assert states == {teams[0].pk: "active", teams[1].pk: "terminated", teams[2].pk: "terminated"}
    for a in teams:
        a.refresh_from_db()
    assert [a.state for a in teams] == ["funded", "eliminated", "eliminated"]
    # no later tranche for the eliminated teams, even if a milestone was already submitted
    for project in funded[1:]:
        milestone = project.milestones.get(order=2)
        with pytest.raises(ValidationError):
            projects.milestone_accept(actor=bureau, milestone=milestone)
    assert Payment.objects.count() == 3
    # the kept team goes on
    kept = FundedProject.objects.get(application=teams[0])
    _submit_accept(bureau, enterprise_user, kept.milestones.get(order=2))
    assert Payment.objects.count() == 4
    with pytest.raises(ValidationError):  # one team left: the race is over
        decisions.race_round_decide(actor=bureau, call=call, held_on=dt.date(2026, 6, 1), members=[], minutes="",
                                    decisions={teams[0].pk: {"outcome": "keep"}})
    # public disclosure shows the terminated teams' state
    assert [p.state for p in decisions.disclosure_rows(call)].count("terminated") == 2


def test_race_round_page(race, bureau, login, client, enterprise_user):
    call, teams, funded = race
    url = reverse("programmes:race_round", args=[call.pk])
    client.force_login(enterprise_user)
    assert client.get(url).status_code == 403
    client = login(bureau)
    page = client.get(url).content.decode()
    assert all(f'data-testid="team-{a.reference}"' in page for a in teams)
    data = {"held_on": "2025-12-01", "minutes": "", f"{teams[0].pk}-outcome": "eliminate",
            f"{teams[1].pk}-outcome": "keep", f"{teams[2].pk}-outcome": "eliminate"}
    response = client.post(url, data)
    assert response.status_code == 302
    assert FundedProject.objects.filter(state="active").get().application == teams[1]


def test_horse_race_funds_at_most_n_teams(bureau, organisation, manager_person):
    call = make_call(mechanism="horse_race", teams_funded=2, keep_per_round=1)
    apps = [make_application(call, organisation) for _ in range(3)]
    with pytest.raises(ValidationError):
        fund(bureau, call, {a.reference: "50" for a in apps}, manager_person)
    assert not FundedProject.objects.exists()


def test_competition_rounds_and_public_results(bureau, organisation, manager_person, client):
    call = make_call(mechanism="competition")
    entries = [make_application(call, organisation, title=f"参赛项目{i}") for i in range(3)]
    for a, outcome in zip(entries, ("keep", "keep", "eliminate"), strict=True):
        decisions.decision_record(actor=bureau, call=call, application=a, data={"outcome": outcome})
    with pytest.raises(ValidationError):  # still in a round: notify refuses
        decisions.decisions_notify(actor=bureau, call=call, managers={}, start_date=dt.date(2025, 6, 1),
                                   end_date=dt.date(2026, 6, 1))
    following = decisions.competition_round_close(actor=bureau, call=call)
    assert following.round == 2
    entries[2].refresh_from_db()
    assert entries[2].state == "eliminated"
    assert [r.application for r in selectors.ranking_rows(call)] == entries[:2]
    decisions.decision_record(actor=bureau, call=call, application=entries[0], data={"outcome": "fund", "amount": "20"})
    decisions.decision_record(actor=bureau, call=call, application=entries[1], data={"outcome": "reject"})
    decisions.decisions_notify(actor=bureau, call=call, managers={entries[0].pk: manager_person},
                               start_date=dt.date(2025, 6, 1), end_date=dt.date(2026, 6, 1))
    html = client.get(reverse("programmes:disclosure")).content.decode()
    results = decisions.competition_results(call)
    assert [(r["round"], [a.title for a in r["advanced"]]) for r in results] == [
        (1, ["参赛项目0", "参赛项目1"]), (2, ["参赛项目0"])]
    assert "参赛项目1" in html and "参赛项目2" not in html


def test_talent_panel_shows_representative_works(bureau, login, organisation):
    call = make_call(mechanism="talent")
    person = make_person(name="青年科学家")
    make_application(call, organisation, applicant=person,
                     representative_works=[{"title": "高效钙钛矿电池", "year": 2024, "venue": "Nature"}])
    page = login(bureau).get(reverse("programmes:panel", args=[call.pk])).content.decode()
    assert "高效钙钛矿电池" in page and "Nature" in page


def test_disclosure_is_public_for_everyone(client, sysadmin):
    assert client.get(reverse("programmes:disclosure")).status_code == 200
    assert client.get("/api/programmes/disclosure").status_code == 200
    client.force_login(sysadmin)
    assert client.get(reverse("programmes:disclosure")).status_code == 200
