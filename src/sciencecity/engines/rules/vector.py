"""All rules over all entities in one columnar pass (numpy), in three-valued logic.

The profile is a ``Table`` of columns: numbers and dates as float64 (NaN = unknown; dates as
day ordinals), text as int32 codes into a vocabulary (-1 = unknown), bools as int8 (-1 unknown),
a certificate as two float64 columns (valid from / until; NaN = none held). Each rule compiles
to array operations over whole columns, never a loop over entities. Truth values are uint8:
0 false, 1 unknown, 2 true, so ``and`` is ``minimum``, ``or`` is ``maximum`` and ``not`` is
``2 − x`` (Kleene logic, the same as ``lang.evaluate``).

Identical sub-expressions are computed once across all rules (nodes are keyed by their canonical
text), and each shared array is dropped as soon as its last user is done, so memory stays at the
live set, not at every clause of every rule.

For every (entity, rule) the result holds the truth value and the fewest clauses that must
change for it to hold (0 when eligible): "nearly eligible" is 1..k. Which clauses, and the gap
of each, are explained on demand for the pairs asked about (``lang.explain`` on one record).
Amount formulas are compiled the same way and kept only for eligible pairs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import lang
from .lang import BOOL, CERTIFICATE, DATE, NUMBER, TEXT, Node

FALSE, UNKNOWN, TRUE = 0, 1, 2


@dataclass
class Table:
    """Columns of ``n`` entities under a schema (see the module docstring for the encodings)."""

    n: int
    schema: Mapping[str, str]
    columns: dict[str, np.ndarray]
    vocabulary: dict[str, dict[str, int]]

    @classmethod
    def from_records(cls, records: Sequence[Mapping], schema: Mapping[str, str]) -> Table:
        n = len(records)
        columns: dict[str, np.ndarray] = {}
        vocabulary: dict[str, dict[str, int]] = {}
        for name, kind in schema.items():
            values = [r.get(name) for r in records]
            if kind == NUMBER:
                columns[name] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
            elif kind == DATE:
                columns[name] = np.array([np.nan if v is None else float(v.toordinal()) for v in values])
            elif kind == BOOL:
                columns[name] = np.array([-1 if v is None else int(bool(v)) for v in values], dtype=np.int8)
            elif kind == TEXT:
                vocab: dict[str, int] = {}
                columns[name] = np.array([-1 if v is None else vocab.setdefault(v, len(vocab)) for v in values],
                                         dtype=np.int32)
                vocabulary[name] = vocab
            elif kind == CERTIFICATE:
                columns[name + ":from"] = np.array([np.nan if not v else float(v[0].toordinal()) for v in values])
                columns[name + ":until"] = np.array([np.nan if not v else float(v[1].toordinal()) for v in values])
        return cls(n=n, schema=schema, columns=columns, vocabulary=vocabulary)

    def replace_rows(self, keep: Sequence[int], records: Sequence[Mapping]) -> Table:
        """A new table: the rows ``keep`` of this one (in that order), then ``records`` appended.

        The incremental update of a cached table: only the changed entities are turned into records
        again. Text codes of the appended rows are re-coded into (a copy of) this table's vocabulary."""
        added = Table.from_records(records, self.schema)
        rows = np.asarray(keep, dtype=np.int64)
        vocabulary = {name: dict(codes) for name, codes in self.vocabulary.items()}
        columns: dict[str, np.ndarray] = {}
        for name, column in self.columns.items():
            extra = added.columns[name]
            if name in vocabulary:
                vocab = vocabulary[name]
                inverse = {code: text for text, code in added.vocabulary[name].items()}
                extra = np.array([-1 if code < 0 else vocab.setdefault(inverse[code], len(vocab))
                                  for code in extra.tolist()], dtype=column.dtype)
            columns[name] = np.concatenate([column[rows], extra])
        return Table(n=len(rows) + added.n, schema=self.schema, columns=columns, vocabulary=vocabulary)

    def record(self, index: int) -> dict:
        """Entity ``index`` as a per-record dict (the input of ``lang.evaluate`` / ``lang.explain``)."""
        record: dict = {}
        for name, kind in self.schema.items():
            if kind == CERTIFICATE:
                start, until = self.columns[name + ":from"][index], self.columns[name + ":until"][index]
                record[name] = None if np.isnan(start) or np.isnan(until) else (
                    dt.date.fromordinal(int(start)), dt.date.fromordinal(int(until)))
                continue
            value = self.columns[name][index]
            if kind == NUMBER:
                record[name] = None if np.isnan(value) else float(value)
            elif kind == DATE:
                record[name] = None if np.isnan(value) else dt.date.fromordinal(int(value))
            elif kind == BOOL:
                record[name] = None if value < 0 else bool(value)
            else:
                inverse = {code: text for text, code in self.vocabulary.get(name, {}).items()}
                record[name] = inverse.get(int(value))
        return record


@dataclass(frozen=True)
class Policy:
    """A compiled rule: its id, condition and optional amount formula (typed trees of ``lang``)."""

    id: str
    condition: Node
    amount: Node | None = None
    original: Node | None = None  # the condition before text literals were encoded for a table

    @property
    def source(self) -> Node:
        return self.original or self.condition


def compile_policy(policy_id: str, condition: str | dict, schema: Mapping[str, str], amount: str | None = None) -> Policy:
    node = lang.parse_rule(condition, schema) if isinstance(condition, str) else lang.rule_from_dict(condition, schema)
    return Policy(policy_id, node, lang.parse_amount(amount, schema) if amount else None)


@dataclass(frozen=True)
class EligiblePolicy:
    policy: str
    amount: float | None  # None: no formula, or a value it needs is unknown


@dataclass(frozen=True)
class NearPolicy:
    policy: str
    unmet: tuple[lang.Unmet, ...]  # the clauses to meet (false or unknown), with their gaps


@dataclass(frozen=True)
class EntityMatches:
    """One enterprise's page: the policies it is eligible for, and those it nearly is."""

    eligible: tuple[EligiblePolicy, ...]
    nearly: tuple[NearPolicy, ...]


@dataclass
class Evaluation:
    """Results of ``evaluate_all``. ``truth`` and ``unmet`` are (rules × entities) uint8 arrays."""

    policies: list[Policy]
    truth: np.ndarray
    unmet: np.ndarray
    amounts: list[tuple[np.ndarray, np.ndarray]]  # per rule: (eligible entity indices, amounts; NaN unknown)

    def eligible(self, rule: int) -> np.ndarray:
        """Entity indices for which rule ``rule`` holds (the 免申即享 list)."""
        return np.flatnonzero(self.truth[rule] == TRUE)

    def eligible_rules(self, entity: int) -> np.ndarray:
        return np.flatnonzero(self.truth[:, entity] == TRUE)

    def nearly_eligible_rules(self, entity: int, max_unmet: int = 1) -> np.ndarray:
        column = self.unmet[:, entity]
        return np.flatnonzero((column >= 1) & (column <= max_unmet))

    def explain(self, table: Table, entity: int, rule: int, today: dt.date) -> list[lang.Unmet]:
        """The clauses entity ``entity`` misses for rule ``rule`` (fewest first path), with their gaps."""
        return lang.explain(self.policies[rule].source, table.record(entity), today)

    def for_entity(self, table: Table, entity: int, today: dt.date, *, max_unmet: int = 1) -> EntityMatches:
        """Eligible policies (highest amount first) and nearly-eligible ones (fewest unmet first)."""
        eligible = [EligiblePolicy(self.policies[r].id, self.amount(int(r), entity)) for r in self.eligible_rules(entity)]
        eligible.sort(key=lambda e: -(e.amount if e.amount is not None else -np.inf))
        near = sorted(self.nearly_eligible_rules(entity, max_unmet).tolist(), key=lambda r: self.unmet[r, entity])
        record = table.record(entity)
        nearly = [NearPolicy(self.policies[r].id, tuple(lang.explain(self.policies[r].source, record, today)))
                  for r in near]
        return EntityMatches(tuple(eligible), tuple(nearly))

    def amount(self, rule: int, entity: int) -> float | None:
        indices, values = self.amounts[rule]
        at = np.searchsorted(indices, entity)
        if at < len(indices) and indices[at] == entity:
            value = float(values[at])
            return None if np.isnan(value) else value
        return None


class _Evaluator:
    def __init__(self, table: Table, today: dt.date):
        self.t = table
        self.today = float(today.toordinal())
        self.cache: dict[tuple[str, str], object] = {}
        self.uses: Counter = Counter()
        self.unknown_masks: dict[str, np.ndarray | None] = {}

    # reference counting over the DAG of unique nodes, per wanted output (value / truth / cost)
    def plan(self, roots: list[tuple[Node, str]]) -> None:
        seen = set()

        def visit(node: Node, what: str) -> None:
            key = (node.key, what)
            if key in seen:
                return
            seen.add(key)
            for child, child_what in self._children(node, what):
                self.uses[(child.key, child_what)] += 1
                visit(child, child_what)

        for node, what in roots:
            self.uses[(node.key, what)] += 1
            visit(node, what)

    def _children(self, node: Node, what: str) -> list[tuple[Node, str]]:
        if what == "ct" or what == "cf":
            if node.kind in ("and", "or"):
                return [(a, what) for a in node.args]
            if node.kind == "not":
                return [(node.args[0], "cf" if what == "ct" else "ct")]
            return [(node, "truth")]
        if what == "truth":
            if node.kind in ("and", "or", "not"):
                return [(a, "truth") for a in node.args]
            if node.kind == "field":
                return []
            return [(a, "value") for a in node.args]
        if node.kind in ("arith", "neg", "call"):
            return [(a, "value") for a in node.args]
        return []

    def get(self, node: Node, what: str):
        key = (node.key, what)
        if key in self.cache:
            result = self.cache[key]
        else:
            result = getattr(self, "_" + what)(node)
            if isinstance(result, np.ndarray) and result.ndim == 0:
                result = result.item()
            self.cache[key] = result
        self.uses[key] -= 1
        if self.uses[key] <= 0:
            del self.cache[key]
        return result

    # values: float64 arrays or python scalars (literals broadcast)
    def _value(self, node: Node):
        kind = node.kind
        if kind in ("num", "date"):
            return node.value
        if kind == "str":
            return node.value
        if kind == "bool":
            return node.value
        if kind == "today":
            return self.today
        if kind == "field":
            return self.t.columns[node.value]
        if kind == "neg":
            return -self.get(node.args[0], "value")
        if kind == "arith":
            a, b = self.get(node.args[0], "value"), self.get(node.args[1], "value")
            op = node.value
            if op == "+":
                return np.add(a, b)
            if op == "-":
                return np.subtract(a, b)
            if op == "*":
                return np.multiply(a, b)
            if np.isscalar(b):
                return np.nan if b == 0 else np.divide(a, b)
            shape = np.broadcast_shapes(np.shape(a), np.shape(b))
            out = np.full(shape, np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 → unknown
                return np.divide(a, b, out=out, where=np.not_equal(b, 0))
        if kind == "call":
            values = [self.get(a, "value") for a in node.args]
            if node.value == "abs":
                return np.abs(values[0])
            result = values[0]
            for v in values[1:]:
                result = (np.minimum if node.value == "min" else np.maximum)(result, v)
            return result
        raise AssertionError(kind)

    def _unknown(self, node: Node, value) -> np.ndarray | None:
        """Where ``value`` (of ``node``) is unknown, or None when nowhere (or a literal)."""
        if isinstance(value, float) and np.isnan(value):
            return np.ones(self.t.n, dtype=bool)
        if np.isscalar(value) or value is None:
            return None
        if node.kind == "field":
            if node.value not in self.unknown_masks:
                column = self.t.columns[node.value]
                mask = column < 0 if node.type in (TEXT, BOOL) else np.isnan(column)
                self.unknown_masks[node.value] = mask if mask.any() else None
            return self.unknown_masks[node.value]
        mask = np.isnan(value)
        return mask if mask.any() else None

    def _tri(self, holds, unknowns: list[np.ndarray | None]) -> np.ndarray:
        """0/2 from a bool array, 1 where any operand is unknown: 2 × (holds ∧ ¬unknown) + unknown,
        in byte-wise additions (a shift or a masked assignment is an order of magnitude slower)."""
        if not (isinstance(holds, np.ndarray) and holds.shape == (self.t.n,)):
            holds = np.full(self.t.n, bool(holds))
        masks = [u for u in unknowns if u is not None]
        if not masks:
            v = holds.view(np.uint8)
            return v + v
        mask = masks[0] if len(masks) == 1 else np.logical_or.reduce(masks)
        v = (holds & ~mask).view(np.uint8)
        truth = v + v
        truth += mask.view(np.uint8)
        return truth

    def _truth(self, node: Node) -> np.ndarray:
        kind = node.kind
        if kind in ("and", "or"):
            combine = np.minimum if kind == "and" else np.maximum
            result = self.get(node.args[0], "truth").copy()
            for arg in node.args[1:]:
                combine(result, self.get(arg, "truth"), out=result)
            return result
        if kind == "not":
            return np.uint8(2) - self.get(node.args[0], "truth")
        if kind == "bool":
            return np.full(self.t.n, TRUE if node.value else FALSE, dtype=np.uint8)
        if kind == "field":  # a bool field
            column = self.t.columns[node.value]
            return self._tri(column == 1, [self._unknown(node, column)])
        if kind == "compare":
            left, right = node.args
            a, b = self.get(left, "value"), self.get(right, "value")
            holds = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less,
                     "==": np.equal, "!=": np.not_equal}[node.value](a, b)
            return self._tri(holds, [self._unknown(left, a), self._unknown(right, b)])
        if kind == "between":
            x, low, high = (self.get(a, "value") for a in node.args)
            holds = (np.greater_equal(x, low)) & (np.less_equal(x, high))
            return self._tri(holds, [self._unknown(a, v) for a, v in zip(node.args, (x, low, high), strict=True)])
        if kind == "in":
            operand = node.args[0]
            x = self.get(operand, "value")
            items, negate = node.value
            if operand.type == TEXT:
                # a lookup table over the codes; code -1 (unknown) reads the extra last slot
                vocab = self.t.vocabulary.get(operand.value, {})
                table = np.zeros(len(vocab) + 1, dtype=bool)
                table[[vocab[i] for i in items if i in vocab]] = True
                holds = table[x]
            else:
                holds = np.zeros(self.t.n, dtype=bool)
                for item in items:
                    holds |= x == item
            if negate:
                holds = ~holds
            return self._tri(holds, [self._unknown(operand, x)])
        if kind == "has_cert":
            on = self.get(node.args[0], "value")
            start, until = self.t.columns[node.value + ":from"], self.t.columns[node.value + ":until"]
            holds = np.less_equal(start, on) & np.less_equal(on, until)  # NaN (none held) → false
            return self._tri(holds, [self._unknown(node.args[0], on)])
        raise AssertionError(kind)

    # fewest clauses to change: to make true (ct) / false (cf)
    def _ct(self, node: Node) -> np.ndarray:
        return self._cost(node, "ct")

    def _cf(self, node: Node) -> np.ndarray:
        return self._cost(node, "cf")

    def _cost(self, node: Node, what: str) -> np.ndarray:
        kind = node.kind
        if kind in ("and", "or"):
            summing = (kind == "and") == (what == "ct")
            result = self.get(node.args[0], what).copy()
            for arg in node.args[1:]:
                child = self.get(arg, what)
                if summing:
                    np.add(result, child, out=result)
                else:
                    np.minimum(result, child, out=result)
            return result
        if kind == "not":
            return self.get(node.args[0], "cf" if what == "ct" else "ct")
        truth = self.get(node, "truth")
        return (truth != (TRUE if what == "ct" else FALSE)).view(np.uint8)


def evaluate_all(policies: Sequence[Policy], table: Table, today: dt.date, *, costs: bool = True) -> Evaluation:
    """Every policy for every entity of ``table``: truth, fewest unmet clauses, amounts if eligible."""
    policies = [_encode_text(p, table) for p in policies]
    ev = _Evaluator(table, today)
    wanted = [(p.condition, "truth") for p in policies]
    if costs:
        wanted += [(p.condition, "ct") for p in policies]
    wanted += [(p.amount, "value") for p in policies if p.amount is not None]
    ev.plan(wanted)
    r = len(policies)
    truth = np.empty((r, table.n), dtype=np.uint8)
    unmet = np.zeros((r, table.n), dtype=np.uint8)
    amounts = []
    for i, policy in enumerate(policies):
        truth[i] = ev.get(policy.condition, "truth")
        if costs:
            unmet[i] = ev.get(policy.condition, "ct")
        eligible = np.flatnonzero(truth[i] == TRUE)
        if policy.amount is not None:
            value = ev.get(policy.amount, "value")
            value = np.broadcast_to(np.asarray(value, dtype=np.float64), (table.n,))
            amounts.append((eligible, value[eligible].copy()))
        else:
            amounts.append((eligible, np.full(len(eligible), np.nan)))
    return Evaluation(policies=list(policies), truth=truth, unmet=unmet, amounts=amounts)


def _encode_text(policy: Policy, table: Table) -> Policy:
    """Replace each quoted text compared with a text field by its code (-2 when the column never
    holds it), so that text comparisons run on int32 codes."""

    def encode(node: Node) -> Node:
        if node.kind == "compare" and node.args[0].type == TEXT:
            left, right = node.args
            if "field" not in (left.kind, right.kind):
                return node  # two quoted texts: compared as they are
            field = left if left.kind == "field" else right
            vocab = table.vocabulary.get(field.value, {})
            args = tuple(
                Node("num", NUMBER, f"code:{field.value}:{a.key}", value=float(vocab.get(a.value, -2)))
                if a.kind == "str" else a for a in (left, right))
            return Node("compare", BOOL, node.key, args, node.value, node.where, node.clause)
        if node.kind in ("and", "or", "not"):
            return Node(node.kind, node.type, node.key, tuple(encode(a) for a in node.args), node.value,
                        node.where, node.clause)
        return node

    return Policy(policy.id, encode(policy.source), policy.amount, policy.source)


@dataclass(frozen=True)
class Preview:
    """How many entities one rule would reach (the policy editor's live count)."""

    eligible: int
    unknown: int
    nearly: int


def preview(policy: Policy, table: Table, today: dt.date, *, max_unmet: int = 1) -> Preview:
    result = evaluate_all([policy], table, today)
    unmet = result.unmet[0]
    return Preview(eligible=int((result.truth[0] == TRUE).sum()), unknown=int((result.truth[0] == UNKNOWN).sum()),
                   nearly=int(((unmet >= 1) & (unmet <= max_unmet)).sum()))


def records_evaluation(policies: Sequence[Policy], records: Sequence[Mapping], today: dt.date) -> tuple[
        np.ndarray, np.ndarray, list[list[float | None]]]:
    """The plain per-entity loop (``lang.evaluate``), for tests and the benchmark's baseline:
    (truth, unmet, amounts of eligible pairs in entity order) shaped like ``evaluate_all``'s."""
    truth = np.empty((len(policies), len(records)), dtype=np.uint8)
    unmet = np.zeros((len(policies), len(records)), dtype=np.uint8)
    amounts: list[list[float | None]] = [[] for _ in policies]
    for j, record in enumerate(records):
        for i, policy in enumerate(policies):
            result = lang.evaluate(policy.condition, record, today)
            truth[i, j] = UNKNOWN if result is None else (TRUE if result else FALSE)
            unmet[i, j] = lang.unmet_count(policy.condition, record, today)
            if result is True:
                amounts[i].append(lang.value_of(policy.amount, record, today) if policy.amount else None)
    return truth, unmet, amounts
