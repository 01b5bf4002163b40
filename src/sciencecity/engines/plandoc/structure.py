"""Document structure before the tree: tables of contents and the role of every heading.

Published plans rarely start with the body. A saved web page or its Markdown copy carries front
matter, a cover and a table of contents (目录) that repeats every 篇/章/节 heading, with or
without page numbers, as a list, as lines, or inside a ``<details>`` block. Read naively, the
table of contents opens every chapter once and the body opens them again. This module finds
such runs and proves that they are a table of contents by finding the same headings again, in
the same order, further down; only then are they skipped.

It also decides which numbering system holds chapters, sections and tasks, allowing the system
to change midway (``第四章`` followed by ``五、`` as the next chapter), and records why, so that
the parse always explains itself.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .blocks import PARAGRAPH, TABLE, Block

TOC_TITLE = re.compile(r"^(?:目\s*录|目\s*次|contents|table of contents)[:：]?$", re.IGNORECASE)
# a trailing page number, with or without leader dots: "第一章 总体要求……3", "发展基础 . . . 12", "一、形势 3"
_PAGE_SUFFIX = re.compile(r"(?:[\s.·…\-_—⋯．・]{2,}|\s+|(?<=[\u4e00-\u9fff）)]))[-—]?\s*(\d{1,4})\s*[-—]?\s*$")
_LEADERS = re.compile(r"[.·…⋯．・_]{3,}")
_SPACES = re.compile(r"\s+")
_UNNUMBERED_TOC_ENTRY = re.compile(r"^(?:前言|序言|引言|附件|附表|附录|结束语|结语|名词解释|后记|附\s*件\s*\d*)")
_MAX_ENTRY = 80


def strip_page_number(text: str) -> tuple[str, bool]:
    """``第一章 总体要求……3`` → (``第一章 总体要求``, True); text without a page number unchanged."""
    match = _PAGE_SUFFIX.search(text)
    if match is None:
        stripped = _LEADERS.sub("", text).strip()
        return stripped, stripped != text.strip()
    head = text[: match.start()].rstrip(" .·…-_—⋯．・")
    if not head or head[-1].isdigit():
        return text, False
    separated = not match.group(0)[:1].isdigit()  # "总体要求……3" is a page number, "方向1" may be the title
    return head.strip(), separated


def title_key(text: str) -> str:
    """Compare headings without spaces, punctuation variants or leader dots."""
    text = _LEADERS.sub("", text)
    text = _SPACES.sub("", text)
    return text.replace("：", ":").replace("（", "(").replace("）", ")").replace("．", ".")


@dataclass
class TocRun:
    """A table of contents found in the blocks: block indices ``start``..``end`` (exclusive)."""

    start: int
    end: int
    entries: int
    matched: int
    with_title: bool
    with_page_numbers: int


@dataclass
class StructureReport:
    """What the structure pass decided, in words, for ``plan inspect``."""

    skipped: set[int] = field(default_factory=set)
    toc_runs: list[TocRun] = field(default_factory=list)
    unsure_runs: list[TocRun] = field(default_factory=list)


def find_tables_of_contents(blocks: list[Block], classify) -> StructureReport:
    """Find runs of heading-like lines that are repeated, in order, by the headings of the body.

    ``classify(text)`` returns a heading (with ``kind``, ``number`` and ``text``) or None.
    """
    report = StructureReport()
    n = len(blocks)
    # key of every block that could be a heading of the body, with its position
    body_keys: dict[str, list[int]] = {}
    entry_info: list[tuple[str, bool] | None] = [None] * n
    for index, block in enumerate(blocks):
        if block.kind != PARAGRAPH:
            continue
        text = block.text
        heading = classify(text)
        if heading is not None:
            body_keys.setdefault(f"{heading.kind}|{heading.number}|{title_key(heading.text)}", []).append(index)
            if heading.text:
                body_keys.setdefault(title_key(heading.text), []).append(index)  # a TOC without numbers
        body_keys.setdefault(title_key(text), []).append(index)
        if len(text) <= _MAX_ENTRY:
            entry_info[index] = _toc_entry(text, classify)

    i = 0
    while i < n:
        block = blocks[i]
        titled = block.kind == PARAGRAPH and bool(TOC_TITLE.match(block.text.replace(" ", "")))
        start = i
        j = i + 1 if titled else i
        entries: list[tuple[int, tuple[str, ...]]] = []
        loose: set[int] = set()
        pages = 0
        while j < n:
            info = entry_info[j]
            if info is None and titled and _short_line(blocks[j]):
                # under a 目录 title, unnumbered lines without page numbers ("发展基础") are entries too;
                # they still have to be found again below
                info = ((title_key(blocks[j].text),), False)
                loose.add(j)
            if info is None:
                # a Word table of contents inside a table, or an empty line of a list
                if titled and blocks[j].kind == TABLE and not entries:
                    entries.extend(_table_entries(blocks[j], j, classify))
                    j += 1
                    continue
                break
            keys, has_page = info
            if not has_page and not any("|" in key for key in keys):
                loose.add(j)  # neither a numbered heading nor a line with a page number
            entries.append((j, keys))
            pages += int(has_page)
            j += 1
        if len(entries) >= 3 or (titled and entries):
            end, matched = _best_cut(entries, body_keys, j, loose)
            kept = [e for e in entries if e[0] < end]
            run = TocRun(start, end, len(kept), matched, titled, sum(1 for e in kept if entry_info[e[0]] and entry_info[e[0]][1]))
            needed = 0.4 if (titled or pages >= len(entries) * 0.6) else 0.6
            if kept and matched >= max(2 if len(kept) >= 2 else 1, needed * len(kept)):
                report.toc_runs.append(run)
                report.skipped.update(range(start, end))
                i = end
                continue
            if titled or pages >= 3:
                report.unsure_runs.append(run)
        i = max(i + 1, j)
    return report


def _best_cut(
    entries: list[tuple[int, tuple[str, ...]]], body_keys: dict[str, list[int]], end: int, loose: set[int]
) -> tuple[int, int]:
    """Where the table of contents ends: the body's first headings often follow it directly.

    Candidate ends are the run's end and every place where the run repeats its first entry (the
    body starting again with 第一篇 / 第一章 / 前言); the one that leaves most entries found again
    below, in order, wins.
    """
    first = set(entries[0][1])
    cuts = [end] + [index for index, keys in entries[1:] if first & set(keys)]
    best = (end, -1.0, 0)
    for cut in cuts:
        kept = [(index, keys) for index, keys in entries if index < cut]
        if not kept:
            continue
        matched, last = _matched_in_order(kept, body_keys, cut)
        score = matched / len(kept) + matched / len(entries)
        if score > best[1]:
            # loose entries (plain short lines) after the last entry found again are the body's own
            # lines: they stay in the body; heading-like entries stay in the TOC even when the body
            # has since renamed them (a TOC a little out of date)
            firm = [index for index, _keys in kept if index not in loose]
            stop = max([last if last is not None else -1] + firm) + 1
            best = (min(cut, stop) if stop > 0 else cut, score, matched)
    return best[0], best[2]


def _short_line(block: Block) -> bool:
    text = block.text
    return block.kind == PARAGRAPH and len(text) <= 40 and "。" not in text and not TOC_TITLE.match(text)


def _toc_entry(text: str, classify) -> tuple[tuple[str, ...], bool] | None:
    """The comparison keys of a line that could be a table-of-contents entry, or None.

    A trailing number may be a page number or part of the title (``推进重点方向1``): both readings
    are kept as keys.
    """
    stripped, has_page = strip_page_number(text)
    keys: list[str] = []
    titles: list[str] = []
    for candidate in dict.fromkeys([stripped, text.strip()]):
        heading = classify(candidate)
        if heading is not None:
            keys.append(f"{heading.kind}|{heading.number}|{title_key(heading.text)}")
            if heading.text:
                titles.append(title_key(heading.text))  # matches a TOC that lists titles without numbers
    if keys:
        return tuple(keys + titles), has_page
    if has_page and (len(stripped) <= 40 or _UNNUMBERED_TOC_ENTRY.match(stripped)):
        return (title_key(stripped),), True
    if _UNNUMBERED_TOC_ENTRY.match(stripped) and len(stripped) <= 12:
        return (title_key(stripped),), False
    return None


def _table_entries(block: Block, index: int, classify) -> list[tuple[int, tuple[str, ...]]]:
    entries = []
    for row in block.cell_texts():
        text = " ".join(c for c in row if c).strip()
        info = _toc_entry(text, classify) if text else None
        if info is not None:
            entries.append((index, info[0]))
    return entries


def _matched_in_order(
    entries: list[tuple[int, tuple[str, ...]]], body_keys: dict[str, list[int]], after: int
) -> tuple[int, int | None]:
    """How many entries reappear at or after ``after`` (each after the previous one found), and the
    block index of the last entry found."""
    position = after - 1
    matched = 0
    last = None
    for index, keys in entries:
        found = None
        for key in keys:
            positions = body_keys.get(key, [])
            k = bisect.bisect_right(positions, position)
            if k < len(positions) and (found is None or positions[k] < found):
                found = positions[k]
        if found is not None:
            position = found
            matched += 1
            last = index
    return matched, last


KIND_NAMES = {
    "part": "第X篇",
    "chapter_zh": "第X章",
    "section_zh": "第X节",
    "cn": "一、",
    "paren_cn": "（一）",
    "num": "1.",
    "paren_num": "（1）",
}


def kind_name(kind: str | None) -> str:
    if kind is None:
        return "—"
    if kind.startswith("style"):
        return f"heading style {kind[5:]}"
    return KIND_NAMES.get(kind, kind)
