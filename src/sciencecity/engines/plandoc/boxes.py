"""专栏 boxes: captions, groups and items, from one-column or multi-column tables."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import Block
from .model import Box, BoxGroup, BoxItem, Paragraph
from .text import CN_NUMERAL, cn_to_int, split_title, to_half_width

BOX_CAPTION = re.compile(r"^专栏\s*([0-9０-９]+|" + CN_NUMERAL + r")?\s*[:：.、]?\s*(.*)$")
TABLE_CAPTION = re.compile(
    r"^(?:附)?表\s*([0-9０-９]+|" + CN_NUMERAL + r")(?:\s*[-－.]\s*[0-9０-９]+)?\s*[:：.、]?\s*(.*)$"
)

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_ITEM_NUMBERED = re.compile(
    r"^(?:(\d{1,3})\s*[.．、](?!\d)|[（(](\d{1,3})[）)]|([" + _CIRCLED + r"]))\s*(.+)$"
)
_ITEM_CN = re.compile(r"^(?:(" + CN_NUMERAL + r")、|[（(](" + CN_NUMERAL + r")[）)])\s*(.+)$")


@dataclass
class Caption:
    kind: str  # "box" or "table"
    number: int | None
    title: str
    line: int | None
    location: str
    text: str


def read_caption(text: str, line: int | None = None, location: str = "") -> Caption | None:
    """``专栏1 重大科技基础设施建设重点专项`` or ``表1 主要指标`` → Caption; running text → None."""
    stripped = text.strip()
    if len(stripped) > 80 or "。" in stripped[:-1]:
        return None
    match = BOX_CAPTION.match(stripped)
    if match:
        number = cn_to_int(to_half_width(match.group(1))) if match.group(1) else None
        return Caption("box", number, match.group(2).strip(), line, location, stripped)
    match = TABLE_CAPTION.match(stripped)
    if match and match.group(2) and not re.match(r"^[，,。的中所]", match.group(2)):
        number = cn_to_int(to_half_width(match.group(1)))
        return Caption("table", number, match.group(2).strip(), line, location, stripped)
    return None


def _item_number(match: re.Match) -> int | None:
    if match.group(1):
        return int(match.group(1))
    if match.group(2):
        return int(match.group(2))
    if match.group(3):
        return _CIRCLED.index(match.group(3)) + 1
    return None


def parse_box(block: Block, caption: Caption | None) -> tuple[Box, list[str]]:
    """Build a Box from a table block; returns the box and notes (problem codes)."""
    rows = [[list(cell) for cell in row] for row in block.rows]
    # caption inside the first cell
    if rows and rows[0] and rows[0][0]:
        first = rows[0][0][0]
        inner = read_caption(first.text, first.line, first.location)
        if inner is not None and inner.kind == "box":
            if caption is None:
                caption = inner
            rows[0][0] = rows[0][0][1:]
    number = caption.number if caption else None
    title = caption.title if caption else ""
    line = caption.line if caption else block.line
    location = caption.location if caption else block.location
    box = Box(number=number, title=title, line=line, location=location)

    widths = [len([c for c in row if c]) for row in rows]
    multi = sum(1 for w in widths if w >= 2) >= max(1, len([w for w in widths if w]) // 2) and any(
        w >= 2 for w in widths
    )
    if multi:
        _parse_multi_column(box, rows)
    else:
        paragraphs = [p for row in rows for cell in row for p in cell]
        _parse_one_column(box, paragraphs)
    notes: list[str] = []
    if not box.items:
        notes.append("box_image_only" if block.has_image else "box_empty")
    return box, notes


def _parse_one_column(box: Box, paragraphs: list[Paragraph]) -> None:
    has_numbers = any(_ITEM_NUMBERED.match(to_half_width(p.text)) for p in paragraphs)
    group: BoxGroup | None = None
    item: BoxItem | None = None

    def current_group() -> BoxGroup:
        nonlocal group
        if group is None:
            group = BoxGroup(title=None)
            box.groups.append(group)
        return group

    for index, paragraph in enumerate(paragraphs):
        text = paragraph.text.strip()
        if not text:
            continue
        numbered = _ITEM_NUMBERED.match(to_half_width(text))
        is_last = index == len(paragraphs) - 1
        if numbered:
            body = text[numbered.start(4) :] if len(text) == len(to_half_width(text)) else numbered.group(4)
            title, rest = split_title(body)
            item = BoxItem(
                number=_item_number(numbered),
                title=title,
                text=rest,
                line=paragraph.line,
                location=paragraph.location,
            )
            current_group().items.append(item)
            continue
        cn = _ITEM_CN.match(text)
        short = len(text) <= 40 and not re.search(r"[。；;]", text.rstrip("。"))
        if short and not is_last and (cn or not text.endswith("。")) and "。" not in text:
            title = cn.group(3) if cn else text
            group = BoxGroup(title=title.strip(), line=paragraph.line)
            box.groups.append(group)
            item = None
            continue
        if item is not None and (has_numbers or not _has_run_in_title(text)):
            item.text = f"{item.text}\n{text}" if item.text else text
            continue
        title, rest = split_title(text, max_title=40)
        item = BoxItem(number=None, title=title, text=rest, line=paragraph.line, location=paragraph.location)
        current_group().items.append(item)
    _fold_empty_groups(box)


def _has_run_in_title(text: str) -> bool:
    match = re.search("[。：:]", text)
    return bool(match) and match.start() <= 40


def _fold_empty_groups(box: Box) -> None:
    """A "group" that got no items was an item written as a bare name."""
    if box.groups and all(not g.items for g in box.groups):
        items = [BoxItem(number=None, title=g.title or "", line=g.line) for g in box.groups]
        box.groups = [BoxGroup(title=None, items=items)]
        return
    kept: list[BoxGroup] = []
    for group in box.groups:
        if group.items:
            kept.append(group)
        elif kept:
            kept[-1].items.append(BoxItem(number=None, title=group.title or "", line=group.line))
    box.groups = kept


_HEADER_WORDS = re.compile(r"序号|名称|项目|内容|单位|主体|时限|进度|投资|类别|地点|备注")


def _parse_multi_column(box: Box, rows: list[list[list[Paragraph]]]) -> None:
    group: BoxGroup | None = None
    for row in rows:
        cells = ["".join(p.text for p in cell).strip() for cell in row]
        non_empty = [(i, c) for i, c in enumerate(cells) if c]
        if not non_empty:
            continue
        if len(non_empty) == 1:
            text = non_empty[0][1]
            if len(text) <= 40 and "。" not in text:
                group = BoxGroup(title=text, line=row[non_empty[0][0]][0].line)
                box.groups.append(group)
                continue
        if all(len(c) <= 10 and _HEADER_WORDS.search(c) for _, c in non_empty):
            continue  # header row
        first_paragraph = next(p for cell in row for p in cell)
        number = None
        texts = [c for _, c in non_empty]
        if re.fullmatch(r"\d{1,3}", to_half_width(texts[0])):
            number = int(to_half_width(texts[0]))
            texts = texts[1:]
        if not texts:
            continue
        title, rest = texts[0], "；".join(texts[1:])
        numbered = _ITEM_NUMBERED.match(to_half_width(title))
        if numbered and number is None:
            number = _item_number(numbered)
            title = numbered.group(4)
        if group is None:
            group = BoxGroup(title=None)
            box.groups.append(group)
        group.items.append(
            BoxItem(
                number=number,
                title=title,
                text=rest,
                line=first_paragraph.line,
                location=first_paragraph.location,
            )
        )
    _fold_empty_groups(box)
