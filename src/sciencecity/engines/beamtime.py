"""Facility time (机时) allocation: shifts per beamline to reviewed proposals.

Each proposal asks for a number of shifts on one or more beamlines and carries one review
score. A proposal is taken whole or not at all (all its beamlines, all the shifts it asks for),
and each beamline has a capacity in shifts. Two policies:

* ``optimal`` — the allocation with the largest total score, an exact 0/1 integer programme
  (a multi-dimensional knapsack) solved by HiGHS through :func:`scipy.optimize.milp`::

      maximise   Σ_p score_p · x_p
      subject to Σ_p shifts_pb · x_p ≤ capacity_b                    for each beamline b
                 Σ_{p not priority} shifts_pb · x_p ≤ capacity_b − reserved_b
                 x_p ∈ {0, 1}

  HiGHS reports its dual bound; the relative gap ``(bound − total) / bound`` is 0 when the
  optimum is proven (``mip_rel_gap=0`` by default), or what is left when a time limit stops it.
* ``rank`` — greedy by rank: proposals in descending score (ties by proposal code) are taken
  while every one of their beamlines still has room; the usual practice of allocation panels,
  kept for comparison. :func:`compare` solves both and reports how far greedy is below the
  optimum.

Rapid access / 机时优先保障: a beamline may hold ``reserved`` priority shifts out of its
capacity. Priority proposals (industry, rapid access) may use the whole capacity; the others
only ``capacity − reserved``. Reserved shifts that no priority proposal takes stay free for
rapid-access requests that arrive during the round.

CSV input and output (the ``sciencecity beamtime allocate`` command, :func:`main`):
``proposal,beamline,shifts,score[,priority]`` (one row per proposal and beamline),
``beamline,shifts[,reserved]`` and ``proposal,beamline,shifts``. A bad file raises
:class:`BeamtimeInputError` naming the file and the row (the header is row 1) and nothing is
written.

Pure Python (numpy/scipy), no Django.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .rules.i18n import _

POLICY_OPTIMAL = "optimal"
POLICY_RANK = "rank"
POLICIES = (POLICY_OPTIMAL, POLICY_RANK)

#: Exit status of the CLI for a bad file (as ``sciencecity hnte``).
BAD_INPUT = 2
#: Largest shift count accepted in a file (a year of three 8-hour shifts a day, times ten).
MAX_SHIFTS = 10_950
#: Default time limit of the integer programme, in seconds.
DEFAULT_TIME_LIMIT = 60.0


class BeamtimeInputError(ValueError):
    """A bad allocation input; the message names the file (or field) and the row."""


# --------------------------------------------------------------------------------------------
# Data in and out


@dataclass(frozen=True)
class Request:
    """Shifts one proposal asks for on one beamline."""

    beamline: str
    shifts: int


@dataclass(frozen=True)
class Proposal:
    """A reviewed proposal: its code, review score, requests per beamline, priority route."""

    code: str
    score: float
    requests: tuple[Request, ...]
    priority: bool = False

    def shifts_on(self, beamline: str) -> int:
        return sum(r.shifts for r in self.requests if r.beamline == beamline)


@dataclass(frozen=True)
class Beamline:
    """A beamline's shift capacity in the round, ``reserved`` of them for priority proposals."""

    code: str
    shifts: int
    reserved: int = 0


@dataclass(frozen=True)
class AllocationProblem:
    proposals: tuple[Proposal, ...]
    beamlines: tuple[Beamline, ...]

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class Allocation:
    """Shifts allocated to one proposal on one beamline."""

    proposal: str
    beamline: str
    shifts: int


@dataclass(frozen=True)
class AllocationResult:
    """The accepted proposals and their shifts, the total score and how good it is proven to be.

    ``bound`` is an upper bound on the best total (HiGHS's dual bound for ``optimal``; ``None``
    for ``rank``); ``gap`` is ``(bound − total) / bound`` (0 when proven optimal).
    """

    policy: str
    accepted: tuple[str, ...]
    allocations: tuple[Allocation, ...]
    total_score: float
    bound: float | None
    gap: float | None
    used: Mapping[str, int]
    seconds: float
    status: str = "optimal"
    rejected: tuple[str, ...] = field(default=())

    @property
    def proven_optimal(self) -> bool:
        return self.gap is not None and self.gap <= 1e-9


@dataclass(frozen=True)
class Comparison:
    """Optimal against greedy-by-rank on the same problem."""

    optimal: AllocationResult
    rank: AllocationResult

    @property
    def rank_gap(self) -> float:
        """How far greedy is below the optimum, as a share of the optimum (0.0 when equal)."""
        if self.optimal.total_score <= 0:
            return 0.0
        return (self.optimal.total_score - self.rank.total_score) / self.optimal.total_score


def validate(problem: AllocationProblem) -> None:
    """Raise :class:`BeamtimeInputError` for an inconsistent problem (codes, numbers, beamlines)."""
    known: set[str] = set()
    for line in problem.beamlines:
        if not line.code:
            raise BeamtimeInputError(_("a beamline has no code"))
        if line.code in known:
            raise BeamtimeInputError(_("beamline %(beamline)s is listed twice", beamline=line.code))
        known.add(line.code)
        if line.shifts < 0 or line.reserved < 0 or line.reserved > line.shifts:
            raise BeamtimeInputError(_("beamline %(beamline)s: capacity %(shifts)s and reserved %(reserved)s "
                                       "must be whole numbers with 0 ≤ reserved ≤ capacity",
                                       beamline=line.code, shifts=line.shifts, reserved=line.reserved))
    codes: set[str] = set()
    for proposal in problem.proposals:
        if not proposal.code:
            raise BeamtimeInputError(_("a proposal has no code"))
        if proposal.code in codes:
            raise BeamtimeInputError(_("proposal %(proposal)s is listed twice", proposal=proposal.code))
        codes.add(proposal.code)
        if not math.isfinite(proposal.score) or proposal.score < 0:
            raise BeamtimeInputError(_("proposal %(proposal)s: the score must be a number ≥ 0",
                                       proposal=proposal.code))
        if not proposal.requests:
            raise BeamtimeInputError(_("proposal %(proposal)s asks for no shifts", proposal=proposal.code))
        seen: set[str] = set()
        for request in proposal.requests:
            if request.beamline not in known:
                raise BeamtimeInputError(_("proposal %(proposal)s: unknown beamline %(beamline)s",
                                           proposal=proposal.code, beamline=request.beamline))
            if request.beamline in seen:
                raise BeamtimeInputError(_("proposal %(proposal)s asks for beamline %(beamline)s twice",
                                           proposal=proposal.code, beamline=request.beamline))
            seen.add(request.beamline)
            if request.shifts < 1:
                raise BeamtimeInputError(_("proposal %(proposal)s: shifts on %(beamline)s must be a whole "
                                           "number ≥ 1", proposal=proposal.code, beamline=request.beamline))


# --------------------------------------------------------------------------------------------
# Policies


def _result(problem: AllocationProblem, chosen: Sequence[bool], *, policy: str, bound: float | None,
            seconds: float, status: str) -> AllocationResult:
    accepted, rejected, allocations = [], [], []
    used = {line.code: 0 for line in problem.beamlines}
    total = 0.0
    for proposal, take in zip(problem.proposals, chosen, strict=True):
        if not take:
            rejected.append(proposal.code)
            continue
        accepted.append(proposal.code)
        total += proposal.score
        for request in proposal.requests:
            allocations.append(Allocation(proposal.code, request.beamline, request.shifts))
            used[request.beamline] += request.shifts
    gap = None
    if bound is not None:
        gap = 0.0 if bound <= 0 else max(0.0, (bound - total) / bound)
        if gap < 1e-9:
            gap = 0.0
    return AllocationResult(policy=policy, accepted=tuple(accepted), allocations=tuple(allocations),
                            total_score=total, bound=bound, gap=gap, used=used, seconds=seconds, status=status,
                            rejected=tuple(rejected))


def _fits(proposal: Proposal, total: dict[str, int], general: dict[str, int],
          lines: Mapping[str, Beamline]) -> bool:
    for request in proposal.requests:
        line = lines[request.beamline]
        if total[line.code] + request.shifts > line.shifts:
            return False
        if not proposal.priority and general[line.code] + request.shifts > line.shifts - line.reserved:
            return False
    return True


def allocate_by_rank(problem: AllocationProblem) -> AllocationResult:
    """Greedy by rank: best score first (ties by code), take each proposal that still fits."""
    started = time.perf_counter()
    lines = {line.code: line for line in problem.beamlines}
    total = dict.fromkeys(lines, 0)
    general = dict.fromkeys(lines, 0)
    order = sorted(range(len(problem.proposals)),
                   key=lambda i: (-problem.proposals[i].score, problem.proposals[i].code))
    chosen = [False] * len(problem.proposals)
    for i in order:
        proposal = problem.proposals[i]
        if _fits(proposal, total, general, lines):
            chosen[i] = True
            for request in proposal.requests:
                total[request.beamline] += request.shifts
                if not proposal.priority:
                    general[request.beamline] += request.shifts
    return _result(problem, chosen, policy=POLICY_RANK, bound=None,
                   seconds=time.perf_counter() - started, status="heuristic")


def allocate_optimal(problem: AllocationProblem, *, time_limit: float = DEFAULT_TIME_LIMIT,
                     mip_rel_gap: float = 0.0) -> AllocationResult:
    """The largest total score: the 0/1 integer programme above, solved by HiGHS.

    Proposals that cannot fit on their own (a request above a beamline's usable capacity) are
    fixed at 0 before the solve. Greedy-by-rank's answer is a feasible point, so the result is
    never below it: if HiGHS stops on the time limit with a worse incumbent, greedy's is kept
    and the gap is measured against HiGHS's bound.
    """
    started = time.perf_counter()
    proposals, lines = problem.proposals, problem.beamlines
    n = len(proposals)
    if n == 0:
        return _result(problem, [], policy=POLICY_OPTIMAL, bound=0.0, seconds=time.perf_counter() - started,
                       status="optimal")
    index = {line.code: b for b, line in enumerate(lines)}
    rows, cols, values = [], [], []
    general_rows, general_cols, general_values = [], [], []
    upper = np.ones(n)
    for p, proposal in enumerate(proposals):
        for request in proposal.requests:
            b = index[request.beamline]
            rows.append(b)
            cols.append(p)
            values.append(request.shifts)
            usable = lines[b].shifts if proposal.priority else lines[b].shifts - lines[b].reserved
            if request.shifts > usable:
                upper[p] = 0
            if not proposal.priority:
                general_rows.append(b)
                general_cols.append(p)
                general_values.append(request.shifts)
    m = len(lines)
    capacity = np.array([line.shifts for line in lines], dtype=float)
    general_capacity = np.array([line.shifts - line.reserved for line in lines], dtype=float)
    a_total = sp.csr_array((values, (rows, cols)), shape=(m, n), dtype=float)
    constraints = [LinearConstraint(a_total, -np.inf, capacity)]
    if any(line.reserved for line in lines) and any(p.priority for p in proposals):
        a_general = sp.csr_array((general_values, (general_rows, general_cols)), shape=(m, n), dtype=float)
        constraints.append(LinearConstraint(a_general, -np.inf, general_capacity))
    # With no priority proposal the reserved shifts are simply out of reach of everybody.
    elif any(line.reserved for line in lines):
        constraints = [LinearConstraint(a_total, -np.inf, general_capacity)]
    scores = np.array([p.score for p in proposals], dtype=float)
    solution = milp(-scores, integrality=np.ones(n), bounds=Bounds(np.zeros(n), upper), constraints=constraints,
                    options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_rel_gap),
                             "presolve": True})
    greedy = allocate_by_rank(problem)
    if solution.x is None:
        # No incumbent within the time limit (never seen in practice): greedy's answer, no bound.
        return _result(problem, [c in set(greedy.accepted) for c in (p.code for p in proposals)],
                       policy=POLICY_OPTIMAL, bound=None, seconds=time.perf_counter() - started,
                       status="time_limit")
    chosen = [bool(v > 0.5) for v in solution.x]
    bound = getattr(solution, "mip_dual_bound", None)
    bound = -float(bound) if bound is not None and math.isfinite(bound) else None
    total = float(scores[np.array(chosen, dtype=bool)].sum())
    if greedy.total_score > total + 1e-9:
        accepted = set(greedy.accepted)
        chosen = [p.code in accepted for p in proposals]
        total = greedy.total_score
    if bound is not None:
        bound = max(bound, total)
    status = "optimal" if solution.status == 0 else "time_limit"
    if status == "optimal" and mip_rel_gap == 0.0:
        bound = total  # proven: HiGHS's bound equals the incumbent up to its tolerance
    return _result(problem, chosen, policy=POLICY_OPTIMAL, bound=bound, seconds=time.perf_counter() - started,
                   status=status)


def allocate(problem: AllocationProblem, *, policy: str = POLICY_OPTIMAL,
             time_limit: float = DEFAULT_TIME_LIMIT) -> AllocationResult:
    if policy == POLICY_OPTIMAL:
        return allocate_optimal(problem, time_limit=time_limit)
    if policy == POLICY_RANK:
        return allocate_by_rank(problem)
    raise BeamtimeInputError(_("unknown policy %(policy)s (optimal or rank)", policy=policy))


def compare(problem: AllocationProblem, *, time_limit: float = DEFAULT_TIME_LIMIT) -> Comparison:
    return Comparison(optimal=allocate_optimal(problem, time_limit=time_limit), rank=allocate_by_rank(problem))


def problem_from_rows(proposal_rows: Iterable[tuple[str, str, int, float, bool]],
                      capacity_rows: Iterable[tuple[str, int, int]]) -> AllocationProblem:
    """A problem from ``(proposal, beamline, shifts, score, priority)`` and ``(beamline, shifts, reserved)``."""
    lines = tuple(Beamline(code, shifts, reserved) for code, shifts, reserved in capacity_rows)
    grouped: dict[str, list] = {}
    for code, beamline, shifts, score, priority in proposal_rows:
        grouped.setdefault(code, []).append((beamline, shifts, score, priority))
    proposals = tuple(Proposal(code=code, score=rows[0][2], priority=rows[0][3],
                               requests=tuple(Request(b, s) for b, s, _score, _priority in rows))
                      for code, rows in grouped.items())
    return AllocationProblem(proposals=proposals, beamlines=lines)


# --------------------------------------------------------------------------------------------
# CSV


_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}


def _read_rows(path: str | os.PathLike, label: str, required: Sequence[str], optional: Sequence[str] = ()):
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise BeamtimeInputError(_("%(file)s: no such file", file=label)) from None
    except OSError as error:
        raise BeamtimeInputError(_("%(file)s: cannot read: %(error)s", file=label, error=error.strerror)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BeamtimeInputError(_("%(file)s: not UTF-8 text", file=label)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise BeamtimeInputError(_("%(file)s: empty file, expected the header %(header)s", file=label,
                                   header=",".join(required))) from None
    except csv.Error as error:
        raise BeamtimeInputError(_("%(file)s, row 1: %(error)s", file=label, error=error)) from None
    missing = [name for name in required if name not in header]
    if missing:
        raise BeamtimeInputError(_("%(file)s, row 1: missing column(s) %(columns)s; the header must be %(header)s",
                                   file=label, columns=", ".join(missing), header=",".join(required)))
    positions = {name: header.index(name) for name in (*required, *optional) if name in header}
    try:
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            cells = {name: (row[i].strip() if i < len(row) else "") for name, i in positions.items()}
            yield number, cells
    except csv.Error as error:
        raise BeamtimeInputError(_("%(file)s, row %(row)s: %(error)s", file=label, row=reader.line_num,
                                   error=error)) from None


def _whole(text: str, *, label: str, row: int, column: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number != int(number):
            raise BeamtimeInputError(_("%(file)s, row %(row)s: %(column)s must be a whole number, got '%(value)s'",
                                       file=label, row=row, column=column, value=text[:40])) from None
        value = int(number)
    if value < minimum or value > MAX_SHIFTS:
        raise BeamtimeInputError(_("%(file)s, row %(row)s: %(column)s must be between %(minimum)s and %(maximum)s, "
                                   "got %(value)s", file=label, row=row, column=column, minimum=minimum,
                                   maximum=MAX_SHIFTS, value=value))
    return value


def read_capacity_csv(path: str | os.PathLike, *, label: str | None = None) -> list[tuple[str, int, int]]:
    """``beamline,shifts[,reserved]`` rows as ``(beamline, shifts, reserved)``."""
    label = label or str(path)
    out: list[tuple[str, int, int]] = []
    seen: dict[str, int] = {}
    for row, cells in _read_rows(path, label, ("beamline", "shifts"), ("reserved",)):
        code = cells["beamline"]
        if not code:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: the beamline is empty", file=label, row=row))
        if code in seen:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: beamline %(beamline)s is already on row %(first)s",
                                       file=label, row=row, beamline=code, first=seen[code]))
        seen[code] = row
        shifts = _whole(cells["shifts"], label=label, row=row, column="shifts", minimum=0)
        reserved = _whole(cells.get("reserved", "") or "0", label=label, row=row, column="reserved", minimum=0)
        if reserved > shifts:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: reserved %(reserved)s is more than the %(shifts)s "
                                       "shifts of beamline %(beamline)s", file=label, row=row, reserved=reserved,
                                       shifts=shifts, beamline=code))
        out.append((code, shifts, reserved))
    return out


def read_proposals_csv(path: str | os.PathLike, beamlines: Iterable[str], *,
                       label: str | None = None) -> list[tuple[str, str, int, float, bool]]:
    """``proposal,beamline,shifts,score[,priority]`` rows, checked against the known ``beamlines``."""
    label = label or str(path)
    known = set(beamlines)
    out: list[tuple[str, str, int, float, bool]] = []
    first: dict[str, tuple[int, float, str, bool]] = {}
    pairs: dict[tuple[str, str], int] = {}
    for row, cells in _read_rows(path, label, ("proposal", "beamline", "shifts", "score"), ("priority",)):
        code, beamline = cells["proposal"], cells["beamline"]
        if not code:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: the proposal is empty", file=label, row=row))
        if beamline not in known:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: unknown beamline '%(beamline)s' (not in the capacity "
                                       "file)", file=label, row=row, beamline=beamline[:40]))
        if (code, beamline) in pairs:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: proposal %(proposal)s already asks for %(beamline)s "
                                       "on row %(first)s", file=label, row=row, proposal=code, beamline=beamline,
                                       first=pairs[code, beamline]))
        pairs[code, beamline] = row
        shifts = _whole(cells["shifts"], label=label, row=row, column="shifts", minimum=1)
        try:
            score = float(cells["score"])
        except ValueError:
            score = math.nan
        if not math.isfinite(score) or score < 0:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: score must be a number ≥ 0, got '%(value)s'",
                                       file=label, row=row, value=cells["score"][:40]))
        flag = cells.get("priority", "").lower()
        if flag not in _TRUE | _FALSE:
            raise BeamtimeInputError(_("%(file)s, row %(row)s: priority must be 1 or 0, got '%(value)s'",
                                       file=label, row=row, value=flag[:40]))
        priority = flag in _TRUE
        if code in first:
            first_row, first_score, first_text, first_priority = first[code]
            if score != first_score:
                raise BeamtimeInputError(_("%(file)s, row %(row)s: proposal %(proposal)s has score %(score)s here "
                                           "but %(first_score)s on row %(first)s; a proposal has one score",
                                           file=label, row=row, proposal=code, score=cells["score"],
                                           first_score=first_text, first=first_row))
            if priority != first_priority:
                raise BeamtimeInputError(_("%(file)s, row %(row)s: proposal %(proposal)s has a different priority "
                                           "on row %(first)s", file=label, row=row, proposal=code, first=first_row))
        else:
            first[code] = (row, score, cells["score"], priority)
        out.append((code, beamline, shifts, score, priority))
    return out


def read_problem(proposals_path: str | os.PathLike, capacity_path: str | os.PathLike) -> AllocationProblem:
    capacity = read_capacity_csv(capacity_path)
    rows = read_proposals_csv(proposals_path, (code for code, _shifts, _reserved in capacity))
    return problem_from_rows(rows, capacity)


def allocation_csv(result: AllocationResult) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["proposal", "beamline", "shifts"])
    for item in result.allocations:
        writer.writerow([item.proposal, item.beamline, item.shifts])
    return buffer.getvalue()


def write_allocation_csv(result: AllocationResult, path: str | os.PathLike) -> None:
    """Write ``proposal,beamline,shifts`` atomically (a temporary file renamed into place)."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=".beamtime-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(allocation_csv(result))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# CLI


@contextlib.contextmanager
def native_stdout_silenced():
    """Send what native code prints on file descriptor 1 to /dev/null in this block.

    HiGHS (inside scipy) prints a debugging line from C++ on some instances whatever its display
    option; the CLI's own output must stay clean. Only for command-line use: it changes the
    process-wide descriptor.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """``beamtime allocate --proposals P.csv --capacity C.csv --out A.csv [--policy optimal|rank]``."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(prog="sciencecity beamtime",
                                     description="Facility time (beamtime) allocation from CSV files.")
    sub = parser.add_subparsers(dest="action", required=True)
    command = sub.add_parser("allocate", help="Allocate shifts: best total review score within capacity.")
    command.add_argument("--proposals", required=True, metavar="P.csv", help="proposal,beamline,shifts,score[,priority]")
    command.add_argument("--capacity", required=True, metavar="C.csv", help="beamline,shifts[,reserved]")
    command.add_argument("--out", required=True, metavar="A.csv", help="written: proposal,beamline,shifts")
    command.add_argument("--policy", choices=POLICIES, default=POLICY_OPTIMAL)
    command.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, help="seconds for HiGHS")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        out_dir = Path(args.out).parent
        if not (out_dir if str(out_dir) else Path(".")).is_dir():
            raise BeamtimeInputError(_("%(file)s: the folder does not exist", file=args.out))
        problem = read_problem(args.proposals, args.capacity)
        with native_stdout_silenced():
            comparison = compare(problem, time_limit=args.time_limit)
        result = comparison.optimal if args.policy == POLICY_OPTIMAL else comparison.rank
        write_allocation_csv(result, args.out)
    except BeamtimeInputError as error:
        stderr.write(_("error: %(message)s", message=error) + "\n")
        return BAD_INPUT
    except OSError as error:
        stderr.write(_("error: %(message)s", message=f"{args.out}: {error.strerror}") + "\n")
        return BAD_INPUT
    shifts = sum(item.shifts for item in result.allocations)
    stdout.write(_("policy: %(policy)s", policy=args.policy) + "\n")
    stdout.write(_("accepted: %(accepted)s of %(total)s proposals, %(shifts)s shifts", accepted=len(result.accepted),
                   total=len(problem.proposals), shifts=shifts) + "\n")
    stdout.write(_("total score: %(score)s", score=_number(result.total_score)) + "\n")
    optimal = comparison.optimal
    if args.policy == POLICY_OPTIMAL:
        gap = optimal.gap if optimal.gap is not None else float("nan")
        stdout.write(_("optimality gap: %(gap)s (HiGHS bound %(bound)s, %(status)s)", gap=f"{gap:.4%}",
                       bound=_number(optimal.bound) if optimal.bound is not None else "?",
                       status=optimal.status) + "\n")
        stdout.write(_("greedy by rank: %(score)s (%(gap)s below the optimum)", score=_number(comparison.rank.total_score),
                       gap=f"{comparison.rank_gap:.4%}") + "\n")
    else:
        stdout.write(_("optimality gap: %(gap)s below the optimum %(score)s", gap=f"{comparison.rank_gap:.4%}",
                       score=_number(optimal.total_score)) + "\n")
    stdout.write(_("written: %(file)s", file=args.out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
