"""Conflict-of-interest rules between experts and applications (利益冲突回避), each explainable.

Pure Python: the caller gathers the facts (affiliations over time, co-authorships, joint projects,
declarations, alliance memberships) and gets back, for every conflicting pair, the rules that
fired with the evidence. A conflict is a hard exclusion for the assignment engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

APPLICANT = "applicant"  # the expert is the applicant or a team member
SAME_ORGANISATION = "same_organisation"  # works, or worked within N years, at the applicant organisation
COAUTHOR = "coauthor"  # co-authored with a team member within N years
JOINT_PROJECT = "joint_project"  # was on an application/project with a team member within N years
DECLARED = "declared"  # declared an interest in the organisation or a team member
ALLIANCE = "alliance"  # same alliance / 创新联合体, where the call says so
INTEGRITY = "integrity"  # on the integrity list: excluded from expert duty


@dataclass(frozen=True)
class Period:
    start: dt.date | None = None
    end: dt.date | None = None

    def within(self, since: dt.date, today: dt.date) -> bool:
        """Overlaps [since, today]."""
        return (self.start is None or self.start <= today) and (self.end is None or self.end >= since)


@dataclass
class ExpertFacts:
    expert_id: int
    affiliations: list[tuple[int, Period]] = field(default_factory=list)  # (organisation group id, period)
    coauthors: dict[int, int] = field(default_factory=dict)  # person id → latest year together
    joint_projects: dict[int, int] = field(default_factory=dict)  # person id → latest year together
    declared_organisations: list[tuple[int, Period, str]] = field(default_factory=list)
    declared_people: list[tuple[int, Period, str]] = field(default_factory=list)
    alliances: set[int] = field(default_factory=set)
    integrity_listed: bool = False


@dataclass
class ApplicationFacts:
    application_id: int
    organisation_ids: set[int]  # organisation group ids (the organisation, its aliases and branches)
    people: set[int]  # applicant and team members
    alliances: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Conflict:
    expert_id: int
    application_id: int
    rule: str
    detail: dict


def conflicts_for(expert: ExpertFacts, application: ApplicationFacts, *, years: int, today: dt.date,
                  alliance_rule: bool = False) -> list[Conflict]:
    """Every rule that excludes ``expert`` from reviewing ``application``."""
    since = today.replace(year=today.year - years) if years else today
    found: list[Conflict] = []

    def add(rule: str, **detail) -> None:
        found.append(Conflict(expert.expert_id, application.application_id, rule, detail))

    if expert.integrity_listed:
        add(INTEGRITY)
    if expert.expert_id in application.people:
        add(APPLICANT)
    for org, period in expert.affiliations:
        if org in application.organisation_ids and period.within(since, today):
            add(SAME_ORGANISATION, organisation=org, until=period.end.isoformat() if period.end else None)
    for person in application.people:
        year = expert.coauthors.get(person)
        if year is not None and year >= since.year:
            add(COAUTHOR, person=person, year=year)
        year = expert.joint_projects.get(person)
        if year is not None and year >= since.year:
            add(JOINT_PROJECT, person=person, year=year)
    for org, period, kind in expert.declared_organisations:
        if org in application.organisation_ids and period.within(since, today):
            add(DECLARED, organisation=org, kind=kind)
    for person, period, kind in expert.declared_people:
        if person in application.people and period.within(since, today):
            add(DECLARED, person=person, kind=kind)
    if alliance_rule:
        shared = expert.alliances & application.alliances
        if shared:
            add(ALLIANCE, alliances=sorted(shared))
    return found


def conflict_matrix(experts: Iterable[ExpertFacts], applications: Iterable[ApplicationFacts], *, years: int,
                    today: dt.date, alliance_rule: bool = False) -> dict[tuple[int, int], list[Conflict]]:
    """``{(expert id, application id): [conflicts]}`` for the conflicting pairs only."""
    applications = list(applications)
    result: dict[tuple[int, int], list[Conflict]] = {}
    for expert in experts:
        for application in applications:
            found = conflicts_for(expert, application, years=years, today=today, alliance_rule=alliance_rule)
            if found:
                result[(expert.expert_id, application.application_id)] = found
    return result
