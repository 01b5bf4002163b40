"""Small text helpers: Chinese numerals, width normalisation, title/text splitting."""

from __future__ import annotations

import re

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}

CN_NUMERAL = "[零〇一二两三四五六七八九十百千]+"

_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９．％＋－＜＞＝～，：；（）",
    "0123456789.%+-<>=~,:;()",
)


def cn_to_int(text: str) -> int | None:
    """``三`` → 3, ``十二`` → 12, ``二十一`` → 21, ``一百零五`` → 105, ``12`` → 12."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total = 0
    current = 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            return None
    return total + current


def to_half_width(text: str) -> str:
    """Full-width digits and signs → ASCII (for reading numbers only, never for display)."""
    return text.translate(_FULL_WIDTH)


_TITLE_END = re.compile("[。：:]")


def split_title(text: str, max_title: int | None = None) -> tuple[str, str]:
    """``推动集中布局重大科技基础设施。推动…`` → (title, rest). No 。/： → (text, "")."""
    match = _TITLE_END.search(text)
    if not match:
        return text.strip(), ""
    title = text[: match.start()].strip()
    if max_title is not None and len(title) > max_title:
        return text.strip(), ""
    return title, text[match.end() :].strip()


def join_paragraphs(texts: list[str]) -> str:
    return "\n".join(t for t in texts if t)
