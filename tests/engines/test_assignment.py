"""Reviewer assignment: exact optimum (checked against an independent MILP), every constraint
held, infeasible instances explained, OpenReview CSV/JSON files read and written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from sciencecity.engines import assignment as engine
from sciencecity.engines.assignment import (
    AssignmentCancelled,
    AssignmentInfeasible,
    AssignmentProblem,
    InfeasibilityCode,
    greedy_assignment,
    problem_from_csv,
    read_constraints_csv,
    read_max_loads_csv,
    read_scores_csv,
    solve_assignment,
    write_assignment_json,
)


def reference_optimum(problem: AssignmentProblem) -> float | None:
    """Independent optimum: a MILP over the dense application × expert grid (None when infeasible)."""
    n_sub, n_exp = problem.submission_count, problem.expert_count
    score = np.full((n_sub, n_exp), np.nan)
    for s, e, v in zip(problem.edge_submission, problem.edge_expert, problem.edge_score, strict=True):
        score[s, e] = v if np.isnan(score[s, e]) else max(score[s, e], v)
    lower = np.zeros((n_sub, n_exp))
    for s, e in np.asarray(problem.forced_pairs, dtype=int).reshape(-1, 2):
        lower[s, e] = 1
        if np.isnan(score[s, e]):
            score[s, e] = 0.0
    upper = (~np.isnan(score)).astype(float)
    for s, e in np.asarray(problem.forbidden_pairs, dtype=int).reshape(-1, 2):
        upper[s, e] = 0
    k = np.broadcast_to(np.asarray(problem.per_submission), (n_sub,))
    lo = np.array([problem.min_load_overrides.get(e, problem.min_load) for e in problem.expert_ids])
    hi = np.array([problem.max_load_overrides.get(e, problem.max_load) for e in problem.expert_ids])
    if (lower > upper).any():
        return None
    rows = np.kron(np.eye(n_sub), np.ones(n_exp))  # variable (s, e) is column s * n_exp + e
    cols = np.kron(np.ones(n_sub), np.eye(n_exp))
    constraints = [LinearConstraint(rows, k, k), LinearConstraint(cols, lo, hi)]
    if problem.require_senior:
        senior = np.array([e in set(problem.senior_expert_ids) for e in problem.expert_ids], dtype=float)
        constraints.append(LinearConstraint(rows * np.tile(senior, n_sub), np.where(k >= 1, 1, 0), np.inf))
    result = milp(
        -np.nan_to_num(score).ravel(),
        constraints=constraints,
        bounds=Bounds(lower.ravel(), upper.ravel()),
        integrality=np.ones(n_sub * n_exp),
    )
    return None if result.status == 2 else -float(result.fun)


def assert_valid(problem: AssignmentProblem, result: engine.Assignment) -> None:
    """Every assigned pair is listed or forced, not forbidden, and k, loads, senior, forced hold."""
    pairs = set(zip(result.submission.tolist(), result.expert.tolist(), strict=True))
    assert len(pairs) == len(result), "a pair is assigned twice"
    listed = set(
        zip(
            np.asarray(problem.edge_submission).tolist(),
            np.asarray(problem.edge_expert).tolist(),
            strict=True,
        )
    )
    forced = {tuple(p) for p in np.asarray(problem.forced_pairs, dtype=int).reshape(-1, 2).tolist()}
    forbidden = {tuple(p) for p in np.asarray(problem.forbidden_pairs, dtype=int).reshape(-1, 2).tolist()}
    assert pairs <= listed | forced
    assert not pairs & forbidden
    assert forced <= pairs
    k = np.broadcast_to(np.asarray(problem.per_submission), (problem.submission_count,))
    assert np.bincount(result.submission, minlength=problem.submission_count).tolist() == k.tolist()
    loads = np.bincount(result.expert, minlength=problem.expert_count)
    assert loads.tolist() == result.expert_loads.tolist()
    for j, eid in enumerate(problem.expert_ids):
        assert problem.min_load_overrides.get(eid, problem.min_load) <= loads[j]
        assert loads[j] <= problem.max_load_overrides.get(eid, problem.max_load)
    if problem.require_senior:
        senior = {j for j, eid in enumerate(problem.expert_ids) if eid in set(problem.senior_expert_ids)}
        for i in range(problem.submission_count):
            if k[i] >= 1:
                assert any(e in senior for s, e in pairs if s == i)
    assert result.total_score == pytest.approx(float(result.score.sum()))


def random_problem(
    seed: int,
    n_sub: int,
    n_exp: int,
    *,
    top: int | None = None,
    conflict_share: float = 0.1,
    senior: bool = False,
    min_load: int = 0,
    forced: int = 0,
) -> AssignmentProblem:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 4))
    per_row = top or n_exp
    experts = np.concatenate([rng.choice(n_exp, per_row, replace=False) for _ in range(n_sub)])
    subs = np.repeat(np.arange(n_sub), per_row)
    scores = np.round(rng.random(len(subs)), 4)
    conflicts = np.column_stack(
        [
            rng.integers(0, n_sub, int(conflict_share * n_sub * n_exp)),
            rng.integers(0, n_exp, int(conflict_share * n_sub * n_exp)),
        ]
    )
    expert_ids = [f"e{j}" for j in range(n_exp)]
    least = max(2, -(-n_sub * k // n_exp))
    max_load = int(rng.integers(least, max(least, 6) + 1))
    overrides = {
        expert_ids[j]: int(rng.integers(0, max_load + 2))
        for j in rng.choice(n_exp, n_exp // 5, replace=False)
    }
    min_overrides = {eid: min(load, min_load) for eid, load in overrides.items() if load < min_load}
    forced_pairs = np.zeros((0, 2), dtype=int)
    if forced:
        edge = rng.choice(len(subs), forced, replace=False)
        forced_pairs = np.column_stack([subs[edge], experts[edge]])
        forced_set = {tuple(p) for p in forced_pairs.tolist()}
        conflicts = np.array([c for c in conflicts.tolist() if tuple(c) not in forced_set]).reshape(-1, 2)
    return AssignmentProblem(
        submission_ids=[f"a{i}" for i in range(n_sub)],
        expert_ids=expert_ids,
        edge_submission=subs,
        edge_expert=experts,
        edge_score=scores,
        per_submission=k,
        min_load=min_load,
        max_load=max_load,
        min_load_overrides=min_overrides,
        max_load_overrides=overrides,
        forbidden_pairs=conflicts,
        forced_pairs=forced_pairs,
        senior_expert_ids=[e for e in expert_ids if rng.random() < 0.25] if senior else (),
        require_senior=senior,
    )


CASES = [
    pytest.param(
        seed, n_sub, n_exp, top, options, id=f"{n_sub}x{n_exp}-top{top}-{'-'.join(options) or 'plain'}-{seed}"
    )
    for seed in range(4)
    for n_sub, n_exp, top in ((20, 30, None), (50, 80, None), (50, 80, 8), (60, 25, 10))
    for options in ((), ("senior",), ("min_load",), ("forced",))
]


@pytest.mark.parametrize(("seed", "n_sub", "n_exp", "top", "options"), CASES)
def test_random_instances_match_the_milp_optimum(seed, n_sub, n_exp, top, options):
    problem = random_problem(
        seed,
        n_sub,
        n_exp,
        top=top,
        senior="senior" in options,
        min_load=1 if "min_load" in options else 0,
        forced=3 if "forced" in options else 0,
    )
    expected = reference_optimum(problem)
    if expected is None:
        with pytest.raises(AssignmentInfeasible) as caught:
            solve_assignment(problem)
        assert caught.value.issues
        return
    result = solve_assignment(problem)
    assert_valid(problem, result)
    assert result.total_score == pytest.approx(expected, abs=1e-6)
    assert result.lp_bound == pytest.approx(expected, abs=1e-6)
    assert result.solver == "highs-ds column generation"
    if "senior" not in options and "min_load" not in options:  # greedy ignores these two
        greedy = greedy_assignment(problem)
        if greedy.unfilled == 0:
            assert greedy.total_score <= result.total_score + 1e-9


def test_tight_capacity_needs_pricing_rounds_and_stays_exact():
    """Everyone wants the same few experts: the first restricted LP misses edges that pricing adds."""
    rng = np.random.default_rng(7)
    n_sub, n_exp = 40, 30
    subs = np.repeat(np.arange(n_sub), n_exp)
    experts = np.tile(np.arange(n_exp), n_sub)
    scores = 1.0 / (1 + experts) + 0.01 * rng.random(len(subs))
    problem = AssignmentProblem(
        submission_ids=[f"a{i}" for i in range(n_sub)],
        expert_ids=[f"e{j}" for j in range(n_exp)],
        edge_submission=subs,
        edge_expert=experts,
        edge_score=scores,
        per_submission=2,
        max_load=3,
    )
    result = solve_assignment(problem)
    assert result.pricing_rounds > 1
    assert_valid(problem, result)
    assert result.total_score == pytest.approx(reference_optimum(problem), abs=1e-9)


def small_problem(**changes) -> AssignmentProblem:
    values = dict(
        submission_ids=["A", "B", "C"],
        expert_ids=["x", "y", "z", "w"],
        edge_submission=[0, 0, 0, 1, 1, 1, 2, 2, 2],
        edge_expert=[0, 1, 2, 0, 1, 3, 1, 2, 3],
        edge_score=[0.9, 0.8, 0.1, 0.7, 0.6, 0.2, 0.5, 0.4, 0.3],
        per_submission=2,
        max_load=2,
    )
    values.update(changes)
    return AssignmentProblem(**values)


def test_small_instance_exact_answer_and_json_shape():
    result = solve_assignment(small_problem())
    assert result.by_submission() == {
        "A": [("x", 0.9), ("y", 0.8)],
        "B": [("x", 0.7), ("y", 0.6)],
        "C": [("z", 0.4), ("w", 0.3)],
    }
    assert result.total_score == pytest.approx(reference_optimum(small_problem()))
    assert result.expert_loads.sum() == 6


def test_forced_pair_is_kept_even_when_unlisted_and_conflicts_never_assigned():
    problem = small_problem(forced_pairs=[(2, 0)], forbidden_pairs=[(0, 0)])
    result = solve_assignment(problem)
    pairs = set(result.pairs())
    assert ("C", "x", 0.0) in pairs
    assert not any(s == "A" and e == "x" for s, e, _ in pairs)
    assert_valid(problem, result)
    assert result.total_score == pytest.approx(reference_optimum(problem))


def test_duplicate_pairs_keep_the_highest_score():
    problem = AssignmentProblem(
        submission_ids=["A"],
        expert_ids=["x", "y"],
        edge_submission=[0, 0, 0],
        edge_expert=[0, 0, 1],
        edge_score=[0.2, 0.9, 0.5],
        per_submission=1,
        max_load=1,
    )
    assert solve_assignment(problem).pairs() == [("A", "x", 0.9)]


def test_senior_requirement_changes_the_choice():
    base = small_problem(per_submission=1, max_load=3)
    assert solve_assignment(base).by_submission()["A"] == [("x", 0.9)]
    problem = small_problem(per_submission=1, max_load=3, senior_expert_ids=["z", "w"], require_senior=True)
    result = solve_assignment(problem)
    assert result.by_submission() == {"A": [("z", 0.1)], "B": [("w", 0.2)], "C": [("z", 0.4)]}
    assert_valid(problem, result)


def test_per_submission_array_and_load_overrides():
    problem = small_problem(
        per_submission=[1, 2, 0], max_load_overrides={"x": 0}, min_load_overrides={"w": 1}
    )
    result = solve_assignment(problem)
    assert_valid(problem, result)
    assert result.load_of("x") == 0
    assert result.load_of("w") == 1
    assert result.total_score == pytest.approx(reference_optimum(problem))


def codes(problem: AssignmentProblem) -> tuple[list[str], list[str]]:
    with pytest.raises(AssignmentInfeasible) as caught:
        solve_assignment(problem)
    return caught.value.codes, [issue.message for issue in caught.value.issues]


def test_too_few_eligible_experts_says_what_to_change():
    found, messages = codes(small_problem(forbidden_pairs=[(0, 0), (0, 1)]))
    assert found == [InfeasibilityCode.TOO_FEW_ELIGIBLE_EXPERTS]
    assert messages == [
        "application A has only 1 eligible experts (needs 2): add experts or shorten the conflict window"
    ]


def test_capacity_too_small_names_the_max_load_needed():
    found, messages = codes(small_problem(max_load=1))
    assert found == [InfeasibilityCode.CAPACITY_TOO_SMALL]
    assert messages == [
        "the experts can take 4 reviews in all but the applications need 6: "
        "raise the max load to at least 2 or add experts"
    ]


def test_minimum_load_too_high():
    found, messages = codes(small_problem(min_load=2, max_load=3))
    assert found == [InfeasibilityCode.MINIMUM_LOAD_TOO_HIGH]
    assert "lower the minimum load" in messages[0]


def test_expert_minimum_above_eligible_and_above_maximum():
    found, _ = codes(small_problem(min_load_overrides={"z": 3}, max_load_overrides={"z": 3}))
    assert found == [InfeasibilityCode.EXPERT_TOO_FEW_ELIGIBLE_APPLICATIONS]
    found, _ = codes(small_problem(min_load_overrides={"z": 2}, max_load_overrides={"z": 1}))
    assert found == [InfeasibilityCode.MINIMUM_LOAD_ABOVE_MAXIMUM]


def test_forced_problems_are_named():
    found, _ = codes(small_problem(forced_pairs=[(0, 0)], forbidden_pairs=[(0, 0)]))
    assert found[0] == InfeasibilityCode.FORCED_PAIR_FORBIDDEN
    found, _ = codes(small_problem(forced_pairs=[(0, 0), (0, 1), (0, 2)]))
    assert found == [InfeasibilityCode.TOO_MANY_FORCED_EXPERTS]
    found, _ = codes(small_problem(per_submission=1, max_load=1, forced_pairs=[(0, 1), (1, 1)]))
    assert found == [InfeasibilityCode.FORCED_ABOVE_MAXIMUM_LOAD]


def test_senior_shortage():
    found, messages = codes(small_problem(senior_expert_ids=["z"], require_senior=True, max_load=3))
    assert found == [InfeasibilityCode.NO_ELIGIBLE_SENIOR_EXPERT]
    assert messages == [
        "application B has no eligible senior expert: add senior experts or shorten the conflict window"
    ]
    found, _ = codes(
        small_problem(per_submission=1, senior_expert_ids=["y"], require_senior=True, max_load=2)
    )
    assert found == [InfeasibilityCode.SENIOR_CAPACITY_TOO_SMALL]
    # Each application has a senior expert and there is room in total, but A and C both need z.
    found, _ = codes(
        small_problem(
            per_submission=1,
            senior_expert_ids=["z", "w"],
            require_senior=True,
            max_load_overrides={"z": 1},
            forbidden_pairs=[(2, 3)],
        )
    )
    assert found == [InfeasibilityCode.SENIOR_REQUIREMENT_UNREACHABLE]


def test_hall_violation_names_the_applications_that_share_too_few_experts():
    # A and B may only use x and y (each max 1); C has plenty of experts: counts all pass.
    problem = AssignmentProblem(
        submission_ids=["A", "B", "C"],
        expert_ids=["x", "y", "z", "w", "v"],
        edge_submission=[0, 0, 1, 1, 2, 2, 2],
        edge_expert=[0, 1, 0, 1, 2, 3, 4],
        edge_score=[1.0] * 7,
        per_submission=2,
        max_load=1,
        max_load_overrides={"z": 2, "w": 2, "v": 2},
    )
    found, messages = codes(problem)
    assert found == [InfeasibilityCode.APPLICATIONS_SHARE_TOO_FEW_EXPERTS]
    assert messages == [
        "applications A, B together need 4 reviews but their eligible experts can give at most 2: "
        "raise these experts' max load, add experts or shorten the conflict window"
    ]


def test_unreachable_minimum_load():
    # z and w each want 2 applications, but only C lists them.
    problem = small_problem(
        edge_submission=[0, 0, 1, 1, 2, 2, 2],
        edge_expert=[0, 1, 0, 1, 2, 3, 1],
        edge_score=[0.5] * 7,
        per_submission=[2, 2, 1],
        max_load=3,
        min_load_overrides={"z": 1, "w": 1},
    )
    found, _ = codes(problem)
    assert found == [InfeasibilityCode.MINIMUM_LOAD_UNREACHABLE]


def test_progress_and_cancel():
    seen = []
    solve_assignment(small_problem(), on_progress=lambda stage, fraction: seen.append((stage, fraction)))
    assert seen[0] == ("checking", 0.0)
    assert seen[-1] == ("done", 1.0)
    assert {"solving", "pricing"} <= {stage for stage, _ in seen}
    assert [f for _, f in seen] == sorted(f for _, f in seen)
    with pytest.raises(AssignmentCancelled):
        solve_assignment(small_problem(), should_cancel=lambda: True)


def test_milp_fallback_agrees():
    problem = random_problem(3, 30, 40, senior=True, min_load=1)
    prepared = engine._prepare(problem)
    edges = engine._milp_edges(prepared)
    assert float(prepared.score[edges].sum()) == pytest.approx(solve_assignment(problem).total_score)


def test_invalid_input_is_a_value_error():
    with pytest.raises(ValueError, match="out of range"):
        solve_assignment(small_problem(edge_expert=[0, 1, 2, 0, 1, 3, 1, 2, 9]))
    with pytest.raises(ValueError, match="unknown expert"):
        solve_assignment(small_problem(max_load_overrides={"nobody": 1}))
    with pytest.raises(ValueError, match="one value per application"):
        solve_assignment(small_problem(per_submission=[1, 2]))


def test_greedy_baseline_respects_conflicts_and_loads_but_can_fall_short():
    problem = small_problem(forbidden_pairs=[(1, 3)], per_submission=[2, 1, 2])
    greedy = greedy_assignment(problem)
    assert greedy.solver == "greedy"
    assert (greedy.expert_loads <= 2).all()
    assert (1, 3) not in set(zip(greedy.submission.tolist(), greedy.expert.tolist(), strict=True))
    assert greedy.total_score <= solve_assignment(problem).total_score


def test_openreview_csv_round_trip(tmp_path):
    (tmp_path / "scores.csv").write_text(
        "A,x,0.9\nA,y,0.8\nA,z,0.1\nB,x,0.7\nB,y,0.6\nB,w,-2e-1\nC,y,0.5\nC,z,.4\nC,w,3\n"
    )
    (tmp_path / "constraints.csv").write_text("A,x,-1\nC,x,1\nB,y,0\nQ,x,-1\n")
    (tmp_path / "loads.csv").write_text("userID,max\nw,1\nnew,2\n")
    scores = read_scores_csv(tmp_path / "scores.csv")
    assert scores.submission_ids == ["A", "B", "C"]
    assert scores.expert_ids == ["x", "y", "z", "w"]
    assert scores.score.tolist() == [0.9, 0.8, 0.1, 0.7, 0.6, -0.2, 0.5, 0.4, 3.0]
    assert read_constraints_csv(tmp_path / "constraints.csv").value.tolist() == [-1, 1, 0, -1]
    assert read_max_loads_csv(tmp_path / "loads.csv") == {"w": 1, "new": 2}
    problem = problem_from_csv(
        tmp_path / "scores.csv",
        tmp_path / "constraints.csv",
        tmp_path / "loads.csv",
        per_submission=2,
        max_load=2,
    )
    assert problem.expert_ids == ["x", "y", "z", "w", "new"]
    assert problem.forbidden_pairs.tolist() == [[0, 0]]
    assert problem.forced_pairs.tolist() == [[2, 0]]
    result = solve_assignment(problem)
    assert_valid(problem, result)
    write_assignment_json(result, tmp_path / "out.json")
    written = json.loads((tmp_path / "out.json").read_text())
    assert list(written) == ["A", "B", "C"]
    assert written["C"] == [["w", 3.0], ["x", 0.0]]
    assert all(
        len(v) == 2 and all(isinstance(e, str) and isinstance(s, float) for e, s in v)
        for v in written.values()
    )


def test_csv_with_header_quotes_crlf_and_errors(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_bytes(b'\xef\xbb\xbfpaperID,userID,score\r\n"A, 1",x,0.5\r\n\r\nB, y ,1\r\n')
    table = read_scores_csv(path)
    assert table.submission_ids == ["A, 1", "B"]
    assert table.expert_ids == ["x", "y"]
    assert table.score.tolist() == [0.5, 1.0]
    path.write_text("paperID,userID,score\nA,x,0.5\nB,y,high\n")
    with pytest.raises(ValueError, match=r"line 3: score 'high' is not a number"):
        read_scores_csv(path)
    path.write_text("A,x,0.5\nB,y\n")
    with pytest.raises(ValueError, match="line 2: expected 3 fields, found 2"):
        read_scores_csv(path)
    path.write_text("A,x,2\n")
    with pytest.raises(ValueError, match="-1, 0 or 1"):
        read_constraints_csv(path)
    path.write_text("")
    assert read_scores_csv(path).submission_ids == []
