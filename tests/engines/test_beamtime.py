"""Facility time allocation engine and its CSV command: hand-computed instances."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sciencecity.engines.beamtime import (
    AllocationProblem,
    Beamline,
    BeamtimeInputError,
    Proposal,
    Request,
    allocate_by_rank,
    allocate_optimal,
    compare,
    main,
)


def proposal(code, score, *requests, priority=False):
    return Proposal(code=code, score=score, requests=tuple(Request(b, s) for b, s in requests), priority=priority)


def test_single_beamline_knapsack_where_greedy_is_suboptimal():
    # A: 10 shifts. Greedy takes P1 (9, 6 shifts) and then neither 5-shift proposal fits: 9.
    # The optimum is P2 + P3 = 8 + 7 = 15, using all 10 shifts; greedy is 6/15 = 40 % below.
    problem = AllocationProblem(
        proposals=(proposal("P1", 9, ("A", 6)), proposal("P2", 8, ("A", 5)), proposal("P3", 7, ("A", 5))),
        beamlines=(Beamline("A", 10),))
    result = compare(problem)
    assert result.optimal.accepted == ("P2", "P3")
    assert result.optimal.total_score == 15
    assert result.optimal.gap == 0.0 and result.optimal.proven_optimal
    assert result.optimal.used == {"A": 10}
    assert result.rank.accepted == ("P1",)
    assert result.rank.total_score == 9
    assert result.rank_gap == pytest.approx(0.4)


def test_multi_beamline_proposals_are_all_or_nothing():
    # P1 (10) needs 3 shifts on A and 3 on B; P2 and P3 (6 each) need 4 on A and on B respectively.
    # Capacity 4 each: P1 blocks both others. Greedy: 10. Optimal: P2 + P3 = 12. Never part of P1.
    problem = AllocationProblem(
        proposals=(proposal("P1", 10, ("A", 3), ("B", 3)), proposal("P2", 6, ("A", 4)), proposal("P3", 6, ("B", 4))),
        beamlines=(Beamline("A", 4), Beamline("B", 4)))
    optimal, rank = allocate_optimal(problem), allocate_by_rank(problem)
    assert [(a.proposal, a.beamline, a.shifts) for a in optimal.allocations] == [("P2", "A", 4), ("P3", "B", 4)]
    assert optimal.total_score == 12 and optimal.rejected == ("P1",)
    assert [(a.proposal, a.beamline, a.shifts) for a in rank.allocations] == [("P1", "A", 3), ("P1", "B", 3)]
    assert rank.total_score == 10 and rank.bound is None


def test_reserved_priority_shifts_only_for_priority_proposals():
    # A: 10 shifts, 4 reserved for priority (industry rapid access). Non-priority proposals share 6.
    # G1 (9, 8 shifts) cannot fit in 6 even alone; G2 (5, 6 shifts) fits; R1 (priority, 3, 4 shifts)
    # uses the reserve. Optimal = greedy = 5 + 3 = 8, all 10 shifts used.
    problem = AllocationProblem(
        proposals=(proposal("G1", 9, ("A", 8)), proposal("G2", 5, ("A", 6)),
                   proposal("R1", 3, ("A", 4), priority=True)),
        beamlines=(Beamline("A", 10, reserved=4),))
    optimal, rank = allocate_optimal(problem), allocate_by_rank(problem)
    assert optimal.accepted == ("G2", "R1") and optimal.total_score == 8
    assert rank.accepted == ("G2", "R1") and rank.total_score == 8


def test_priority_proposals_may_also_use_the_general_pool():
    # A: 10 shifts, 2 reserved. R1 (priority, 7, 7 shifts) takes 2 reserved + 5 general; G1 (4, 3) fits
    # the remaining 3 general shifts: 11. G2 (6, 6) alone would give 6 + nothing else fitting with R1.
    problem = AllocationProblem(
        proposals=(proposal("R1", 7, ("A", 7), priority=True), proposal("G1", 4, ("A", 3)),
                   proposal("G2", 6, ("A", 6))),
        beamlines=(Beamline("A", 10, reserved=2),))
    assert allocate_optimal(problem).accepted == ("R1", "G1")
    assert allocate_optimal(problem).total_score == 11


def test_reserved_shifts_stay_free_without_priority_proposals():
    problem = AllocationProblem(proposals=(proposal("G1", 5, ("A", 9)), proposal("G2", 1, ("A", 1))),
                                beamlines=(Beamline("A", 10, reserved=2),))
    assert allocate_optimal(problem).accepted == ("G2",)
    assert allocate_by_rank(problem).accepted == ("G2",)


def test_empty_round_and_oversized_requests():
    empty = AllocationProblem(proposals=(), beamlines=(Beamline("A", 5),))
    assert allocate_optimal(empty).total_score == 0 and allocate_optimal(empty).gap == 0.0
    too_big = AllocationProblem(proposals=(proposal("P1", 5, ("A", 6)),), beamlines=(Beamline("A", 5),))
    assert allocate_optimal(too_big).accepted == () and allocate_by_rank(too_big).accepted == ()


@pytest.mark.parametrize(("proposals", "beamlines", "message"), [
    ((proposal("P1", 1, ("X", 1)),), (Beamline("A", 5),), "unknown beamline X"),
    ((proposal("P1", 1, ("A", 0)),), (Beamline("A", 5),), "must be a whole number ≥ 1"),
    ((proposal("P1", -1, ("A", 1)),), (Beamline("A", 5),), "the score must be a number ≥ 0"),
    ((proposal("P1", float("nan"), ("A", 1)),), (Beamline("A", 5),), "the score must be a number ≥ 0"),
    ((proposal("P1", 1, ("A", 1)), proposal("P1", 2, ("A", 1))), (Beamline("A", 5),), "listed twice"),
    ((), (Beamline("A", 5, reserved=6),), "0 ≤ reserved ≤ capacity"),
])
def test_bad_problems_are_refused(proposals, beamlines, message):
    with pytest.raises(BeamtimeInputError, match=message):
        AllocationProblem(proposals=proposals, beamlines=beamlines)


# --------------------------------------------------------------------------------------------
# CLI


def run(tmp_path: Path, proposals: str, capacity: str, *extra: str):
    (tmp_path / "P.csv").write_text(proposals, encoding="utf-8")
    (tmp_path / "C.csv").write_text(capacity, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(["allocate", "--proposals", str(tmp_path / "P.csv"), "--capacity", str(tmp_path / "C.csv"),
                 "--out", str(tmp_path / "A.csv"), *extra], out, err)
    return code, out.getvalue(), err.getvalue()


PROPOSALS = "proposal,beamline,shifts,score\nP1,A,3,10\nP1,B,3,10\nP2,A,4,6\nP3,B,4,6\n"
CAPACITY = "beamline,shifts\nA,4\nB,4\n"


def test_cli_optimal_writes_the_allocation_and_prints_total_and_gap(tmp_path):
    code, out, err = run(tmp_path, PROPOSALS, CAPACITY)
    assert (code, err) == (0, "")
    assert (tmp_path / "A.csv").read_text(encoding="utf-8") == "proposal,beamline,shifts\nP2,A,4\nP3,B,4\n"
    assert "total score: 12\n" in out
    assert "optimality gap: 0.0000% (HiGHS bound 12, optimal)" in out
    assert "greedy by rank: 10 (16.6667% below the optimum)" in out


def test_cli_rank_policy(tmp_path):
    code, out, _err = run(tmp_path, PROPOSALS, CAPACITY, "--policy", "rank")
    assert code == 0
    assert (tmp_path / "A.csv").read_text(encoding="utf-8") == "proposal,beamline,shifts\nP1,A,3\nP1,B,3\n"
    assert "total score: 10\n" in out
    assert "optimality gap: 16.6667% below the optimum 12" in out


def test_cli_priority_and_reserved_columns(tmp_path):
    code, _out, _err = run(tmp_path, "proposal,beamline,shifts,score,priority\nG1,A,8,9,0\nR1,A,4,3,1\n",
                           "beamline,shifts,reserved\nA,10,4\n")
    assert code == 0
    assert (tmp_path / "A.csv").read_text(encoding="utf-8") == "proposal,beamline,shifts\nR1,A,4\n"


@pytest.mark.parametrize(("proposals", "capacity", "error"), [
    ("proposal,beamline,shifts,score\nP1,A,3,10\nP2,A,-2,5\n", CAPACITY,
     "P.csv, row 3: shifts must be between 1 and 10950, got -2"),
    ("proposal,beamline,shifts,score\nP1,A,3,10\nP2,Z,2,5\n", CAPACITY,
     "P.csv, row 3: unknown beamline 'Z' (not in the capacity file)"),
    ("proposal,beamline,shifts,score\nP1,A,three,10\n", CAPACITY,
     "P.csv, row 2: shifts must be a whole number, got 'three'"),
    ("proposal,beamline,shifts,score\nP1,A,3,ten\n", CAPACITY, "P.csv, row 2: score must be a number ≥ 0, got 'ten'"),
    ("proposal,beamline,shifts,score\nP1,A,3,10\nP1,B,3,9\n", CAPACITY,
     "P.csv, row 3: proposal P1 has score 9 here but 10 on row 2; a proposal has one score"),
    ("proposal,beamline,shifts,score\nP1,A,3,10\nP1,A,1,10\n", CAPACITY,
     "P.csv, row 3: proposal P1 already asks for A on row 2"),
    ("proposal,beamline,score\nP1,A,10\n", CAPACITY, "P.csv, row 1: missing column(s) shifts"),
    (PROPOSALS, "beamline,shifts\nA,4\nB,-1\n", "C.csv, row 3: shifts must be between 0 and 10950, got -1"),
    (PROPOSALS, "beamline,shifts\nA,4\nA,5\n", "C.csv, row 3: beamline A is already on row 2"),
    (PROPOSALS, "beamline,shifts,reserved\nA,4,5\nB,4,0\n", "C.csv, row 2: reserved 5 is more than the 4 shifts"),
    (PROPOSALS, "", "C.csv: empty file"),
])
def test_cli_bad_files_name_the_file_and_row_and_write_nothing(tmp_path, proposals, capacity, error):
    code, out, err = run(tmp_path, proposals, capacity)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and error in err, err
    assert err.count("\n") == 1
    assert not (tmp_path / "A.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["C.csv", "P.csv"]


def test_cli_failure_keeps_an_existing_output_file(tmp_path):
    (tmp_path / "A.csv").write_text("previous\n", encoding="utf-8")
    code, _out, _err = run(tmp_path, "proposal,beamline,shifts,score\nP1,A,-1,1\n", CAPACITY)
    assert code == 2
    assert (tmp_path / "A.csv").read_text(encoding="utf-8") == "previous\n"


def test_cli_missing_file(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = main(["allocate", "--proposals", str(tmp_path / "none.csv"), "--capacity", str(tmp_path / "none2.csv"),
                 "--out", str(tmp_path / "A.csv")], out, err)
    assert code == 2 and "none2.csv: no such file" in err.getvalue()
