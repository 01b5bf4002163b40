"""Organisation-name normalisation and similarity, for matching plan text to the registry."""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[\s\"'“”‘’《》<>（）()【】\[\]、，,。.·•・—\-_/]+")
#: Legal-form and place prefixes that do not tell two organisations apart.
_NOISE = ("有限责任公司", "股份有限公司", "有限公司", "深圳市", "广东省", "光明区", "深圳")


def normalise_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = _PUNCT.sub("", text)
    for noise in _NOISE:
        text = text.replace(noise, "")
    return text


def _bigrams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def name_similarity(a: str, b: str) -> float:
    """Dice coefficient over character bigrams of the normalised names (1.0 = same name)."""
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    ga, gb = _bigrams(na), _bigrams(nb)
    return 2 * len(ga & gb) / (len(ga) + len(gb))


def best_match(name: str, candidates: dict[int, list[str]]) -> tuple[int | None, float]:
    """The candidate id whose names (name and aliases) are most similar to ``name``, and the score."""
    best_id, best = None, 0.0
    for key, names in candidates.items():
        score = max((name_similarity(name, n) for n in names), default=0.0)
        if score > best:
            best_id, best = key, score
    return best_id, best
