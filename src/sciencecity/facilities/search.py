"""Catalogue search on the shared matching engine (:mod:`sciencecity.engines.text`): the same tokenizer,
bundled dictionary and synonym table (Chinese and English phrases in one group) and BM25 ranking as the
marketplace, so a query in everyday words (电子显微镜, "electron microscope", 测成分) finds the instrument,
with the same explanation (shared terms, highlighted).

One index per process, built from the instruments on first use; each search compares ``(count,
max(updated_at))`` of the table (one small query) with what the index has seen and rebuilds when it
changed (writes of other processes show at once; the catalogue holds hundreds of rows, a rebuild takes
milliseconds). The catalogue services also call :func:`instrument_index_refresh` after a write.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from sciencecity.engines.text import Filter, Listing, TextIndex, highlight
from sciencecity.facilities.models import Instrument

#: At most this many hits are ranked for one query.
MAX_HITS = 500

_LOCK = threading.RLock()
_STATE: dict[str, Any] = {}


def _listing(instrument: Instrument, host_name: str) -> Listing:
    text = "\n".join(part for part in (instrument.model, instrument.capabilities, instrument.keywords,
                                       instrument.accredited_scope, instrument.location, host_name,
                                       instrument.code) if part)
    return Listing(id=str(instrument.pk), title=f"{instrument.name} {instrument.name_en}".strip(), text=text,
                   kind=instrument.kind)


def _stamp() -> tuple[int, Any]:
    row = Instrument.objects.aggregate(n=Count("pk"), last=Max("updated_at"))
    return row["n"], row["last"]


def _index() -> TextIndex:
    with _LOCK:
        stamp = _stamp()
        if "index" not in _STATE or stamp != _STATE["seen"]:
            index = TextIndex(tokenizer=_STATE.get("tokenizer"), synonyms=_STATE.get("synonyms", True))
            _STATE.update(tokenizer=index.tokenizer, synonyms=index.synonyms)
            index.add_many([_listing(i, i.host.name) for i in Instrument.objects.select_related("host")], workers=1)
            _STATE.update(index=index, seen=stamp)
        return _STATE["index"]


def instrument_index_refresh() -> None:
    """Drop this process's index after a catalogue write (the next search rebuilds it)."""
    with _LOCK:
        _STATE.pop("index", None)


@dataclass(frozen=True)
class CatalogueHit:
    """Why an instrument matched: the shared terms and the name with them highlighted."""

    score: float
    shared_terms: tuple[str, ...]
    title_html: SafeString

    @property
    def reason(self) -> str:
        return _("Shared terms: %(terms)s") % {"terms": "、".join(self.shared_terms[:8])} if self.shared_terms else ""


def ranked(query: str, *, kind: str = "") -> dict[int, CatalogueHit]:
    """Instrument id → hit for ``query``, best first (dicts keep the order)."""
    index = _index()
    flt = Filter(kinds=frozenset({kind})) if kind else None
    with _LOCK:
        hits = index.search(query, k=MAX_HITS, filter=flt)
    titles = dict(Instrument.objects.filter(pk__in=[int(h.id) for h in hits]).values_list("pk", "name"))
    result: dict[int, CatalogueHit] = {}
    for hit in hits:
        pk = int(hit.id)
        explanation = hit.explanation
        terms = explanation.shared_terms if explanation else ()
        marks = explanation.highlight_terms if explanation else ()
        result[pk] = CatalogueHit(round(hit.score, 4), tuple(terms), mark_safe(highlight(titles.get(pk, ""), marks)))
    return result
