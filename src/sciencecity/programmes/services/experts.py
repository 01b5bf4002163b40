"""Experts (专家库), the facts behind conflicts of interest (利益冲突回避) and text affinity.

The expert pool is the registry's people of category "expert" with an active ``ExpertProfile``
(created on demand). Conflict facts are gathered from the registry and the programme data and
handed to the pure rules of ``engines.conflicts``:

* organisation groups: an organisation, the organisations related to it by ``branch_of`` and the
  organisations whose normalised name equals another's name or alias (so the aliases of one
  organisation count as the same organisation);
* affiliations over time (``registry.Affiliation``), mapped to groups;
* co-authorship (``Publication.authors``, by year) and joint projects (team members of earlier
  applications, by year of submission);
* declarations of interest (``ConflictDeclaration``);
* alliances: ``member_of`` relations whose target is an alliance / 创新联合体;
* the integrity list (an expert on it is excluded from expert duty).

Affinity is ``engines.text.affinity_scores`` over each expert's publications plus expertise
keywords against the application's title, abstract and keywords; the explanation is the shared
terms.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.engines import conflicts as rules
from sciencecity.engines.names import normalise_name
from sciencecity.engines.text import affinity_scores, default_tokenizer, load_embedder, load_fusion, model_id
from sciencecity.engines.text.affinity import learned_hybrid_affinity
from sciencecity.engines.text.tokenize import BIGRAM_PREFIX
from sciencecity.programmes.choices import ApplicationState, ConflictKind
from sciencecity.programmes.models import (
    Application,
    ApplicationMember,
    Call,
    ConflictDeclaration,
    ExpertProfile,
    Publication,
)
from sciencecity.programmes.permissions import can_manage_declarations, can_manage_programmes
from sciencecity.programmes.services import paper_vectors
from sciencecity.programmes.services.integrity import listed_people
from sciencecity.programmes.services.paper_vectors import paper_text
from sciencecity.registry.choices import OrganisationKind, PersonCategory, RelationKind
from sciencecity.registry.models import Affiliation, Organisation, OrganisationAlias, Person, Relation

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

DECLARATION_FIELDS = ["expert", "organisation", "person", "kind", "start_date", "end_date", "note"]
PROFILE_FIELDS = ["is_senior", "max_load", "active"]
#: Shared terms listed as the reason of a match.
SHARED_TERMS = 5


# --------------------------------------------------------------------------------------------
# The pool and profiles


def expert_people_ids() -> list[int]:
    """Registry people of category "expert" (filtered in Python: JSON ``contains`` is not portable)."""
    return [pk for pk, categories in Person.objects.values_list("pk", "categories")
            if PersonCategory.EXPERT in (categories or [])]


@transaction.atomic
def expert_profiles_ensure(*, actor: User | None = None) -> int:
    """Create the missing profiles of registry experts; returns how many were created (audited)."""
    have = set(ExpertProfile.objects.values_list("person_id", flat=True))
    created = 0
    for person in Person.objects.filter(pk__in=[pk for pk in expert_people_ids() if pk not in have]):
        profile = ExpertProfile.objects.create(person=person)
        audit_record(action=AuditAction.CREATE, actor=actor, obj=profile, object_repr=person.name,
                     changes=diff({}, snapshot(profile, PROFILE_FIELDS)))
        created += 1
    return created


def expert_pool() -> list[ExpertProfile]:
    """Active profiles of registry experts (profiles are created on demand)."""
    expert_profiles_ensure()
    return list(ExpertProfile.objects.filter(active=True, person_id__in=expert_people_ids())
                .select_related("person").order_by("person__name", "person_id"))


@transaction.atomic
def expert_profile_update(*, actor: User | None, profile: ExpertProfile, data: dict[str, Any]) -> ExpertProfile:
    """Seniority (主审), load override and active flag: the bureau only."""
    permissions.require(can_manage_programmes(actor))
    before = snapshot(profile, PROFILE_FIELDS)
    for name in PROFILE_FIELDS:
        if name in data:
            setattr(profile, name, data[name])
    profile.full_clean()
    profile.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=profile, object_repr=profile.person.name,
                 changes=diff(before, snapshot(profile, PROFILE_FIELDS)))
    return profile


@transaction.atomic
def declaration_add(*, actor: User | None, expert: Person, data: dict[str, Any]) -> ConflictDeclaration:
    """An IFS-style declaration of interest: organisation or person, kind, period (audited)."""
    permissions.require(can_manage_declarations(actor, expert))
    declaration = ConflictDeclaration(expert=expert, **{k: data.get(k) or v for k, v in (
        ("organisation", None), ("person", None), ("kind", ConflictKind.OTHER), ("start_date", None),
        ("end_date", None), ("note", ""))})
    if declaration.organisation is None and declaration.person is None:
        raise ValidationError(_("Name the organisation or the person the interest concerns."))
    if declaration.start_date and declaration.end_date and declaration.end_date < declaration.start_date:
        raise ValidationError({"end_date": _("The end date is before the start date.")})
    declaration.full_clean()
    declaration.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=declaration, object_repr=expert.name,
                 changes=diff({}, snapshot(declaration, DECLARATION_FIELDS)))
    return declaration


@transaction.atomic
def declaration_delete(*, actor: User | None, declaration: ConflictDeclaration) -> None:
    permissions.require(can_manage_declarations(actor, declaration.expert))
    before = snapshot(declaration, DECLARATION_FIELDS)
    audit_record(action=AuditAction.DELETE, actor=actor, obj=declaration, object_repr=declaration.expert.name,
                 changes=diff(before, {}))
    declaration.delete()


# --------------------------------------------------------------------------------------------
# Conflict facts


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def organisation_groups() -> dict[int, int]:
    """``{organisation id: group id}``: branches and same-named (alias) organisations share a group."""
    groups = _UnionFind()
    by_name: dict[str, int] = {}

    def same_name(organisation_id: int, name: str) -> None:
        key = normalise_name(name)
        if not key:
            return
        if key in by_name:
            groups.union(by_name[key], organisation_id)
        else:
            by_name[key] = organisation_id

    for pk, name, name_en in Organisation.objects.values_list("pk", "name", "name_en"):
        groups.find(pk)
        same_name(pk, name)
        if name_en:
            same_name(pk, name_en)
    for organisation_id, name in OrganisationAlias.objects.values_list("organisation_id", "name"):
        same_name(organisation_id, name)
    for source, target in Relation.objects.filter(kind=RelationKind.BRANCH_OF).values_list("source_id", "target_id"):
        groups.union(source, target)
    return {pk: groups.find(pk) for pk in groups.parent}


def _alliances(day_from: dt.date, day_to: dt.date) -> dict[int, set[int]]:
    """``{organisation id: alliance ids}`` from ``member_of`` relations to alliances in the window."""
    result: dict[int, set[int]] = defaultdict(set)
    relations = (Relation.objects.filter(kind=RelationKind.MEMBER_OF, target__kind=OrganisationKind.ALLIANCE)
                 .filter(Q(start_date__isnull=True) | Q(start_date__lte=day_to))
                 .filter(Q(end_date__isnull=True) | Q(end_date__gte=day_from)))
    for source, target in relations.values_list("source_id", "target_id"):
        result[source].add(target)
    return result


@dataclass
class ConflictFacts:
    """The facts of one call: per expert and per application, plus the group names for display."""

    experts: dict[int, rules.ExpertFacts]
    applications: dict[int, rules.ApplicationFacts]
    group_names: dict[int, str]
    years: int
    today: dt.date
    alliance_rule: bool

    def conflicts(self, expert_id: int, application_id: int) -> list[rules.Conflict]:
        return rules.conflicts_for(self.experts[expert_id], self.applications[application_id], years=self.years,
                                   today=self.today, alliance_rule=self.alliance_rule)

    def matrix(self) -> dict[tuple[int, int], list[rules.Conflict]]:
        return rules.conflict_matrix(self.experts.values(), self.applications.values(), years=self.years,
                                     today=self.today, alliance_rule=self.alliance_rule)


def _since(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def conflict_facts(*, call: Call, expert_ids: Iterable[int], applications: Sequence[Application],
                   today: dt.date | None = None) -> ConflictFacts:
    """Gather the conflict facts of ``expert_ids`` × ``applications`` (a few queries, no N+1)."""
    today = today or dt.date.today()
    years = call.conflict_years if call.conflict_years is not None else 3
    since = _since(today, years)
    expert_ids = list(dict.fromkeys(expert_ids))
    groups = organisation_groups()
    alliances = _alliances(since, today)
    group_of = groups.get

    def alliances_of(organisation_ids: Iterable[int]) -> set[int]:
        found: set[int] = set()
        for pk in organisation_ids:
            found |= alliances.get(pk, set())
        return found

    experts = {pk: rules.ExpertFacts(expert_id=pk) for pk in expert_ids}
    for person_id, organisation_id, start, end in Affiliation.objects.filter(person_id__in=expert_ids).values_list(
            "person_id", "organisation_id", "start_date", "end_date"):
        period = rules.Period(start, end)
        experts[person_id].affiliations.append((group_of(organisation_id, organisation_id), period))
        if period.within(since, today):
            experts[person_id].alliances |= alliances_of([organisation_id])

    authorship = Publication.authors.through.objects
    expert_papers = authorship.filter(person_id__in=expert_ids).values_list("person_id", "publication_id")
    papers_of: dict[int, set[int]] = defaultdict(set)
    for person_id, publication_id in expert_papers:
        papers_of[publication_id].add(person_id)
    years_of = dict(Publication.objects.filter(pk__in=list(papers_of)).values_list("pk", "year"))
    for publication_id, person_id in authorship.filter(publication_id__in=list(papers_of)).values_list(
            "publication_id", "person_id"):
        for expert_id in papers_of[publication_id]:
            if expert_id != person_id:
                coauthors = experts[expert_id].coauthors
                coauthors[person_id] = max(coauthors.get(person_id, 0), years_of[publication_id])

    team_rows = (ApplicationMember.objects.filter(application__submitted_at__isnull=False)
                 .filter(application__members__person_id__in=expert_ids)
                 .values_list("application_id", "person_id", "application__submitted_at").distinct())
    teams: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for application_id, person_id, submitted_at in team_rows:
        teams[application_id].append((person_id, submitted_at.year))
    for members in teams.values():
        for expert_id in {p for p, _year in members if p in experts}:
            joint = experts[expert_id].joint_projects
            for person_id, year in members:
                if person_id != expert_id:
                    joint[person_id] = max(joint.get(person_id, 0), year)

    for d in ConflictDeclaration.objects.filter(expert_id__in=expert_ids):
        period = rules.Period(d.start_date, d.end_date)
        if d.organisation_id:
            experts[d.expert_id].declared_organisations.append(
                (group_of(d.organisation_id, d.organisation_id), period, d.kind))
        if d.person_id:
            experts[d.expert_id].declared_people.append((d.person_id, period, d.kind))
    for person_id in listed_people(expert_ids, today):
        experts[person_id].integrity_listed = True

    members: dict[int, set[int]] = defaultdict(set)
    for application_id, person_id in ApplicationMember.objects.filter(
            application__in=list(applications)).values_list("application_id", "person_id"):
        members[application_id].add(person_id)
    group_members: dict[int, list[int]] = defaultdict(list)
    for pk, g in groups.items():
        group_members[g].append(pk)
    application_facts = {}
    for application in applications:
        people = set(members[application.pk])
        if application.applicant_id:
            people.add(application.applicant_id)
        group = group_of(application.organisation_id, application.organisation_id)
        application_facts[application.pk] = rules.ApplicationFacts(
            application_id=application.pk, organisation_ids={group}, people=people,
            alliances=alliances_of(group_members[group]))

    wanted = {g for f in experts.values() for g, _p in f.affiliations}
    wanted |= {g for f in experts.values() for g, _p, _k in f.declared_organisations}
    names: dict[int, list[str]] = defaultdict(list)
    for pk, name in Organisation.objects.filter(pk__in=[pk for g in wanted for pk in group_members[g]]).values_list(
            "pk", "name").order_by("pk"):
        names[groups[pk]].append(name)
    return ConflictFacts(experts, application_facts, {g: " / ".join(n[:3]) for g, n in names.items()},
                         years, today, bool(call.alliance_conflicts))


def conflict_text(conflict: rules.Conflict, facts: ConflictFacts, people: dict[int, str] | None = None) -> str:
    """The rule that excludes a pair, in words, with its evidence."""
    detail = conflict.detail
    people = people or {}

    def person(pk: int) -> str:
        if pk not in people:
            people[pk] = Person.objects.filter(pk=pk).values_list("name", flat=True).first() or str(pk)
        return people[pk]

    labels = dict(ConflictKind.choices)
    if conflict.rule == rules.INTEGRITY:
        return _("Integrity list: the expert is excluded from expert duty")
    if conflict.rule == rules.APPLICANT:
        return _("Applicant or team member")
    if conflict.rule == rules.SAME_ORGANISATION:
        name = facts.group_names.get(detail.get("organisation"), "")
        if detail.get("until"):
            return _("Same organisation within %(years)s years: %(organisation)s (until %(until)s)") % {
                "years": facts.years, "organisation": name, "until": detail["until"]}
        return _("Same organisation: %(organisation)s") % {"organisation": name}
    if conflict.rule == rules.COAUTHOR:
        return _("Co-author of %(person)s (%(year)s)") % {"person": person(detail["person"]), "year": detail["year"]}
    if conflict.rule == rules.JOINT_PROJECT:
        return _("Joint project with %(person)s (%(year)s)") % {"person": person(detail["person"]),
                                                               "year": detail["year"]}
    if conflict.rule == rules.DECLARED:
        kind = labels.get(detail.get("kind"), detail.get("kind"))
        if "organisation" in detail:
            return _("Declared interest (%(kind)s) in %(organisation)s") % {
                "kind": kind, "organisation": facts.group_names.get(detail["organisation"], "")}
        return _("Declared interest (%(kind)s) in %(person)s") % {"kind": kind, "person": person(detail["person"])}
    if conflict.rule == rules.ALLIANCE:
        names = ", ".join(Organisation.objects.filter(pk__in=detail["alliances"]).values_list("name", flat=True))
        return _("Same alliance: %(alliances)s") % {"alliances": names}
    return conflict.rule


def call_applications(call: Call) -> list[Application]:
    """The applications of a call that are under review."""
    return list(call.applications.filter(state=ApplicationState.UNDER_REVIEW).order_by("reference"))


# --------------------------------------------------------------------------------------------
# Affinity


def expert_texts(person_ids: Sequence[int], years: dict[int, list[int | None]] | None = None) -> dict[int, list[str]]:
    """``{person id: texts}``: each publication (title + abstract) and the expertise keywords; the
    year of each text goes into ``years`` when given (``None`` for the keywords)."""
    texts: dict[int, list[str]] = {pk: [] for pk in person_ids}
    found: dict[int, list[int | None]] = {pk: [] for pk in person_ids}
    rows = (Publication.authors.through.objects.filter(person_id__in=list(person_ids))
            .values_list("person_id", "publication__title", "publication__abstract", "publication__year")
            .order_by("person_id", "publication_id"))
    for person_id, title, abstract, year in rows:
        texts[person_id].append(paper_text(title, abstract))
        found[person_id].append(year)
    for pk, expertise in Person.objects.filter(pk__in=list(person_ids)).values_list("pk", "expertise"):
        if expertise:
            texts[pk].append(" ".join(str(k) for k in expertise))
            found[pk].append(None)
    if years is not None:
        years.update(found)
    return texts


def application_text(application: Application) -> str:
    return "\n".join(part for part in (application.title, application.abstract, application.keywords) if part)


@dataclass
class AffinityTable:
    """Scores in [0, 1]: one row an application, one column an expert; and the texts (for reasons).

    ``method`` says which scale: ``tfidf`` — the cosine of TF-IDF (+ synonyms) vectors of the
    application and the expert's closest publication, 0 when they share no term; ``hybrid`` —
    ``logistic(d · z + l · t)`` with ``z`` the dense cosine of the expert's profile (recency-weighted
    mean of their 3 closest papers) as a z-score over the reference experts (the active pool) for
    that application, ``t`` the TF-IDF affinity divided by the application's best over that pool,
    ``d``, ``l`` learned on the reviewer-expertise tune split (``fusion_weights.json``): 0.5 is an
    expert of average closeness in meaning sharing no term, ≈0.73 one standard deviation closer
    (or sharing the pool's best term overlap), ≈0.88 two. Both are relative to the pool only in the
    hybrid, so scores of one application are comparable across experts and jobs (the same pool),
    which is what the assignment's top-N cut and total-affinity objective use."""

    application_ids: list[int]
    expert_ids: list[int]
    scores: np.ndarray
    expert_texts: dict[int, list[str]]
    application_texts: dict[int, str]
    method: str = "tfidf"

    def score(self, application_id: int, expert_id: int) -> float:
        return float(self.scores[self.application_ids.index(application_id), self.expert_ids.index(expert_id)])

    def shared_terms(self, application_id: int, expert_id: int, limit: int = SHARED_TERMS) -> list[str]:
        return shared_terms(self.application_texts[application_id], self.expert_texts.get(expert_id, []), limit)


def affinity_embedder():
    """The dense model of the setting ``TEXT_EMBEDDER`` when it loads and fusion weights were
    learned for its expert affinity; ``None`` (TF-IDF only) otherwise — the test settings say none."""
    embedder = load_embedder(str(getattr(settings, "TEXT_EMBEDDER", "none") or "none"))
    if embedder is None or load_fusion(f"affinity:{model_id(embedder)}") is None:
        return None
    return embedder


def affinity_table(applications: Sequence[Application], expert_ids: Sequence[int], *,
                   reference_ids: Sequence[int] | None = None, embedder=None) -> AffinityTable:
    """Text affinity of every expert with every application (engines.text, Chinese and English):
    the learned hybrid when a dense model is configured (``affinity_embedder``), else TF-IDF; see
    ``AffinityTable`` for the two scales. The hybrid normalises over ``reference_ids`` (default:
    the active expert pool, plus ``expert_ids``), so one expert's score does not depend on which
    others are asked about with it."""
    embedder = embedder if embedder is not None else affinity_embedder()
    submission_texts = {str(a.pk): application_text(a) for a in applications}
    if embedder is None:
        texts = expert_texts(expert_ids)
        result = affinity_scores({str(pk): texts[pk] for pk in expert_ids}, submission_texts)
        scores = np.asarray(result.scores, dtype=float)
        method = "tfidf"
    else:
        if reference_ids is None:
            reference_ids = [p.person_id for p in expert_pool()]
        everyone = list(dict.fromkeys([*expert_ids, *reference_ids]))
        years: dict[int, list[int | None]] = {}
        texts = expert_texts(everyone, years)
        papers = [t for pk in everyone for t, year in zip(texts[pk], years[pk], strict=True) if year is not None]
        hybrid = learned_hybrid_affinity(embedder, {str(pk): texts[pk] for pk in everyone}, submission_texts,
                                         years={str(pk): years[pk] for pk in everyone},
                                         known=paper_vectors.known_passages(embedder, papers))
        assert hybrid is not None  # affinity_embedder checked the weights
        column = {pk: j for j, pk in enumerate(everyone)}
        scores = np.asarray(hybrid.scores, dtype=float)[:, [column[pk] for pk in expert_ids]]
        method = "hybrid"
    return AffinityTable([a.pk for a in applications], list(expert_ids), scores,
                         {pk: texts[pk] for pk in expert_ids}, {a.pk: submission_texts[str(a.pk)] for a in applications},
                         method)


def _terms(text: str) -> list[str]:
    return [t for t in default_tokenizer().terms(text, search=False)
            if not t.startswith(BIGRAM_PREFIX) and (len(t) > 1 or not t.isascii())]


def shared_terms(application_text: str, expert_texts: Sequence[str], limit: int = SHARED_TERMS) -> list[str]:
    """Terms of the application also in the expert's texts, most frequent in the application first."""
    expert_terms = set()
    for text in expert_texts:
        expert_terms.update(_terms(text))
    counts: dict[str, int] = {}
    for term in _terms(application_text):
        if term in expert_terms:
            counts[term] = counts.get(term, 0) + 1
    return [t for t, _n in sorted(counts.items(), key=lambda item: -item[1])][:limit]
