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
    FOOTNOTE_START,
    TextContext,
    extract_baselines_and_commitments,
    link_footnotes,
    looks_like_indicator_table,
    parse_indicator_table,
)
from .model import (
    Baseline,
    Chapter,
    Note,
    OcrTable,
    Paragraph,
    Part,
    PlanDocument,
    Section,
    Statement,
    Task,
    Warning,
)
from .structure import StructureReport, TocRun, find_tables_of_contents, kind_name
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
_NOTE_WORDS = re.compile(r"[〔〕]|\[\]|累计|数据|口径|来源|按.*计算|为(?:19|20)\d{2}年")
_PERIOD_SPAN = re.compile(r"((?:19|20)\d{2})\s*(?:年)?\s*[-—–－~～至到]+\s*((?:19|20)\d{2})\s*年?")
_PERIOD_WORDS = re.compile(r"规划期|期限|规划范围|时期为|规划年限|实施期")
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


@dataclass
class _Region:
    """Blocks ``start``..``end`` and the numbering systems that hold chapters, sections and tasks."""

    start: int
    end: int
    chapter_kind: str | None
    section_kind: str | None
    task_kind: str | None


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
        self.last_indicator_table: tuple[list, list] | None = None
        self.note_list_open = False
        self.in_notes = False

    # -- levels ---------------------------------------------------------------------------------
    def decide_levels(self) -> None:
        blocks = self.block_doc.blocks
        self.numbered = [classify_heading(b.text) if b.kind == PARAGRAPH else None for b in blocks]
        report = find_tables_of_contents(blocks, classify_heading)
        self.skipped = report.skipped
        counts: Counter[str] = Counter()
        style_counts: Counter[str] = Counter()
        for index, block in enumerate(blocks):
            if block.kind == PARAGRAPH and index not in self.skipped:
                heading = self.numbered[index]
                if heading:
                    counts[heading.kind] += 1
                elif self._style_kind(block):
                    style_counts[self._style_kind(block)] += 1
        self.counts = counts
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
        self.ranked = ranked
        self.chapter_kind = next((k for k in ranked if counts[k] >= 2), None)
        if self.chapter_kind is None:
            self.chapter_kind = next((k for k in ranked if counts[k] >= 1), None)
        self.section_kind, self.task_kind = self._sub_kinds(self.chapter_kind, counts)
        self.part_kind = PART if counts[PART] else None
        self.regions = [_Region(0, len(blocks), self.chapter_kind, self.section_kind, self.task_kind)]
        self.detect_switch()
        self.explain(report)

    def _sub_kinds(self, chapter_kind: str | None, counts: Counter[str]) -> tuple[str | None, str | None]:
        ranked = self.ranked
        below = ranked[ranked.index(chapter_kind) + 1 :] if chapter_kind in ranked else []
        present = [k for k in below if counts[k] >= 1 and k != chapter_kind]
        if len(present) == 1:
            if present[0] in (SECTION_ZH, CN, PAREN_CN) or present[0].startswith("style"):
                return present[0], None
            return None, present[0]
        if len(present) >= 2:
            return present[0], present[1]
        return None, None

    def _kind_positions(self, kind: str) -> list[int]:
        return [
            i
            for i, h in enumerate(self.numbered)
            if h is not None and h.kind == kind and i not in self.skipped
        ]

    def _counts_in(self, start: int, end: int) -> Counter[str]:
        counts: Counter[str] = Counter()
        for i in range(start, end):
            h = self.numbered[i]
            if h is not None and i not in self.skipped:
                counts[h.kind] += 1
        return counts

    def detect_switch(self) -> None:
        """A chapter numbering that changes style midway: ``第四章`` … then ``五、`` as chapter 5.

        The other system takes over only when its headings continue the chapter numbers exactly
        (and it is not used otherwise, unless its headings carry the chapters' heading style).
        """
        ck = self.chapter_kind
        if ck is None or self.style_mode:
            return
        chapters = self._kind_positions(ck)
        if not chapters:
            return
        blocks = self.block_doc.blocks
        n = len(blocks)
        chapter_styles = {blocks[i].style_level for i in chapters} - {None}
        first, last = chapters[0], chapters[-1]
        first_number, last_number = self.numbered[first].number, self.numbered[last].number
        for kind in RANK:
            if kind in (PART, ck):
                continue
            positions = self._kind_positions(kind)
            after = [i for i in positions if i > last]
            before = [i for i in positions if i < first]
            numbers_after = [self.numbered[i].number for i in after]
            numbers_before = [self.numbered[i].number for i in before]
            if after and numbers_after == list(range(last_number + 1, last_number + 1 + len(after))):
                same_style = bool(chapter_styles) and all(blocks[i].style_level in chapter_styles for i in after)
                if len(after) == len(positions) or same_style:
                    switch = after[0]
                    sub = self._sub_kinds(kind, self._counts_in(switch, n))
                    early = self._sub_kinds(ck, self._counts_in(0, switch))
                    self.regions = [_Region(0, switch, ck, *early), _Region(switch, n, kind, *sub)]
                    self.switch_note = (switch, ck, kind)
                    return
            if before and first_number and first_number > 1 and numbers_before == list(range(1, first_number)):
                same_style = bool(chapter_styles) and all(blocks[i].style_level in chapter_styles for i in before)
                if len(before) == len(positions) or same_style:
                    switch = first
                    early = self._sub_kinds(kind, self._counts_in(0, switch))
                    sub = self._sub_kinds(ck, self._counts_in(switch, n))
                    self.regions = [_Region(0, switch, kind, *early), _Region(switch, n, ck, *sub)]
                    self.switch_note = (switch, kind, ck)
                    return

    def explain(self, report: StructureReport) -> None:
        """Notes saying which heading system was chosen and why, and what was skipped."""
        blocks = self.block_doc.blocks
        counts = self.counts
        if self.chapter_kind is None:
            self.note("heading_system", "no heading system was recognised: every paragraph is read as preface")
        else:
            parts = []
            if self.part_kind:
                parts.append(f"parts {kind_name(PART)} ({counts[PART]})")
            for role, kind in (
                ("chapters", self.chapter_kind),
                ("sections", self.section_kind),
                ("tasks", self.task_kind),
            ):
                if kind:
                    parts.append(f"{role} {kind_name(kind)} ({counts[kind]})")
            if self.style_mode:
                why = (
                    "no numbered chapter system (第X章 or 一、) is used twice, so the document's heading "
                    "styles give the levels"
                )
            elif counts[self.chapter_kind] >= 2:
                why = (
                    f"{kind_name(self.chapter_kind)} is the highest numbering system used at least twice "
                    "(order 篇 > 章 > 节 > 一、 > （一） > 1. > （1））; the systems used below it hold sections and tasks"
                )
            else:
                why = f"{kind_name(self.chapter_kind)} is the only numbering system found"
            self.note("heading_system", "; ".join(parts) + f" — {why}")
        switch = getattr(self, "switch_note", None)
        if switch is not None:
            index, old, new = switch
            block = blocks[index]
            self.note(
                "heading_system_switch",
                f"the chapter numbering changes from {kind_name(old)} to {kind_name(new)} here; the numbers continue,"
                " so both are read as chapters",
                block.line,
                block.location,
            )
        for run in report.toc_runs:
            self._note_run("toc_skipped", run, "skipped as a table of contents")
        for run in report.unsure_runs:
            start, end = blocks[run.start], blocks[run.end - 1]
            self.warn(
                "toc_unsure",
                f"{start.location}–{end.location}: looks like a table of contents ({run.entries} entries) but only"
                f" {run.matched} were found again as headings below; kept as text",
                start.line,
                start.location,
            )
        chapter_rank = RANK.index(self.chapter_kind) if self.chapter_kind in RANK else None
        if chapter_rank is not None:
            for kind in RANK[1:chapter_rank]:
                if counts[kind] == 1:
                    index = self._kind_positions(kind)[0]
                    block = blocks[index]
                    self.warn(
                        "heading_unsure",
                        f"“{block.text[:40]}” is the only {kind_name(kind)} heading; read as text of the"
                        f" surrounding {kind_name(self.chapter_kind)} chapter",
                        block.line,
                        block.location,
                    )

    def _note_run(self, code: str, run: TocRun, what: str) -> None:
        blocks = self.block_doc.blocks
        start, end = blocks[run.start], blocks[run.end - 1]
        details = [f"{run.entries} entries", f"{run.matched} found again as headings below, in order"]
        if run.with_title:
            details.insert(0, f"titled “{start.text}”")
        if run.with_page_numbers:
            details.append(f"{run.with_page_numbers} with page numbers")
        self.note(code, f"{start.location}–{end.location}: {what} ({', '.join(details)})", start.line, start.location)

    def note(self, code: str, message: str, line: int | None = None, location: str = "") -> None:
        self.doc.notes.append(Note(code, message, line, location))

    def region_of(self, index: int) -> _Region:
        for region in self.regions:
            if region.start <= index < region.end:
                return region
        return self.regions[-1]

    def role_of(self, index: int, heading: Heading | None) -> str | None:
        """part / chapter / section / task for a heading block, None for running text."""
        if heading is None:
            return None
        if heading.kind == self.part_kind:
            return "part"
        region = self.region_of(index)
        if heading.kind == region.chapter_kind:
            return "chapter"
        if heading.kind == region.section_kind:
            return "section"
        if heading.kind == region.task_kind:
            return "task"
        return None

    @staticmethod
    def _style_kind(block: Block) -> str | None:
        level = block.style_level
        if level is None or not 1 <= level <= 4 or len(block.text) > 60:
            return None
        text = block.text.replace(" ", "")
        if _PREFACE_TITLES.match(text) or _PLAN_TITLE.search(text) or read_caption(text) is not None:
            return None
        return f"style{level}"

    def _heading_of(self, block: Block, index: int | None = None) -> Heading | None:
        if index is not None and index < len(self.numbered) and self.block_doc.blocks[index] is block:
            heading = self.numbered[index]
            if heading is not None:
                heading = Heading(heading.kind, heading.label, heading.number, heading.text)
        else:
            heading = classify_heading(block.text)
        if heading is None and self.style_mode:
            kind = self._style_kind(block)
            if kind is not None:
                heading = Heading(kind, "", None, block.text)
        return heading

    # -- walking --------------------------------------------------------------------------------
    def build(self) -> PlanDocument:
        for code, message, line, location in self.block_doc.notes:
            self.note(code, message, line, location)
        for code, message, line, location in self.block_doc.warnings:
            self.warn(code, message, line, location)
        self.decide_levels()
        blocks = self.block_doc.blocks
        i = 0
        while i < len(blocks):
            block = blocks[i]
            if i in self.skipped:
                i += 1
                continue
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
        last_table = self.last_indicator_table
        self.last_indicator_table = None
        if last_table is not None:
            listed = self.note_list_open and re.match(r"^(?:\d{1,2}\s*[.．、]|[（(]\d{1,2}[）)])", text)
            self.note_list_open = False
            more = self.in_notes and len(text) <= 80 and _NOTE_WORDS.search(text) and not classify_heading(text)
            self.in_notes = False
            if (FOOTNOTE_START.match(text) or listed or more) and len(text) <= 400:
                self.in_notes = True
                link_footnotes(last_table[0], [re.sub(r"^[（(](\d{1,2})[）)]", r"\1.", text)], last_table[1])
                self.last_indicator_table = last_table  # notes often run over several paragraphs
                self.note_list_open = bool(listed) or text.rstrip().endswith(("：", ":"))
                if listed:  # "1.带*的为2019年数据" under "注：" is a note, not a numbered task
                    self.add_text(paragraph)
                    return i + 1
        heading = self._heading_of(block, i)
        role = self.role_of(i, heading)
        if heading and role:
            rest = heading.text
            consumed = 1
            if not rest and i + 1 < len(blocks) and blocks[i + 1].kind == PARAGRAPH and i + 1 not in self.skipped:
                nxt = blocks[i + 1].text
                if len(nxt) <= 40 and classify_heading(nxt) is None and read_caption(nxt) is None:
                    rest = nxt
                    consumed = 2
            self.open_heading(heading, rest, block, role)
            return i + consumed
        if not self.doc.chapters and not self.chapter and _PREFACE_TITLES.match(text.replace(" ", "")):
            return i + 1
        self.add_text(paragraph)
        return i + 1

    def open_heading(self, heading: Heading, rest: str, block: Block, role: str) -> None:
        line, location = block.line, block.location
        if role == "part":
            title, intro = split_title(rest)
            self.part = Part(heading.number, heading.label, title, line, location)
            self.doc.parts.append(self.part)
            self.chapter = self.section = self.task = None
            if intro:
                self.preface.append(Paragraph(intro, line, location))
            return
        if heading.number is None:
            if role == "chapter":
                heading.number = len(self.doc.chapters) + 1
            elif role == "section":
                heading.number = len(self.chapter.sections) + 1 if self.chapter else 1
            elif role == "task":
                owner = self.section or self.chapter
                heading.number = len(owner.tasks) + 1 if owner else 1
            heading.label = str(heading.number)
        if role == "chapter":
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
        if role == "section":
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
        caption = self.pending
        name = block.text if block.text and not block.text.startswith("data:") else "embedded picture"
        if caption is None:
            self.warn(
                "image_not_read",
                f"an image ({name[:80]}) that is not under a 表N or 专栏 caption was not read",
                block.line,
                block.location,
            )
            return
        self.pending = None
        what = "box" if caption.kind == "box" else "table"
        table, reason = self.read_image_table(block, caption)
        if table is None:
            self.warn(
                f"{what}_image_only",
                f"{caption.text}: given as an image; its content was not read ({reason})",
                caption.line,
                caption.location,
            )
            return
        ocr_table = self.doc.ocr_tables[-1]
        before_indicators, before_boxes = len(self.doc.indicators), len(self.doc.boxes)
        self.pending = caption
        self.table(table)
        confidences = [[cell["confidence"] for cell in row] for row in ocr_table.rows]
        for indicator in self.doc.indicators[before_indicators:]:
            row = _ocr_row(indicator.location)
            values = [c for c in confidences[row - 1]] if row and row <= len(confidences) else []
            indicator.ocr_confidence = min(values) if values else None
        for box in self.doc.boxes[before_boxes:]:
            box.ocr_confidence = min((c for row in confidences for c in row), default=None)
        if ocr_table.reviewed:
            self.note(
                "ocr_reviewed",
                f"{caption.text}: cells read from the image were corrected by an officer",
                caption.line,
                caption.location,
            )
        else:
            self.warn(
                "table_read_by_ocr",
                f"{caption.text}: read from an image by OCR ({ocr_table.engine}, {ocr_table.cell_count()} cells,"
                f" {ocr_table.low_confidence_count()} below 0.9 confidence); review the cells before storing",
                caption.line,
                caption.location,
            )

    def read_image_table(self, block: Block, caption: Caption) -> tuple[Block | None, str]:
        """A table block from the picture (OCR, or the officer's corrections), or why there is none."""
        index = len(self.doc.ocr_tables)
        overrides = self.block_doc.ocr_overrides
        kind = "box" if caption.kind == "box" else "table"
        record = OcrTable(
            index, caption.text, kind, caption.line, caption.location, image_name=block.text[:200] if block.text else ""
        )
        if index in overrides:
            record.rows = [[{"text": text, "confidence": 1.0} for text in row] for row in overrides[index]]
            record.reviewed = True
            record.engine = "officer"
        elif block.image_data is None:
            return None, "the picture is not in the upload: import the Word file, or the page saved with its images"
        else:
            from . import ocr

            if not ocr.available():
                return None, ocr.unavailable_reason()
            try:
                result = ocr.read_table_image(block.image_data)
            except ocr.PictureTooLarge as exc:
                return None, f"the picture is too large to read ({exc})"
            except Exception as exc:  # a broken or unsupported picture must not stop the parse
                return None, f"the picture could not be read ({exc.__class__.__name__})"
            record.rows = [[{"text": c.text, "confidence": c.confidence} for c in row] for row in result.rows]
            record.engine, record.seconds, record.method = result.engine, result.seconds, result.method
            if not any(cell["text"] for row in record.rows for cell in row):
                return None, "OCR found no text in the picture"
        record.image_bytes = block.image_data
        self.doc.ocr_tables.append(record)
        location = f"{block.location} (OCR)"
        rows = [
            [
                [Paragraph(cell["text"], block.line, f"{location} row {r} cell {c}")] if cell["text"] else []
                for c, cell in enumerate(row, 1)
            ]
            for r, row in enumerate(record.rows, 1)
        ]
        if kind == "box" and rows and max(len(row) for row in rows) > 1:
            rows = [[[p for cell in row for p in cell]] for row in rows]  # a box is one column of lines
        return Block(TABLE, line=block.line, location=location, rows=rows, table_index=None), ""

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
        self.last_indicator_table = (result.indicators, result.starred)
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
        while self.preface and self.preface[0].text.strip("《》 ") == doc.title:
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
        self.find_period()
        checks.run_checks(doc, self.captions)

    def find_title(self) -> str:
        first_heading = next(
            (
                i
                for i, b in enumerate(self.block_doc.blocks)
                if b.kind == PARAGRAPH
                and i not in self.skipped
                and self.role_of(i, self._heading_of(b, i)) in ("part", "chapter")
            ),
            len(self.block_doc.blocks),
        )
        leading = [
            b for k, b in enumerate(self.block_doc.blocks[:first_heading]) if k not in self.skipped
        ][:12]
        for block in leading:
            if block.kind != PARAGRAPH:
                continue
            text = block.text.strip("《》 ")
            if len(text) <= 60 and "。" not in text and (_PLAN_TITLE.search(text) or block.style_level == 0):
                return text
        hint = self.block_doc.title_hint
        if hint and _PLAN_TITLE.search(hint.split("_")[0].split("-")[0].strip()):
            return hint.split("_")[0].split("-")[0].strip().strip("《》")
        for block in leading:
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


    def find_period(self) -> None:
        """规划期: the years the plan covers, from the title, a stated period, a 十X五 name or the targets."""
        doc = self.doc
        texts = [(doc.title, None, "the title")]
        texts += [(self.block_doc.title_hint, None, "the document properties")]
        texts += [
            (b.text, b.line, b.location)
            for k, b in enumerate(self.block_doc.blocks[:400])
            if b.kind == PARAGRAPH and k not in self.skipped
        ]
        found = None
        for text, line, where in texts[:2]:
            match = _PERIOD_SPAN.search(text or "")
            if match:
                found = (int(match.group(1)), int(match.group(2)), f"“{match.group(0)}” in {where}", line)
                break
        if found is None:
            for text, line, where in texts[2:]:
                match = _PERIOD_SPAN.search(text)
                if match and _PERIOD_WORDS.search(text):
                    found = (int(match.group(1)), int(match.group(2)), f"“{match.group(0)}” ({where})", line)
                    break
        if found is None:
            for text, line, where in texts:
                name = next((n for n in _PERIOD_YEARS if n in (text or "")), None)
                if name and (where in ("the title", "the document properties") or _PLAN_TITLE.search(text or "")):
                    end = _PERIOD_YEARS[name]
                    found = (end - 4, end, f"“{name}” in {where}", line)
                    break
        if found is None:
            years = Counter(i.target_year for i in doc.indicators if i.target_year)
            if years:
                end = years.most_common(1)[0][0]
                found = (end - 4, end, f"the indicator target year {end} (five years assumed)", None)
        if found is None or not 1990 <= found[0] <= found[1] <= found[0] + 15:
            self.note("plan_period", "the plan period was not found in the document; give it when importing")
            return
        doc.period_start, doc.period_end = found[0], found[1]
        self.note("plan_period", f"plan period {found[0]}–{found[1]}, from {found[2]}", found[3])


def _ocr_row(location: str) -> int | None:
    match = re.search(r"\(OCR\) row (\d+)", location or "")
    return int(match.group(1)) if match else None


def build_tree(block_doc: BlockDocument) -> PlanDocument:
    """Blocks → PlanDocument (tree, indicators, boxes, numbers, warnings)."""
    return _Builder(block_doc).build()


__all__ = ["build_tree", "classify_heading", "Heading"]
