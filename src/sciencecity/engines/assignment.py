"""Optimal conflict-free reviewer assignment (评审专家分配).

Gives every application exactly ``k`` reviewers so that the total affinity is the largest
possible, subject to

* only the listed (application, expert) pairs are allowed (a sparse score table, e.g. each
  application's top-200 experts); conflicts of interest are hard exclusions;
* a minimum and a maximum load per expert (one value for all, with per-expert overrides);
* forced pairs (must assign);
* optionally at least one senior expert (主审专家) per application.

    >>> problem = AssignmentProblem(
    ...     submission_ids=["A1", "A2"], expert_ids=["e1", "e2", "e3"],
    ...     edge_submission=[0, 0, 1, 1], edge_expert=[0, 1, 1, 2], edge_score=[0.9, 0.5, 0.8, 0.1],
    ...     per_submission=1, max_load=1)
    >>> solve_assignment(problem).by_submission()
    {'A1': [('e1', 0.9)], 'A2': [('e2', 0.8)]}

How it is solved (exact, not greedy): the problem is a linear programme whose constraint
matrix is totally unimodular. Application rows and the "senior experts of this application"
rows form one laminar family, expert rows another, and a matrix of two laminar families is a
network matrix; with integral bounds every vertex is integral, so the dual simplex of HiGHS
(``scipy.optimize.linprog(method="highs-ds")``) returns a 0/1 optimum. The integrality is
checked after each solve; a fractional answer (numerically unexpected) falls back to
``scipy.optimize.milp`` on the whole edge set.

Solving the LP over all edges takes ~10 s for 600,000 edges, so it is solved by column
generation: first on a small restricted set (each application's best ``k + 3`` edges, the
forced edges, the best senior edges, and each expert's best edges when a minimum load is
set), then every left-out edge is priced with the LP duals, ``score - u[application] -
v[expert] ...``; edges with a positive reduced profit are added and the LP solved again.
When none is left the restricted optimum is provably the optimum over all edges (LP
optimality conditions), so the answer is exact. Usually one round suffices.

Infeasible instances raise :class:`AssignmentInfeasible`, whose ``issues`` each carry a
stable ``code``, an English ``message`` that says what to change, and the numbers behind it
in ``details`` (for translation by the caller).

The OpenReview matcher's CSV formats are read and written here too:
:func:`read_scores_csv` (``paperID,userID,score``), :func:`read_constraints_csv`
(``paperID,userID,-1|1|0``), :func:`read_max_loads_csv` (``userID,max``),
:func:`problem_from_csv` and :func:`write_assignment_json` (``{submissionId: [[expertId,
score], ...]}``).

Pure Python (numpy/scipy), no Django.
"""

from __future__ import annotations

import csv
import enum
import io
import itertools
import json
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import maximum_flow

ProgressCallback = Callable[[str, float], None]
CancelCheck = Callable[[], bool]

#: Extra edges per application, beyond ``k``, in the first restricted LP.
RESTRICTED_EXTRA_EDGES = 3
#: A left-out edge enters the LP when its reduced profit exceeds this (times the score scale).
PRICING_TOLERANCE = 1e-9
#: Largest distance from 0 or 1 that still counts as integral in an LP answer.
INTEGRALITY_TOLERANCE = 1e-6
#: At most this many per-item issues (one per application or expert) are listed by code.
MAX_ISSUES_PER_CODE = 50


# --------------------------------------------------------------------------------------------
# Input and output


@dataclass(frozen=True)
class AssignmentProblem:
    """One assignment instance (分配问题): ids, the sparse score table and the constraints.

    Edges are given as three parallel arrays of equal length: application index, expert index
    and affinity score (higher is better). Only listed pairs may be assigned. A pair listed
    twice keeps its highest score.

    ``per_submission`` is ``k`` for all applications or one value per application.
    ``min_load``/``max_load`` hold for every expert unless ``min_load_overrides`` /
    ``max_load_overrides`` (keyed by expert id) say otherwise.
    ``forbidden_pairs`` and ``forced_pairs`` are ``(application index, expert index)`` pairs:
    forbidden pairs (conflicts of interest) are never assigned; forced pairs always are (a
    forced pair missing from the score table is assigned with score 0).
    With ``require_senior``, every application with ``k ≥ 1`` gets at least one expert from
    ``senior_expert_ids``.
    """

    submission_ids: Sequence[str]
    expert_ids: Sequence[str]
    edge_submission: Any
    edge_expert: Any
    edge_score: Any
    per_submission: int | Sequence[int] | np.ndarray = 3
    min_load: int = 0
    max_load: int = 6
    min_load_overrides: Mapping[str, int] = field(default_factory=dict)
    max_load_overrides: Mapping[str, int] = field(default_factory=dict)
    forbidden_pairs: Any = ()
    forced_pairs: Any = ()
    senior_expert_ids: Collection[str] = ()
    require_senior: bool = False

    @property
    def submission_count(self) -> int:
        return len(self.submission_ids)

    @property
    def expert_count(self) -> int:
        return len(self.expert_ids)


@dataclass(frozen=True)
class Assignment:
    """The answer: assigned pairs as parallel arrays, with totals, loads and solver facts.

    ``lp_bound`` is the optimum of the LP relaxation (equal to ``total_score`` for the exact
    solver, whose LP answer is integral); ``unfilled`` counts reviewer slots left empty (only
    the greedy baseline can leave any).
    """

    submission_ids: Sequence[str]
    expert_ids: Sequence[str]
    submission: np.ndarray
    expert: np.ndarray
    score: np.ndarray
    total_score: float
    expert_loads: np.ndarray
    solver: str
    seconds: float
    lp_bound: float | None = None
    unfilled: int = 0
    pricing_rounds: int = 0
    columns: int = 0

    def __len__(self) -> int:
        return len(self.submission)

    def pairs(self) -> list[tuple[str, str, float]]:
        """``(application id, expert id, score)`` for every assigned pair."""
        sids, eids = self.submission_ids, self.expert_ids
        return [
            (sids[s], eids[e], float(v))
            for s, e, v in zip(
                self.submission.tolist(), self.expert.tolist(), self.score.tolist(), strict=True
            )
        ]

    def by_submission(self) -> dict[str, list[tuple[str, float]]]:
        """Every application (in input order) with its experts, best score first."""
        order = np.lexsort((-self.score, self.submission))
        result: dict[str, list[tuple[str, float]]] = {sid: [] for sid in self.submission_ids}
        sids, eids = self.submission_ids, self.expert_ids
        for s, e, v in zip(
            self.submission[order].tolist(),
            self.expert[order].tolist(),
            self.score[order].tolist(),
            strict=True,
        ):
            result[sids[s]].append((eids[e], v))
        return result

    def load_of(self, expert_id: str) -> int:
        return int(self.expert_loads[list(self.expert_ids).index(expert_id)])


class InfeasibilityCode(enum.StrEnum):
    """Stable codes of the reasons an instance cannot be assigned."""

    TOO_FEW_ELIGIBLE_EXPERTS = "too_few_eligible_experts"
    CAPACITY_TOO_SMALL = "capacity_too_small"
    MINIMUM_LOAD_TOO_HIGH = "minimum_load_too_high"
    MINIMUM_LOAD_ABOVE_MAXIMUM = "minimum_load_above_maximum"
    EXPERT_TOO_FEW_ELIGIBLE_APPLICATIONS = "expert_too_few_eligible_applications"
    FORCED_PAIR_FORBIDDEN = "forced_pair_forbidden"
    TOO_MANY_FORCED_EXPERTS = "too_many_forced_experts"
    FORCED_ABOVE_MAXIMUM_LOAD = "forced_above_maximum_load"
    NO_ELIGIBLE_SENIOR_EXPERT = "no_eligible_senior_expert"
    SENIOR_CAPACITY_TOO_SMALL = "senior_capacity_too_small"
    APPLICATIONS_SHARE_TOO_FEW_EXPERTS = "applications_share_too_few_experts"
    MINIMUM_LOAD_UNREACHABLE = "minimum_load_unreachable"
    SENIOR_REQUIREMENT_UNREACHABLE = "senior_requirement_unreachable"
    NO_FEASIBLE_ASSIGNMENT = "no_feasible_assignment"


@dataclass(frozen=True)
class InfeasibilityIssue:
    """One reason with what to change; ``details`` holds the numbers and ids in the message."""

    code: InfeasibilityCode
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


class AssignmentInfeasible(Exception):
    """No assignment meets the constraints; ``issues`` say why and what to change."""

    def __init__(self, issues: Sequence[InfeasibilityIssue]):
        self.issues = list(issues)
        super().__init__("; ".join(issue.message for issue in self.issues))

    @property
    def codes(self) -> list[str]:
        return [str(issue.code) for issue in self.issues]


class AssignmentCancelled(Exception):
    """The cancel check asked to stop."""


# --------------------------------------------------------------------------------------------
# Preparation: arrays, conflicts removed, forced pairs added, overrides applied


@dataclass
class _Prepared:
    n_sub: int
    n_exp: int
    sub: np.ndarray  # int64, edges after conflicts are removed and forced pairs added
    exp: np.ndarray
    score: np.ndarray
    forced: np.ndarray  # bool per edge
    k: np.ndarray  # int64 per application
    lo: np.ndarray  # int64 per expert
    hi: np.ndarray
    senior: np.ndarray  # bool per expert
    require_senior: bool
    issues: list[InfeasibilityIssue]


def _as_pairs(pairs: Any, name: str, n_sub: int, n_exp: int) -> np.ndarray:
    array = np.asarray(pairs, dtype=np.int64)
    if array.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must be (application index, expert index) pairs")
    if (
        array[:, 0].min() < 0
        or array[:, 0].max() >= n_sub
        or array[:, 1].min() < 0
        or array[:, 1].max() >= n_exp
    ):
        raise ValueError(f"{name} has an index out of range")
    return array


def _per_expert(value: int, overrides: Mapping[str, int], expert_ids: Sequence[str], name: str) -> np.ndarray:
    array = np.full(len(expert_ids), int(value), dtype=np.int64)
    if overrides:
        index = {eid: i for i, eid in enumerate(expert_ids)}
        for eid, load in overrides.items():
            if eid not in index:
                raise ValueError(f"{name} names an unknown expert: {eid!r}")
            array[index[eid]] = int(load)
    if (array < 0).any():
        raise ValueError(f"{name} must not be negative")
    return array


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` is several times slower on large int64 arrays)."""
    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate([[True], values[1:] != values[:-1]])]
    return values


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_keys)`` for sorted distinct keys, by binary search."""
    if len(sorted_keys) == 0:
        return np.zeros(len(values), dtype=bool)
    position = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[position] == values


def _prepare(problem: AssignmentProblem) -> _Prepared:
    n_sub, n_exp = problem.submission_count, problem.expert_count
    sub = np.asarray(problem.edge_submission, dtype=np.int64).ravel()
    exp = np.asarray(problem.edge_expert, dtype=np.int64).ravel()
    score = np.asarray(problem.edge_score, dtype=np.float64).ravel()
    if not (len(sub) == len(exp) == len(score)):
        raise ValueError("edge_submission, edge_expert and edge_score must have the same length")
    if len(sub) and (sub.min() < 0 or sub.max() >= n_sub or exp.min() < 0 or exp.max() >= n_exp):
        raise ValueError("an edge has an index out of range")
    if not np.isfinite(score).all():
        raise ValueError("edge scores must be finite numbers")

    k_raw = np.asarray(problem.per_submission, dtype=np.int64)
    k = np.full(n_sub, int(k_raw), dtype=np.int64) if k_raw.ndim == 0 else k_raw.ravel().copy()
    if len(k) != n_sub:
        raise ValueError("per_submission needs one value per application")
    if (k < 0).any():
        raise ValueError("per_submission must not be negative")
    lo = _per_expert(problem.min_load, problem.min_load_overrides, problem.expert_ids, "min_load")
    hi = _per_expert(problem.max_load, problem.max_load_overrides, problem.expert_ids, "max_load")
    senior = np.zeros(n_exp, dtype=bool)
    if problem.senior_expert_ids:
        senior_set = set(problem.senior_expert_ids)
        senior = np.fromiter((eid in senior_set for eid in problem.expert_ids), dtype=bool, count=n_exp)

    forbidden = _as_pairs(problem.forbidden_pairs, "forbidden_pairs", n_sub, n_exp)
    forced_pairs = _as_pairs(problem.forced_pairs, "forced_pairs", n_sub, n_exp)
    issues: list[InfeasibilityIssue] = []

    # One edge per pair, highest score kept; edges end up sorted by (application, expert).
    key = sub * n_exp + exp
    order = np.argsort(key, kind="stable")
    key, score = key[order], score[order]
    if len(key) > 1 and (key[1:] == key[:-1]).any():
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        key, score = key[starts], np.maximum.reduceat(score, starts)
    forbidden_key = _sorted_unique(forbidden[:, 0] * n_exp + forbidden[:, 1])
    forced_key = _sorted_unique(forced_pairs[:, 0] * n_exp + forced_pairs[:, 1])
    clash = forced_key[_member(forced_key, forbidden_key)]
    for pair_key in clash[:MAX_ISSUES_PER_CODE].tolist():
        sid, eid = problem.submission_ids[pair_key // n_exp], problem.expert_ids[pair_key % n_exp]
        issues.append(
            InfeasibilityIssue(
                InfeasibilityCode.FORCED_PAIR_FORBIDDEN,
                f"expert {eid} is both forced onto and in conflict with application {sid}: "
                "drop the forced assignment or the conflict",
                {"submission": sid, "expert": eid},
            )
        )
    if len(forbidden_key):
        keep = ~_member(key, forbidden_key)
        key, score = key[keep], score[keep]
    forced = np.zeros(len(key), dtype=bool)
    if len(forced_key):
        forced_key = forced_key[~_member(forced_key, forbidden_key)]
        missing = forced_key[~_member(forced_key, key)]
        if len(missing):
            key = np.concatenate([key, missing])
            score = np.concatenate([score, np.zeros(len(missing))])
            order = np.argsort(key, kind="stable")
            key, score = key[order], score[order]
        forced = _member(key, forced_key)
    return _Prepared(
        n_sub=n_sub,
        n_exp=n_exp,
        sub=key // n_exp,
        exp=key % n_exp,
        score=score,
        forced=forced,
        k=k,
        lo=lo,
        hi=hi,
        senior=senior,
        require_senior=bool(problem.require_senior),
        issues=issues,
    )


# --------------------------------------------------------------------------------------------
# Diagnosis


def _ids(ids: Sequence[str], indices: np.ndarray) -> list[str]:
    return [ids[i] for i in indices[:MAX_ISSUES_PER_CODE].tolist()]


def _issues_for(
    mask: np.ndarray, code: InfeasibilityCode, describe: Callable[[int], tuple[str, dict[str, Any]]]
) -> list[InfeasibilityIssue]:
    """One issue per flagged application or expert (at most MAX_ISSUES_PER_CODE)."""
    return [
        InfeasibilityIssue(code, *describe(index))
        for index in np.flatnonzero(mask)[:MAX_ISSUES_PER_CODE].tolist()
    ]


def _check_counts(problem: AssignmentProblem, p: _Prepared) -> list[InfeasibilityIssue]:
    """Necessary conditions checked by counting; each failure says what to change."""
    issues = list(p.issues)
    sids, eids = problem.submission_ids, problem.expert_ids
    eligible = np.bincount(p.sub, minlength=p.n_sub)
    issues += _issues_for(
        eligible < p.k,
        InfeasibilityCode.TOO_FEW_ELIGIBLE_EXPERTS,
        lambda i: (
            f"application {sids[i]} has only {eligible[i]} eligible experts (needs {p.k[i]}): "
            "add experts or shorten the conflict window",
            {"submission": sids[i], "eligible": int(eligible[i]), "needed": int(p.k[i])},
        ),
    )
    forced_per_sub = np.bincount(p.sub[p.forced], minlength=p.n_sub)
    issues += _issues_for(
        forced_per_sub > p.k,
        InfeasibilityCode.TOO_MANY_FORCED_EXPERTS,
        lambda i: (
            f"application {sids[i]} has {forced_per_sub[i]} forced experts but takes only {p.k[i]}: "
            "drop forced assignments or raise the number of reviewers per application",
            {"submission": sids[i], "forced": int(forced_per_sub[i]), "needed": int(p.k[i])},
        ),
    )
    forced_per_exp = np.bincount(p.exp[p.forced], minlength=p.n_exp)
    issues += _issues_for(
        forced_per_exp > p.hi,
        InfeasibilityCode.FORCED_ABOVE_MAXIMUM_LOAD,
        lambda j: (
            f"expert {eids[j]} is forced onto {forced_per_exp[j]} applications but has max load {p.hi[j]}: "
            "raise this expert's max load or drop forced assignments",
            {"expert": eids[j], "forced": int(forced_per_exp[j]), "max_load": int(p.hi[j])},
        ),
    )
    issues += _issues_for(
        p.lo > p.hi,
        InfeasibilityCode.MINIMUM_LOAD_ABOVE_MAXIMUM,
        lambda j: (
            f"expert {eids[j]} has min load {p.lo[j]} above max load {p.hi[j]}: lower the minimum load",
            {"expert": eids[j], "min_load": int(p.lo[j]), "max_load": int(p.hi[j])},
        ),
    )
    degree = np.bincount(p.exp, minlength=p.n_exp)
    issues += _issues_for(
        degree < p.lo,
        InfeasibilityCode.EXPERT_TOO_FEW_ELIGIBLE_APPLICATIONS,
        lambda j: (
            f"expert {eids[j]} can review only {degree[j]} applications but has min load {p.lo[j]}: "
            "lower the minimum load for this expert",
            {"expert": eids[j], "eligible": int(degree[j]), "min_load": int(p.lo[j])},
        ),
    )
    needed = int(p.k.sum())
    capacity = int(p.hi.sum())
    if capacity < needed:
        at_least = math.ceil(needed / p.n_exp) if p.n_exp else None
        what = f"raise the max load to at least {at_least} or add experts" if at_least else "add experts"
        issues.append(
            InfeasibilityIssue(
                InfeasibilityCode.CAPACITY_TOO_SMALL,
                f"the experts can take {capacity} reviews in all but the applications need {needed}: {what}",
                {"capacity": capacity, "needed": needed, "max_load_at_least": at_least},
            )
        )
    minimum = int(np.minimum(p.lo, p.hi).sum())
    if minimum > needed:
        issues.append(
            InfeasibilityIssue(
                InfeasibilityCode.MINIMUM_LOAD_TOO_HIGH,
                f"the minimum loads add up to {minimum} reviews but the applications need only {needed}: "
                "lower the minimum load",
                {"minimum_total": minimum, "needed": needed},
            )
        )
    if p.require_senior:
        wanting = p.k >= 1
        senior_eligible = np.bincount(p.sub[p.senior[p.exp]], minlength=p.n_sub)
        for i in np.flatnonzero(wanting & (senior_eligible == 0))[:MAX_ISSUES_PER_CODE].tolist():
            issues.append(
                InfeasibilityIssue(
                    InfeasibilityCode.NO_ELIGIBLE_SENIOR_EXPERT,
                    f"application {sids[i]} has no eligible senior expert: "
                    "add senior experts or shorten the conflict window",
                    {"submission": sids[i]},
                )
            )
        senior_capacity = int(p.hi[p.senior].sum())
        senior_needed = int(wanting.sum())
        if senior_capacity < senior_needed:
            issues.append(
                InfeasibilityIssue(
                    InfeasibilityCode.SENIOR_CAPACITY_TOO_SMALL,
                    f"the senior experts can take {senior_capacity} applications in all but {senior_needed} "
                    "need one: raise the senior experts' max load or add senior experts",
                    {"capacity": senior_capacity, "needed": senior_needed},
                )
            )
    return issues


def _hall_violation(problem: AssignmentProblem, p: _Prepared) -> InfeasibilityIssue | None:
    """Max-flow check of "every application gets k" under max loads; names the short group.

    Network: source → application (k) → expert (1 per allowed pair) → sink (max load). When
    the maximum flow falls short, the applications on the source side of a minimum cut
    together need more reviews than their eligible experts can give (Hall's condition).
    """
    n_sub, n_exp = p.n_sub, p.n_exp
    source, sink = n_sub + n_exp, n_sub + n_exp + 1
    tails = np.concatenate([np.full(n_sub, source), p.sub, n_sub + np.arange(n_exp)])
    heads = np.concatenate([np.arange(n_sub), n_sub + p.exp, np.full(n_exp, sink)])
    caps = np.concatenate([p.k, np.ones(len(p.sub), dtype=np.int64), p.hi]).astype(np.int32)
    graph = sp.csr_matrix((caps, (tails, heads)), shape=(n_sub + n_exp + 2, n_sub + n_exp + 2))
    result = maximum_flow(graph, source, sink)
    needed = int(p.k.sum())
    shortfall = needed - int(result.flow_value)
    if shortfall <= 0:
        return None
    residual = (graph - result.flow).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    reached = np.zeros(n_sub + n_exp + 2, dtype=bool)
    frontier = [source]
    reached[source] = True
    indptr, indices = residual.indptr, residual.indices
    while frontier:
        node = frontier.pop()
        for nxt in indices[indptr[node] : indptr[node + 1]].tolist():
            if not reached[nxt]:
                reached[nxt] = True
                frontier.append(nxt)
    group = np.flatnonzero(reached[:n_sub])
    group_need = int(p.k[group].sum())
    names = _ids(problem.submission_ids, group)
    more = f" and {len(group) - len(names)} more" if len(group) > len(names) else ""
    return InfeasibilityIssue(
        InfeasibilityCode.APPLICATIONS_SHARE_TOO_FEW_EXPERTS,
        f"applications {', '.join(names)}{more} together need {group_need} reviews but their eligible "
        f"experts can give at most {group_need - shortfall}: raise these experts' max load, add experts "
        "or shorten the conflict window",
        {
            "submissions": names,
            "count": len(group),
            "needed": group_need,
            "available": group_need - shortfall,
        },
    )


def _diagnose_after_solver(problem: AssignmentProblem, p: _Prepared) -> list[InfeasibilityIssue]:
    """The counting checks passed but the LP is infeasible: find which constraint family is to blame."""
    hall = _hall_violation(problem, p)
    if hall is not None:
        return [hall]
    if p.lo.any() and _feasible(_Prepared(**{**p.__dict__, "lo": np.zeros_like(p.lo)})):
        return [
            InfeasibilityIssue(
                InfeasibilityCode.MINIMUM_LOAD_UNREACHABLE,
                "the minimum loads cannot all be met with the eligible pairs: lower the minimum load",
                {},
            )
        ]
    if p.require_senior and _feasible(_Prepared(**{**p.__dict__, "require_senior": False})):
        return [
            InfeasibilityIssue(
                InfeasibilityCode.SENIOR_REQUIREMENT_UNREACHABLE,
                "not every application can get a senior expert within the senior experts' max loads: "
                "raise the senior experts' max load or add senior experts",
                {},
            )
        ]
    return [
        InfeasibilityIssue(
            InfeasibilityCode.NO_FEASIBLE_ASSIGNMENT,
            "no assignment meets all constraints together: raise the max load, add experts, lower the "
            "minimum load or shorten the conflict window",
            {},
        )
    ]


# --------------------------------------------------------------------------------------------
# LP on a subset of the edges


@dataclass
class _LPResult:
    status: int
    x: np.ndarray | None = None
    objective: float = 0.0
    reduced: Callable[[np.ndarray], np.ndarray] | None = None


def _lp(p: _Prepared, edges: np.ndarray, *, with_objective: bool = True) -> _LPResult:
    """Solve the LP restricted to ``edges`` (indices into p's edge arrays) with HiGHS dual simplex.

    Rows: application = k; expert ≤ max; −expert ≤ −min (experts with a min load);
    −(senior edges of application) ≤ −1 (when required). Returns the duals as a pricing
    function giving the reduced profit of any edge set.
    """
    n = len(edges)
    sub, exp = p.sub[edges], p.exp[edges]
    columns = np.arange(n)
    ones = np.ones(n)
    a_eq = sp.csr_matrix((ones, (sub, columns)), shape=(p.n_sub, n))
    a_exp = sp.csr_matrix((ones, (exp, columns)), shape=(p.n_exp, n))
    blocks = [a_exp]
    bounds_ub = [p.hi.astype(np.float64)]
    min_rows = np.flatnonzero(p.lo > 0)
    if len(min_rows):
        blocks.append(-a_exp[min_rows])
        bounds_ub.append(-p.lo[min_rows].astype(np.float64))
    senior_rows = np.flatnonzero(p.k >= 1) if p.require_senior else np.zeros(0, dtype=np.int64)
    if len(senior_rows):
        is_senior = p.senior[exp]
        a_senior = sp.csr_matrix(
            (-np.ones(int(is_senior.sum())), (sub[is_senior], columns[is_senior])), shape=(p.n_sub, n)
        )
        blocks.append(a_senior[senior_rows])
        bounds_ub.append(-np.ones(len(senior_rows)))
    a_ub = sp.vstack(blocks, format="csr")
    cost = -p.score[edges] if with_objective else np.zeros(n)
    bounds = np.column_stack([p.forced[edges].astype(np.float64), np.ones(n)])
    result = linprog(
        cost,
        A_ub=a_ub,
        b_ub=np.concatenate(bounds_ub),
        A_eq=a_eq,
        b_eq=p.k.astype(np.float64),
        bounds=bounds,
        method="highs-ds",
    )
    if result.status != 0:
        return _LPResult(status=int(result.status))
    u = np.asarray(result.eqlin.marginals)
    duals = np.asarray(result.ineqlin.marginals)
    v = duals[: p.n_exp].copy()
    offset = p.n_exp
    if len(min_rows):
        v[min_rows] -= duals[offset : offset + len(min_rows)]
        offset += len(min_rows)
    w = np.zeros(p.n_sub)
    if len(senior_rows):
        w[senior_rows] = duals[offset : offset + len(senior_rows)]

    def reduced_profit(candidates: np.ndarray) -> np.ndarray:
        """Score minus the dual prices; positive means the edge would improve the LP."""
        s, e = p.sub[candidates], p.exp[candidates]
        return p.score[candidates] + u[s] + v[e] - w[s] * p.senior[e]

    return _LPResult(status=0, x=np.asarray(result.x), objective=-float(result.fun), reduced=reduced_profit)


def _feasible(p: _Prepared) -> bool:
    return _lp(p, np.arange(len(p.sub)), with_objective=False).status == 0


def _top_per_group(group: np.ndarray, score: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Indices of (about) the ``limit[g]`` best-scoring items of each group ``g``.

    One float sort on ``group + 0.999 × (1 − normalised score)``; ties and rounding may swap
    near-equal items, which is harmless: this only picks the first LP columns.
    """
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = float(score.min()), float(score.max())
    spread = high - low if high > low else 1.0
    order = np.argsort(group + 0.999 * ((high - score) / spread))
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(len(limit)))
    rank = np.arange(len(order)) - starts[sorted_group]
    return order[rank < limit[sorted_group]]


def _initial_columns(p: _Prepared, extra: int) -> np.ndarray:
    chosen = np.zeros(len(p.sub), dtype=bool)
    chosen[_top_per_group(p.sub, p.score, p.k + extra)] = True
    chosen |= p.forced
    if p.require_senior:
        senior_edges = np.flatnonzero(p.senior[p.exp])
        best = _top_per_group(p.sub[senior_edges], p.score[senior_edges], np.full(p.n_sub, 1 + extra))
        chosen[senior_edges[best]] = True
    if p.lo.any():
        chosen[_top_per_group(p.exp, p.score, np.where(p.lo > 0, p.lo + extra, 0))] = True
    return chosen


# --------------------------------------------------------------------------------------------
# Solvers


def _report(on_progress: ProgressCallback | None, stage: str, fraction: float) -> None:
    if on_progress is not None:
        on_progress(stage, fraction)


def _check_cancel(should_cancel: CancelCheck | None) -> None:
    if should_cancel is not None and should_cancel():
        raise AssignmentCancelled("assignment cancelled")


def _result(
    problem: AssignmentProblem,
    p: _Prepared,
    chosen: np.ndarray,
    *,
    solver: str,
    started: float,
    lp_bound: float | None,
    pricing_rounds: int = 0,
    columns: int = 0,
) -> Assignment:
    sub, exp, score = p.sub[chosen], p.exp[chosen], p.score[chosen]
    order = np.lexsort((-score, sub))
    sub, exp, score = sub[order], exp[order], score[order]
    loads = np.bincount(exp, minlength=p.n_exp)
    return Assignment(
        submission_ids=problem.submission_ids,
        expert_ids=problem.expert_ids,
        submission=sub,
        expert=exp,
        score=score,
        total_score=float(score.sum()),
        expert_loads=loads,
        solver=solver,
        seconds=time.perf_counter() - started,
        lp_bound=lp_bound,
        unfilled=int(p.k.sum()) - len(sub),
        pricing_rounds=pricing_rounds,
        columns=columns,
    )


def solve_assignment(
    problem: AssignmentProblem,
    *,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> Assignment:
    """The assignment of largest total score meeting every constraint (exact).

    Raises :class:`AssignmentInfeasible` (with issues saying what to change) when no
    assignment exists and :class:`AssignmentCancelled` when ``should_cancel()`` turns true.
    ``on_progress(stage, fraction)`` is called with stages ``checking``, ``solving``,
    ``pricing`` and ``done``.
    """
    started = time.perf_counter()
    _report(on_progress, "checking", 0.0)
    p = _prepare(problem)
    issues = _check_counts(problem, p)
    if issues:
        raise AssignmentInfeasible(issues)
    _check_cancel(should_cancel)

    in_lp = _initial_columns(p, RESTRICTED_EXTRA_EDGES)
    tolerance = PRICING_TOLERANCE * max(1.0, float(np.abs(p.score).max(initial=0.0)))
    rounds = 0
    widened = False
    while True:
        rounds += 1
        _report(on_progress, "solving", min(0.9, 0.1 + 0.2 * (rounds - 1)))
        edges = np.flatnonzero(in_lp)
        lp = _lp(p, edges)
        _check_cancel(should_cancel)
        if lp.status == 2 and not in_lp.all():
            # The restricted set may be too small to be feasible: widen once, then take all edges.
            in_lp = (
                np.ones(len(p.sub), dtype=bool)
                if widened
                else _initial_columns(p, 4 * RESTRICTED_EXTRA_EDGES + 8)
            )
            widened = True
            continue
        if lp.status == 2:
            raise AssignmentInfeasible(_diagnose_after_solver(problem, p))
        if lp.status != 0 or lp.x is None or lp.reduced is None:
            raise RuntimeError(f"HiGHS stopped with status {lp.status}")
        _report(on_progress, "pricing", min(0.95, 0.2 + 0.2 * (rounds - 1)))
        outside = np.flatnonzero(~in_lp)
        improving = outside[lp.reduced(outside) > tolerance] if len(outside) else outside
        if len(improving) == 0:
            break
        in_lp[improving] = True

    x = lp.x
    rounded = np.rint(x)
    chosen_edges = edges[rounded > 0.5]
    solver = "highs-ds column generation"
    if np.abs(x - rounded).max(initial=0.0) > INTEGRALITY_TOLERANCE:
        chosen_edges = _milp_edges(p)
        solver = "highs milp"
    chosen = np.zeros(len(p.sub), dtype=bool)
    chosen[chosen_edges] = True
    _report(on_progress, "done", 1.0)
    return _result(
        problem,
        p,
        chosen,
        solver=solver,
        started=started,
        lp_bound=lp.objective,
        pricing_rounds=rounds,
        columns=len(edges),
    )


def _milp_edges(p: _Prepared) -> np.ndarray:
    """Fallback: the MILP over all edges (used only if an LP answer were fractional)."""
    n = len(p.sub)
    columns = np.arange(n)
    ones = np.ones(n)
    constraints = [
        LinearConstraint(sp.csr_matrix((ones, (p.sub, columns)), shape=(p.n_sub, n)), p.k, p.k),
        LinearConstraint(sp.csr_matrix((ones, (p.exp, columns)), shape=(p.n_exp, n)), p.lo, p.hi),
    ]
    if p.require_senior:
        senior = p.senior[p.exp]
        a_senior = sp.csr_matrix((ones[senior], (p.sub[senior], columns[senior])), shape=(p.n_sub, n))
        constraints.append(LinearConstraint(a_senior, np.where(p.k >= 1, 1, 0), np.inf))
    result = milp(
        -p.score,
        constraints=constraints,
        bounds=Bounds(p.forced.astype(np.float64), 1),
        integrality=np.ones(n),
    )
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"HiGHS MILP stopped with status {result.status}")
    return np.flatnonzero(result.x > 0.5)


def greedy_assignment(problem: AssignmentProblem) -> Assignment:
    """Baseline for the bench: take edges best score first while k and max load allow.

    Forced pairs go first; conflicts are respected; min loads and the senior rule are not
    looked at, and slots may stay empty (``unfilled``).
    """
    started = time.perf_counter()
    p = _prepare(problem)
    order = np.lexsort((-p.score, ~p.forced))
    need = p.k.tolist()
    room = p.hi.tolist()
    chosen = np.zeros(len(p.sub), dtype=bool)
    for edge, s, e in zip(order.tolist(), p.sub[order].tolist(), p.exp[order].tolist(), strict=True):
        if need[s] > 0 and room[e] > 0:
            need[s] -= 1
            room[e] -= 1
            chosen[edge] = True
    return _result(problem, p, chosen, solver="greedy", started=started, lp_bound=None)


# --------------------------------------------------------------------------------------------
# OpenReview matcher CSV files


@dataclass(frozen=True)
class PairTable:
    """A read pair file (scores or constraints): distinct ids in first-seen order and one row
    per line: ``submission``/``expert`` index into the ids, ``value`` the score or the
    constraint (-1 conflict, 1 forced, 0 none)."""

    submission_ids: list[str]
    expert_ids: list[str]
    submission: np.ndarray
    expert: np.ndarray
    value: np.ndarray

    @property
    def score(self) -> np.ndarray:
        return self.value


class _Columns:
    """Fields of a headerless comma-separated file as one list of strings per column.

    Fast path (plain unquoted files, as the OpenReview matcher writes them): the whole text is
    split once and the columns are sliced out, ~5× faster than ``csv.reader`` and ~8× faster
    than ``numpy.loadtxt(dtype=str)`` (600,000 rows: 0.15 s vs 0.8 s vs 1.3 s; numbers then
    ``map(float)``, ids a dictionary). A numpy parser over the raw bytes (separators by
    ``flatnonzero``, numbers digit-column by digit-column, ids hashed by 8-byte words) was
    measured too and was slower. Quoted fields, spaces or tabs, blank lines or a ragged row
    take the ``csv`` module's way, which names a bad line.
    """

    def __init__(self, path: str | Path, count: int):
        self.name = str(path)
        self.first_line = 1
        text = Path(path).read_bytes().decode("utf-8-sig")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = text.strip("\n")
        lines = text.count("\n") + 1 if text else 0
        plain = not any(mark in text for mark in ('"', " ", "\t", "\n\n"))
        if not text:
            self.columns: list[list[str]] = [[] for _ in range(count)]
        elif plain and text.count(",") == lines * (count - 1):
            fields = text.replace("\n", ",").split(",")
            self.columns = [fields[column::count] for column in range(count)]
        else:
            self.columns = self._read_slowly(text, count)

    def _read_slowly(self, text: str, count: int) -> list[list[str]]:
        columns: list[list[str]] = [[] for _ in range(count)]
        for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if len(cells) != count:
                raise ValueError(
                    f"{self.name}: line {line_number}: expected {count} fields, found {len(cells)}"
                )
            for column, cell in zip(columns, cells, strict=True):
                column.append(cell)
        return columns

    def drop_header(self, number_column: int) -> None:
        """Drop the first row when its number field is not a number (a header line)."""
        if not self.columns[number_column]:
            return
        try:
            float(self.columns[number_column][0])
        except ValueError:
            self.columns = [column[1:] for column in self.columns]
            self.first_line = 2

    def strings(self, column: int) -> list[str]:
        return self.columns[column]

    def numbers(self, column: int, label: str) -> np.ndarray:
        values = self.columns[column]
        try:
            return np.fromiter(map(float, values), dtype=np.float64, count=len(values))
        except ValueError:
            for line_number, value in enumerate(values, start=self.first_line):
                try:
                    float(value)
                except ValueError:
                    raise ValueError(
                        f"{self.name}: line {line_number}: {label} {value!r} is not a number"
                    ) from None
            raise

    def ids(self, column: int) -> tuple[list[str], np.ndarray]:
        """Distinct ids of a column in first-seen order and each row's index into them."""
        values = self.columns[column]
        first_seen: dict[str, int] = {}
        position = np.fromiter(
            map(first_seen.setdefault, values, itertools.count()), dtype=np.int64, count=len(values)
        )
        starts = np.fromiter(first_seen.values(), dtype=np.int64, count=len(first_seen))
        return list(first_seen), np.searchsorted(starts, position)


def _read_pairs(path: str | Path, label: str) -> PairTable:
    columns = _Columns(path, 3)
    columns.drop_header(2)
    value = columns.numbers(2, label)
    submission_ids, submission = columns.ids(0)
    expert_ids, expert = columns.ids(1)
    return PairTable(submission_ids, expert_ids, submission, expert, value)


def read_scores_csv(path: str | Path) -> PairTable:
    """Read ``paperID,userID,score`` rows (OpenReview matcher format; a header row is skipped)."""
    return _read_pairs(path, "score")


def read_constraints_csv(path: str | Path) -> PairTable:
    """Read ``paperID,userID,constraint`` rows: -1 conflict (forbidden), 1 forced, 0 none."""
    table = _read_pairs(path, "constraint")
    if not np.isin(table.value, (-1, 0, 1)).all():
        raise ValueError(f"{path}: a constraint must be -1, 0 or 1")
    return table


def read_max_loads_csv(path: str | Path) -> dict[str, int]:
    """Read ``userID,max`` rows: per-expert maximum loads."""
    columns = _Columns(path, 2)
    columns.drop_header(1)
    loads = columns.numbers(1, "max")
    if (loads < 0).any() or (loads != np.floor(loads)).any():
        raise ValueError(f"{path}: a max load must be a whole number ≥ 0")
    return dict(zip(columns.strings(0), loads.astype(np.int64).tolist(), strict=True))


def problem_from_csv(
    scores: str | Path | PairTable,
    constraints: str | Path | PairTable | None = None,
    max_loads: str | Path | Mapping[str, int] | None = None,
    *,
    per_submission: int,
    min_load: int = 0,
    max_load: int,
    senior_expert_ids: Collection[str] = (),
    require_senior: bool = False,
) -> AssignmentProblem:
    """Build a problem from OpenReview matcher files (paths or already-read tables).

    Applications and experts are those of the score file, plus experts named only in the max
    loads and applications/experts named only by a forced constraint. Conflicts naming an
    unknown application or expert change nothing and are dropped.
    """
    table = scores if isinstance(scores, PairTable) else read_scores_csv(scores)
    rules = (
        constraints
        if constraints is None or isinstance(constraints, PairTable)
        else read_constraints_csv(constraints)
    )
    loads = (
        max_loads if max_loads is None or isinstance(max_loads, Mapping) else read_max_loads_csv(max_loads)
    )
    submission_ids, expert_ids = list(table.submission_ids), list(table.expert_ids)
    submission_index = {sid: i for i, sid in enumerate(submission_ids)}
    expert_index = {eid: j for j, eid in enumerate(expert_ids)}

    def index_of(index: dict[str, int], ids: list[str], names: list[str], add: np.ndarray) -> np.ndarray:
        """Problem index of each name (-1 when unknown); names flagged in ``add`` are added."""
        for name in np.asarray(names, dtype=object)[add].tolist():
            if name not in index:
                index[name] = len(ids)
                ids.append(name)
        return np.fromiter(map(index.get, names, itertools.repeat(-1)), dtype=np.int64, count=len(names))

    for eid in loads or {}:
        if eid not in expert_index:
            expert_index[eid] = len(expert_ids)
            expert_ids.append(eid)
    forbidden = forced = np.zeros((0, 2), dtype=np.int64)
    if rules is not None:
        forced_row = rules.value == 1
        needed_subs = np.bincount(rules.submission[forced_row], minlength=len(rules.submission_ids)) > 0
        needed_exps = np.bincount(rules.expert[forced_row], minlength=len(rules.expert_ids)) > 0
        subs = index_of(submission_index, submission_ids, rules.submission_ids, needed_subs)[rules.submission]
        exps = index_of(expert_index, expert_ids, rules.expert_ids, needed_exps)[rules.expert]
        conflict = (rules.value == -1) & (subs >= 0) & (exps >= 0)
        forbidden = np.column_stack([subs[conflict], exps[conflict]])
        forced = np.column_stack([subs[forced_row], exps[forced_row]])
    return AssignmentProblem(
        submission_ids=submission_ids,
        expert_ids=expert_ids,
        edge_submission=table.submission,
        edge_expert=table.expert,
        edge_score=table.value,
        per_submission=per_submission,
        min_load=min_load,
        max_load=max_load,
        max_load_overrides=dict(loads or {}),
        forbidden_pairs=forbidden,
        forced_pairs=forced,
        senior_expert_ids=senior_expert_ids,
        require_senior=require_senior,
    )


def assignment_json(assignment: Assignment) -> dict[str, list[list[Any]]]:
    """``{submissionId: [[expertId, score], ...]}`` (OpenReview matcher output shape)."""
    return {
        sid: [[eid, score] for eid, score in experts] for sid, experts in assignment.by_submission().items()
    }


def write_assignment_json(assignment: Assignment, path: str | Path) -> None:
    """Write :func:`assignment_json` to ``path`` (UTF-8, ids kept as written)."""
    with Path(path).open("w", encoding="utf-8") as handle:
        json.dump(assignment_json(assignment), handle, ensure_ascii=False)
