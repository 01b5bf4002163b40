"""Indicator tables (表N), target values and comparators, baselines and commitments in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .blocks import Block
from .model import Baseline, Commitment, Indicator, Paragraph
from .text import to_half_width

# ---------------------------------------------------------------------------------------------
# Values and comparators

NUMBER = r"\d+(?:\.\d+)?"
_RANGE = re.compile(rf"({NUMBER})\s*%?\s*(?:-|－|—|–|~|～|至|到)\s*({NUMBER})")
_FIRST_NUMBER = re.compile(rf"-?{NUMBER}")

_PREFIX_COMPARATORS = [
    (re.compile(r"^(?:≥|>=|≧|不低于|不少于|至少|大于等于|不小于)"), "ge"),
    (re.compile(r"^(?:≤|<=|≦|不高于|不超过|不多于|小于等于|不大于|控制在)"), "le"),
    (re.compile(r"^(?:>|超过|大于|高于|多于|突破)"), "gt"),
    (re.compile(r"^(?:<|低于|小于|少于)"), "lt"),
    (re.compile(r"^(?:约|≈|~|大约|左右)"), "approx"),
]
_SUFFIX_COMPARATORS = [
    (re.compile(r"(?:以上|及以上)$"), "ge"),
    (re.compile(r"(?:以下|及以下|以内)$"), "le"),
    (re.compile(r"(?:左右|上下)$"), "approx"),
]
_DECREASE = re.compile(r"下降|降低|减少|压减|削减|减排|降幅")
_INCREASE = re.compile(r"提高|增长|提升|增加|增幅")


@dataclass
class Quantity:
    """A parsed target or mention: value, range, comparator and the qualifiers around it."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    comparator: str = "eq"
    percent: bool = False
    change: str = ""
    cumulative: bool = False


def parse_target(text: str) -> Quantity:
    """``>45.0`` → gt 45; ``≤0.45`` → le; ``1-2`` → range; ``20%`` → 20 (percent); ``2100左右`` → approx."""
    quantity = Quantity()
    t = to_half_width(text or "").strip()
    t = re.sub(r"\s+", "", t)
    if not t:
        return quantity
    if re.search(r"累计|〔|\[|【", t):
        quantity.cumulative = True
    t = re.sub(r"[〔〕\[\]【】]", "", t)
    t = t.replace("累计", "")
    if "%" in t or "％" in t or "百分点" in t:
        quantity.percent = True
    if _DECREASE.search(t):
        quantity.change = "decrease"
    elif _INCREASE.search(t) and re.search(NUMBER, t):
        quantity.change = "increase"
    core = re.sub(r"^(?:下降|降低|减少|压减|削减|提高|增长|提升|增加)", "", t)
    range_match = _RANGE.search(core)
    if range_match and not re.match(r"^(?:>|<|≥|≤)", core):
        low, high = float(range_match.group(1)), float(range_match.group(2))
        if low <= high:
            quantity.low, quantity.high = low, high
            quantity.comparator = "range"
            return quantity
    for pattern, comparator in _PREFIX_COMPARATORS:
        if pattern.search(core):
            quantity.comparator = comparator
            break
    else:
        stripped = re.sub(r"[%％]|个百分点|百分点", "", core)
        stripped = re.sub(
            r"[\u4e00-\u9fff•·/]+$", lambda m: m.group(0) if _suffix_comparator(m.group(0)) else "", stripped
        )
        comparator = _suffix_comparator(stripped)
        if comparator:
            quantity.comparator = comparator
    number = _FIRST_NUMBER.search(core.replace(",", ""))
    if number:
        quantity.value = float(number.group(0))
    return quantity


def _suffix_comparator(text: str) -> str:
    for pattern, comparator in _SUFFIX_COMPARATORS:
        if pattern.search(text):
            return comparator
    return ""


_LOWER_IS_BETTER = re.compile(
    r"能耗|排放|下降|降低|减少|压减|削减|污染|浓度|事故|死亡率|失业率|碳强度|用水量|耗水|耗能|贫困|发生率|"
    r"PM2\.?5|PM10|二氧化碳|二氧化硫|氮氧化物|化学需氧量|氨氮|噪声|劣V|劣Ⅴ|超标|拥堵|投诉|成本|负债率|时限|时长|天数.*污染"
)


def infer_direction(name: str, target_text: str = "", comparator: str = "") -> str:
    """``higher`` unless the wording says less is better (能耗, 排放, 下降, 降低 ...) or the target is ≤/<."""
    if _LOWER_IS_BETTER.search(name) or _DECREASE.search(target_text or ""):
        return "lower"
    if comparator in ("le", "lt"):
        return "lower"
    return "higher"


def normalise_attribute(text: str) -> str:
    if "约束" in text:
        return "约束性"
    if "预期" in text:
        return "预期性"
    return ""


# ---------------------------------------------------------------------------------------------
# Indicator tables

_HEADER_NAME = re.compile(r"指标(?:名称)?$|^指标|名称|^项目$|^内容$")
_HEADER_NUMBER = re.compile(r"^(?:序号|编号|序|No\.?)$", re.IGNORECASE)
_HEADER_UNIT = re.compile(r"单位")
_HEADER_ATTRIBUTE = re.compile(r"属性|性质")
_HEADER_CATEGORY = re.compile(r"类别|领域|分类|维度|方面|类型")
_HEADER_BASELINE = re.compile(r"基期|基数|现状|基准|完成|实际|基础|现值")
_HEADER_TARGET = re.compile(r"目标|预期值|规划值")
_HEADER_AVERAGE = re.compile(r"年均|累计|平均|增速")
_DASH_ONLY = re.compile(r"^[-—–－/／\\、\s]*$")
_QUALITATIVE = re.compile(
    r"同步|合理区间|稳步|稳定|持续|逐步|不断|保持|完成.*(?:下达|任务)|达到.*(?:要求|标准)|明显|显著|进一步|争取|力争|高于|不低于全国"
)
_STAR = re.compile(r"[*＊※]")
_NOTE_MARKERS = re.compile(r"[①-⑳]|[*＊※]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|注\s*\d+|\[\d{1,2}\](?=\s*$)")
_SUB_ROW = re.compile(r"^(?:其中|含)\s*[:：]?\s*")
FOOTNOTE_START = re.compile(r"^(?:注|说明|备注|资料来源|数据来源)\s*[:：]|^[①-⑳*＊※]")
_YEAR = re.compile(r"(19|20)\d{2}")


def looks_like_indicator_table(block: Block) -> bool:
    """A header row naming the indicator column and a target/unit/attribute column."""
    return _find_header(block.cell_texts()) is not None


def _find_header(rows: list[list[str]]) -> int | None:
    for index, row in enumerate(rows[:4]):
        cells = [to_half_width(c).replace(" ", "") for c in row]
        has_name = any("指标" in c and not _HEADER_ATTRIBUTE.search(c) and len(c) <= 12 for c in cells)
        has_other = any(
            _HEADER_TARGET.search(c)
            or _HEADER_ATTRIBUTE.search(c)
            or _HEADER_UNIT.search(c)
            or (_YEAR.search(c) and len(c) <= 12)
            for c in cells
        )
        if has_name and has_other and len([c for c in cells if c]) >= 2:
            return index
    return None


@dataclass
class IndicatorTable:
    """What one table yields."""

    indicators: list[Indicator]
    baselines: list[Baseline]
    problems: list[tuple[str, str, str]]  # (code, message, location)
    starred: list[Baseline] = field(default_factory=list)  # baselines marked * (another base year)


def parse_indicator_table(
    block: Block,
    *,
    table_number: int | None,
    table_title: str,
    default_year: int | None,
    first_number: int = 1,
) -> IndicatorTable:
    rows = block.rows
    texts = block.cell_texts()
    header_index = _find_header(texts)
    problems: list[tuple[str, str, str]] = []
    if header_index is None:
        roles = _positional_roles(max((len(r) for r in texts), default=0))
        header_index = -1
        header_cells: list[str] = []
    else:
        header_cells = [to_half_width(c).replace(" ", "") for c in texts[header_index]]
        # a second header row (e.g. 目标值 spanning 2020年 | 2025年)
        if header_index + 1 < len(texts):
            nxt = [to_half_width(c).replace(" ", "") for c in texts[header_index + 1]]
            if (
                nxt
                and not any(re.fullmatch(r"\d+", c) for c in nxt)
                and any(_YEAR.search(c) for c in nxt)
                and all(len(c) <= 12 for c in nxt)
            ):
                merged = []
                for i in range(max(len(header_cells), len(nxt))):
                    a = header_cells[i] if i < len(header_cells) else ""
                    b = nxt[i] if i < len(nxt) else ""
                    merged.append(a + b if a != b else a)
                header_cells = merged
                header_index += 1
        roles = _header_roles(header_cells)
    ncols = max(len(header_cells), max((len(r) for r in texts), default=0))

    target_col = roles.get("target")
    target_year = None
    if target_col is not None and target_col < len(header_cells):
        year = _YEAR.search(header_cells[target_col])
        if year:
            target_year = int(year.group(0))
    if target_year is None:
        target_year = default_year
    baseline_cols = roles.get("baselines", [])

    indicators: list[Indicator] = []
    baselines: list[Baseline] = []
    footnotes: list[str] = []
    starred_baselines: list[Baseline] = []
    deferred: list[Indicator] = []  # sub-rows without a number in a numbered table
    category = ""
    counter = first_number
    parent: Indicator | None = None
    for r in range(header_index + 1, len(rows)):
        row_cells = rows[r]
        cells = texts[r]
        non_empty = [c for c in cells if c.strip()]
        if not non_empty:
            continue
        if len(non_empty) == 1 and ncols > 2:
            only = non_empty[0]
            if FOOTNOTE_START.match(only):
                footnotes.append(only)
                continue
            if not re.search(r"\d", only) or len(only) > 20:
                category = only
                continue
        if len(cells) < ncols:  # cells spanned from the rows above (rowspan) are missing on the left
            pad = ncols - len(cells)
            cells = [""] * pad + cells
            row_cells = [[] for _ in range(pad)] + row_cells
        if FOOTNOTE_START.match(non_empty[0]) and not re.match(r"^[①-⑳*＊※]", non_empty[0]):
            footnotes.append(" ".join(non_empty))
            continue

        def cell(role: str, cells=cells) -> str:
            col = roles.get(role)
            if col is None or col >= len(cells):
                return ""
            return cells[col].strip()

        name = cell("name")
        values_present = any(
            cell(role) and not _DASH_ONLY.match(cell(role)) for role in ("target", "average", "unit")
        ) or any(col < len(cells) and cells[col].strip() for col in baseline_cols)
        sub_row = False
        if not name:
            if parent is None or not values_present:
                continue
            # a second value of the indicator above (its name cell spans both rows)
            sub_row = True
            name = f"{parent.name}（{cell('unit') or len([i for i in indicators if i.parent_number == parent.number]) + 2}）"
        elif _SUB_ROW.match(name) and parent is not None:
            sub_row = True
            name = _SUB_ROW.sub("", name)
        if roles.get("category") is not None and cell("category"):
            category = cell("category")
        markers = _NOTE_MARKERS.findall(name)
        name = _NOTE_MARKERS.sub("", name).strip()
        number_text = to_half_width(cell("number"))
        number_match = re.match(r"^(\d+)", number_text)
        if number_match:
            number: int | None = int(number_match.group(1))
            counter = number + 1
        elif sub_row and roles.get("number") is not None:
            number = None
        else:
            number = counter
            counter += 1
        unit = cell("unit")
        name, unit = _split_unit_from_name(name, unit)
        target_text = cell("target")
        if _DASH_ONLY.match(target_text):
            target_text = ""
        average_text = cell("average")
        if _DASH_ONLY.match(average_text):
            average_text = ""
        basis = ""
        if not target_text and average_text:
            target_text = average_text
            bracketed = bool(re.search(r"[〔\[【]|累计", average_text))
            header = header_cells[roles["average"]] if roles["average"] < len(header_cells) else ""
            basis = "cumulative" if bracketed or ("累计" in header and "年均" not in header) else "annual_average"
        elif target_text and re.search(r"[〔\[【]", target_text):
            basis = "cumulative"
        if _STAR.search(target_text):
            markers.append("*")
        target_clean = _STAR.sub("", target_text).strip()
        quantity = parse_target(target_clean)
        if quantity.percent and not unit:
            unit = "%"
        qualitative = bool(target_clean) and quantity.value is None and quantity.low is None
        qualitative = qualitative and bool(_QUALITATIVE.search(target_clean))
        attribute = normalise_attribute(cell("attribute"))
        name_col = roles.get("name", 0)
        name_cell = row_cells[name_col] if name_col < len(row_cells) else []
        first_paragraph: Paragraph | None = name_cell[0] if name_cell else None
        if first_paragraph is None:
            first_paragraph = next((p for c in row_cells for p in c), None)
        line = first_paragraph.line if first_paragraph else block.line
        location = first_paragraph.location if first_paragraph else block.location
        indicator = Indicator(
            number=number,
            name=name,
            unit=unit or (parent.unit if sub_row and parent else ""),
            target_value=quantity.value if quantity.comparator != "range" else None,
            target_low=quantity.low,
            target_high=quantity.high,
            comparator=quantity.comparator,
            target_text=target_clean,
            target_year=target_year,
            attribute=attribute or (parent.attribute if sub_row and parent else ""),
            direction=infer_direction(name, target_clean, quantity.comparator),
            table_number=table_number,
            table_title=table_title,
            line=line,
            location=location,
            category=category,
            change=quantity.change,
            cumulative=quantity.cumulative or basis == "cumulative",
            target_basis=basis,
            qualitative=qualitative,
            parent_number=parent.number if sub_row and parent else None,
            marks=["*" if m in ("＊", "※") else m for m in dict.fromkeys(markers)],
        )
        indicators.append(indicator)
        if number is None:
            deferred.append(indicator)
        if not sub_row:
            parent = indicator
        for col in baseline_cols:
            if col >= len(cells) or col >= len(header_cells):
                continue
            year_match = _YEAR.search(header_cells[col])
            starred = bool(_STAR.search(cells[col]))
            value = parse_target(_STAR.sub("", cells[col]))
            if value.value is None or value.comparator == "range":
                continue
            baseline = Baseline(
                indicator_number=number,
                year=int(year_match.group(0)) if year_match else None,
                value=value.value,
                unit=indicator.unit,
                sentence=f"{header_cells[col]}: {cells[col]}",
                line=line,
                location=location,
            )
            baselines.append(baseline)
            if starred:
                starred_baselines.append(baseline)
                if "*" not in indicator.marks:
                    indicator.marks.append("*")
    # sub-rows of a numbered table take numbers after the table's last one, so that none collide
    if deferred:
        next_number = max([i.number for i in indicators if i.number is not None] + [first_number - 1]) + 1
        for indicator in deferred:
            indicator.number = next_number
            for baseline in baselines:
                if baseline.indicator_number is None and baseline.location == indicator.location:
                    baseline.indicator_number = next_number
            next_number += 1
    link_footnotes(indicators, footnotes, starred_baselines)
    return IndicatorTable(indicators, baselines, problems, starred_baselines)


_FOOTNOTE_ITEM = re.compile(r"(?:(?<=[:：；;。\s])|^)(\d{1,2}[.．、]|[①-⑳]|[*＊※])")
_FOOTNOTE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def split_footnotes(texts: list[str]) -> list[tuple[str, str]]:
    """``注：①…；②…`` / ``注：1.…2.…`` / ``*为2019年数据`` → [(marker, text)]; marker "" when none."""
    items: list[tuple[str, str]] = []
    for text in texts:
        body = re.sub(r"^(?:注|说明|备注)\s*[:：]\s*", "", text.strip())
        pieces = _FOOTNOTE_ITEM.split(body)
        if len(pieces) == 1:
            named = re.search(r"(?:带|标|加|标注|标有)\s*[“\"]?([*＊※]|[①-⑳])", body)
            items.append(("*" if named and named.group(1) in "*＊※" else named.group(1) if named else "", body))
            continue
        if pieces[0].strip(" ；;。"):
            items.append(("", pieces[0].strip(" ；;")))
        for k in range(1, len(pieces) - 1, 2):
            marker = pieces[k]
            content = pieces[k + 1].strip(" ；;")
            if re.match(r"\d", marker):
                marker = ""  # "1." numbers the notes; it is not a mark in the table
            marker = "*" if marker in ("＊", "※") else marker
            if not marker:
                named = re.search(r"(?:带|标|加|标注|标有)\s*[“\"]?([*＊※]|[①-⑳])", content)
                if named:
                    marker = "*" if named.group(1) in "*＊※" else named.group(1)
            if content:
                items.append((marker, content))
    return items


def link_footnotes(
    indicators: list[Indicator], texts: list[str], starred_baselines: list[Baseline] | None = None
) -> int:
    """Attach each note to the rows it is about: by its mark (① *), else by the indicator's name.

    A note such as ``*为2019年数据`` also gives the starred baselines their year. Returns how many
    links were made.
    """
    links = 0
    items = split_footnotes(texts)
    for marker, content in items:
        note = f"{marker}{content}" if marker and marker not in content else content
        if marker:
            targets = [i for i in indicators if marker in i.marks]
        else:
            targets = [i for i in indicators if _mentions(content, i.name)]
            if not targets and re.search(r"〔|\[|累计", content):
                targets = [i for i in indicators if i.target_basis == "cumulative"]
        for indicator in targets:
            if note not in indicator.footnotes:
                indicator.footnotes.append(note)
                links += 1
        if marker == "*":
            year = _FOOTNOTE_YEAR.search(content)
            if year:
                for baseline in starred_baselines or []:
                    baseline.year = int(year.group(1))
                    baseline.sentence += f"（{note}）"
    return links


def _mentions(note: str, name: str) -> bool:
    """The note names the indicator: they share a run of at least four characters."""
    clean_note = normalise_name(note)
    clean_name = normalise_name(name)
    if len(clean_name) < 4:
        return bool(clean_name) and clean_name in clean_note
    return any(clean_name[k : k + 4] in clean_note for k in range(len(clean_name) - 3))


def _positional_roles(ncols: int) -> dict:
    layouts = {
        5: {"number": 0, "name": 1, "unit": 2, "target": 3, "attribute": 4},
        4: {"name": 0, "unit": 1, "target": 2, "attribute": 3},
        6: {"category": 0, "number": 1, "name": 2, "unit": 3, "target": 4, "attribute": 5},
        3: {"name": 0, "unit": 1, "target": 2},
    }
    return layouts.get(ncols, {"name": 0, "target": max(0, ncols - 1)})


def _header_roles(cells: list[str]) -> dict:
    roles: dict = {}
    year_cols: list[tuple[int, int]] = []
    for i, c in enumerate(cells):
        if not c:
            continue
        if _HEADER_NUMBER.match(c) and "number" not in roles:
            roles["number"] = i
        elif _HEADER_ATTRIBUTE.search(c) and "attribute" not in roles:
            roles["attribute"] = i
        elif _HEADER_UNIT.search(c) and "unit" not in roles and len(c) <= 6:
            roles["unit"] = i
        elif _HEADER_AVERAGE.search(c) and not _HEADER_TARGET.search(c) and "average" not in roles:
            roles["average"] = i
        elif _YEAR.search(c) or _HEADER_TARGET.search(c) or _HEADER_BASELINE.search(c):
            year = _YEAR.search(c)
            is_baseline = bool(_HEADER_BASELINE.search(c)) and not _HEADER_TARGET.search(c)
            year_cols.append((i, int(year.group(0)) if year else 0))
            if is_baseline:
                roles.setdefault("baselines", []).append(i)
        elif ("指标" in c or _HEADER_NAME.search(c)) and "name" not in roles:
            roles["name"] = i
        elif _HEADER_CATEGORY.search(c) and "category" not in roles:
            roles["category"] = i
    baseline_set = set(roles.get("baselines", []))
    candidates = [(i, y) for i, y in year_cols if i not in baseline_set]
    explicit = [(i, y) for i, y in candidates if _HEADER_TARGET.search(cells[i])]
    if explicit:
        roles["target"] = max(explicit, key=lambda t: t[1])[0]
    elif candidates:
        roles["target"] = max(candidates, key=lambda t: t[1])[0]
    if "target" in roles:
        target_year = next((y for i, y in year_cols if i == roles["target"]), 0)
        for i, y in candidates:
            if i != roles["target"] and y and (not target_year or y < target_year):
                roles.setdefault("baselines", []).append(i)
    if "name" not in roles:
        used = {v for k, v in roles.items() if k != "baselines"}
        roles["name"] = next((i for i in range(len(cells)) if i not in used), 0)
    return roles


_UNIT_IN_NAME = re.compile(r"[（(]([^（）()]{1,8})[）)]\s*$")


def _split_unit_from_name(name: str, unit: str) -> tuple[str, str]:
    name = re.sub(r"\s+", "", name) if re.search(r"[\u4e00-\u9fff]", name) else name.strip()
    match = _UNIT_IN_NAME.search(name)
    if match and not unit:
        candidate = match.group(1)
        if re.fullmatch(r"%|‰|[\u4e00-\u9fff•·/%A-Za-z²³]+", candidate) and len(candidate) <= 6:
            return name[: match.start()].strip(), candidate
    return name, unit


# ---------------------------------------------------------------------------------------------
# Fuzzy indicator-name matching

_NAME_NOISE = re.compile(
    r"数量|个数|总数|总量|的|及|和|与|以上|全区|全市|我区|我市|合计|其中|每年|年均|累计|新增"
)
_NON_WORD = re.compile(r"[^0-9a-z\u4e00-\u9fff]")


def normalise_name(text: str) -> str:
    text = to_half_width(text).lower().replace("r&d", "研发").replace("研究与试验发展", "研发")
    text = _NON_WORD.sub("", text)
    return _NAME_NOISE.sub("", text)


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


def name_similarity(subject: str, name: str) -> float:
    """1.0 when one contains the other (and is long enough), else a bigram Dice coefficient."""
    a, b = normalise_name(subject), normalise_name(name)
    if len(a) < 3 or len(b) < 2:
        return 0.0
    if a == b:
        return 1.0
    if b in a and len(b) >= 4:
        return 0.95
    if a in b and len(a) >= max(4, int(0.6 * len(b))):
        return 0.9
    ga, gb = _bigrams(a), _bigrams(b)
    if not ga or not gb:
        return 0.0
    pool = list(gb)
    common = 0
    for g in ga:
        if g in pool:
            pool.remove(g)
            common += 1
    return 2 * common / (len(ga) + len(gb))


def match_indicator(
    subject: str, indicators: list[Indicator], unit: str = "", threshold: float = 0.6
) -> Indicator | None:
    best: Indicator | None = None
    best_score = 0.0
    second = 0.0
    for indicator in indicators:
        if unit and indicator.unit and not units_compatible(unit, indicator.unit):
            continue
        score = name_similarity(subject, indicator.name)
        if score > best_score:
            second = best_score
            best, best_score = indicator, score
        elif score > second:
            second = score
    if best is None or best_score < threshold or best_score - second < 0.05:
        return None
    return best


_UNIT_ALIASES = {"人·年": "人年", "人•年": "人年", "人/年": "人年", "％": "%", "个百分点": "%", "百分点": "%"}
_MULTIPLIERS = {"万": 1e4, "亿": 1e8, "千": 1e3, "百": 1e2}


def unit_parts(unit: str) -> tuple[float, str]:
    u = _UNIT_ALIASES.get(unit, unit).replace("•", "").replace("·", "")
    factor = 1.0
    while u and u[0] in _MULTIPLIERS and len(u) > 1:
        factor *= _MULTIPLIERS[u[0]]
        u = u[1:]
    return factor, u


def units_compatible(a: str, b: str) -> bool:
    if not a or not b:
        return True
    return unit_parts(a)[1] == unit_parts(b)[1]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    if not from_unit or not to_unit:
        return value
    return value * unit_parts(from_unit)[0] / unit_parts(to_unit)[0]


# ---------------------------------------------------------------------------------------------
# Quantities in running text: baselines and commitments

_UNITS = sorted(
    [
        "%",
        "‰",
        "个百分点",
        "人•年",
        "人·年",
        "人年",
        "人次",
        "万人次",
        "亿人次",
        "万人",
        "人",
        "名",
        "位",
        "万亿元",
        "千亿元",
        "百亿元",
        "亿元",
        "万元",
        "元",
        "亿美元",
        "万美元",
        "美元",
        "家",
        "个",
        "件",
        "项",
        "所",
        "座",
        "台",
        "套",
        "条",
        "篇",
        "部",
        "批",
        "支",
        "户",
        "类",
        "种",
        "张",
        "吨",
        "万吨",
        "亿吨",
        "千瓦",
        "万千瓦",
        "亿千瓦时",
        "千瓦时",
        "度",
        "兆瓦",
        "吉瓦",
        "平方米",
        "万平方米",
        "平方公里",
        "公里",
        "千米",
        "米",
        "亩",
        "万亩",
        "公顷",
        "倍",
        "只",
        "辆",
        "张床",
        "床",
        "册",
        "门",
        "场",
        "次",
        "微克",
        "毫克",
        "克",
        "千克",
        "公斤",
        "GB",
        "TB",
        "PB",
        "Gbps",
        "M",
    ],
    key=len,
    reverse=True,
)
_UNIT_RE = "|".join(re.escape(u) for u in _UNITS if u not in ("M",))
_MENTION = re.compile(
    rf"(?<![\d.A-Za-z第])({NUMBER})(?:\s*%?\s*(?:-|－|—|–|~|～|至|到)\s*({NUMBER}))?\s*(?:([万亿千])(?=(?:{_UNIT_RE})))?"
    rf"((?:{_UNIT_RE})(?:/(?:万元|亿元|元|万人|人|年|立方米|平方米|公里|户|家)|标准煤/万元)?)?(以上|以内|以下|左右|上下)?"
)
_YEAR_BEFORE = re.compile(r"((?:19|20)\d{2})\s*年(?:底|末|度)?(?:的)?\s*$")
_YEAR_ANY = re.compile(r"((?:19|20)\d{2})\s*年")
_CONTEXT_YEAR = re.compile(r"(?:截至|截止|截止到|到|至|于)?\s*((?:19|20)\d{2})\s*年(?:底|末|度)?")
_TARGET_VERB = re.compile(
    r"(?:达到|达|超过|超|突破|提高到|提高至|提升到|提升至|增加到|增加至|增长到|增长至|增至|升至|力争|不少于|不低于|"
    r"不超过|不高于|控制在|降低到|降低至|降至|下降到|下降至|下降|降低|减少|保持在|稳定在|累计|新增|实现|总量|规模)"
    r"\s*(?:约|近|逾|超|累计|达)?\s*$"
)
_VERB_COMPARATORS = [
    (re.compile(r"(?:不少于|不低于|至少)\s*$"), "ge"),
    (re.compile(r"(?:不超过|不高于|控制在)\s*$"), "le"),
    (re.compile(r"(?:超过|超|突破|逾)\s*$"), "gt"),
    (re.compile(r"(?:约|近)\s*$"), "approx"),
]
_LEADING_NOISE = re.compile(
    r"^(?:其中|并且|并|且|同时|以及|和|及|全区|全市|我区|我市|力争|累计|新增|共|建成|建设|拥有|培育|引进|形成|布局|"
    r"打造|集聚|汇聚|实现|完成|推动|使|让|确保|到(?:19|20)\d{2}年(?:底|末)?|截至(?:19|20)\d{2}年(?:底|末)?)+"
)
_TRAILING_NOISE = re.compile(
    r"(?:由|从)?(?:(?:19|20)\d{2}年(?:底|末)?的?)?(?:达到|达|超过|超|突破|提高到|提高至|提升到|提升至|增加到|增加至|"
    r"增长到|增长至|增至|升至|力争|不少于|不低于|不超过|不高于|控制在|降低到|降低至|降至|下降到|下降至|下降|降低|减少|"
    r"保持在|稳定在|为|是|有|约|近|逾|共|累计|达|年均增长|增长|提高|提升)*\s*$"
)
_SENTENCE_SPLIT = re.compile(r"(?<=[。；;！？!?])")
_CLAUSE_SPLIT = re.compile(r"[，,：:]")


@dataclass
class TextContext:
    """Where a paragraph sits: in the review of the past (发展基础) or in the plan proper."""

    paragraph: Paragraph
    review: bool = False
    goals: bool = False


@dataclass
class Mention:
    clause: str
    subject: str
    value: float
    value_high: float | None
    unit: str
    comparator: str
    year: int | None
    explicit_year: bool
    target_verb: bool
    sentence: str


def find_mentions(text: str) -> list[Mention]:
    """Every number with a unit in ``text``, with its subject, comparator and year context."""
    mentions: list[Mention] = []
    for sentence in _SENTENCE_SPLIT.split(text):
        sentence = sentence.strip()
        if not sentence or not re.search(r"\d", sentence):
            continue
        normalised = to_half_width(sentence).replace("，", ",").replace("：", ":")
        sentence_year: int | None = None
        for clause in _CLAUSE_SPLIT.split(normalised):
            clause = clause.strip()
            if not clause:
                continue
            found = list(_MENTION.finditer(clause))
            found = [m for m in found if m.group(4) and not _is_noise(clause, m)]
            if not found:
                context = _CONTEXT_YEAR.search(clause)
                if context:
                    sentence_year = int(context.group(1))
                continue
            subject = ""
            previous_end = 0
            for m in found:
                before = clause[previous_end : m.start()]
                prefix_before = clause[: m.start()]
                year_match = _YEAR_BEFORE.search(before)
                explicit_year = None
                if year_match:
                    explicit_year = int(year_match.group(1))
                else:
                    any_year = list(_YEAR_ANY.finditer(before))
                    if any_year:
                        explicit_year = int(any_year[-1].group(1))
                candidate = _clean_subject(before)
                if candidate:
                    subject = candidate
                elif not subject:
                    # "拥有19家区级众创空间": the subject follows the number
                    after = clause[m.end() :]
                    after = re.split(r"[、,]", after)[0]
                    subject = _clean_subject(after)
                value = float(m.group(1))
                high = float(m.group(2)) if m.group(2) else None
                unit = (m.group(3) or "") + (m.group(4) or "")
                comparator = "range" if high is not None else "eq"
                post = m.group(5) or ""
                if post in ("以上",):
                    comparator = "ge"
                elif post in ("以内", "以下"):
                    comparator = "le"
                elif post in ("左右", "上下"):
                    comparator = "approx"
                elif high is None:
                    for pattern, verb_comparator in _VERB_COMPARATORS:
                        if pattern.search(prefix_before):
                            comparator = verb_comparator
                            break
                target_verb = bool(post) or bool(_TARGET_VERB.search(prefix_before))
                year = explicit_year if explicit_year is not None else sentence_year
                mentions.append(
                    Mention(
                        clause=clause,
                        subject=subject,
                        value=value,
                        value_high=high,
                        unit=unit,
                        comparator=comparator,
                        year=year,
                        explicit_year=explicit_year is not None or sentence_year is not None,
                        target_verb=target_verb,
                        sentence=sentence,
                    )
                )
                previous_end = m.end()
            context = _CONTEXT_YEAR.search(clause)
            if context and context.start() < found[0].start():
                sentence_year = int(context.group(1))
    return mentions


def _is_noise(clause: str, m: re.Match) -> bool:
    after = clause[m.end(4) if m.group(4) else m.end(1) :]
    if re.match(r"^\s*(?:年|月|日|号|期|代|届|轮|季度)", clause[m.end(1) :]) and not m.group(4):
        return True
    before = clause[: m.start()]
    if re.search(r"(?:第|专栏|表|图|附件)\s*$", before):
        return True
    if m.group(4) in ("个", "次", "种", "类", "批", "条", "位") and re.match(r"^[月年]", after):
        return True
    return False


def _clean_subject(text: str) -> str:
    text = text.strip(" 、,，")
    if "等" in text:
        tail = text.rsplit("等", 1)[1]
        if len(normalise_name(tail)) >= 4:
            text = tail
    previous = None
    while previous != text:
        previous = text
        text = _TRAILING_NOISE.sub("", text).strip(" 、")
        text = _LEADING_NOISE.sub("", text).strip(" 、")
    text = re.sub(r"(?:19|20)\d{2}年(?:底|末)?的?", "", text).strip(" 、")
    if "、" in text:
        text = text.rsplit("、", 1)[1]
    return text if re.search(r"[\u4e00-\u9fffA-Za-z]", text) else ""


def extract_baselines_and_commitments(
    contexts: list[TextContext],
    indicators: list[Indicator],
    *,
    target_year: int | None,
) -> tuple[list[Baseline], list[Commitment]]:
    base_year = target_year - 5 if target_year else None
    baselines: list[Baseline] = []
    commitments: list[Commitment] = []
    seen_baselines: set[tuple[int | None, int | None]] = set()
    for context in contexts:
        paragraph = context.paragraph
        for mention in find_mentions(paragraph.text):
            year = mention.year
            past = year is not None and target_year is not None and year < target_year
            future = year is not None and target_year is not None and year >= target_year
            if year is not None and target_year is None:
                past = context.review
                future = not context.review
            indicator = match_indicator(mention.subject, indicators, mention.unit)
            if (past or (context.review and year is None)) and indicator is not None:
                baseline_year = year if year is not None else base_year
                key = (indicator.number, baseline_year)
                if key in seen_baselines or mention.comparator == "range":
                    continue
                seen_baselines.add(key)
                baselines.append(
                    Baseline(
                        indicator_number=indicator.number,
                        year=baseline_year,
                        value=mention.value,
                        unit=mention.unit,
                        sentence=mention.sentence,
                        line=paragraph.line,
                        location=paragraph.location,
                    )
                )
                continue
            if context.review or past:
                continue
            if not mention.target_verb and not future:
                continue
            if not future and not context.goals and mention.comparator == "eq" and not mention.target_verb:
                continue
            commitments.append(
                Commitment(
                    text=mention.clause.rstrip("。；;！？!? "),
                    subject=mention.subject,
                    value=mention.value,
                    value_high=mention.value_high,
                    unit=mention.unit,
                    comparator=mention.comparator,
                    year=year if year is not None else target_year,
                    indicator_number=indicator.number if indicator else None,
                    sentence=mention.sentence,
                    line=paragraph.line,
                    location=paragraph.location,
                )
            )
    return baselines, commitments
