"""Chinese and English tokenisation (分词) shared by the index, synonyms and affinity.

Text is NFKC-normalised and case-folded, Chinese is cut by rjieba in search mode (a long word
also yields its dictionary sub-words, 锂离子电池 → 锂离子, 离子, 电池, 锂离子电池) with a
domain user dictionary, English words get a light stemmer (plural, -ing, -ed, final -e),
numbers of two or more digits and mixed letter-digit codes (5g, co2) are kept, punctuation and
a stop list are dropped. Optionally, character bigrams of Chinese runs are added as separate,
lower-weighted terms (prefixed with ``BIGRAM_PREFIX``) to catch out-of-vocabulary words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib import resources

import rjieba

BIGRAM_PREFIX = "\x02"
"""Prefix of a character-bigram term; never produced by normal tokenisation."""

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

CHINESE_STOPWORDS = frozenset(
    """的 了 和 与 及 或 等 在 是 对 为 于 以 将 把 被 由 从 到 向 并 而 且 其 之 也 就 都 又 这 那 该 本
    此 其中 一种 一个 一些 一项 各种 各类 所述 所 可 可以 能 能够 进行 通过 基于 用于 采用 具有 包括 以及
    以上 以下 我们 我 你 他 她 它 他们 目前 现有 已 已经 需要 希望 寻求 寻找 相关 方面 方法 一 二 年 月 日
    个 项 种 中 上 下 内 外 后 前 时 如 如何 什么 有 无 不 没有 很 较 更 最 给 让 使 使得 对于 关于 主要 其他
    实现 提供 提高 提升 降低 解决 问题 技术 研究 开发 研发 应用 领域 以便 从而 因此 同时 达到 达 约 多 少""".split()
)
"""Function words and words so common in tech-transfer texts that they only add noise."""

ENGLISH_STOPWORDS = frozenset(
    """a an the and or of for in on at to by with from as is are was were be been being this that these
    those it its we our you your they their which who whom what how can could may might will would
    should has have had do does did not no into than then there here such via using use used based
    new novel method methods system systems technology technologies research development study
    looking seek seeking need needs want wants etc also about over under between within per""".split()
)

PUNCTUATION_CATEGORIES = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So"})


_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALFWIDTH = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


def _to_halfwidth(match: re.Match[str]) -> str:
    return _HALFWIDTH[match.group()]


def normalize(text: str) -> str:
    """NFKC + casefold (全角 → 半角, ＡＢＣ → abc).

    Chinese text is rarely NFKC-normal only because of full-width punctuation (，：；（）), which
    a regular expression maps far faster than ``unicodedata.normalize``; full NFKC runs only when
    something else remains.
    """
    if not unicodedata.is_normalized("NFKC", text):
        text = _FULLWIDTH.sub(_to_halfwidth, text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
    return text.casefold()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Light English stemmer: batteries → battery, imaging/imaged/image → imag, cells → cell."""
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def load_word_list(name: str) -> list[str]:
    """Non-comment lines of a bundled data file (``data/<name>``)."""
    text = resources.files("sciencecity.engines.text").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


class _TermCache(dict):
    """Raw jieba token → normalised term ('' to drop); computed once per distinct token."""

    def __init__(self, classify: Callable[[str], str]) -> None:
        super().__init__()
        self._classify = classify

    def __missing__(self, token: str) -> str:
        term = self._classify(token)
        if len(self) < 2_000_000:
            self[token] = term
        return term


class Tokenizer:
    """Turns text into index terms; one instance owns its own rjieba dictionary.

    ``bigrams`` adds Chinese character bigrams as extra terms (see ``BIGRAM_PREFIX``);
    ``hmm`` enables jieba's HMM new-word discovery (slower, see the benchmark).
    """

    def __init__(
        self,
        *,
        user_words: Iterable[str] | None = None,
        stopwords: Iterable[str] | None = None,
        bigrams: bool = False,
        hmm: bool = False,
    ) -> None:
        self.bigrams = bigrams
        self.hmm = hmm
        self.stopwords = (
            frozenset(normalize(w) for w in stopwords)
            if stopwords is not None
            else CHINESE_STOPWORDS | ENGLISH_STOPWORDS
        )
        self._jieba = rjieba.Jieba()
        words = list(user_words) if user_words is not None else default_user_words()
        for word in words:
            self.add_word(word)
        self._cache = _TermCache(self._classify)

    def add_word(self, word: str) -> None:
        """Add a word to this tokenizer's segmentation dictionary."""
        word = normalize(word.strip())
        if word and not word.isascii():
            self._jieba.add_word(word, None, None)

    def _classify(self, token: str) -> str:
        token = token.strip()
        if not token or token in self.stopwords:
            return ""
        if token.isascii():
            if token.isalpha():
                return "" if len(token) < 2 else stem(token)
            if token.isdigit():
                return token if len(token) >= 2 else ""
            if token.isalnum():
                return token
            return ""
        if all(unicodedata.category(ch) in PUNCTUATION_CATEGORIES or ch.isspace() for ch in token):
            return ""
        return token

    def segment(self, text: str) -> list[str]:
        """Search-mode segmenter output on normalised text, before filtering (the hot path)."""
        return self._jieba.cut_for_search(normalize(text), self.hmm)

    def term_of_token(self, token: str) -> str:
        """The term a segmenter token stands for ('' when it is dropped)."""
        return self._cache[token]

    def raw_tokens(self, text: str, *, search: bool = True) -> list[str]:
        """Segmenter output on normalised text (search or precise mode), before filtering."""
        text = normalize(text)
        if search:
            return self._jieba.cut_for_search(text, self.hmm)
        return self._jieba.cut(text, self.hmm)

    def terms(self, text: str, *, search: bool = True) -> list[str]:
        """Index terms of ``text`` in order, repeated as they occur (term frequency counts)."""
        text = normalize(text)
        raw = self._jieba.cut_for_search(text, self.hmm) if search else self._jieba.cut(text, self.hmm)
        cache = self._cache
        out = list(filter(None, map(cache.__getitem__, raw)))
        if self.bigrams:
            out.extend(self.bigram_terms(text))
        return out

    def bigram_terms(self, text: str) -> list[str]:
        """Character bigrams of every Chinese run of (normalised) text, as prefixed terms."""
        stop = self.stopwords
        out = []
        for run in _CJK_RUN.findall(text):
            for i in range(len(run) - 1):
                pair = run[i : i + 2]
                if pair[0] not in stop and pair[1] not in stop:
                    out.append(BIGRAM_PREFIX + pair)
        return out

    def analyze(self, text: str) -> list[tuple[str, str]]:
        """``(term, surface)`` pairs: the term and the normalised text it came from (for highlighting)."""
        raw = self._jieba.cut_for_search(normalize(text), self.hmm)
        cache = self._cache
        pairs = [(cache[token], token.strip()) for token in raw]
        out = [(term, surface) for term, surface in pairs if term]
        if self.bigrams:
            out.extend((term, term[1:]) for term in self.bigram_terms(normalize(text)))
        return out


@lru_cache(maxsize=1)
def default_user_words() -> tuple[str, ...]:
    """The bundled domain dictionary plus every Chinese phrase of the synonym table."""
    words = list(load_word_list("userdict.txt"))
    for line in load_word_list("synonyms.txt"):
        words.extend(phrase.strip() for phrase in line.split("|"))
    return tuple(w for w in words if w and not w.isascii())


_DEFAULT: dict[tuple[bool, bool], Tokenizer] = {}


def default_tokenizer(*, bigrams: bool = False, hmm: bool = False) -> Tokenizer:
    """A shared tokenizer with the bundled dictionary (one per option combination)."""
    key = (bigrams, hmm)
    if key not in _DEFAULT:
        _DEFAULT[key] = Tokenizer(bigrams=bigrams, hmm=hmm)
    return _DEFAULT[key]
