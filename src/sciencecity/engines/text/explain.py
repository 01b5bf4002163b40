"""Explanations of a match (匹配理由) and safe highlighting of shared terms."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TermMatch:
    """A query term found in the listing.

    ``surfaces`` are the forms as they stand in the listing (for highlighting), ``places`` says
    whether it was in the title and/or text, ``synonym_of`` names the query phrase it expands,
    ``bigram`` marks a character-bigram fallback term.
    """

    term: str
    surfaces: tuple[str, ...]
    contribution: float
    synonym_of: str | None = None
    places: tuple[str, ...] = ()
    bigram: bool = False


@dataclass(frozen=True, slots=True)
class MeaningMatch:
    """"Similar in meaning" (语义相近): the closest pair of sentences, one of the query, one of the
    listing, and their cosine under the dense model."""

    query_sentence: str
    listing_sentence: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a listing was suggested: shared terms, filters satisfied, component scores."""

    terms: tuple[TermMatch, ...]
    filters: tuple[str, ...] = ()
    lexical_score: float = 0.0
    dense_score: float | None = None
    feedback_factor: float = 1.0
    meaning: MeaningMatch | None = None

    @property
    def shared_terms(self) -> tuple[str, ...]:
        """Word terms shared with the query (bigram fallbacks left out), strongest first."""
        return tuple(m.term for m in self.terms if not m.bigram)

    @property
    def highlight_terms(self) -> tuple[str, ...]:
        """Surface forms to mark in the listing's text."""
        seen: dict[str, None] = {}
        for match in self.terms:
            for surface in match.surfaces:
                seen.setdefault(surface, None)
        return tuple(seen)


_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])|(?<=\.)\s+")


def sentences(text: str, *, limit: int = 8, min_chars: int = 2) -> list[str]:
    """Sentences of ``text`` (Chinese and English punctuation, line breaks), at most ``limit``."""
    out = []
    for part in _SENTENCE_END.split(text or ""):
        part = part.strip(" \t\r\n。！？；!?;.")
        if len(part) >= min_chars and part not in out:
            out.append(part)
        if len(out) >= limit:
            break
    return out or ([text.strip()] if text and text.strip() else [])


def closest_sentences(embedder, query: str, title: str, text: str) -> MeaningMatch | None:
    """The most similar (query sentence, listing sentence) pair under ``embedder`` (queries in the
    query role, the listing's title and sentences in the passage role)."""
    query_parts = sentences(query, limit=4)
    listing_parts = ([title.strip()] if title.strip() else []) + [s for s in sentences(text) if s != title.strip()]
    if not query_parts or not listing_parts:
        return None
    q = embedder.embed_queries(query_parts)
    p = embedder.embed_passages(listing_parts)
    cosines = q @ p.T
    i, j = divmod(int(cosines.argmax()), cosines.shape[1])
    return MeaningMatch(query_parts[i], listing_parts[j], float(cosines[i, j]))


def highlight(text: str, terms: Iterable[str], *, tag: str = "mark") -> str:
    """HTML-escape ``text`` and wrap occurrences of ``terms`` (case-insensitive, longest first).

    >>> highlight("<b>锂电池</b> Battery", ["锂电池", "battery"])
    '&lt;b&gt;<mark>锂电池</mark>&lt;/b&gt; <mark>Battery</mark>'
    """
    if not re.fullmatch(r"[a-z][a-z0-9]*", tag):
        raise ValueError(f"unsafe tag name: {tag!r}")
    words = sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)
    if not words:
        return html.escape(text)
    pattern = re.compile("|".join(_word_pattern(w) for w in words), re.IGNORECASE)
    out = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<{tag}>{html.escape(match.group())}</{tag}>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _word_pattern(word: str) -> str:
    """An ASCII word matches at word starts only (stems: ``batter`` also marks ``battery``)."""
    escaped = re.escape(word)
    if word.isascii() and word[0].isalnum():
        return rf"\b{escaped}\w*"
    return escaped
