"""A small declarative eligibility language over enterprise-profile fields.

A rule is written as text or as a JSON/dict; both parse to the same typed tree, checked against a
field schema (name → ``number`` | ``text`` | ``bool`` | ``date`` | ``certificate``). A rule that
does not parse, names an unknown field or mixes types is refused with a ``RuleError`` naming the
clause (its text and column, or its path in the dict form). Evaluation is three-valued: a clause
over a missing value is *unknown*, and ``and`` / ``or`` / ``not`` follow Kleene logic
(false and unknown = false, true or unknown = true, not unknown = unknown).

Text grammar (keywords are case-insensitive; ``#`` starts a comment)::

    rule      := or
    or        := and ("or" and)*
    and       := not ("and" not)*
    not       := "not" not | compare
    compare   := sum [ CMP sum
                     | "between" sum "and" sum             (inclusive at both ends)
                     | ["not"] "in" "[" literal ("," literal)* "]" ]
    CMP       := ">=" | "<=" | ">" | "<" | "==" | "=" | "!="
    sum       := product (("+" | "-") product)*
    product   := unary (("*" | "/") unary)*
    unary     := "-" unary | primary
    primary   := NUMBER | STRING | "true" | "false" | "today" | FIELD
               | "date" "(" STRING ")"                    (date("2026-01-01"))
               | "min" "(" sum ("," sum)* ")" | "max" "(" … ")" | "abs" "(" sum ")"
               | "has_cert" "(" STRING ["," "on" "=" sum] ")"   (valid on that day; default today)
               | "(" rule ")"

Examples::

    revenue >= 2000 and (staff < 500 or has_cert("hnte", on=today))
    sector in ["电子信息", "新材料"] and not incident
    rd_expense / revenue between 0.03 and 0.2 and registered_on <= today - 365

Types: arithmetic on numbers (a date ± a number of days is a date, a date − a date is days);
``< <= > >= between`` on numbers or dates; ``== !=`` on equal types; ``in`` on a text or number
field with literals of its type; a text field is compared with quoted text only. Division by zero
gives an unknown value. Amount formulas (``min(0.1 * rd_expense, 200)``) are the ``sum`` rule.

Dict form: ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``,
``{"field": "revenue", "op": ">=", "value": 2000}``, ``{"field": "x", "between": [lo, hi]}``,
``{"field": "sector", "in": [...]}`` / ``"not_in"``, ``{"has_cert": "hnte", "on": "today"}``,
``{"field": "is_sme"}`` (a bool field), and ``{"expr": "<text rule>"}`` for anything else.

Records for the per-record evaluator: field → value or None (unknown); dates as ``datetime.date``;
a certificate field → ``(valid_from, valid_until)`` dates or None (no certificate: false, not unknown).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .i18n import _

NUMBER, TEXT, BOOL, DATE, CERTIFICATE = "number", "text", "bool", "date", "certificate"
FIELD_TYPES = (NUMBER, TEXT, BOOL, DATE, CERTIFICATE)
MAX_CLAUSES = 200
ORDER_OPS = (">=", "<=", ">", "<")
EQUALITY_OPS = ("==", "!=")


class RuleError(ValueError):
    """A refused rule: ``where`` (column N, or a dict path) and ``clause`` (its text) say which part."""

    def __init__(self, message: str, where: str = "", clause: str = ""):
        self.message, self.where, self.clause = message, where, clause
        prefix = " ".join(part for part in (where, f"«{clause}»" if clause else "") if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


# --- the tree ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Node:
    """A typed node; ``key`` is its canonical text (equal keys ⇒ equal meaning, shared in evaluation)."""

    kind: str        # num str bool date today field arith neg call compare between in has_cert and or not
    type: str        # number text bool date
    key: str
    args: tuple = ()  # child nodes
    value: Any = None  # literal value, field name, operator, function name, list items …
    where: str = ""
    clause: str = ""

    @property
    def is_leaf_condition(self) -> bool:
        return self.type == BOOL and self.kind not in ("and", "or", "not")


def _wrap(key: str) -> str:
    return key if re.fullmatch(r"[\w.\"'\[\]]+|\w+\(.*\)", key) else f"({key})"


def _literal_text(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(
        int(value) if isinstance(value, float) else value)


class _Builder:
    """Builds typed nodes; every check raises a RuleError naming the clause."""

    def __init__(self, schema: Mapping[str, str]):
        for name, kind in schema.items():
            if kind not in FIELD_TYPES:
                raise ValueError(f"field {name}: unknown type {kind!r}")
        self.schema = schema
        self.clauses = 0

    def fail(self, message: str, where: str, clause: str) -> RuleError:
        return RuleError(message, where, clause)

    def num(self, value: float, where="", clause="") -> Node:
        return Node("num", NUMBER, _literal_text(value), value=float(value), where=where, clause=clause)

    def text(self, value: str, where="", clause="") -> Node:
        return Node("str", TEXT, _literal_text(value), value=value, where=where, clause=clause)

    def boolean(self, value: bool, where="", clause="") -> Node:
        return Node("bool", BOOL, "true" if value else "false", value=value, where=where, clause=clause)

    def date(self, value: str, where="", clause="") -> Node:
        try:
            day = dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise self.fail(_("not a date YYYY-MM-DD: %(value)r", value=value), where, clause) from None
        return Node("date", DATE, f'date("{day.isoformat()}")', value=float(day.toordinal()), where=where,
                    clause=clause)

    def today(self, where="", clause="") -> Node:
        return Node("today", DATE, "today", where=where, clause=clause)

    def field(self, name: str, where="", clause="", *, certificate_ok: bool = False) -> Node:
        if name not in self.schema:
            close = difflib.get_close_matches(name, list(self.schema), n=1)
            message = (_("unknown field %(name)s (did you mean %(close)s?)", name=name, close=close[0]) if close
                       else _("unknown field %(name)s", name=name))
            raise self.fail(message, where, clause)
        kind = self.schema[name]
        if kind == CERTIFICATE and not certificate_ok:
            raise self.fail(_('%(name)s is a certificate: use has_cert("%(name)s")', name=name), where, clause)
        return Node("field", kind, name, value=name, where=where, clause=clause)

    def arith(self, op: str, left: Node, right: Node, where="", clause="") -> Node:
        types = (left.type, right.type)
        if types == (NUMBER, NUMBER):
            result = NUMBER
        elif op in "+-" and types == (DATE, NUMBER):
            result = DATE
        elif op == "+" and types == (NUMBER, DATE):
            result = DATE
        elif op == "-" and types == (DATE, DATE):
            result = NUMBER
        else:
            raise self.fail(_("%(op)s needs numbers (or a date ± days), got %(left)s and %(right)s", op=op,
                                    left=left.type, right=right.type), where, clause)
        return Node("arith", result, f"{_wrap(left.key)} {op} {_wrap(right.key)}", (left, right), op, where, clause)

    def neg(self, operand: Node, where="", clause="") -> Node:
        if operand.type != NUMBER:
            raise self.fail(_("minus needs a number, got %(type)s", type=operand.type), where, clause)
        if operand.kind == "num":
            return self.num(-operand.value, where, clause)
        return Node("neg", NUMBER, f"-{_wrap(operand.key)}", (operand,), where=where, clause=clause)

    def call(self, name: str, args: list[Node], where="", clause="") -> Node:
        if name == "abs" and len(args) != 1:
            raise self.fail(_("abs takes one number"), where, clause)
        if name in ("min", "max") and not args:
            raise self.fail(_("%(name)s needs at least one number", name=name), where, clause)
        for arg in args:
            if arg.type != NUMBER:
                raise self.fail(_("%(name)s needs numbers, got %(type)s", name=name, type=arg.type), where, clause)
        return Node("call", NUMBER, f"{name}({', '.join(a.key for a in args)})", tuple(args), name, where, clause)

    def _count(self, where: str, clause: str) -> None:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise self.fail(_("more than %(count)s clauses", count=MAX_CLAUSES), where, clause)

    def compare(self, op: str, left: Node, right: Node, where="", clause="") -> Node:
        op = "==" if op == "=" else op
        left, right = self._coerce_date(left, right, where, clause), self._coerce_date(right, left, where, clause)
        lt, rt = left.type, right.type
        if {lt, rt} == {TEXT, NUMBER}:
            raise self.fail(_("compares text with a number"), where, clause)
        if lt != rt:
            raise self.fail(_("compares %(left)s with %(right)s", left=lt, right=rt), where, clause)
        if op in ORDER_OPS and lt not in (NUMBER, DATE):
            raise self.fail(_("%(op)s needs numbers or dates, got %(type)s", op=op, type=lt), where, clause)
        if lt == BOOL and not {left.kind, right.kind} <= {"field", "bool"}:
            raise self.fail(_("combine conditions with and / or / not"), where, clause)
        if lt == TEXT and not ({left.kind, right.kind} == {"field", "str"} or left.kind == right.kind == "str"):
            raise self.fail(_("compare a text field with quoted text"), where, clause)
        self._count(where, clause)
        return Node("compare", BOOL, f"{_wrap(left.key)} {op} {_wrap(right.key)}", (left, right), op, where, clause)

    def _coerce_date(self, node: Node, other: Node, where: str, clause: str) -> Node:
        if node.kind == "str" and other.type == DATE:
            return self.date(node.value, where, clause)
        return node

    def between(self, operand: Node, low: Node, high: Node, where="", clause="") -> Node:
        low, high = self._coerce_date(low, operand, where, clause), self._coerce_date(high, operand, where, clause)
        if operand.type not in (NUMBER, DATE):
            raise self.fail(_("between needs a number or a date, got %(type)s", type=operand.type), where, clause)
        for bound in (low, high):
            if bound.type != operand.type:
                what = _("compares text with a number") if TEXT in (bound.type, operand.type) else \
                    _("between bounds must be of type %(type)s, got %(got)s", type=operand.type, got=bound.type)
                raise self.fail(what, where, clause)
        self._count(where, clause)
        return Node("between", BOOL, f"{_wrap(operand.key)} between {_wrap(low.key)} and {_wrap(high.key)}",
                    (operand, low, high), where=where, clause=clause)

    def member(self, operand: Node, items: list[Any], negate: bool, where="", clause="") -> Node:
        if operand.type not in (TEXT, NUMBER):
            raise self.fail(_("in needs a text or number value, got %(type)s", type=operand.type), where, clause)
        if operand.type == TEXT and operand.kind != "field":
            raise self.fail(_("in needs a text field on the left"), where, clause)
        if not items:
            raise self.fail(_("the list is empty"), where, clause)
        for item in items:
            is_number = isinstance(item, int | float) and not isinstance(item, bool)
            if operand.type == NUMBER and not is_number:
                raise self.fail(_("compares text with a number") if isinstance(item, str) else
                                _("list items must be numbers, got %(value)r", value=item), where, clause)
            if operand.type == TEXT and not isinstance(item, str):
                raise self.fail(_("compares text with a number") if is_number else
                                _("list items must be text, got %(value)r", value=item), where, clause)
        values = tuple(float(i) for i in items) if operand.type == NUMBER else tuple(items)
        self._count(where, clause)
        listed = ", ".join(_literal_text(v) for v in values)
        return Node("in", BOOL, f"{_wrap(operand.key)} {'not in' if negate else 'in'} [{listed}]", (operand,),
                    (values, negate), where, clause)

    def has_cert(self, kind: str, on: Node | None, where="", clause="") -> Node:
        if not isinstance(kind, str):
            raise self.fail(_("has_cert needs a certificate name in quotes"), where, clause)
        if kind not in self.schema:
            close = difflib.get_close_matches(kind, [k for k, v in self.schema.items() if v == CERTIFICATE], n=1)
            raise self.fail(_("unknown certificate %(name)s (did you mean %(close)s?)", name=kind, close=close[0])
                            if close else _("unknown certificate %(name)s", name=kind), where, clause)
        if self.schema[kind] != CERTIFICATE:
            raise self.fail(_("%(name)s is a %(type)s field, not a certificate", name=kind, type=self.schema[kind]), where, clause)
        on = self.today(where, clause) if on is None else self._coerce_date(on, self.today(), where, clause)
        if on.type != DATE:
            raise self.fail(_("has_cert on= needs a date, got %(type)s", type=on.type), where, clause)
        self._count(where, clause)
        return Node("has_cert", BOOL, f'has_cert("{kind}", on={on.key})', (on,), kind, where, clause)

    def condition(self, node: Node) -> Node:
        if node.type != BOOL:
            raise self.fail(_("a condition is expected here, got a %(type)s", type=node.type), node.where, node.clause)
        if node.kind == "field":
            self._count(node.where, node.clause)
        return node

    def logic(self, kind: str, items: list[Node], where="", clause="") -> Node:
        items = [self.condition(i) for i in items]
        if kind == "not":
            return Node("not", BOOL, f"not {_wrap(items[0].key)}", (items[0],), where=where, clause=clause)
        if not items:
            raise self.fail(_("%(group)s needs at least one condition", group="all" if kind == "and" else "any"), where, clause)
        if len(items) == 1:
            return items[0]
        flat: list[Node] = []
        for item in items:  # a and (b and c) = a and b and c
            flat.extend(item.args if item.kind == kind else (item,))
        return Node(kind, BOOL, f" {kind} ".join(_wrap(i.key) for i in flat), tuple(flat), where=where, clause=clause)


# --- text syntax -------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[^\W\d]\w*)
  | (?P<op>>=|<=|==|!=|[<>=()\[\],+\-*/])
""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "in", "between", "true", "false", "today"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int


def _tokens(source: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if not match:
            raise RuleError(_("unexpected character %(value)r", value=source[position]),
                            _("column %(column)s", column=position + 1),
                            source[position:position + 10])
        kind = match.lastgroup
        if kind != "space":
            text = match.group()
            if kind == "name" and text.lower() in _KEYWORDS:
                kind, text = "keyword", text.lower()
            tokens.append(_Token(kind, text, match.start(), match.end()))
        position = match.end()
    tokens.append(_Token("end", "", len(source), len(source)))
    return tokens


class _Parser:
    def __init__(self, source: str, builder: _Builder, where_prefix: str = ""):
        self.source, self.b, self.prefix = source, builder, where_prefix
        self.tokens = _tokens(source)
        self.i = 0

    # helpers
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def at(self, text: str) -> bool:
        return self.tok.kind in ("op", "keyword") and self.tok.text == text

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def where(self, start: int) -> str:
        return self.prefix + _("column %(column)s", column=start + 1)

    def span(self, start: int) -> str:
        end = self.tokens[self.i - 1].end if self.i else start
        return self.source[start:end].strip()

    def expect(self, text: str, start: int) -> None:
        if not self.at(text):
            found = repr(self.tok.text) if self.tok.text else _("the end")
            raise RuleError(_("expected %(expected)r, found %(found)s", expected=text, found=found),
                            self.where(self.tok.start),
                            self.source[start:self.tok.end].strip())
        self.take()

    def parse(self) -> Node:
        node = self.or_()
        if self.tok.kind != "end":
            raise RuleError(_("unexpected %(value)r", value=self.tok.text), self.where(self.tok.start),
                            self.source[self.tok.start:].strip()[:40])
        return node

    # grammar
    def or_(self) -> Node:
        start = self.tok.start
        items = [self.and_()]
        while self.at("or"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else self.b.logic("or", items, self.where(start), self.span(start))

    def and_(self) -> Node:
        start = self.tok.start
        items = [self.not_()]
        while self.at("and"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else self.b.logic("and", items, self.where(start), self.span(start))

    def not_(self) -> Node:
        start = self.tok.start
        if self.at("not"):
            self.take()
            operand = self.not_()
            return self.b.logic("not", [operand], self.where(start), self.span(start))
        return self.compare()

    def compare(self) -> Node:
        start = self.tok.start
        left = self.sum()
        if self.tok.kind == "op" and self.tok.text in (*ORDER_OPS, "==", "=", "!="):
            op = self.take().text
            right = self.sum()
            return self.b.compare(op, left, right, self.where(start), self.span(start))
        if self.at("between"):
            self.take()
            low = self.sum()
            self.expect("and", start)
            high = self.sum()
            return self.b.between(left, low, high, self.where(start), self.span(start))
        negate = False
        if self.at("not") and self.tokens[self.i + 1].text == "in":
            self.take()
            negate = True
        if self.at("in"):
            self.take()
            items = self.literal_list(start)
            return self.b.member(left, items, negate, self.where(start), self.span(start))
        return left

    def literal_list(self, start: int) -> list[Any]:
        self.expect("[", start)
        items = []
        while True:
            sign = -1.0 if self.at("-") and self.take() else 1.0
            token = self.take()
            if token.kind == "number":
                items.append(sign * float(token.text))
            elif token.kind == "string" and sign > 0:
                items.append(_unquote(token.text))
            elif token.kind == "keyword" and token.text in ("true", "false"):
                items.append(token.text == "true")
            else:
                raise RuleError(_("a list holds numbers or quoted text"), self.where(token.start),
                                self.source[start:token.end].strip())
            if self.at("]"):
                self.take()
                return items
            self.expect(",", start)

    def sum(self) -> Node:
        start = self.tok.start
        node = self.product()
        while self.tok.kind == "op" and self.tok.text in "+-" and self.tok.text:
            op = self.take().text
            node = self.b.arith(op, node, self.product(), self.where(start), self.span(start))
        return node

    def product(self) -> Node:
        start = self.tok.start
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.take().text
            node = self.b.arith(op, node, self.unary(), self.where(start), self.span(start))
        return node

    def unary(self) -> Node:
        start = self.tok.start
        if self.at("-"):
            self.take()
            operand = self.unary()
            return self.b.neg(operand, self.where(start), self.span(start))
        return self.primary()

    def primary(self) -> Node:
        token = self.tok
        start = token.start
        where = self.where(start)
        if token.kind == "number":
            self.take()
            return self.b.num(float(token.text), where, token.text)
        if token.kind == "string":
            self.take()
            return self.b.text(_unquote(token.text), where, token.text)
        if token.kind == "keyword" and token.text in ("true", "false"):
            self.take()
            return self.b.boolean(token.text == "true", where, token.text)
        if self.at("today"):
            self.take()
            return self.b.today(where, "today")
        if self.at("("):
            self.take()
            node = self.or_()
            self.expect(")", start)
            return node
        if token.kind == "name":
            self.take()
            if self.at("("):
                return self.call(token.text, start)
            return self.b.field(token.text, where, token.text)
        found = repr(token.text) if token.text else _("the end of the rule")
        raise RuleError(_("expected a value or a condition, found %(found)s", found=found), where,
                        self.source[max(0, start - 20):token.end].strip())

    def call(self, name: str, start: int) -> Node:
        self.take()  # (
        where = self.where(start)
        if name == "date":
            token = self.take()
            if token.kind != "string":
                raise RuleError(_('date needs a quoted YYYY-MM-DD, e.g. date("2026-01-01")'), where,
                                self.source[start:token.end])
            self.expect(")", start)
            return self.b.date(_unquote(token.text), where, self.span(start))
        if name == "has_cert":
            token = self.take()
            if token.kind != "string":
                raise RuleError(_('has_cert needs a certificate name in quotes, e.g. has_cert("hnte")'), where,
                                self.source[start:token.end])
            on = None
            if self.at(","):
                self.take()
                key = self.take()
                if key.text != "on":
                    raise RuleError(_("has_cert takes on=DATE"), self.where(key.start), self.source[start:key.end])
                self.expect("=", start)
                on = self.sum()
            self.expect(")", start)
            return self.b.has_cert(_unquote(token.text), on, where, self.span(start))
        if name not in ("min", "max", "abs"):
            raise RuleError(_("unknown function %(name)s", name=name), where, self.source[start:self.tok.end])
        args = [self.sum()]
        while self.at(","):
            self.take()
            args.append(self.sum())
        self.expect(")", start)
        return self.b.call(name, args, where, self.span(start))


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse_rule(source: str, schema: Mapping[str, str]) -> Node:
    """A condition in the text syntax, checked against ``schema``; raises ``RuleError``."""
    if not isinstance(source, str) or not source.strip():
        raise RuleError(_("the rule is empty"))
    builder = _Builder(schema)
    return builder.condition(_Parser(source, builder).parse())


def parse_amount(source: str, schema: Mapping[str, str]) -> Node:
    """An amount formula (a number expression), e.g. ``min(0.1 * rd_expense, 200)``."""
    if not isinstance(source, str) or not source.strip():
        raise RuleError(_("the formula is empty"))
    node = _Parser(source, _Builder(schema)).parse()
    if node.type != NUMBER:
        raise RuleError(_("an amount must be a number, got a %(type)s", type=node.type), node.where, node.clause)
    return node


# --- dict form ---------------------------------------------------------------------------------

def rule_from_dict(data: Any, schema: Mapping[str, str]) -> Node:
    """A condition in the dict/JSON form; errors name the clause by its path (``all[2].any[0]``)."""
    builder = _Builder(schema)
    return builder.condition(_from_dict(data, builder, "rule"))


def _from_dict(data: Any, b: _Builder, path: str) -> Node:
    clause = _short(data)
    if not isinstance(data, dict):
        raise RuleError(_('expected an object such as {"field": …, "op": …, "value": …}'), path, clause)
    keys = set(data)
    for group, kind in (("all", "and"), ("any", "or")):
        if group in data:
            if keys != {group} or not isinstance(data[group], list):
                raise RuleError(_("%(group)s takes a list of conditions and nothing else", group=group), path, clause)
            items = [_from_dict(item, b, f"{path}.{group}[{i}]") for i, item in enumerate(data[group])]
            return b.logic(kind, items, path, clause)
    if "not" in data:
        if keys != {"not"}:
            raise RuleError(_("not takes one condition and nothing else"), path, clause)
        return b.logic("not", [_from_dict(data["not"], b, f"{path}.not")], path, clause)
    if "expr" in data:
        if keys != {"expr"} or not isinstance(data["expr"], str):
            raise RuleError(_("expr takes a rule in the text syntax"), path, clause)
        return b.condition(_Parser(data["expr"], b, where_prefix=f"{path}.expr ").parse())
    if "has_cert" in data:
        if not keys <= {"has_cert", "on"}:
            raise RuleError(_("has_cert takes on only"), path, clause)
        on = data.get("on", "today")
        on_node = b.today(path, clause) if on == "today" else b.date(on, path, clause)
        return b.has_cert(data["has_cert"], on_node, path, clause)
    if "field" in data:
        if not isinstance(data["field"], str):
            raise RuleError(_("field takes a field name"), path, clause)
        field = b.field(data["field"], path, clause)
        rest = keys - {"field"}
        if not rest:
            return b.condition(field)
        if rest == {"op", "value"}:
            op = data["op"]
            if op not in (*ORDER_OPS, "==", "=", "!="):
                raise RuleError(_("unknown operator %(value)r", value=op), path, clause)
            return b.compare(op, field, _literal(data["value"], b, path, clause), path, clause)
        if rest == {"between"}:
            bounds = data["between"]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise RuleError(_("between takes [low, high]"), path, clause)
            return b.between(field, _literal(bounds[0], b, path, clause), _literal(bounds[1], b, path, clause),
                             path, clause)
        if rest in ({"in"}, {"not_in"}):
            name = rest.pop()
            if not isinstance(data[name], list):
                raise RuleError(_("%(name)s takes a list", name=name), path, clause)
            return b.member(field, data[name], name == "not_in", path, clause)
        raise RuleError(_("unexpected keys %(keys)s: use op/value, between, in or not_in", keys=sorted(rest)),
                    path, clause)
    raise RuleError(_("unknown clause keys %(keys)s", keys=sorted(keys)), path, clause)


def _literal(value: Any, b: _Builder, path: str, clause: str) -> Node:
    if isinstance(value, bool):
        return b.boolean(value, path, clause)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise RuleError(_("numbers must be finite"), path, clause)
        return b.num(value, path, clause)
    if isinstance(value, str):
        return b.today(path, clause) if value == "today" else b.text(value, path, clause)
    raise RuleError(_("a value must be a number, text or true/false, got %(value)r", value=value), path, clause)


def _short(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 80 else text[:77] + "..."


def to_text(node: Node) -> str:
    return node.key


def to_dict(node: Node) -> dict:
    if node.kind == "and":
        return {"all": [to_dict(a) for a in node.args]}
    if node.kind == "or":
        return {"any": [to_dict(a) for a in node.args]}
    if node.kind == "not":
        return {"not": to_dict(node.args[0])}
    return {"expr": node.key}


def conditions(node: Node) -> list[Node]:
    """The leaf clauses (comparisons, ranges, memberships, certificates, bool fields) in order."""
    if node.kind in ("and", "or", "not"):
        return [leaf for arg in node.args for leaf in conditions(arg)]
    return [node]


# --- the per-record reference evaluator --------------------------------------------------------

Truth = bool | None


def value_of(node: Node, record: Mapping[str, Any], today: dt.date) -> Any:
    """A value for one record (numbers and dates as floats, the date as its ordinal; None = unknown)."""
    kind = node.kind
    if kind in ("num", "str", "bool", "date"):
        return node.value
    if kind == "today":
        return float(today.toordinal())
    if kind == "field":
        raw = record.get(node.value)
        if raw is None:
            return None
        if node.type == DATE:
            return float(raw.toordinal())
        if node.type == NUMBER:
            raw = float(raw)
            return None if math.isnan(raw) else raw
        return raw
    if kind == "neg":
        v = value_of(node.args[0], record, today)
        return None if v is None else -v
    if kind == "arith":
        a, b = (value_of(arg, record, today) for arg in node.args)
        if a is None or b is None:
            return None
        op = node.value
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return None if b == 0 else a / b
    if kind == "call":
        values = [value_of(arg, record, today) for arg in node.args]
        if any(v is None for v in values):
            return None
        if node.value == "abs":
            return abs(values[0])
        return min(values) if node.value == "min" else max(values)
    if node.type == BOOL:
        return evaluate(node, record, today)
    raise AssertionError(kind)


def evaluate(node: Node, record: Mapping[str, Any], today: dt.date) -> Truth:
    """True, False or None (unknown) for one record, in three-valued logic."""
    kind = node.kind
    if kind == "and":
        results = [evaluate(a, record, today) for a in node.args]
        return False if False in results else (None if None in results else True)
    if kind == "or":
        results = [evaluate(a, record, today) for a in node.args]
        return True if True in results else (None if None in results else False)
    if kind == "not":
        result = evaluate(node.args[0], record, today)
        return None if result is None else not result
    if kind == "bool":
        return node.value
    if kind == "field":
        raw = record.get(node.value)
        return None if raw is None else bool(raw)
    if kind == "compare":
        a, b = (value_of(arg, record, today) for arg in node.args)
        if a is None or b is None:
            return None
        return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "==": a == b, "!=": a != b}[node.value]
    if kind == "between":
        x, low, high = (value_of(arg, record, today) for arg in node.args)
        if x is None or low is None or high is None:
            return None
        return low <= x <= high
    if kind == "in":
        x = value_of(node.args[0], record, today)
        if x is None:
            return None
        items, negate = node.value
        return (x in items) != negate
    if kind == "has_cert":
        on = value_of(node.args[0], record, today)
        if on is None:
            return None
        held = record.get(node.value)
        if not held:
            return False
        start, until = held
        return start.toordinal() <= on <= until.toordinal()
    raise AssertionError(kind)


@dataclass(frozen=True)
class Unmet:
    """A clause standing between a record and the rule: ``status`` false or unknown; ``gap`` is the
    change of its left-hand value that would meet it (numbers and dates only, in days for dates)."""

    clause: str
    status: str
    gap: float | None = None


def unmet_count(node: Node, record: Mapping[str, Any], today: dt.date, want: bool = True) -> int:
    """The fewest leaf clauses whose truth must change for the rule to be ``want``."""
    if node.kind == "and":
        costs = [unmet_count(a, record, today, want) for a in node.args]
        return sum(costs) if want else min(costs)
    if node.kind == "or":
        costs = [unmet_count(a, record, today, want) for a in node.args]
        return min(costs) if want else sum(costs)
    if node.kind == "not":
        return unmet_count(node.args[0], record, today, not want)
    return 0 if evaluate(node, record, today) is want else 1


def explain(node: Node, record: Mapping[str, Any], today: dt.date, want: bool = True) -> list[Unmet]:
    """The clauses of one fewest-changes path to making the rule ``want`` (empty when it already is)."""
    if node.kind in ("and", "or"):
        every = (node.kind == "and") == want
        if every:
            return [u for a in node.args for u in explain(a, record, today, want)]
        best = min(node.args, key=lambda a: unmet_count(a, record, today, want))
        return explain(best, record, today, want)
    if node.kind == "not":
        return explain(node.args[0], record, today, not want)
    result = evaluate(node, record, today)
    if result is want:
        return []
    status = "unknown" if result is None else "false"
    return [Unmet(node.key, status, _gap(node, record, today) if want and result is False else None)]


def _gap(node: Node, record: Mapping[str, Any], today: dt.date) -> float | None:
    if node.kind == "compare" and node.args[0].type in (NUMBER, DATE):
        a, b = (value_of(arg, record, today) for arg in node.args)
        if node.value in (">=", "<=", "=="):
            return b - a
        if node.value in (">", "<"):
            return b - a  # strictly beyond: at least this change
        return None
    if node.kind == "between":
        x, low, high = (value_of(arg, record, today) for arg in node.args)
        return low - x if x < low else high - x
    return None
