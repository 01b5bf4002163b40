"""Typed results of the plan-document parser (规划文本解析结果).

Everything here is plain data: dataclasses with source locations, no behaviour beyond
serialisation and counting. ``line`` is the 1-based source line for .txt/.md, the body
paragraph index for .docx and the element's ``sourceline`` for .html; ``location`` says the
same thing in words and, for content read from a table, names the table, row and cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any


class PlanParseError(ValueError):
    """The input cannot be read as a plan document (undecodable, not a .docx, empty ...).

    The message always names the file and, where known, the line or table cell.
    """

    def __init__(self, message: str, *, source: str = "", line: int | None = None, location: str = ""):
        self.source = source
        self.line = line
        self.location = location
        where = location or (f"line {line}" if line is not None else "")
        prefix = source
        if where:
            prefix = f"{source}: {where}" if source else where
        super().__init__(f"{prefix}: {message}" if prefix else message)


@dataclass
class Paragraph:
    """One paragraph of running text kept with its source position."""

    text: str
    line: int | None = None
    location: str = ""


@dataclass
class Task:
    """编号任务: a numbered item such as ``1.推动集中布局重大科技基础设施。...``."""

    number: int | None
    title: str
    text: str = ""
    line: int | None = None
    location: str = ""
    label: str = ""
    paragraphs: list[Paragraph] = field(default_factory=list, repr=False)


@dataclass
class Section:
    """节: a ``（一）`` heading (or ``第X节``) inside a chapter."""

    number: int | None
    label: str
    title: str
    line: int | None = None
    location: str = ""
    intro_text: str = ""
    tasks: list[Task] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list, repr=False)


@dataclass
class Chapter:
    """章: a ``一、`` heading (or ``第X章``)."""

    number: int | None
    label: str
    title: str
    line: int | None = None
    location: str = ""
    intro_text: str = ""
    sections: list[Section] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    part_number: int | None = None
    paragraphs: list[Paragraph] = field(default_factory=list, repr=False)


@dataclass
class Part:
    """篇: a ``第X篇`` heading grouping chapters."""

    number: int | None
    label: str
    title: str
    line: int | None = None
    location: str = ""


@dataclass
class Statement:
    """A goal (发展目标), strategy (发展策略) or safeguard measure (保障措施)."""

    title: str
    text: str = ""
    line: int | None = None
    location: str = ""


@dataclass
class Indicator:
    """表N 指标: one row of an indicator table."""

    number: int | None
    name: str
    unit: str = ""
    target_value: float | None = None
    target_low: float | None = None
    target_high: float | None = None
    comparator: str = "eq"
    target_text: str = ""
    target_year: int | None = None
    attribute: str = ""
    direction: str = "higher"
    table_number: int | None = None
    table_title: str = ""
    line: int | None = None
    location: str = ""
    category: str = ""
    change: str = ""
    cumulative: bool = False
    target_basis: str = ""  # "" (level in the target year), "annual_average" or "cumulative" (五年累计)
    qualitative: bool = False  # a target in words: 与GDP增长基本同步, 保持在合理区间
    parent_number: int | None = None  # a sub-row (其中 …, or a second value of the row above)
    footnotes: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)  # note marks in the row (① *) the footnotes refer to
    ocr_confidence: float | None = None  # read from an image: the lowest confidence of its cells


@dataclass
class BoxItem:
    """One item of a 专栏 box (usually a major project)."""

    number: int | None
    title: str
    text: str = ""
    line: int | None = None
    location: str = ""


@dataclass
class BoxGroup:
    """A titled group of items inside a box (``应用支撑型``); ``title`` is None when ungrouped."""

    title: str | None
    items: list[BoxItem] = field(default_factory=list)
    line: int | None = None


@dataclass
class Box:
    """专栏: a boxed list of projects; ``number`` is None for an uncaptioned box."""

    number: int | None
    title: str
    chapter_number: int | None = None
    section_number: int | None = None
    line: int | None = None
    location: str = ""
    groups: list[BoxGroup] = field(default_factory=list)
    ocr_confidence: float | None = None  # read from an image: the lowest confidence of its lines

    @property
    def items(self) -> list[BoxItem]:
        return [item for group in self.groups for item in group.items]


@dataclass
class Baseline:
    """A past value of a table indicator read from the text (or a baseline column)."""

    indicator_number: int | None
    year: int | None
    value: float
    unit: str = ""
    sentence: str = ""
    line: int | None = None
    location: str = ""


@dataclass
class Commitment:
    """A quantitative commitment stated in the text (``在建和运营重大科技基础设施10个以上``)."""

    text: str
    subject: str
    value: float
    value_high: float | None = None
    unit: str = ""
    comparator: str = "eq"
    year: int | None = None
    indicator_number: int | None = None
    sentence: str = ""
    line: int | None = None
    location: str = ""


@dataclass
class Warning:  # noqa: A001 - the public name asked for by the API
    """A consistency or structure problem found while parsing; ``code`` is stable snake_case."""

    code: str
    message: str
    line: int | None = None
    location: str = ""


@dataclass
class Note:
    """How the parser read the document (heading system chosen and why, what it skipped)."""

    code: str
    message: str
    line: int | None = None
    location: str = ""


@dataclass
class OcrTable:
    """A table or 专栏 given as an image and read by OCR; ``rows`` hold text and confidence per cell.

    ``reviewed`` is True when the cells come from an officer's corrections instead of the recogniser.
    """

    index: int
    caption: str
    kind: str  # "table" or "box"
    line: int | None = None
    location: str = ""
    image_name: str = ""
    engine: str = ""
    seconds: float = 0.0
    method: str = ""
    reviewed: bool = False
    rows: list[list[dict[str, Any]]] = field(default_factory=list)
    image_bytes: bytes | None = field(default=None, repr=False)

    def cell_count(self) -> int:
        return sum(1 for row in self.rows for cell in row if cell["text"])

    def low_confidence_count(self, threshold: float = 0.9) -> int:
        return sum(1 for row in self.rows for cell in row if cell["text"] and cell["confidence"] < threshold)


_EXCLUDED_FROM_DICT = {"paragraphs", "image_bytes"}


def _to_jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        result = {}
        for f in fields(value):
            if f.name in _EXCLUDED_FROM_DICT:
                continue
            result[f.name] = _to_jsonable(getattr(value, f.name))
        return result
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    return value


@dataclass
class PlanDocument:
    """A parsed plan (规划): tree, indicators, boxes, baselines, commitments and warnings."""

    title: str
    source_name: str = ""
    source_format: str = ""
    preface: str = ""
    parts: list[Part] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)
    goals: list[Statement] = field(default_factory=list)
    strategies: list[Statement] = field(default_factory=list)
    measures: list[Statement] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    baselines: list[Baseline] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    period_start: int | None = None  # 规划期 first year, read from the document
    period_end: int | None = None
    ocr_tables: list[OcrTable] = field(default_factory=list)

    @property
    def sections(self) -> list[Section]:
        return [s for c in self.chapters for s in c.sections]

    @property
    def tasks(self) -> list[Task]:
        result: list[Task] = []
        for chapter in self.chapters:
            result.extend(chapter.tasks)
            for section in chapter.sections:
                result.extend(section.tasks)
        return result

    def indicator(self, number: int) -> Indicator | None:
        return next((i for i in self.indicators if i.number == number), None)

    def warning_codes(self) -> list[str]:
        return [w.code for w in self.warnings]

    def counts(self) -> dict[str, int]:
        numbered = [b for b in self.boxes if b.number is not None]
        unnumbered = [b for b in self.boxes if b.number is None]
        return {
            "parts": len(self.parts),
            "chapters": len(self.chapters),
            "sections": len(self.sections),
            "tasks": len(self.tasks),
            "goals": len(self.goals),
            "strategies": len(self.strategies),
            "measures": len(self.measures),
            "indicators": len(self.indicators),
            "boxes": len(numbered),
            "unnumbered_boxes": len(unnumbered),
            "box_items": sum(len(b.items) for b in numbered),
            "unnumbered_box_items": sum(len(b.items) for b in unnumbered),
            "baselines": len(self.baselines),
            "commitments": len(self.commitments),
            "warnings": len(self.warnings),
        }

    def to_dict(self) -> dict[str, Any]:
        data = _to_jsonable(self)
        data["counts"] = self.counts()
        return data
