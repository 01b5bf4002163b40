"""Facility time round from proposal to allocated shifts, through the services (hand-computed allocation)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sciencecity.core.models import AuditEvent
from sciencecity.facilities.beamtime import services
from sciencecity.facilities.beamtime.models import BeamtimeProposal, BeamtimeReview, ShiftRequest
from tests.facilities.beamtime_world import make_beamtime_world, submit


@pytest.fixture
def world(db):
    return make_beamtime_world()



def review_all(world, scores):
    """Every released review of proposal reference → score."""
    for review in BeamtimeReview.objects.select_related("proposal"):
        expert = next(u for u in world.experts if u.person_id == review.expert_id)
        services.review_submit(actor=expert, review=review, score=scores[review.proposal.reference],
                               comment="实验方案清晰")


def assess(world, proposal, line, verdict, granted=None):
    item = ShiftRequest.objects.get(proposal=proposal, beamline=line)
    scientist = world.scientist1 if line == world.line01 else world.scientist2
    return services.feasibility_assess(actor=scientist, shift_request=item, verdict=verdict, shifts_granted=granted)


@pytest.fixture
def reviewed(world):
    """Four proposals, feasibility done, reviewers assigned and reviews in.

    BL01 has 10 shifts, BL02 4. A (4.5) asks BL01 6; B (4.0) BL01 5; C (3.5) BL01 5; D (3.0) asks BL02 6,
    partly feasible with 4 granted, and BL01 2 not feasible (so D runs on BL02 only)."""
    a = submit(world, 0, "A 催化剂原位衍射", {world.line01: 6})
    b = submit(world, 1, "B 电池材料结构", {world.line01: 5})
    c = submit(world, 2, "C 合金相变", {world.line01: 5})
    d = submit(world, 0, "D 软X射线谱学", {world.line02: 6, world.line01: 2})
    for p in (a, b, c):
        assess(world, p, world.line01, "feasible")
    assess(world, d, world.line02, "partly", 4)
    assess(world, d, world.line01, "not")
    assert services.reviewers_assign(actor=world.manager, round_=world.round) == 8
    review_all(world, {a.reference: "4.5", b.reference: "4.0", c.reference: "3.5", d.reference: "3.0"})
    return a, b, c, d


def test_optimal_allocation_beats_greedy_and_builds_the_schedule(world, reviewed):
    a, b, c, d = reviewed
    job = services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    assert job.state == "done", job.message
    world.round.refresh_from_db()
    # Greedy by rank: A (4.5, 6 shifts) then B and C no longer fit in BL01's 10; D fits BL02: 7.5.
    # Optimal: B + C fill BL01 (5 + 5), D on BL02: 4.0 + 3.5 + 3.0 = 10.5.
    summary = world.round.allocation
    assert (summary["total_score"], summary["optimal_total"], summary["rank_total"]) == (10.5, 10.5, 7.5)
    assert summary["rank_gap"] == pytest.approx(3 / 10.5, abs=1e-6)
    assert summary["mip_gap"] == 0.0 and summary["accepted"] == 3 and summary["shifts"] == 14
    assert summary["used"] == {"BL01": 10, "BL02": 4}
    assert world.round.state == "allocated"
    states = dict(BeamtimeProposal.objects.values_list("reference", "state"))
    assert states == {a.reference: "not_allocated", b.reference: "allocated", c.reference: "allocated",
                      d.reference: "allocated"}
    ranks = dict(BeamtimeProposal.objects.values_list("reference", "rank"))
    assert ranks == {a.reference: 1, b.reference: 2, c.reference: 3, d.reference: 4}
    # Schedule: BL01 from 2027-03-01 00:00, B (rank 2) 5 shifts of 8 h, then C; D on BL02 4 shifts.
    start = timezone.make_aware(dt.datetime(2027, 3, 1))
    slots = {(r.proposal.reference, r.beamline.instrument.code): (r.shifts_allocated, r.starts_at, r.ends_at)
             for r in ShiftRequest.objects.select_related("proposal", "beamline__instrument")}
    assert slots[b.reference, "BL01"] == (5, start, start + dt.timedelta(hours=40))
    assert slots[c.reference, "BL01"] == (5, start + dt.timedelta(hours=40), start + dt.timedelta(hours=80))
    assert slots[d.reference, "BL02"] == (4, start, start + dt.timedelta(hours=32))
    assert slots[d.reference, "BL01"] == (0, None, None)
    assert slots[a.reference, "BL01"] == (0, None, None)
    round_events = AuditEvent.objects.filter(object_type="facilities.beamtimeround", action="transition")
    assert round_events.filter(changes__state=["review", "allocated"]).count() == 1


def test_rank_policy_takes_the_best_first(world, reviewed):
    a, b, c, d = reviewed
    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="rank")
    world.round.refresh_from_db()
    assert world.round.allocation["total_score"] == 7.5
    assert set(BeamtimeProposal.objects.filter(state="allocated").values_list("reference", flat=True)) == {
        a.reference, d.reference}


def test_reviewers_respect_conflicts_and_loads(world, reviewed):
    a, b, c, d = reviewed
    conflicted = world.experts[0].person_id  # affiliated with the organisation of A and D
    assert not BeamtimeReview.objects.filter(expert_id=conflicted, proposal__in=[a, d]).exists()
    assert sorted(BeamtimeReview.objects.filter(proposal=a).values_list("expert_id", flat=True)) == sorted(
        [world.experts[1].person_id, world.experts[2].person_id])
    for expert in world.experts:
        assert BeamtimeReview.objects.filter(expert_id=expert.person_id).count() <= 4
    excluded = services.excluded_experts(world.round, a)
    assert [(p.pk, len(texts)) for p, texts in excluded] == [(conflicted, 1)]


def test_priority_shifts_are_kept_for_industry_rapid_access(world):
    # BL01: 10 shifts, 4 reserved. G (4.0, 8 shifts) cannot use the reserve: 6 left for it. R (priority, 2.0,
    # 4 shifts) can. Optimal and greedy: R alone is allocated first? G does not fit the 6 general shifts, so
    # only R: total 2.0.
    services.round_beamline_set(actor=world.manager, round_=world.round, instrument=world.bl01, shifts=10,
                                reserved_shifts=4)
    g = submit(world, 1, "G 常规申请", {world.line01: 8})
    r = submit(world, 2, "R 企业快速通道", {world.line01: 4}, priority=True)
    for p in (g, r):
        assess(world, p, world.line01, "feasible")
    services.reviewers_assign(actor=world.manager, round_=world.round)
    review_all(world, {g.reference: "4.0", r.reference: "2.0"})
    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    assert list(BeamtimeProposal.objects.filter(state="allocated").values_list("reference", flat=True)) == [
        r.reference]


def test_allocation_waits_for_feasibility_and_reviews(world):
    p = submit(world, 1, "未评审", {world.line01: 3})
    services.reviewers_assign(actor=world.manager, round_=world.round)
    with pytest.raises(ValidationError) as caught:
        services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    text = " ".join(caught.value.messages)
    assert f"{p.reference} (BL01)" in text and "尚无已提交的评审" in text  # zh-Hans, the default language
    assert world.round.allocation == {}


def test_bad_input_is_refused_and_nothing_is_written(world):
    before = (BeamtimeProposal.objects.count(), ShiftRequest.objects.count(), AuditEvent.objects.count())
    bad = [
        ({world.line01: 0}, {}, "bad_shifts"),
        ({world.line01: -2}, {}, "bad_shifts"),
        ({}, {}, "no_requests"),
        ({world.line01: 2}, {"safety_declared": False}, "safety_not_declared"),
    ]
    for requests, extra, code in bad:
        with pytest.raises(ValidationError) as caught:
            submit(world, 0, "坏申请", requests, **extra)
        assert code in str(caught.value.error_dict if hasattr(caught.value, "error_dict") else caught.value.code) or \
            any(e.code == code for errors in caught.value.error_dict.values() for e in errors)
    with pytest.raises(ValidationError):
        services.round_beamline_set(actor=world.manager, round_=world.round, instrument=world.bl02, shifts=3,
                                    reserved_shifts=4)
    assert (BeamtimeProposal.objects.count(), ShiftRequest.objects.count(), AuditEvent.objects.count()) == before


def test_feasibility_partly_needs_a_granted_count_within_the_request(world):
    p = submit(world, 0, "部分可行", {world.line01: 5})
    with pytest.raises(ValidationError):
        assess(world, p, world.line01, "partly", 6)
    with pytest.raises(ValidationError):
        assess(world, p, world.line01, "partly", None)
    assert assess(world, p, world.line01, "partly", 3).shifts_granted == 3


def test_only_the_beamline_scientist_or_a_manager_assesses(world):
    p = submit(world, 0, "权限", {world.line01: 5})
    item = ShiftRequest.objects.get(proposal=p)
    with pytest.raises(PermissionDenied):  # scientist of the other beamline is a facility manager too …
        services.feasibility_assess(actor=world.applicants[0], shift_request=item, verdict="feasible")
    assert services.feasibility_assess(actor=world.scientist1, shift_request=item, verdict="feasible").shifts_granted == 5


def test_experiment_report_after_allocation(world, reviewed):
    a, b, c, d = reviewed
    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    with pytest.raises(PermissionDenied):  # A got no shifts
        services.report_submit(actor=world.applicants[0], proposal=a, data={"summary": "x", "shifts_used": 1})
    with pytest.raises(ValidationError):
        services.report_submit(actor=world.applicants[1], proposal=b, data={"summary": "完成", "shifts_used": 6})
    report = services.report_submit(actor=world.applicants[1], proposal=b, data={"summary": "完成", "shifts_used": 5})
    b.refresh_from_db()
    assert (report.shifts_used, b.state) == (5, "reported")
    assert AuditEvent.objects.filter(object_type="facilities.experimentreport", action="create").count() == 1


def _monday_ahead(days: int) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=days)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def test_allocated_shifts_and_bookings_never_share_a_beamline(world, reviewed):
    """Allocated shifts are scheduled around ordinary bookings, then hold their slots on the beamline's
    calendar: a booking into them is refused naming the slot; a re-run replaces them, never doubles them."""
    from sciencecity.facilities.models import Booking
    from sciencecity.facilities.services.bookings import BookingConflict, booking_create
    from tests.conftest import make_user

    a, b, c, d = reviewed
    monday = _monday_ahead(60)
    type(world.round).objects.filter(pk=world.round.pk).update(schedule_starts_on=monday)
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time(0, 0)))
    hours = dt.timedelta(hours=1)
    user = make_user("enterprise_user", world.orgs[2], username="beamline_booker")
    ordinary = booking_create(actor=user, instrument=world.bl01, starts_at=start + 10 * hours,
                              ends_at=start + 12 * hours)

    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    # B (rank 2, 5 shifts) would start at 00:00 but the booking holds 10:00–12:00: B takes the next free whole
    # shift, 16:00, for 40 hours; C follows; D on BL02 is untouched.
    slots = {(r.proposal.reference, r.beamline.instrument.code): (r.starts_at, r.ends_at)
             for r in ShiftRequest.objects.filter(shifts_allocated__gt=0).select_related("proposal",
                                                                                         "beamline__instrument")}
    assert slots == {(b.reference, "BL01"): (start + 16 * hours, start + 56 * hours),
                     (c.reference, "BL01"): (start + 56 * hours, start + 96 * hours),
                     (d.reference, "BL02"): (start, start + 32 * hours)}
    calendar = {(x.instrument.code, x.starts_at, x.ends_at, x.state, x.organisation_id)
                for x in Booking.objects.select_related("instrument")}
    assert calendar == {("BL01", start + 10 * hours, start + 12 * hours, "confirmed", world.orgs[2].pk),
                        ("BL01", start + 16 * hours, start + 56 * hours, "beamtime", world.orgs[1].pk),
                        ("BL01", start + 56 * hours, start + 96 * hours, "beamtime", world.orgs[2].pk),
                        ("BL02", start, start + 32 * hours, "beamtime", world.orgs[0].pk)}
    world.round.refresh_from_db()
    assert world.round.allocation["calendar_bookings"] == 3

    # An ordinary booking inside B's shifts (day two, 09:00–10:00) is refused, naming B's slot; nothing written.
    before = Booking.objects.count()
    with pytest.raises(BookingConflict) as caught:
        booking_create(actor=user, instrument=world.bl01, starts_at=start + 33 * hours, ends_at=start + 34 * hours)
    held = Booking.objects.get(shift_request__proposal=b)
    assert caught.value.slot()["booking_id"] == held.pk
    assert Booking.objects.count() == before

    # Re-run with the greedy policy: A and D now; the earlier shifts are replaced, not kept beside them.
    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="rank")
    beamtime = Booking.objects.filter(state="beamtime")
    assert sorted(beamtime.values_list("shift_request__proposal__reference", flat=True)) == sorted(
        [a.reference, d.reference])
    assert beamtime.get(shift_request__proposal=a).starts_at == start + 16 * hours  # A: 6 shifts after the booking
    ordinary.refresh_from_db()
    assert ordinary.state == "confirmed"


def test_the_database_refuses_a_booking_over_allocated_shifts(world, reviewed):
    """Beneath the services: on PostgreSQL the exclusion constraint covers allocated shifts too, so even a
    write that skips the service check cannot double-use a beamline (SQLite relies on the service check in its
    serialised write transaction, tested above)."""
    from django.db import IntegrityError, connection, transaction

    from sciencecity.facilities.models import Booking

    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    held = Booking.objects.get(state="beamtime", instrument=world.bl02)
    with pytest.raises(IntegrityError, match="booking_no_overlap"), transaction.atomic():
        Booking.objects.create(instrument=world.bl02, user=world.applicants[1], starts_at=held.starts_at,
                               ends_at=held.starts_at + dt.timedelta(hours=1), state="confirmed")


def test_a_booking_racing_the_allocation_stops_it_whole(world, reviewed):
    """On PostgreSQL, a booking committed between the schedule's read and the shifts' insert makes the
    allocation stop with a message to run it again; nothing of it is written."""
    from django.db import connection

    from sciencecity.facilities.models import Booking

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises the writers: no booking can come in between")
    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    allocated = list(ShiftRequest.objects.filter(shifts_allocated__gt=0).select_related(
        "proposal", "beamline__instrument"))
    Booking.objects.filter(state="beamtime").delete()  # as if the shifts were about to be written …
    first = allocated[0]
    Booking.objects.create(instrument=first.beamline.instrument, user=world.applicants[2],  # … and one slipped in
                           starts_at=first.starts_at, ends_at=first.starts_at + dt.timedelta(hours=1))
    with pytest.raises(ValidationError) as caught:
        services._book_shifts(world.manager, allocated)
    assert caught.value.code == "booking_conflict" and "重新运行分配" in " ".join(caught.value.messages)
    assert not Booking.objects.filter(state="beamtime").exists()


def test_allocated_shifts_count_as_use_of_the_beamline_in_the_openness_figures(world, reviewed):
    """开放共享评价 of a beamline: the shifts allocated to outside organisations are its used and external hours
    (once they have begun); shifts still to come are not counted yet."""
    from sciencecity.facilities import selectors

    a, b, c, d = reviewed
    today = timezone.localdate()
    type(world.round).objects.filter(pk=world.round.pk).update(schedule_starts_on=today - dt.timedelta(days=20))
    services.allocation_enqueue(actor=world.manager, round_=world.round, policy="optimal")
    rows = {r.key: r for r in selectors.openness(since=today - dt.timedelta(days=30),
                                                  until=today + dt.timedelta(days=1))["instruments"]}
    # BL01: B and C, 5 + 5 shifts of 8 h; BL02: D, 4 shifts; all three organisations are outside the facility.
    assert (rows["BL01"].used_hours, rows["BL01"].external_hours, rows["BL01"].revenue) == (80.0, 80.0, 0)
    assert (rows["BL02"].used_hours, rows["BL02"].external_hours) == (32.0, 32.0)
    future = selectors.openness(since=today - dt.timedelta(days=10), until=today + dt.timedelta(days=60))
    assert {r.key: r.used_hours for r in future["instruments"]} == {"BL01": 0.0, "BL02": 0.0}
