import datetime as dt

from sciencecity.engines.conflicts import (
    ALLIANCE,
    APPLICANT,
    COAUTHOR,
    DECLARED,
    INTEGRITY,
    JOINT_PROJECT,
    SAME_ORGANISATION,
    ApplicationFacts,
    ExpertFacts,
    Period,
    conflict_matrix,
    conflicts_for,
)

TODAY = dt.date(2025, 6, 1)
APP = ApplicationFacts(application_id=1, organisation_ids={10, 11}, people={100, 101}, alliances={7})


def rules(expert, **kwargs):
    return {c.rule for c in conflicts_for(expert, APP, years=3, today=TODAY, **kwargs)}


def test_no_conflict():
    assert rules(ExpertFacts(5, affiliations=[(20, Period(dt.date(2010, 1, 1)))])) == set()


def test_team_member_is_in_conflict():
    assert rules(ExpertFacts(100)) == {APPLICANT}


def test_same_organisation_now_or_within_the_window():
    assert rules(ExpertFacts(5, affiliations=[(10, Period(dt.date(2015, 1, 1)))])) == {SAME_ORGANISATION}
    left_two_years_ago = ExpertFacts(5, affiliations=[(11, Period(dt.date(2015, 1, 1), dt.date(2023, 5, 1)))])
    assert rules(left_two_years_ago) == {SAME_ORGANISATION}
    left_long_ago = ExpertFacts(5, affiliations=[(11, Period(dt.date(2010, 1, 1), dt.date(2021, 5, 1)))])
    assert rules(left_long_ago) == set()
    # A shorter window clears the same expert.
    recent = ExpertFacts(5, affiliations=[(11, Period(dt.date(2015, 1, 1), dt.date(2023, 5, 1)))])
    assert conflicts_for(recent, APP, years=1, today=TODAY) == []


def test_coauthors_and_joint_projects_within_the_window():
    assert rules(ExpertFacts(5, coauthors={101: 2023})) == {COAUTHOR}
    assert rules(ExpertFacts(5, coauthors={101: 2020})) == set()
    assert rules(ExpertFacts(5, joint_projects={100: 2024})) == {JOINT_PROJECT}


def test_declarations_alliance_and_integrity():
    declared = ExpertFacts(5, declared_organisations=[(11, Period(dt.date(2024, 1, 1)), "advisory")])
    assert rules(declared) == {DECLARED}
    assert rules(ExpertFacts(5, declared_people=[(101, Period(), "family")])) == {DECLARED}
    member = ExpertFacts(5, alliances={7})
    assert rules(member) == set() and rules(member, alliance_rule=True) == {ALLIANCE}
    assert rules(ExpertFacts(5, integrity_listed=True)) == {INTEGRITY}


def test_matrix_lists_only_conflicting_pairs_with_explanations():
    experts = [ExpertFacts(100), ExpertFacts(5), ExpertFacts(6, coauthors={100: 2024})]
    matrix = conflict_matrix(experts, [APP], years=3, today=TODAY)
    assert set(matrix) == {(100, 1), (6, 1)}
    assert matrix[(6, 1)][0].detail == {"person": 100, "year": 2024}
