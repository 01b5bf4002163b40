"""Heading recognition and the one tree builder that works on blocks from every format.

Official documents number their headings in a fixed order of systems (GB/T 9704):
``第X篇`` > ``第X章`` > ``第X节`` > ``一、`` > ``（一）`` > ``1.`` > ``（1）``. A plan uses a subset;
the highest system used at least twice holds the chapters, the next one used holds the
sections and the one after that the numbered tasks. Deeper levels stay in the task text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import checks
from .blocks import IMAGE, PARAGRAPH, TABLE, Block, BlockDocument
from .boxes import Caption, parse_box, read_caption
from .indicators import (
    TextContext,
    extract_baselines_and_commitments,
    looks_like_indicator_table,
    parse_indicator_table,
)
from .model import (
    Baseline,
    Chapter,
    Paragraph,
    Part,
    PlanDocument,
    Section,
    Statement,
    Task,
    Warning,
)
from .text import CN_NUMERAL, cn_to_int, join_paragraphs, split_title, to_half_width

# kinds in rank order
PART, CHAPTER_ZH, SECTION_ZH, CN, PAREN_CN, NUM, PAREN_NUM = (
    "part",
    "chapter_zh",
    "section_zh",
    "cn",
    "paren_cn",
    "num",
    "paren_num",
)
RANK = [PART, CHAPTER_ZH, SECTION_ZH, CN, PAREN_CN, NUM, PAREN_NUM]

_NUMERAL = rf"(?:{CN_NUMERAL}|\d+)"
_PATTERNS = [
    (PART, re.compile(rf"^第({_NUMERAL})篇\s*[:：、.]?\s*(.*)$")),
    (CHAPTER_ZH, re.compile(rf"^第({_NUMERAL})章\s*[:：、.]?\s*(.*)$")),
    (SECTION_ZH, re.compile(rf"^第({_NUMERAL})节\s*[:：、.]?\s*(.*)$")),
    (CN, re.compile(rf"^({CN_NUMERAL})\s*[、.．]\s*(.+)$")),
    (PAREN_CN, re.compile(rf"^[（(]\s*({CN_NUMERAL})\s*[）)]\s*[、.．]?\s*(.+)$")),
    (NUM, re.compile(r"^(\d{1,2})\s*(?:[.．](?![\d０-９])|、)\s*(.+)$")),
    (PAREN_NUM, re.compile(r"^[（(]\s*(\d{1,2})\s*[）)]\s*(.+)$")),
]
_DASH = re.compile(r"^(?:——|—|--|──|－－)\s*")
_PREFACE_TITLES = re.compile(r"^(?:前言|序言|引言|序|导言|总则|说明)$")
_PLAN_TITLE = re.compile(r"(?:规划|纲要|方案|计划|意见)(?:[（(][^）)]*[）)])?$")
_GOALS_TITLE = re.compile(r"目标")
_GOALS_TITLE_STRICT = re.compile(
    r"^(?:发展|主要|总体|规划|战略|具体|近期|中期|远景|二〇三五年远景|20\d\d年)?目标"
)
_STRATEGY_TITLE = re.compile(r"策略|(?:发展|战略|实施|总体|推进|创新)路径")
_MEASURES_TITLE_STRONG = re.compile(r"保障措施|保障机制|实施保障|组织实施|规划实施|实施机制|保障体系")
_MEASURES_TITLE = re.compile(r"保障")
_REVIEW_TITLE = re.compile(
    r"发展基础|现实基础|工作基础|已有基础|基础条件|成就|回顾|现状|成效|进展情况|总结|形势"
)
_SHORT_NOTE = re.compile(r"^(?:单位|注|说明|数据来源|资料来源)[:：]")
_PERIOD_YEARS = {
    "十一五": 2010,
    "十二五": 2015,
    "十三五": 2020,
    "十四五": 2025,
    "十五五": 2030,
    "十六五": 2035,
}


@dataclass
class Heading:
    kind: str
    label: str
    number: int | None
    text: str  # everything after the numbering


def classify_heading(text: str) -> Heading | None:
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            label = match.group(1)
            number = cn_to_int(to_half_width(label))
            if number is None:
                continue
            rest = match.group(2).strip()
            if kind in (CN, PAREN_CN) and len(label) > 3:
                continue
            if kind == CN and re.match(r"^[是要则来]", rest):
                continue  # 一是、二要 … are enumerations in running text
            return Heading(kind, label, number, rest)
    return None


class _Builder:
    def __init__(self, block_doc: BlockDocument):
        self.block_doc = block_doc
        self.source = block_doc.source_name
        self.doc = PlanDocument(
            title="", source_name=block_doc.source_name, source_format=block_doc.source_format
        )
        self.part: Part | None = None
        self.chapter: Chapter | None = None
        self.section: Section | None = None
        self.task: Task | None = None
        self.preface: list[Paragraph] = []
        self.pending: Caption | None = None
        self.table_baselines: list[Baseline] = []
        self.captions: list[Caption] = []
        self.table_numbers_seen: set[int] = set()
        self.contexts: list[tuple[Paragraph, Chapter | None, Section | None, Task | None]] = []

    # -- levels ---------------------------------------------------------------------------------
    def decide_levels(self) -> None:
        counts: Counter[str] = Counter()
        style_counts: Counter[str] = Counter()
        for block in self.block_doc.blocks:
            if block.kind == PARAGRAPH:
                heading = classify_heading(block.text)
                if heading:
                    counts[heading.kind] += 1
                elif self._style_kind(block):
                    style_counts[self._style_kind(block)] += 1
        # Headings numbered by Word's automatic numbering (or Markdown/HTML headings without numbers)
        # carry no number in their text: fall back to the heading styles when no numbered chapter
        # system is present.
        self.style_mode = not any(counts[k] >= 2 for k in (CHAPTER_ZH, CN)) and any(
            n >= 2 for n in style_counts.values()
        )
        if self.style_mode:
            counts.update(style_counts)
            ranked = sorted(style_counts) + [k for k in RANK if k != PART]
        else:
            ranked = [k for k in RANK if k != PART]
        self.chapter_kind = next((k for k in ranked if counts[k] >= 2), None)
        if self.chapter_kind is None:
            self.chapter_kind = next((k for k in ranked if counts[k] >= 1), None)
        below = ranked[ranked.index(self.chapter_kind) + 1 :] if self.chapter_kind else []
        present = [k for k in below if counts[k] >= 1]
        self.section_kind = None
        self.task_kind = None
        if len(present) == 1:
            if present[0] in (SECTION_ZH, CN, PAREN_CN) or present[0].startswith("style"):
                self.section_kind = present[0]
            else:
                self.task_kind = present[0]
        elif len(present) >= 2:
            self.section_kind, self.task_kind = present[0], present[1]
        self.part_kind = PART if counts[PART] else None

    @staticmethod
    def _style_kind(block: Block) -> str | None:
        level = block.style_level
        if level is None or not 1 <= level <= 4 or len(block.text) > 60:
            return None
        text = block.text.replace(" ", "")
        if _PREFACE_TITLES.match(text) or _PLAN_TITLE.search(text) or read_caption(text) is not None:
            return None
        return f"style{level}"

    def _heading_of(self, block: Block) -> Heading | None:
        heading = classify_heading(block.text)
        if heading is None and self.style_mode:
            kind = self._style_kind(block)
            if kind is not None:
                heading = Heading(kind, "", None, block.text)
        return heading

    # -- walking --------------------------------------------------------------------------------
    def build(self) -> PlanDocument:
        self.decide_levels()
        blocks = self.block_doc.blocks
        i = 0
        while i < len(blocks):
            block = blocks[i]
            if block.kind == PARAGRAPH:
                i = self.paragraph(blocks, i)
                continue
            if block.kind == TABLE:
                self.table(block)
            elif block.kind == IMAGE:
                self.image(block)
            i += 1
        self.flush_pending()
        self.finish()
        return self.doc

    def paragraph(self, blocks: list[Block], i: int) -> int:
        block = blocks[i]
        text = block.text
        paragraph = Paragraph(text, block.line, block.location)
        caption = read_caption(text, block.line, block.location)
        if caption is not None:
            self.flush_pending()
            self.pending = caption
            self.captions.append(caption)
            return i + 1
        if self.pending is not None:
            if _SHORT_NOTE.match(text) and len(text) <= 40:
                return i + 1
            self.flush_pending()
        heading = self._heading_of(block)
        kind = heading.kind if heading else None
        if heading and kind in (self.part_kind, self.chapter_kind, self.section_kind, self.task_kind):
            rest = heading.text
            consumed = 1
            if not rest and i + 1 < len(blocks) and blocks[i + 1].kind == PARAGRAPH:
                nxt = blocks[i + 1].text
                if len(nxt) <= 40 and classify_heading(nxt) is None and read_caption(nxt) is None:
                    rest = nxt
                    consumed = 2
            self.open_heading(heading, rest, block)
            return i + consumed
        if not self.doc.chapters and not self.chapter and _PREFACE_TITLES.match(text.replace(" ", "")):
            return i + 1
        self.add_text(paragraph)
        return i + 1

    def open_heading(self, heading: Heading, rest: str, block: Block) -> None:
        line, location = block.line, block.location
        kind = heading.kind
        if kind == self.part_kind:
            title, intro = split_title(rest)
            self.part = Part(heading.number, heading.label, title, line, location)
            self.doc.parts.append(self.part)
            self.chapter = self.section = self.task = None
            if intro:
                self.preface.append(Paragraph(intro, line, location))
            return
        if heading.number is None:
            if kind == self.chapter_kind:
                heading.number = len(self.doc.chapters) + 1
            elif kind == self.section_kind:
                heading.number = len(self.chapter.sections) + 1 if self.chapter else 1
            elif kind == self.task_kind:
                owner = self.section or self.chapter
                heading.number = len(owner.tasks) + 1 if owner else 1
            heading.label = str(heading.number)
        if kind == self.chapter_kind:
            title, intro = split_title(rest) if "。" in rest else (rest, "")
            self.chapter = Chapter(
                heading.number,
                heading.label,
                title,
                line,
                location,
                part_number=self.part.number if self.part else None,
            )
            self.doc.chapters.append(self.chapter)
            self.section = self.task = None
            if intro:
                self.add_text(Paragraph(intro, line, location))
            return
        if kind == self.section_kind:
            if self.chapter is None:
                self.add_text(Paragraph(block.text, line, location))
                return
            title, intro = split_title(rest) if "。" in rest else (rest, "")
            self.section = Section(heading.number, heading.label, title, line, location)
            self.chapter.sections.append(self.section)
            self.task = None
            if intro:
                self.add_text(Paragraph(intro, line, location))
            return
        # task
        if self.chapter is None:
            self.add_text(Paragraph(block.text, line, location))
            return
        title, text = split_title(rest)
        self.task = Task(heading.number, title, text, line, location, label=heading.label)
        if text:
            self.task.paragraphs.append(Paragraph(text, line, location))
        (self.section.tasks if self.section else self.chapter.tasks).append(self.task)
        self.contexts.append((Paragraph(text, line, location), self.chapter, self.section, self.task))

    def add_text(self, paragraph: Paragraph) -> None:
        if self.task is not None:
            self.task.paragraphs.append(paragraph)
        elif self.section is not None:
            self.section.paragraphs.append(paragraph)
        elif self.chapter is not None:
            self.chapter.paragraphs.append(paragraph)
        else:
            self.preface.append(paragraph)
        self.contexts.append((paragraph, self.chapter, self.section, self.task))

    # -- tables, boxes, images ------------------------------------------------------------------
    def flush_pending(self) -> None:
        caption = self.pending
        self.pending = None
        if caption is None:
            return
        what = "box" if caption.kind == "box" else "table"
        self.warn(
            f"{what}_image_only",
            f"{caption.text}: the caption is not followed by a {'box' if what == 'box' else 'table'}"
            " (probably an image); its content was not read",
            caption.line,
            caption.location,
        )

    def image(self, block: Block) -> None:
        if self.pending is not None:
            caption = self.pending
            self.pending = None
            what = "box" if caption.kind == "box" else "table"
            self.warn(
                f"{what}_image_only",
                f"{caption.text}: given as an image; its content was not read",
                caption.line,
                caption.location,
            )

    def table(self, block: Block) -> None:
        caption = self.pending
        self.pending = None
        inner = None
        if block.rows and block.rows[0] and block.rows[0][0]:
            first = block.rows[0][0][0]
            inner = read_caption(first.text, first.line, first.location)
        if caption is None and inner is not None:
            caption = inner
            if caption.kind == "table":
                block = Block(
                    TABLE,
                    line=block.line,
                    location=block.location,
                    rows=[[cell[1:] if c == 0 else cell for c, cell in enumerate(block.rows[0])]]
                    + block.rows[1:],
                    table_index=block.table_index,
                    has_image=block.has_image,
                )
        is_box = caption is not None and caption.kind == "box"
        if not is_box and looks_like_indicator_table(block):
            self.indicator_table(block, caption)
            return
        if caption is not None and caption.kind == "table":
            self.warn(
                "table_unrecognised",
                f"{caption.text}: not an indicator table; skipped",
                caption.line,
                caption.location,
            )
            return
        widths = [len([c for c in row if c]) for row in block.rows]
        one_column = all(w <= 1 for w in widths)
        if is_box or one_column:
            box, notes = parse_box(block, caption if is_box else None)
            box.chapter_number = self.chapter.number if self.chapter else None
            box.section_number = self.section.number if self.section else None
            self.doc.boxes.append(box)
            for code in notes:
                name = f"专栏{box.number}" if box.number is not None else "box"
                self.warn(code, f"{name} {box.title}: no items could be read", box.line, box.location)
            return
        self.warn(
            "table_unrecognised",
            "a table that is neither an indicator table nor a box was skipped",
            block.line,
            block.location,
        )

    def indicator_table(self, block: Block, caption: Caption | None) -> None:
        number = caption.number if caption else None
        title = caption.title if caption else ""
        if number is None:
            number = len(self.table_numbers_seen) + 1
        self.table_numbers_seen.add(number)
        first_number = (max((i.number or 0) for i in self.doc.indicators) + 1) if self.doc.indicators else 1
        result = parse_indicator_table(
            block,
            table_number=number,
            table_title=title,
            default_year=self.default_year(),
            first_number=first_number,
        )
        self.doc.indicators.extend(result.indicators)
        self.table_baselines.extend(result.baselines)
        for code, message, location in result.problems:
            self.warn(code, message, block.line, location)
        if not result.indicators:
            self.warn(
                "table_empty",
                f"{caption.text if caption else 'indicator table'}: no indicator rows",
                block.line,
                block.location,
            )

    def default_year(self) -> int | None:
        texts = [self.block_doc.title_hint] + [
            b.text for b in self.block_doc.blocks[:200] if b.kind == PARAGRAPH
        ]
        for text in texts:
            match = re.search(r"到\s*((?:20)\d{2})\s*年", text)
            if match:
                return int(match.group(1))
        for text in texts:
            for period, year in _PERIOD_YEARS.items():
                if period in text and ("规划" in text or "时期" in text):
                    return year
        return None

    def warn(self, code: str, message: str, line: int | None, location: str = "") -> None:
        self.doc.warnings.append(Warning(code, message, line, location))

    # -- after the walk -------------------------------------------------------------------------
    def finish(self) -> None:
        doc = self.doc
        doc.title = self.find_title()
        if self.preface and self.preface[0].text.strip("《》 ") == doc.title:
            self.preface = self.preface[1:]
        doc.preface = join_paragraphs([p.text for p in self.preface])
        for chapter in doc.chapters:
            chapter.intro_text = join_paragraphs([p.text for p in chapter.paragraphs])
            for section in chapter.sections:
                section.intro_text = join_paragraphs([p.text for p in section.paragraphs])
                for task in section.tasks:
                    task.text = join_paragraphs([p.text for p in task.paragraphs])
            for task in chapter.tasks:
                task.text = join_paragraphs([p.text for p in task.paragraphs])
        self.find_goals_and_strategies()
        self.find_measures()
        self.find_numbers()
        checks.run_checks(doc, self.captions)

    def find_title(self) -> str:
        first_heading = next(
            (
                i
                for i, b in enumerate(self.block_doc.blocks)
                if b.kind == PARAGRAPH
                and (h := self._heading_of(b))
                and h.kind in (self.part_kind, self.chapter_kind)
            ),
            len(self.block_doc.blocks),
        )
        for block in self.block_doc.blocks[: min(first_heading, 12)]:
            if block.kind != PARAGRAPH:
                continue
            text = block.text.strip("《》 ")
            if len(text) <= 60 and "。" not in text and (_PLAN_TITLE.search(text) or block.style_level == 0):
                return text
        hint = self.block_doc.title_hint
        if hint and _PLAN_TITLE.search(hint.split("_")[0].split("-")[0].strip()):
            return hint.split("_")[0].split("-")[0].strip().strip("《》")
        for block in self.block_doc.blocks[: min(first_heading, 12)]:
            if block.kind == PARAGRAPH and block.style_level in (0, 1) and len(block.text) <= 60:
                if classify_heading(block.text) is None and not _PREFACE_TITLES.match(
                    block.text.replace(" ", "")
                ):
                    return block.text
        indicator_caption = next((c for c in self.captions if c.kind == "table" and c.title), None)
        if indicator_caption is not None:
            stem = re.sub(r"(?:主要|发展|规划)?(?:指标体系|指标表|指标)$", "", indicator_caption.title)
            stem = re.sub(r"主要$", "", stem)
            if stem:
                return stem if _PLAN_TITLE.search(stem) else f"{stem}规划"
        if hint:
            return hint
        return Path(self.source).stem

    def _dash_statements(self, paragraphs: list[Paragraph]) -> list[Statement]:
        statements = []
        for p in paragraphs:
            if _DASH.match(p.text):
                body = _DASH.sub("", p.text)
                title, rest = split_title(body)
                statements.append(Statement(title, rest, p.line, p.location))
        return statements

    def _node_paragraphs(self, node: Chapter | Section) -> list[Paragraph]:
        paragraphs = list(node.paragraphs)
        for task in node.tasks:
            paragraphs.extend(task.paragraphs)
        if isinstance(node, Chapter):
            for section in node.sections:
                paragraphs.extend(self._node_paragraphs(section))
        return paragraphs

    def _statements_for(self, pattern: re.Pattern, strict: re.Pattern | None = None) -> list[Statement]:
        nodes: list[Chapter | Section] = []
        for candidate in ([strict] if strict else []) + [pattern]:
            nodes = [s for c in self.doc.chapters for s in c.sections if candidate.search(s.title)]
            if not nodes:
                nodes = [c for c in self.doc.chapters if candidate.search(c.title)]
            if nodes:
                break
        statements: list[Statement] = []
        for node in nodes:
            found = self._dash_statements(self._node_paragraphs(node))
            if not found:
                tasks = list(node.tasks)
                if isinstance(node, Chapter):
                    for s in node.sections:
                        tasks.extend(s.tasks)
                found = [Statement(t.title, t.text, t.line, t.location) for t in tasks]
            statements.extend(found)
        return statements

    def find_goals_and_strategies(self) -> None:
        self.doc.goals = self._statements_for(_GOALS_TITLE, _GOALS_TITLE_STRICT)
        self.doc.strategies = self._statements_for(_STRATEGY_TITLE)

    def find_measures(self) -> None:
        doc = self.doc
        part = next((p for p in reversed(doc.parts) if _MEASURES_TITLE.search(p.title)), None)
        if part is not None:
            chapters = [c for c in doc.chapters if c.part_number == part.number]
            doc.measures = [Statement(c.title, self._text_of(c), c.line, c.location) for c in chapters]
            return
        chapter = next((c for c in reversed(doc.chapters) if _MEASURES_TITLE_STRONG.search(c.title)), None)
        if chapter is None:
            chapter = next((c for c in reversed(doc.chapters) if _MEASURES_TITLE.search(c.title)), None)
        if chapter is None:
            return
        if chapter.sections:
            doc.measures = [
                Statement(s.title, self._text_of(s), s.line, s.location) for s in chapter.sections
            ]
        elif chapter.tasks:
            doc.measures = [Statement(t.title, t.text, t.line, t.location) for t in chapter.tasks]
        else:
            dashes = self._dash_statements(chapter.paragraphs)
            if dashes:
                doc.measures = dashes
            else:
                for p in chapter.paragraphs:
                    title, rest = split_title(p.text, max_title=20)
                    if rest:
                        doc.measures.append(Statement(title, rest, p.line, p.location))

    def _text_of(self, node: Chapter | Section) -> str:
        return join_paragraphs([p.text for p in self._node_paragraphs(node)])

    def find_numbers(self) -> None:
        doc = self.doc
        years = Counter(i.target_year for i in doc.indicators if i.target_year)
        target_year = years.most_common(1)[0][0] if years else self.default_year()
        contexts: list[TextContext] = []
        for paragraph, chapter, section, _task in self.contexts:
            review = bool(
                (chapter and _REVIEW_TITLE.search(chapter.title))
                or (section and _REVIEW_TITLE.search(section.title))
            )
            goals = bool(
                (section and _GOALS_TITLE.search(section.title))
                or (chapter and not section and _GOALS_TITLE.search(chapter.title))
            )
            contexts.append(TextContext(paragraph, review=review, goals=goals))
        baselines, commitments = extract_baselines_and_commitments(
            contexts, doc.indicators, target_year=target_year
        )
        seen = {(b.indicator_number, b.year) for b in baselines}
        doc.baselines = [
            b for b in self.table_baselines if (b.indicator_number, b.year) not in seen
        ] + baselines
        doc.commitments = commitments


def build_tree(block_doc: BlockDocument) -> PlanDocument:
    """Blocks → PlanDocument (tree, indicators, boxes, numbers, warnings)."""
    return _Builder(block_doc).build()


__all__ = ["build_tree", "classify_heading", "Heading"]
