"""Consistency checks over a parsed plan; each problem becomes a Warning with a stable code.

Codes:
``target_below_baseline`` / ``target_above_baseline``  a target that is worse than the latest
    baseline read from the text (direction-aware);
``commitment_conflicts_with_table``  a text commitment linked to a table indicator disagrees
    with the table's target;
``chapter_numbering`` / ``section_numbering`` / ``task_numbering`` / ``box_numbering`` /
``indicator_numbering``  gaps, repeats or disorder in a numbering sequence;
``indicator_target_not_numeric``, ``indicator_target_year_missing``;
``table_referenced_missing``  the text refers to 表N but no such table was read;
``no_chapters``  no heading system was recognised.
(``table_image_only``, ``box_image_only``, ``box_empty``, ``table_unrecognised`` and
``table_empty`` are raised by the tree builder.)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .indicators import convert, units_compatible
from .model import Indicator, PlanDocument, Warning

if TYPE_CHECKING:
    from .boxes import Caption

_EPSILON = 1e-9


def run_checks(doc: PlanDocument, captions: list[Caption]) -> None:
    _check_structure(doc)
    _check_numbering(doc)
    _check_indicators(doc)
    _check_baselines(doc)
    _check_commitments(doc)
    _check_table_references(doc, captions)


def _warn(doc: PlanDocument, code: str, message: str, line: int | None, location: str = "") -> None:
    doc.warnings.append(Warning(code, message, line, location))


def _check_structure(doc: PlanDocument) -> None:
    if not doc.chapters:
        _warn(doc, "no_chapters", "no chapter headings (一、 / 第X章) were recognised", None)


def _sequence_problem(numbers: list[int | None]) -> str:
    values = [n for n in numbers if n is not None]
    if not values:
        return ""
    expected = list(range(values[0], values[0] + len(values)))
    if values == expected:
        return ""
    return "expected " + "、".join(map(str, expected)) + ", found " + "、".join(map(str, values))


def _check_numbering(doc: PlanDocument) -> None:
    problem = _sequence_problem([c.number for c in doc.chapters])
    if problem:
        _warn(
            doc,
            "chapter_numbering",
            f"chapter numbering: {problem}",
            doc.chapters[0].line,
            doc.chapters[0].location,
        )
    for chapter in doc.chapters:
        problem = _sequence_problem([s.number for s in chapter.sections])
        if problem:
            _warn(
                doc,
                "section_numbering",
                f"chapter {chapter.label} {chapter.title}: section numbering: {problem}",
                chapter.line,
                chapter.location,
            )
        for owner, tasks in [(chapter.title, chapter.tasks)] + [(s.title, s.tasks) for s in chapter.sections]:
            problem = _sequence_problem([t.number for t in tasks])
            if problem:
                _warn(
                    doc,
                    "task_numbering",
                    f"{owner}: task numbering: {problem}",
                    tasks[0].line,
                    tasks[0].location,
                )
    numbered = [b for b in doc.boxes if b.number is not None]
    problem = _sequence_problem([b.number for b in numbered])
    if problem:
        _warn(doc, "box_numbering", f"专栏 numbering: {problem}", numbered[0].line, numbered[0].location)
    by_table: dict[int | None, list[Indicator]] = {}
    for indicator in doc.indicators:
        by_table.setdefault(indicator.table_number, []).append(indicator)
    for table_number, indicators in by_table.items():
        problem = _sequence_problem([i.number for i in indicators])
        if problem and len({i.number for i in indicators}) != len(indicators):
            _warn(
                doc,
                "indicator_numbering",
                f"表{table_number}: indicator numbering: {problem}",
                indicators[0].line,
                indicators[0].location,
            )


def _check_indicators(doc: PlanDocument) -> None:
    for indicator in doc.indicators:
        if (
            indicator.target_text
            and indicator.target_value is None
            and indicator.target_low is None
            and not indicator.qualitative
        ):
            _warn(
                doc,
                "indicator_target_not_numeric",
                f"indicator {indicator.number} {indicator.name}: target “{indicator.target_text}” is not a number",
                indicator.line,
                indicator.location,
            )
        if indicator.target_year is None:
            _warn(
                doc,
                "indicator_target_year_missing",
                f"indicator {indicator.number} {indicator.name}: no target year in the table header",
                indicator.line,
                indicator.location,
            )


def _target_bound(indicator: Indicator) -> float | None:
    """The most favourable value the target allows (so only a clearly worse target is flagged)."""
    if indicator.comparator == "range":
        if indicator.direction == "lower":
            return indicator.target_low
        return indicator.target_high
    return indicator.target_value


def _check_baselines(doc: PlanDocument) -> None:
    for indicator in doc.indicators:
        if indicator.change or indicator.cumulative:
            continue
        target = _target_bound(indicator)
        if target is None:
            continue
        baselines = [
            b
            for b in doc.baselines
            if b.indicator_number == indicator.number
            and b.year is not None
            and (indicator.target_year is None or b.year < indicator.target_year)
            and units_compatible(b.unit, indicator.unit)
        ]
        if not baselines:
            continue
        latest = max(baselines, key=lambda b: b.year or 0)
        baseline_value = convert(latest.value, latest.unit, indicator.unit)
        unit = indicator.unit
        if (
            indicator.direction == "higher"
            and indicator.comparator not in ("le", "lt")
            and target < baseline_value - _EPSILON
        ):
            _warn(
                doc,
                "target_below_baseline",
                f"indicator {indicator.number} {indicator.name}: the {indicator.target_year or ''} target "
                f"{indicator.target_text or target}{'' if '%' in (indicator.target_text or '') else unit} is below the "
                f"{latest.year} value {latest.value:g}{latest.unit} stated in the text",
                indicator.line,
                indicator.location,
            )
        elif (
            indicator.direction == "lower"
            and indicator.comparator not in ("ge", "gt")
            and target > baseline_value + _EPSILON
        ):
            _warn(
                doc,
                "target_above_baseline",
                f"indicator {indicator.number} {indicator.name}: the {indicator.target_year or ''} target "
                f"{indicator.target_text or target}{unit} is above the {latest.year} value "
                f"{latest.value:g}{latest.unit} although lower is better",
                indicator.line,
                indicator.location,
            )


_OPPOSITE = {"ge": {"le", "lt"}, "gt": {"le", "lt"}, "le": {"ge", "gt"}, "lt": {"ge", "gt"}}


def _check_commitments(doc: PlanDocument) -> None:
    for commitment in doc.commitments:
        if commitment.indicator_number is None:
            continue
        indicator = doc.indicator(commitment.indicator_number)
        if indicator is None or indicator.change:
            continue
        if commitment.year and indicator.target_year and commitment.year != indicator.target_year:
            continue
        value = convert(commitment.value, commitment.unit, indicator.unit)
        disagrees = False
        if (
            indicator.comparator == "range"
            and indicator.target_low is not None
            and indicator.target_high is not None
        ):
            disagrees = not (indicator.target_low - _EPSILON <= value <= indicator.target_high + _EPSILON)
        elif indicator.target_value is not None:
            disagrees = abs(value - indicator.target_value) > max(
                _EPSILON, 1e-6 * abs(indicator.target_value)
            )
        if not disagrees and commitment.comparator in _OPPOSITE.get(indicator.comparator, set()):
            disagrees = True
        if disagrees:
            _warn(
                doc,
                "commitment_conflicts_with_table",
                f"indicator {indicator.number} {indicator.name}: the text says “{commitment.text}” but the table "
                f"target is “{indicator.target_text}”",
                commitment.line,
                commitment.location,
            )


_TABLE_REFERENCE = re.compile(r"(?:见|参见|详见|如)\s*(?:附)?表\s*(\d+)")


def _check_table_references(doc: PlanDocument, captions: list[Caption]) -> None:
    known = {c.number for c in captions if c.kind == "table"} | {i.table_number for i in doc.indicators}
    texts: list[tuple[str, int | None, str]] = []
    for chapter in doc.chapters:
        texts.extend((p.text, p.line, p.location) for p in chapter.paragraphs)
        for section in chapter.sections:
            texts.extend((p.text, p.line, p.location) for p in section.paragraphs)
            for task in section.tasks:
                texts.extend((p.text, p.line, p.location) for p in task.paragraphs)
        for task in chapter.tasks:
            texts.extend((p.text, p.line, p.location) for p in task.paragraphs)
    reported: set[int] = set()
    for text, line, location in texts:
        for match in _TABLE_REFERENCE.finditer(text):
            number = int(match.group(1))
            if number not in known and number not in reported:
                reported.add(number)
                _warn(
                    doc,
                    "table_referenced_missing",
                    f"the text refers to 表{number} but no such table was read",
                    line,
                    location,
                )
