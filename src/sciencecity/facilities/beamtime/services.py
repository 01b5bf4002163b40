"""Facility time (机时) writes: rounds, proposals, feasibility, reviewer assignment and reviews, ranking,
allocation (``engines.beamtime``, as a background job) with the schedule, experiment reports.

Each service checks its permission, validates (``full_clean``), writes and records its audit event in
one transaction. Reviewers are assigned with the funding calls' machinery: the expert pool, the
conflict-of-interest rules (``programmes.services.experts.conflict_facts`` → ``engines.conflicts``)
and the exact optimal assignment (``engines.assignment``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sciencecity.core import jobs, permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.engines import beamtime as engine
from sciencecity.engines import conflicts as conflict_rules
from sciencecity.engines.assignment import AssignmentInfeasible, AssignmentProblem, solve_assignment
from sciencecity.facilities.beamtime import permissions as rules
from sciencecity.facilities.beamtime.choices import (
    AllocationPolicy,
    Feasibility,
    ProposalState,
    ReviewState,
    RoundState,
)
from sciencecity.facilities.beamtime.models import (
    SHIFT_HOURS,
    BeamtimeProposal,
    BeamtimeReview,
    BeamtimeRound,
    ExperimentReport,
    RoundBeamline,
    ShiftRequest,
)
from sciencecity.facilities.choices import SLOT_HOLDING_STATES, BookingState, InstrumentKind
from sciencecity.facilities.models import Blackout, Booking
from sciencecity.facilities.services.bookings import user_class_for

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

ROUND_FIELDS = ["code", "title", "facility", "state", "closes_on", "schedule_starts_on", "reviews_per_proposal",
                "max_load", "conflict_years", "alliance_conflicts", "policy"]
PROPOSAL_FIELDS = ["reference", "round", "organisation", "applicant", "title", "keywords", "samples", "hazards",
                   "safety_declared", "priority", "state"]
ALLOCATE_KIND = "facilities.beamtime_allocate"
#: Experts kept per proposal in the assignment's score table (as the funding calls' top-N).
TOP_EXPERTS = 200
#: Active proposals: not withdrawn.
ACTIVE_PROPOSAL_STATES = (ProposalState.SUBMITTED, ProposalState.ALLOCATED, ProposalState.NOT_ALLOCATED,
                          ProposalState.REPORTED)


def _invalid(message: str, code: str, field: str | None = None) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]} if field else ValidationError(message,
                                                                                                        code=code))


# --------------------------------------------------------------------------------------------
# Rounds


@transaction.atomic
def round_create(*, actor: User | None, facility: Any, data: dict[str, Any]) -> BeamtimeRound:
    """Open a round on ``facility`` (a registry organisation); beamlines are added with ``round_beamline_set``."""
    permissions.require(rules.can_manage_facility(actor, facility))
    round_ = BeamtimeRound(facility=facility, **{k: data[k] for k in ROUND_FIELDS if k in data and k != "facility"})
    round_.full_clean()
    round_.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=round_, acting_organisation=facility,
                 changes=diff({}, snapshot(round_, ROUND_FIELDS)))
    return round_


@transaction.atomic
def round_beamline_set(*, actor: User | None, round_: BeamtimeRound, instrument: Any, shifts: int,
                       reserved_shifts: int = 0) -> RoundBeamline:
    """Set the shifts a beamline gives in the round (and how many are reserved for priority access)."""
    round_ = BeamtimeRound.objects.select_for_update().select_related("facility").get(pk=round_.pk)
    permissions.require(rules.can_manage_round(actor, round_))
    if round_.state != RoundState.OPEN:
        raise _invalid(_("Capacities change only while the round is open."), "round_not_open")
    if instrument.kind != InstrumentKind.END_STATION:
        raise _invalid(_("%(instrument)s is not a facility end-station / beamline.") % {"instrument": instrument.code},
                       "not_a_beamline", "instrument")
    line = RoundBeamline.objects.filter(round=round_, instrument=instrument).first()
    old = snapshot(line, ["shifts", "reserved_shifts"]) if line else {}
    line = line or RoundBeamline(round=round_, instrument=instrument)
    line.shifts, line.reserved_shifts = shifts, reserved_shifts
    if isinstance(reserved_shifts, int) and isinstance(shifts, int) and reserved_shifts > shifts:
        raise _invalid(_("The reserved shifts (%(reserved)s) cannot exceed the available shifts (%(shifts)s).") % {
            "reserved": reserved_shifts, "shifts": shifts}, "reserve_above_capacity", "reserved_shifts")
    line.full_clean()
    line.save()
    audit_record(action=AuditAction.UPDATE if old else AuditAction.CREATE, actor=actor, obj=line,
                 object_repr=str(line), changes=diff(old, snapshot(line, ["shifts", "reserved_shifts"])))
    return line


def _transition(actor: User | None, round_: BeamtimeRound, state: str) -> None:
    old = round_.state
    round_.state = state
    round_.save(update_fields=["state", "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=round_, changes={"state": [old, state]})


# --------------------------------------------------------------------------------------------
# Proposals


def _next_reference(round_: BeamtimeRound) -> str:
    count = BeamtimeProposal.objects.filter(round=round_).count()
    while True:
        count += 1
        reference = f"{round_.code}-{count:04d}"
        if not BeamtimeProposal.objects.filter(reference=reference).exists():
            return reference


@transaction.atomic
def proposal_submit(*, actor: User | None, round_: BeamtimeRound, organisation: Any, data: dict[str, Any],
                    requests: Sequence[tuple[RoundBeamline, int]], team: Sequence[Any] = (),
                    today: dt.date | None = None) -> BeamtimeProposal:
    """Submit a proposal: shifts per beamline of this round, team, samples and the signed safety declaration."""
    permissions.require(rules.can_propose(actor, organisation))
    round_ = BeamtimeRound.objects.select_for_update().get(pk=round_.pk)
    today = today or timezone.localdate()
    if round_.state != RoundState.OPEN or today > round_.closes_on:
        raise _invalid(_("The round %(round)s is not open for proposals.") % {"round": round_.code}, "round_closed")
    if not data.get("safety_declared"):
        raise _invalid(_("The safety declaration must be signed."), "safety_not_declared", "safety_declared")
    if not requests:
        raise _invalid(_("Ask for shifts on at least one beamline."), "no_requests", "requests")
    seen: set[int] = set()
    for line, shifts in requests:
        if line.round_id != round_.pk:
            raise _invalid(_("Beamline %(beamline)s is not offered in this round.") % {
                "beamline": line.instrument.code}, "unknown_beamline", "requests")
        if line.pk in seen:
            raise _invalid(_("Beamline %(beamline)s is listed twice.") % {"beamline": line.instrument.code},
                           "duplicate_beamline", "requests")
        seen.add(line.pk)
        if not isinstance(shifts, int) or isinstance(shifts, bool) or shifts < 1 or shifts > engine.MAX_SHIFTS:
            raise _invalid(_("Shifts on %(beamline)s must be a whole number from 1 to %(maximum)s.") % {
                "beamline": line.instrument.code, "maximum": engine.MAX_SHIFTS}, "bad_shifts", "requests")
    fields = ("title", "abstract", "keywords", "samples", "hazards", "safety_declared", "priority", "applicant")
    proposal = BeamtimeProposal(round=round_, organisation=organisation, submitted_by=actor,
                                reference=_next_reference(round_), **{k: data[k] for k in fields if k in data})
    proposal.full_clean()
    proposal.save()
    proposal.team.set(list(team))
    for line, shifts in requests:
        item = ShiftRequest(proposal=proposal, beamline=line, shifts_requested=shifts)
        item.full_clean()
        item.save()
    changes = diff({}, snapshot(proposal, PROPOSAL_FIELDS))
    changes["requests"] = [None, {line.instrument.code: shifts for line, shifts in requests}]
    changes["team"] = [None, sorted(p.pk for p in team)]
    audit_record(action=AuditAction.CREATE, actor=actor, obj=proposal, acting_organisation=organisation,
                 changes=changes)
    return proposal


@transaction.atomic
def feasibility_assess(*, actor: User | None, shift_request: ShiftRequest, verdict: str, shifts_granted: int | None = None,
                       note: str = "") -> ShiftRequest:
    """技术评审: the beamline scientist's verdict. Feasible grants the shifts asked; partly grants
    ``shifts_granted`` (1 to the shifts asked − 1 … asked); not feasible grants none."""
    item = ShiftRequest.objects.select_for_update().select_related(
        "proposal__round__facility", "beamline__instrument").get(pk=shift_request.pk)
    permissions.require(rules.can_assess(actor, item))
    if item.proposal.round.state not in (RoundState.OPEN, RoundState.REVIEW):
        raise _invalid(_("Feasibility is assessed before the shifts are allocated."), "round_allocated")
    if verdict not in (Feasibility.FEASIBLE, Feasibility.PARTLY, Feasibility.NOT_FEASIBLE):
        raise _invalid(_("Choose feasible, partly feasible or not feasible."), "bad_verdict", "feasibility")
    if verdict == Feasibility.FEASIBLE:
        granted = item.shifts_requested
    elif verdict == Feasibility.NOT_FEASIBLE:
        granted = 0
    else:
        if not isinstance(shifts_granted, int) or isinstance(shifts_granted, bool) or not (
                1 <= shifts_granted <= item.shifts_requested):
            raise _invalid(_("Partly feasible grants from 1 to the %(requested)s shifts requested.") % {
                "requested": item.shifts_requested}, "bad_granted", "shifts_granted")
        granted = shifts_granted
    old = snapshot(item, ["feasibility", "shifts_granted", "feasibility_note"])
    item.feasibility, item.shifts_granted, item.feasibility_note, item.assessed_by = verdict, granted, note, actor
    item.full_clean()
    item.save()
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=item, object_repr=str(item),
                 changes=diff(old, snapshot(item, ["feasibility", "shifts_granted", "feasibility_note"])))
    return item


# --------------------------------------------------------------------------------------------
# Scientific review: optimal conflict-free assignment, as for funding calls


def _conflict_facts(round_: BeamtimeRound, expert_ids: list[int], proposals: Sequence[BeamtimeProposal],
                    today: dt.date):
    """The funding calls' conflict facts for the experts, with the proposals as the 'applications'."""
    from sciencecity.programmes.services import experts as programme_experts

    facts = programme_experts.conflict_facts(call=round_, expert_ids=expert_ids, applications=[], today=today)
    groups = programme_experts.organisation_groups()
    since = programme_experts._since(today, facts.years)
    alliances = programme_experts._alliances(since, today) if round_.alliance_conflicts else {}
    members = {}
    for proposal_id, person_id in BeamtimeProposal.team.through.objects.filter(
            beamtimeproposal_id__in=[p.pk for p in proposals]).values_list("beamtimeproposal_id", "person_id"):
        members.setdefault(proposal_id, set()).add(person_id)
    for proposal in proposals:
        people = set(members.get(proposal.pk, set()))
        if proposal.applicant_id:
            people.add(proposal.applicant_id)
        group = groups.get(proposal.organisation_id, proposal.organisation_id)
        found: set[int] = set()
        for pk, g in groups.items():
            if g == group:
                found |= alliances.get(pk, set())
        facts.applications[proposal.pk] = conflict_rules.ApplicationFacts(
            application_id=proposal.pk, organisation_ids={group}, people=people, alliances=found)
    return facts


@transaction.atomic
def reviewers_assign(*, actor: User | None, round_: BeamtimeRound, today: dt.date | None = None) -> int:
    """Close the round to proposals and assign ``reviews_per_proposal`` experts to every proposal: the
    largest total text affinity, no conflict of interest, at most ``max_load`` each. The reviews are
    released to the experts at once; returns how many were created."""
    from sciencecity.programmes.services import experts as programme_experts

    round_ = BeamtimeRound.objects.select_for_update().get(pk=round_.pk)
    permissions.require(rules.can_manage_round(actor, round_))
    if round_.state not in (RoundState.OPEN, RoundState.REVIEW):
        raise _invalid(_("Reviewers are assigned before the shifts are allocated."), "round_allocated")
    today = today or timezone.localdate()
    proposals = list(round_.proposals.filter(state=ProposalState.SUBMITTED).order_by("reference"))
    if not proposals:
        raise _invalid(_("The round has no proposal to review."), "no_proposals")
    pool = programme_experts.expert_pool()
    if not pool:
        raise _invalid(_("The expert pool is empty: add experts to the registry."), "no_experts")
    expert_ids = [p.person_id for p in pool]
    existing = set(BeamtimeReview.objects.filter(proposal__in=proposals).values_list("proposal_id", "expert_id"))
    facts = _conflict_facts(round_, expert_ids, proposals, today)
    index_p = {p.pk: i for i, p in enumerate(proposals)}
    index_e = {pk: j for j, pk in enumerate(expert_ids)}
    forbidden = {(index_p[a], index_e[e]) for e, a in facts.matrix() if a in index_p and e in index_e}
    forced = {(index_p[a], index_e[e]) for a, e in existing if a in index_p and e in index_e}
    forbidden -= forced
    table = programme_experts.affinity_table(proposals, expert_ids)
    subs, exps, scores = [], [], []
    for i in range(len(proposals)):
        # Each proposal's best eligible experts (a sparse table, as for funding calls), plus its forced pairs.
        row = table.scores[i]
        allowed = [j for j in np.argsort(-row, kind="stable").tolist() if (i, j) not in forbidden][:TOP_EXPERTS]
        allowed += [j for (fi, j) in forced if fi == i and j not in allowed]
        subs += [i] * len(allowed)
        exps += allowed
        scores += row[allowed].tolist()
    problem = AssignmentProblem(
        submission_ids=[str(p.pk) for p in proposals], expert_ids=[str(pk) for pk in expert_ids],
        edge_submission=np.asarray(subs, dtype=np.int64), edge_expert=np.asarray(exps, dtype=np.int64),
        edge_score=np.asarray(scores, dtype=float), per_submission=round_.reviews_per_proposal,
        max_load=round_.max_load, forbidden_pairs=np.asarray(sorted(forbidden), dtype=np.int64).reshape(-1, 2),
        forced_pairs=np.asarray(sorted(forced), dtype=np.int64).reshape(-1, 2))
    try:
        result = solve_assignment(problem)
    except AssignmentInfeasible as exc:
        from sciencecity.programmes.services.assignment import issue_message

        references = {str(p.pk): p.reference for p in proposals}
        names = {str(p.person_id): p.person.name for p in pool}
        raise _invalid(" ".join(issue_message(issue, references, names) for issue in exc.issues),
                       "assignment_infeasible") from None
    created = 0
    for sid, eid, score in result.pairs():
        proposal_id, expert_id = int(sid), int(eid)
        if (proposal_id, expert_id) in existing:
            continue
        terms = table.shared_terms(proposal_id, expert_id)
        review = BeamtimeReview.objects.create(
            proposal_id=proposal_id, expert_id=expert_id, affinity=round(score, 6), state=ReviewState.RELEASED,
            reasons=[{"code": "shared_terms", "terms": terms}, {"code": "no_conflict"}])
        audit_record(action=AuditAction.CREATE, actor=actor, obj=review,
                     object_repr=f"{proposals[index_p[proposal_id]].reference} / {expert_id}",
                     changes={"expert": [None, expert_id], "state": [None, ReviewState.RELEASED]})
        created += 1
    if round_.state == RoundState.OPEN:
        _transition(actor, round_, RoundState.REVIEW)
    return created


def excluded_experts(round_: BeamtimeRound, proposal: BeamtimeProposal,
                     today: dt.date | None = None) -> list[tuple[Any, list[str]]]:
    """The pool experts excluded from ``proposal`` with the rules that exclude them (in words)."""
    from sciencecity.programmes.services import experts as programme_experts

    pool = {p.person_id: p.person for p in programme_experts.expert_pool()}
    facts = _conflict_facts(round_, list(pool), [proposal], today or timezone.localdate())
    people = {pk: person.name for pk, person in pool.items()}
    found = []
    for (expert_id, _proposal_id), conflicts in sorted(facts.matrix().items()):
        found.append((pool[expert_id], [programme_experts.conflict_text(c, facts, people) for c in conflicts]))
    return found


def _score(value: Any) -> Decimal:
    try:
        score = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(_("The score must be a number from 1 to 5."), "bad_score", "score") from None
    if not score.is_finite() or score < 1 or score > 5 or score != score.quantize(Decimal("0.1")):
        raise _invalid(_("The score must be a number from 1 to 5 with at most one decimal."), "bad_score", "score")
    return score


@transaction.atomic
def review_submit(*, actor: User | None, review: BeamtimeReview, score: Any, comment: str) -> BeamtimeReview:
    """The expert's score (1–5, 5 best) and comment; may be changed until the shifts are allocated."""
    review = BeamtimeReview.objects.select_for_update().select_related("proposal__round").get(pk=review.pk)
    permissions.require(rules.can_review(actor, review))
    if review.proposal.round.state != RoundState.REVIEW:
        raise _invalid(_("Reviews are written while the round is under review."), "round_not_in_review")
    if not (comment or "").strip():
        raise _invalid(_("Write a comment for the applicants."), "comment_required", "comment")
    old = snapshot(review, ["score", "comment", "state"])
    review.score, review.comment = _score(score), comment.strip()
    review.state, review.submitted_at = ReviewState.SUBMITTED, timezone.now()
    review.full_clean()
    review.save()
    audit_record(action=AuditAction.UPDATE if old["state"] == ReviewState.SUBMITTED else AuditAction.CREATE,
                 actor=actor, obj=review, object_repr=review.proposal.reference,
                 changes=diff(old, snapshot(review, ["score", "comment", "state"])))
    return review


# --------------------------------------------------------------------------------------------
# Ranking and allocation


@dataclass
class RankingRow:
    rank: int | None
    proposal: BeamtimeProposal
    score: float | None
    reviews: int
    granted: dict[str, int]


def ranking(round_: BeamtimeRound) -> list[RankingRow]:
    """Proposals by mean review score (best first; ties by reference), with the shifts granted per beamline."""
    proposals = list(round_.proposals.filter(state__in=ACTIVE_PROPOSAL_STATES)
                     .prefetch_related("requests__beamline__instrument", "reviews").order_by("reference"))
    rows = []
    for proposal in proposals:
        scores = [float(r.score) for r in proposal.reviews.all() if r.state == ReviewState.SUBMITTED]
        mean = round(sum(scores) / len(scores), 3) if scores else None
        granted = {r.beamline.instrument.code: (r.shifts_granted or 0) for r in proposal.requests.all()}
        rows.append(RankingRow(None, proposal, mean, len(scores), granted))
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.proposal.reference))
    for i, row in enumerate(rows, 1):
        if row.score is not None:
            row.rank = i
    return rows


def allocation_blockers(round_: BeamtimeRound) -> list[str]:
    """What must happen before the shifts can be allocated (empty when ready)."""
    problems = []
    pending = (ShiftRequest.objects.filter(proposal__round=round_, proposal__state__in=ACTIVE_PROPOSAL_STATES,
                                           feasibility=Feasibility.PENDING)
               .values_list("proposal__reference", "beamline__instrument__code").order_by("proposal__reference"))
    if pending:
        shown = ", ".join(f"{ref} ({code})" for ref, code in pending[:10])
        problems.append(_("Feasibility not yet assessed: %(items)s.") % {"items": shown})
    unscored = [row.proposal.reference for row in ranking(round_) if row.score is None]
    if unscored:
        problems.append(_("No submitted review yet: %(items)s.") % {"items": ", ".join(unscored[:10])})
    if not round_.beamlines.exists():
        problems.append(_("The round has no beamline."))
    return problems


def allocation_problem(round_: BeamtimeRound) -> tuple[engine.AllocationProblem, dict[str, RankingRow]]:
    rows = ranking(round_)
    lines = [engine.Beamline(line.instrument.code, line.shifts, line.reserved_shifts)
             for line in round_.beamlines.select_related("instrument")]
    proposals = []
    for row in rows:
        requests = tuple(engine.Request(code, shifts) for code, shifts in sorted(row.granted.items()) if shifts > 0)
        if row.score is None or not requests:
            continue
        proposals.append(engine.Proposal(code=row.proposal.reference, score=row.score, requests=requests,
                                         priority=row.proposal.priority))
    return (engine.AllocationProblem(proposals=tuple(proposals), beamlines=tuple(lines)),
            {row.proposal.reference: row for row in rows})


def allocation_enqueue(*, actor: User | None, round_: BeamtimeRound, policy: str) -> Any:
    """Check the round is ready and queue the allocation job (it runs inline in tests)."""
    round_ = BeamtimeRound.objects.select_related("facility").get(pk=round_.pk)
    permissions.require(rules.can_manage_round(actor, round_))
    if policy not in AllocationPolicy.values:
        raise _invalid(_("Choose the optimal or the greedy-by-rank policy."), "bad_policy", "policy")
    if round_.state not in (RoundState.REVIEW, RoundState.ALLOCATED):
        raise _invalid(_("Shifts are allocated once the proposals have been reviewed."), "round_not_in_review")
    blockers = allocation_blockers(round_)
    if blockers:
        raise _invalid(" ".join(blockers), "not_ready")
    return jobs.job_enqueue(kind=ALLOCATE_KIND, params={"round": round_.pk, "policy": policy}, actor=actor, total=3,
                            message=_("Waiting for a worker"))


def _busy(instrument_ids: set[int], start: dt.datetime) -> dict[int, list[tuple]]:
    """Per beamline instrument, the periods already taken from ``start`` on: slot-holding bookings (ordinary
    ones and other rounds' allocated shifts) and blackout periods."""
    busy: dict[int, list[tuple]] = {pk: [] for pk in instrument_ids}
    for pk, s, e in (Booking.objects.filter(instrument_id__in=instrument_ids, state__in=SLOT_HOLDING_STATES,
                                            ends_at__gt=start)
                     .values_list("instrument_id", "starts_at", "ends_at")):
        busy[pk].append((s, e))
    for pk, s, e in Blackout.objects.filter(instrument_id__in=instrument_ids, ends_at__gt=start).values_list(
            "instrument_id", "starts_at", "ends_at"):
        busy[pk].append((s, e))
    for periods in busy.values():
        periods.sort()
    return busy


def _first_free_shift(busy: list[tuple], start: dt.datetime, first: int, shifts: int) -> int:
    """The first shift number from ``first`` on where ``shifts`` consecutive shifts overlap no busy period."""
    length = dt.timedelta(hours=SHIFT_HOURS)
    while True:
        begin, end = start + length * first, start + length * (first + shifts)
        clash = next((b for b in busy if b[0] < end and b[1] > begin), None)
        if clash is None:
            return first
        first = max(first + 1, math.ceil((clash[1] - start) / length))


def _schedule(round_: BeamtimeRound, allocated: list[ShiftRequest], order: dict[str, int]) -> None:
    """Pack each beamline's allocated shifts back to back from the schedule's first day, best rank first,
    around what is taken already (bookings, other rounds' shifts, blackouts): no double use of a beamline."""
    start = timezone.make_aware(dt.datetime.combine(round_.schedule_starts_on, dt.time(0, 0)))
    busy = _busy({r.beamline.instrument_id for r in allocated}, start)
    offset: dict[int, int] = {}
    for item in sorted(allocated, key=lambda r: (r.beamline_id, order.get(r.proposal.reference, math.inf),
                                                 r.proposal.reference)):
        first = _first_free_shift(busy[item.beamline.instrument_id], start, offset.get(item.beamline_id, 0),
                                  item.shifts_allocated)
        item.starts_at = start + dt.timedelta(hours=SHIFT_HOURS * first)
        item.ends_at = start + dt.timedelta(hours=SHIFT_HOURS * (first + item.shifts_allocated))
        offset[item.beamline_id] = first + item.shifts_allocated


def _book_shifts(actor: Any, allocated: list[ShiftRequest]) -> list[Booking]:
    """The allocated shifts as bookings in state ``beamtime`` on their beamline's calendar: they hold the slot
    (ordinary bookings are refused there; on PostgreSQL the exclusion constraint ``booking_no_overlap`` also
    refuses a booking made concurrently, and then the allocation stops and can be run again)."""
    made = [Booking(instrument=item.beamline.instrument, user=item.proposal.submitted_by or actor,
                    organisation=item.proposal.organisation, starts_at=item.starts_at, ends_at=item.ends_at,
                    state=BookingState.BEAMTIME, shift_request=item, is_synthetic=item.proposal.is_synthetic,
                    user_class=user_class_for(item.beamline.instrument, item.proposal.organisation),
                    purpose=f"{item.proposal.reference} {item.proposal.title}"[:300])
            for item in allocated]
    try:
        with transaction.atomic():
            Booking.objects.bulk_create(made)
    except IntegrityError as exc:
        if "booking_no_overlap" not in str(exc):
            raise
        raise _invalid(_("A booking was made on a beamline while the shifts were being allocated; "
                         "run the allocation again."), "booking_conflict") from exc
    return made


@transaction.atomic
def allocation_run(*, actor: User | None, round_: BeamtimeRound, policy: str,
                   progress: Any = None) -> engine.AllocationResult:
    """Allocate the round's shifts with ``engines.beamtime`` and store them with their schedule.

    Each ranked proposal asks for the shifts granted by feasibility; it gets them all or none. The
    summary (totals of both policies, HiGHS's gap, seconds) is kept on the round and audited."""
    round_ = BeamtimeRound.objects.select_for_update().select_related("facility").get(pk=round_.pk)
    permissions.require(rules.can_manage_round(actor, round_))
    return _allocate(actor=actor, round_=round_, policy=policy, progress=progress)


def _allocate(*, actor: User | None, round_: BeamtimeRound, policy: str, progress: Any = None) -> engine.AllocationResult:
    """The allocation itself (the caller holds the round's row lock and has checked the permission)."""
    blockers = allocation_blockers(round_)
    if round_.state not in (RoundState.REVIEW, RoundState.ALLOCATED) or blockers:
        raise _invalid(" ".join(blockers) or _("Shifts are allocated once the proposals have been reviewed."),
                       "not_ready")
    problem, rows = allocation_problem(round_)
    if progress:
        progress(1, 3, _("Solving"))
    comparison = engine.compare(problem)
    result = comparison.optimal if policy == AllocationPolicy.OPTIMAL else comparison.rank
    if progress:
        progress(2, 3, _("Storing the schedule"))
    shifts = {(a.proposal, a.beamline): a.shifts for a in result.allocations}
    accepted = set(result.accepted)
    requests = list(ShiftRequest.objects.filter(proposal__round=round_, proposal__state__in=ACTIVE_PROPOSAL_STATES)
                    .select_related("proposal", "beamline__instrument"))
    for item in requests:
        item.shifts_allocated = shifts.get((item.proposal.reference, item.beamline.instrument.code), 0)
        item.starts_at = item.ends_at = None
    order = {ref: row.rank for ref, row in rows.items() if row.rank is not None}
    Booking.objects.filter(shift_request__proposal__round=round_).delete()  # a re-run replaces its shifts
    allocated = [r for r in requests if r.shifts_allocated]
    _schedule(round_, allocated, order)
    ShiftRequest.objects.bulk_update(requests, ["shifts_allocated", "starts_at", "ends_at", "updated_at"])
    calendar = _book_shifts(actor, allocated)
    for ref, row in rows.items():
        proposal = row.proposal
        state = ProposalState.ALLOCATED if ref in accepted else ProposalState.NOT_ALLOCATED
        if proposal.state == ProposalState.REPORTED:
            continue
        changed = {"score": [proposal.score, row.score], "rank": [proposal.rank, row.rank],
                   "state": [proposal.state, state]}
        proposal.score, proposal.rank, proposal.state = row.score, row.rank, state
        proposal.save(update_fields=["score", "rank", "state", "updated_at"])
        audit_record(action=AuditAction.TRANSITION, actor=actor, obj=proposal,
                     changes={k: v for k, v in changed.items() if v[0] != v[1]})
    summary = {
        "policy": policy, "total_score": round(result.total_score, 3), "accepted": len(result.accepted),
        "proposals": len(problem.proposals), "shifts": sum(a.shifts for a in result.allocations),
        "optimal_total": round(comparison.optimal.total_score, 3), "rank_total": round(comparison.rank.total_score, 3),
        "rank_gap": round(comparison.rank_gap, 6), "mip_gap": comparison.optimal.gap,
        "bound": None if comparison.optimal.bound is None else round(comparison.optimal.bound, 3),
        "status": comparison.optimal.status, "seconds": round(comparison.optimal.seconds, 3),
        "used": dict(result.used), "calendar_bookings": len(calendar), "allocated_at": timezone.now().isoformat(timespec="seconds"),
    }
    old_state, old_summary = round_.state, round_.allocation
    round_.allocation, round_.policy, round_.state = summary, policy, RoundState.ALLOCATED
    round_.save(update_fields=["allocation", "policy", "state", "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=round_,
                 changes={"state": [old_state, round_.state], "allocation": [old_summary or None, summary]})
    return result


class AllocationFailed(Exception):
    """The allocation job stopped; the message says what to change."""


def _run_allocation_job(job: Any, context: jobs.JobContext) -> dict[str, Any]:
    round_ = BeamtimeRound.objects.get(pk=job.params["round"])
    try:
        allocation_run(actor=job.created_by, round_=round_, policy=job.params["policy"], progress=context.progress)
    except ValidationError as exc:  # the job's message says what to change, in words
        raise AllocationFailed(" ".join(exc.messages)) from None
    round_.refresh_from_db()
    context.job.message = _("Allocated %(shifts)s shifts to %(accepted)s proposals; total score %(total)s.") % {
        "shifts": round_.allocation["shifts"], "accepted": round_.allocation["accepted"],
        "total": round_.allocation["total_score"]}
    return {"round": round_.code, "url": f"/facilities/beamtime/{round_.code}/", **round_.allocation}


def register_jobs() -> None:
    jobs.register(ALLOCATE_KIND, _run_allocation_job, gettext_lazy("Facility time: allocate shifts"))


# --------------------------------------------------------------------------------------------
# Experiment reports


@transaction.atomic
def report_submit(*, actor: User | None, proposal: BeamtimeProposal, data: dict[str, Any]) -> ExperimentReport:
    """实验报告: the team reports its experiment after its shifts (one report, may be updated)."""
    proposal = BeamtimeProposal.objects.select_for_update().get(pk=proposal.pk)
    permissions.require(rules.can_report(actor, proposal))
    fields = ["summary", "results", "publications", "shifts_used"]
    report = ExperimentReport.objects.filter(proposal=proposal).first()
    old = snapshot(report, fields) if report else {}
    report = report or ExperimentReport(proposal=proposal)
    for name in fields:
        if name in data:
            setattr(report, name, data[name])
    report.submitted_by = actor
    allocated = sum(proposal.requests.values_list("shifts_allocated", flat=True))
    if isinstance(report.shifts_used, int) and report.shifts_used > allocated:
        raise _invalid(_("Shifts used (%(used)s) cannot exceed the %(allocated)s shifts allocated.") % {
            "used": report.shifts_used, "allocated": allocated}, "used_above_allocated", "shifts_used")
    report.full_clean()
    report.save()
    if proposal.state != ProposalState.REPORTED:
        proposal.state = ProposalState.REPORTED
        proposal.save(update_fields=["state", "updated_at"])
    audit_record(action=AuditAction.UPDATE if old else AuditAction.CREATE, actor=actor, obj=report,
                 object_repr=proposal.reference, acting_organisation=proposal.organisation,
                 changes=diff(old, snapshot(report, fields)))
    return report
