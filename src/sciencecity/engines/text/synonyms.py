"""Query expansion with a synonym table (同义词扩展), Chinese and English in the same groups.

A group is a set of phrases meaning the same thing (无人机 | 无人飞行器 | UAV | drone). A phrase
matches a query when all its precise-mode terms are among the query's terms; then the other
phrases of the group are added to the query, down-weighted (``weight``, split over the words of a
multi-word phrase so that "unmanned aerial vehicle" weighs as much as 无人机). The search-mode
sub-words of an expanded Chinese word (无人飞行器 → 无人, 飞行器) are added at ``part_weight`` of
that, since a document holding 植保无人飞行器 is indexed under those sub-words, not 无人飞行器.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .tokenize import Tokenizer, load_word_list


@dataclass(frozen=True, slots=True)
class Expansion:
    """A term added to a query: its weight and the query phrase that brought it in."""

    term: str
    weight: float
    source: str


class SynonymTable:
    """Groups of equivalent phrases, pre-tokenised with the tokenizer the index uses."""

    def __init__(
        self,
        groups: Iterable[Sequence[str]],
        tokenizer: Tokenizer,
        *,
        weight: float = 0.6,
        part_weight: float = 0.4,
    ) -> None:
        self.weight = weight
        self.part_weight = part_weight
        self.groups: list[tuple[str, ...]] = []
        self._phrase_terms: list[list[tuple[str, ...]]] = []
        self._phrase_parts: list[list[tuple[str, ...]]] = []
        for group in groups:
            phrases = tuple(p.strip() for p in group if p.strip())
            if len(phrases) < 2:
                continue
            self.groups.append(phrases)
            self._phrase_terms.append(
                [tuple(dict.fromkeys(tokenizer.terms(p, search=False))) for p in phrases]
            )
            self._phrase_parts.append([tuple(dict.fromkeys(tokenizer.terms(p))) for p in phrases])
        self._by_term: dict[str, list[int]] = {}
        for index, phrase_terms in enumerate(self._phrase_terms):
            for terms in phrase_terms:
                if terms:
                    self._by_term.setdefault(terms[0], []).append(index)

    @classmethod
    def bundled(cls, tokenizer: Tokenizer, *, weight: float = 0.6) -> SynonymTable:
        """The table shipped in ``data/synonyms.txt``."""
        return cls((line.split("|") for line in load_word_list("synonyms.txt")), tokenizer, weight=weight)

    def expand(self, query_terms: Iterable[str]) -> list[Expansion]:
        """Terms to add for the phrases found among ``query_terms`` (not already in the query)."""
        present = set(query_terms)
        added: dict[str, Expansion] = {}
        seen_groups: set[int] = set()
        for term in present:
            for group_index in self._by_term.get(term, ()):
                if group_index in seen_groups:
                    continue
                phrase_terms = self._phrase_terms[group_index]
                matched = [i for i, terms in enumerate(phrase_terms) if terms and present.issuperset(terms)]
                if not matched:
                    continue
                seen_groups.add(group_index)
                source = self.groups[group_index][matched[0]]
                for terms, parts in zip(phrase_terms, self._phrase_parts[group_index], strict=True):
                    if not terms:
                        continue
                    whole = self.weight / len(terms)
                    for new_term in parts:
                        if new_term in present:
                            continue
                        weight = whole if new_term in terms else whole * self.part_weight
                        previous = added.get(new_term)
                        if previous is None or previous.weight < weight:
                            added[new_term] = Expansion(new_term, weight, source)
        return list(added.values())
