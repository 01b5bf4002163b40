"""Matching (供需精准对接) on :mod:`sciencecity.engines.text`: bidirectional, explained, incremental.

One ``TextIndex`` per source and process — achievements, demands, experts (registry people with
expertise), organisations and funded projects — built lazily from the database and kept current
two ways: the listing services call :func:`listing_changed` after every write (this process is
current at once), and a read compares ``(count, max(updated_at))`` of the table with what the
index has seen — at most every ``TRANSFER_INDEX_STALENESS_SECONDS`` (2 s) — reloading only the rows
changed since (other worker processes catch up; a lower count means rows were deleted and the
index is rebuilt).

For a demand: ranked achievements (filters: shared field, TRL ≥ the demand's minimum, transfer
modes overlap), experts and supplier organisations; for an achievement: ranked demands and
enterprises. Each result carries its explanation (shared terms highlighted in the title and text,
fields and constraints satisfied). A user's feedback on past suggestions re-ranks their results
(``engines.text.feedback``); new listings notify the owners of matching listings.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db.models import Count, Max
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.models import Notification
from sciencecity.engines.text import (
    FeedbackEvent,
    Filter,
    Hit,
    Listing,
    TextIndex,
    feedback_profile,
    highlight,
)
from sciencecity.engines.text import FeedbackLabel as EngineLabel
from sciencecity.engines.text import rerank as feedback_rerank
from sciencecity.engines.text.index import analyze_query
from sciencecity.engines.text.tantivy_index import Restriction
from sciencecity.registry.choices import OrganisationKind
from sciencecity.transfer import permissions as access
from sciencecity.transfer import selectors
from sciencecity.transfer.choices import FeedbackLabel, ListingStatus, TransferMode
from sciencecity.transfer.models import Achievement, MatchFeedback, TechDemand
from sciencecity.transfer.services import search_backends, vectors

ANY_MODE = "*"
"""Mode of a listing that names none: it matches any mode filter that includes it."""
SNIPPET_LENGTH = 240
CATCH_UP_OVERLAP = dt.timedelta(seconds=5)
LISTING_KINDS = ("achievements", "demands")
SUPPLIER_KINDS = frozenset({
    OrganisationKind.UNIVERSITY, OrganisationKind.RESEARCH_INSTITUTE, OrganisationKind.NEW_RD_INSTITUTION,
    OrganisationKind.LABORATORY, OrganisationKind.MAJOR_FACILITY, OrganisationKind.RESEARCH_PLATFORM,
    OrganisationKind.INNOVATION_CARRIER, OrganisationKind.CONCEPT_VERIFICATION_CENTRE,
    OrganisationKind.SERVICE_AGENCY,
})
LABELS = {
    FeedbackLabel.INTERESTING: EngineLabel.INTERESTING,
    FeedbackLabel.TOO_EARLY: EngineLabel.TOO_EARLY,
    FeedbackLabel.ADVANTAGE_UNCLEAR: EngineLabel.ADVANTAGE_UNCLEAR,
    FeedbackLabel.ROUTE_UNCLEAR: EngineLabel.ROUTE_TO_MARKET_UNCLEAR,
    FeedbackLabel.NOT_RELEVANT: EngineLabel.NOT_RELEVANT,
}


def staleness_interval() -> float:
    """Seconds between two staleness checks of an index (other processes' writes show up within it)."""
    return float(getattr(settings, "TRANSFER_INDEX_STALENESS_SECONDS", 2.0))


def notify_min_shared_terms() -> int:
    """A new listing notifies the owner of a listing it shares at least this many word terms with."""
    return int(getattr(settings, "TRANSFER_NOTIFY_MIN_SHARED_TERMS", 2))


# --- sources: how a table becomes listings ------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """What the index keeps beside the text of one row: for filters, visibility and trends."""

    listing: Listing | None  # None: not searchable (closed)
    sectors: frozenset[str] = frozenset()
    organisation_id: int | None = None
    year: int | None = None


def _modes(modes: Iterable[str]) -> frozenset[str]:
    return frozenset(modes) or frozenset({ANY_MODE})


def _achievement_entries(qs) -> Iterable[tuple[int, Entry]]:
    for a in qs.prefetch_related("sectors"):
        listing = None
        if a.status == ListingStatus.ACTIVE:
            listing = Listing(id=str(a.pk), title=a.title, text=f"{a.abstract}\n{a.keywords}", kind="achievement",
                              trl=a.trl, modes=_modes(a.modes))
        yield a.pk, Entry(listing, frozenset(s.code for s in a.sectors.all()), a.owner_id, a.created_at.year)


def _demand_entries(qs) -> Iterable[tuple[int, Entry]]:
    for d in qs.prefetch_related("sectors"):
        listing = None
        if d.status == ListingStatus.ACTIVE:
            text = d.public_summary if d.confidential else f"{d.public_summary}\n{d.description}"
            listing = Listing(id=str(d.pk), title=d.title, text=f"{text}\n{d.keywords}", kind="demand",
                              trl=d.min_trl or 0, modes=_modes(d.modes))
        yield d.pk, Entry(listing, frozenset(s.code for s in d.sectors.all()), d.organisation_id, d.created_at.year)


def _expert_entries(qs) -> Iterable[tuple[int, Entry]]:
    for p in qs.prefetch_related("sectors"):
        listing = None
        if p.expertise:
            listing = Listing(id=str(p.pk), title=p.name, text=f"{'；'.join(p.expertise)}\n{p.biography}",
                              kind="person")
        yield p.pk, Entry(listing, frozenset(s.code for s in p.sectors.all()))


def _organisation_entries(qs) -> Iterable[tuple[int, Entry]]:
    for o in qs.prefetch_related("sectors"):
        listing = None
        if o.keywords or o.description:
            listing = Listing(id=str(o.pk), title=o.name, text=f"{o.keywords}\n{o.description}", kind=o.kind)
        yield o.pk, Entry(listing, frozenset(s.code for s in o.sectors.all()), o.pk)


def _project_entries(qs) -> Iterable[tuple[int, Entry]]:
    for p in qs.select_related("application"):
        app = p.application
        listing = Listing(id=str(p.pk), title=app.title, text=f"{app.abstract}\n{app.keywords}", kind="project")
        yield p.pk, Entry(listing, frozenset(), app.organisation_id, p.start_date.year)


def _sources() -> dict[str, tuple[Callable[[], Any], Callable[[Any], Iterable[tuple[int, Entry]]]]]:
    from sciencecity.programmes.models import FundedProject
    from sciencecity.registry.models import Organisation, Person

    return {
        "achievements": (Achievement.objects.all, _achievement_entries),
        "demands": (TechDemand.objects.all, _demand_entries),
        "experts": (Person.objects.all, _expert_entries),
        "organisations": (Organisation.objects.all, _organisation_entries),
        "projects": (FundedProject.objects.all, _project_entries),
    }


# --- the per-process indexes --------------------------------------------------------------------
_ENGINE: dict[str, Any] = {}
_LOCK = threading.RLock()


def engine_parts() -> tuple[Any, Any]:
    """One tokenizer and synonym table for all indexes (loading the dictionary takes seconds)."""
    if not _ENGINE:
        seed = TextIndex()
        _ENGINE.update(tokenizer=seed.tokenizer, synonyms=seed.synonyms)
    return _ENGINE["tokenizer"], _ENGINE["synonyms"]


@dataclass
class SourceIndex:
    """The index of one source, what it has seen of the table, and the rows' metadata."""

    kind: str
    index: TextIndex
    entries: dict[int, Entry] = field(default_factory=dict)
    seen: tuple[int, dt.datetime | None] = (0, None)
    checked_at: float = 0.0
    builds: int = 0
    catch_ups: int = 0
    vectors_seen: tuple[int, Any] = (0, None)
    graph: dict[str, Any] | None = None  # the HNSW graph mapped last (vectors.attach_graph)

    def put(self, pk: int, entry: Entry) -> None:
        self.entries[pk] = entry
        if entry.listing is None:
            self.index.remove(str(pk))
        else:
            self.index.add(entry.listing)


_INDEXES: dict[str, SourceIndex] = {}


def reset() -> None:
    """Forget every index (tests; the next read rebuilds)."""
    with _LOCK:
        _INDEXES.clear()
    search_backends.reset()


def table_stamp(kind: str) -> tuple[int, dt.datetime | None]:
    queryset, _entries = _sources()[kind]
    row = queryset().aggregate(n=Count("pk"), last=Max("updated_at"))
    return row["n"], row["last"]


def source_queryset(kind: str) -> tuple[Any, Callable[[Any], Iterable[tuple[int, Entry]]]]:
    """All rows of ``kind`` and the function that turns a queryset of them into index entries."""
    queryset, entries = _sources()[kind]
    return queryset(), entries


def entries_for(kind: str, ids: Iterable[int]) -> dict[int, Entry]:
    """The index entries of some rows: from this process's index when it holds ``kind``, else read."""
    ids = list(ids)
    holder = None if search_backends.active(kind) else _INDEXES.get(kind)
    if holder is not None:
        return {pk: holder.entries[pk] for pk in ids if pk in holder.entries}
    queryset, entries = source_queryset(kind)
    return dict(entries(queryset.filter(pk__in=ids))) if ids else {}


def source_entries(kind: str) -> list[tuple[int, Entry]]:
    """Every row of ``kind`` as an index entry (the listing is None for a closed one)."""
    queryset, entries = _sources()[kind]
    return list(entries(queryset()))


def _listings_of(holder: SourceIndex) -> dict[int, Listing]:
    return {pk: e.listing for pk, e in holder.entries.items() if e.listing is not None}


def _build(kind: str, stamp: tuple[int, dt.datetime | None], builds: int) -> SourceIndex:
    """A fresh index of ``kind``; the achievements and demands also get the persisted dense vectors
    (``services.vectors``) when an embedder is configured, and the embedding job is queued for
    listings that have none yet."""
    tokenizer, synonyms = engine_parts()
    embedder = vectors.embedder() if kind in vectors.VECTOR_SOURCES else None
    index = TextIndex(tokenizer=tokenizer, synonyms=synonyms, embedder=embedder, embed_on_add=False,
                      hnsw_threshold=vectors.hnsw_threshold(), build_graph_on_search=False)
    holder = SourceIndex(kind, index, builds=builds + 1)
    rows = source_entries(kind)
    holder.entries = dict(rows)
    holder.index.add_many([e.listing for _pk, e in rows if e.listing is not None], workers=1)
    holder.seen = stamp
    if embedder is not None:
        holder.vectors_seen = vectors.vector_stamp(kind, index.model)
        vectors.load_vectors(kind, index, _listings_of(holder))
        if index.missing_vectors():
            vectors.request_embedding([kind])
            _refresh_vectors(holder)
        _refresh_graph(holder)
    return holder


def _refresh_graph(holder: SourceIndex, *, vectors_changed: bool = True) -> None:
    """Map the HNSW graph the embedding job saved last, if it is not the one the index has; queue
    the job when the index is past the threshold with no graph or too many vectors beside it."""
    holder.graph = vectors.attach_graph(holder.kind, holder.index) or holder.graph
    if vectors_changed and vectors.graph_wanted(holder.index):
        vectors.request_embedding([holder.kind])
        holder.graph = vectors.attach_graph(holder.kind, holder.index) or holder.graph


def _refresh_vectors(holder: SourceIndex) -> None:
    """Load the vectors stored (by the embedding job, in any process) since this index last looked."""
    index = holder.index
    if index.embedder is None:
        return
    stamp = vectors.vector_stamp(holder.kind, index.model)
    if stamp == holder.vectors_seen:
        _refresh_graph(holder, vectors_changed=False)
        return
    since = holder.vectors_seen[1] - CATCH_UP_OVERLAP if holder.vectors_seen[1] and stamp[0] >= holder.vectors_seen[0] else None
    vectors.load_vectors(holder.kind, index, _listings_of(holder), since=since)
    holder.vectors_seen = stamp
    _refresh_graph(holder)


def source_index(kind: str) -> SourceIndex:
    """The current index of ``kind``: built on first use, caught up when the table changed."""
    with _LOCK:
        holder = _INDEXES.get(kind)
        now = time.monotonic()
        if holder is not None and now - holder.checked_at < staleness_interval():
            return holder
        stamp = table_stamp(kind)
        if holder is None or stamp[0] < holder.seen[0]:
            holder = _INDEXES[kind] = _build(kind, stamp, holder.builds if holder else 0)
        elif stamp != holder.seen:
            queryset, entries = _sources()[kind]
            changed = queryset()
            if holder.seen[1] is not None:
                changed = changed.filter(updated_at__gte=holder.seen[1] - CATCH_UP_OVERLAP)
            for pk, entry in entries(changed):
                holder.put(pk, entry)
            holder.seen = stamp
            holder.catch_ups += 1
        _refresh_vectors(holder)
        holder.checked_at = now
        return holder


def index_state(*, compare: bool = True) -> dict[str, dict[str, Any]]:
    """Per source, what this process's index has seen against the table now (readiness and metrics).

    ``lag_seconds`` is how far the newest row the index has seen is behind the newest row of the table
    (0 when current); ``rows_behind`` the difference in row counts; an index not built yet in this
    process (it is built on first use) has ``built`` false.
    """
    state: dict[str, dict[str, Any]] = {}
    now = time.monotonic()
    for kind in _sources():
        if search_backends.active(kind):
            state[kind] = search_backends.state(kind) if compare else {"built": True, "backend":
                                                                         search_backends.backend_name()}
            continue
        holder = _INDEXES.get(kind)
        if holder is None:
            state[kind] = {"built": False}
            continue
        if not compare:
            state[kind] = {"built": True, "rows": len(holder.entries)}
            continue
        count, last = table_stamp(kind)
        seen_count, seen_last = holder.seen
        lag = (last - seen_last).total_seconds() if last and seen_last and last > seen_last else 0.0
        state[kind] = {"built": True, "rows": len(holder.entries), "rows_behind": count - seen_count,
                       "lag_seconds": round(lag, 3), "checked_seconds_ago": round(now - holder.checked_at, 1),
                       "builds": holder.builds}
        if holder.graph:
            state[kind]["hnsw_graph"] = holder.graph
    return state


def listing_changed(kind: str, obj: Any) -> None:
    """Called by the listing services after a write: update this process's index at once, and queue
    the update of the shared index (``search_backends``) when one is configured."""
    if search_backends.active(kind):
        search_backends.request_reindex(kind, [obj.pk])
    with _LOCK:
        holder = _INDEXES.get(kind)
        if holder is None:
            return  # built from the database on first use
        queryset, entries = _sources()[kind]
        for pk, entry in entries(queryset().filter(pk=obj.pk)):
            holder.put(pk, entry)
        if holder.index.embedder is not None and holder.index.missing_vectors():
            vectors.request_embedding([kind])
            _refresh_vectors(holder)


# --- results ------------------------------------------------------------------------------------
@dataclass
class MatchResult:
    """One suggestion with its explanation: shared terms (highlighted), fields and constraints met."""

    kind: str
    id: int
    obj: Any
    score: float
    shared_terms: tuple[str, ...]
    title_html: SafeString
    snippet_html: SafeString
    reasons: list[str]
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "code": getattr(self.obj, "code", ""), "title": _title(self.obj),
                "score": round(self.score, 4), "shared_terms": list(self.shared_terms),
                "title_html": str(self.title_html), "snippet_html": str(self.snippet_html),
                "reasons": self.reasons, "url": self.url}


def _title(obj: Any) -> str:
    """A listing's title; a person's name with their title (职称) beside it: 张三（研究员）."""
    name = getattr(obj, "name", None)
    if name is not None and hasattr(obj, "expertise"):
        return f"{name}（{obj.title}）" if obj.title else name
    return getattr(obj, "title", None) or name or ""


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_LENGTH else text[:SNIPPET_LENGTH] + "…"


def _shown_text(kind: str, obj: Any) -> str:
    if kind == "achievements":
        return obj.abstract
    if kind == "demands":
        return obj.public_summary
    if kind == "experts":
        return "；".join(obj.expertise)
    if kind == "projects":
        return obj.application.abstract
    return obj.keywords or obj.description


def _objects(kind: str, ids: list[int]) -> dict[int, Any]:
    queryset, _entries = _sources()[kind]
    qs = queryset().filter(pk__in=ids)
    if kind == "achievements":
        qs = qs.select_related("owner").prefetch_related("sectors")
    elif kind == "demands":
        qs = qs.select_related("organisation").prefetch_related("sectors")
    elif kind == "projects":
        qs = qs.select_related("application__organisation")
    return qs.in_bulk()


def _url(kind: str, pk: int) -> str:
    name = {"achievements": "transfer:achievement_detail", "demands": "transfer:demand_detail",
            "experts": "registry:person_detail", "organisations": "registry:organisation_detail",
            "projects": "programmes:project_detail"}[kind]
    try:
        return reverse(name, args=[pk])
    except Exception:  # a module without that page
        return ""


@dataclass(frozen=True)
class Constraints:
    """What a result must satisfy beyond the text: shared field, TRL, modes, excluded organisations."""

    sectors: frozenset[str] = frozenset()
    trl_min: int | None = None
    trl_max: int | None = None
    modes: frozenset[str] = frozenset()
    kinds: frozenset[str] | None = None
    exclude_organisations: frozenset[int] = frozenset()
    exclude_ids: frozenset[int] = frozenset()

    def engine_filter(self) -> Filter | None:
        modes = self.modes | {ANY_MODE} if self.modes else None
        if self.trl_min is None and self.trl_max is None and modes is None and self.kinds is None:
            return None
        return Filter(kinds=self.kinds, trl_min=self.trl_min, trl_max=self.trl_max, modes=modes)


RELAXABLE = ("trl", "modes", "sectors")
"""Hard filters of a match that the user can relax with one click (最低技术就绪度, 转化方式, 领域)."""


def relaxed(constraints: Constraints, relax: Iterable[str]) -> Constraints:
    """``constraints`` without the filters named in ``relax`` (unknown names are ignored)."""
    relax = set(relax)
    changes: dict[str, Any] = {}
    if "trl" in relax:
        changes.update(trl_min=None, trl_max=None)
    if "modes" in relax:
        changes["modes"] = frozenset()
    if "sectors" in relax:
        changes["sectors"] = frozenset()
    return replace(constraints, **changes)


REMOVAL_POOL = 500
"""How many text matches are examined to say which filter removed how many."""


def removed_by(kind: str, query: str, *, constraints: Constraints, user: Any = None,
               restrict_visibility: bool = True) -> dict[str, int]:
    """Per relaxable filter, how many rows that match the text (visible to ``user``, not excluded)
    it removes — each filter counted on its own, so one row failing two filters counts for both.
    Filters that remove nothing are left out."""
    kinds = Filter(kinds=constraints.kinds) if constraints.kinds is not None else None
    if _shared(kind):
        pks = [pk for pk, _score in search_backends.search(kind, _query_terms(query), k=REMOVAL_POOL,
                                                          restriction=Restriction(kinds))]
        found = entries_for(kind, pks)
        matched = [(pk, found.get(pk)) for pk in pks]
    else:
        holder = source_index(kind)
        with _LOCK:
            hits = holder.index.search(query, k=REMOVAL_POOL, filter=kinds, explain=False)
        matched = [(int(hit.id), holder.entries.get(int(hit.id))) for hit in hits]
    pool: list[tuple[int, Entry]] = []
    for pk, entry in matched:
        if entry is None or entry.listing is None or pk in constraints.exclude_ids:
            continue
        if entry.organisation_id is not None and entry.organisation_id in constraints.exclude_organisations:
            continue
        pool.append((pk, entry))
    if restrict_visibility and kind in LISTING_KINDS:
        allowed = selectors.visible_ids(user, kind, [pk for pk, _e in pool])
        pool = [(pk, e) for pk, e in pool if pk in allowed]
    counts = dict.fromkeys(RELAXABLE, 0)
    for _pk, entry in pool:
        listing = entry.listing
        assert listing is not None
        if (constraints.trl_min is not None and listing.trl < constraints.trl_min
                or constraints.trl_max is not None and listing.trl > constraints.trl_max):
            counts["trl"] += 1
        if constraints.modes and ANY_MODE not in listing.modes and not listing.modes & constraints.modes:
            counts["modes"] += 1
        if constraints.sectors and kind in LISTING_KINDS and not entry.sectors & constraints.sectors:
            counts["sectors"] += 1
    return {name: n for name, n in counts.items() if n}


def _reasons(kind: str, obj: Any, entry: Entry, hit: Hit, constraints: Constraints,
             sector_names: dict[str, str]) -> list[str]:
    reasons = []
    shared = hit.explanation.shared_terms if hit.explanation else ()
    if shared:
        reasons.append(_("Shared terms: %(terms)s") % {"terms": "、".join(shared[:8])})
    meaning = hit.explanation.meaning if hit.explanation else None
    if meaning is not None:
        reasons.append(_("Similar in meaning: “%(query)s” ≈ “%(listing)s”")
                       % {"query": _snippet(meaning.query_sentence), "listing": _snippet(meaning.listing_sentence)})
    common = sorted(entry.sectors & constraints.sectors)
    if common:
        reasons.append(_("Same field: %(fields)s") % {"fields": "、".join(sector_names.get(c, c) for c in common)})
    if kind == "achievements" and constraints.trl_min:
        reasons.append(_("TRL %(trl)s meets the minimum %(min)s") % {"trl": obj.trl, "min": constraints.trl_min})
    if kind == "demands" and constraints.trl_max and obj.min_trl:
        reasons.append(_("TRL %(trl)s meets the demand's minimum %(min)s")
                       % {"trl": constraints.trl_max, "min": obj.min_trl})
    if constraints.modes and kind in LISTING_KINDS:
        labels = dict(TransferMode.choices)
        overlap = [m for m in obj.modes if m in constraints.modes]
        if overlap:
            reasons.append(_("Transfer modes: %(modes)s") % {"modes": "、".join(str(labels[m]) for m in overlap)})
        elif not obj.modes:
            reasons.append(_("Open to any transfer mode"))
    return reasons


def feedback_events(user: Any, kind: str) -> list[FeedbackEvent]:
    """The user's feedback on suggestions of ``kind`` (the side of a pair not owned by the user)."""
    if kind not in LISTING_KINDS or not getattr(user, "is_authenticated", False):
        return []
    orgs = permissions.organisation_ids(user)
    rows = MatchFeedback.objects.filter(user=user).order_by("updated_at")
    if kind == "achievements":
        rows = rows.filter(achievement__isnull=False).exclude(achievement__owner_id__in=orgs)
        pairs = rows.values_list("achievement_id", "label")
    else:
        rows = rows.filter(demand__isnull=False).exclude(demand__organisation_id__in=orgs)
        pairs = rows.values_list("demand_id", "label")
    return [FeedbackEvent(str(pk), LABELS[FeedbackLabel(label)]) for pk, label in pairs]


def ranked(kind: str, query: str, *, constraints: Constraints = Constraints(), user: Any = None,
           limit: int = 10, restrict_visibility: bool = True, use_feedback: bool = True) -> list[MatchResult]:
    """Top ``limit`` rows of ``kind`` for ``query`` that satisfy ``constraints`` and that ``user`` may
    see (``restrict_visibility=False`` for trusted callers: the CLI), explained, re-ranked by the
    user's feedback."""
    if _shared(kind):
        return _ranked_shared(kind, query, constraints=constraints, user=user, limit=limit,
                              restrict_visibility=restrict_visibility, use_feedback=use_feedback)
    holder = source_index(kind)
    index = holder.index
    profile = None
    events = feedback_events(user, kind) if use_feedback else []
    if events:
        ids = {e.doc_id for e in events}
        profile = feedback_profile(events, {i: index.doc_terms(i) for i in ids},
                                   {i: index.doc_trl(i) for i in ids})
    engine_filter = constraints.engine_filter()
    depth = limit * 3 + 20
    explain_all = profile is not None  # re-ranked pools depend on k: explain in the same pass
    while True:
        with _LOCK:
            hits = index.search(query, k=depth, filter=engine_filter, profile=profile, explain=explain_all)
        candidates = []
        for rank, hit in enumerate(hits):
            pk = int(hit.id)
            entry = holder.entries.get(pk)
            if entry is None or pk in constraints.exclude_ids:
                continue
            if entry.organisation_id is not None and entry.organisation_id in constraints.exclude_organisations:
                continue
            if constraints.sectors and kind in LISTING_KINDS and not entry.sectors & constraints.sectors:
                continue
            candidates.append((pk, entry, hit, rank))
        if restrict_visibility and kind in LISTING_KINDS:
            allowed = selectors.visible_ids(user, kind, [c[0] for c in candidates])
            candidates = [c for c in candidates if c[0] in allowed]
        if len(candidates) >= limit or len(hits) < depth:
            break
        depth *= 4
    candidates = candidates[:limit]
    if candidates and not explain_all:  # explaining costs a tokenisation per hit: only the kept ones
        with _LOCK:
            explained = {h.id: h for h in index.search(query, k=candidates[-1][3] + 1, filter=engine_filter)}
        candidates = [(pk, e, explained.get(h.id, h), r) for pk, e, h, r in candidates]
    return _results(kind, [(pk, e, h) for pk, e, h, _r in candidates], constraints)


def _shared(kind: str) -> bool:
    """Whether ``kind`` is searched in the shared index (``SEARCH_BACKEND``) — and it can answer."""
    return search_backends.active(kind) and search_backends.ensure_current(kind)


def _query_terms(query: str) -> list[Any]:
    tokenizer, synonyms = engine_parts()
    return analyze_query(tokenizer, synonyms, query)


def _ranked_shared(kind: str, query: str, *, constraints: Constraints, user: Any, limit: int,
                   restrict_visibility: bool, use_feedback: bool) -> list[MatchResult]:
    """``ranked`` over the shared index: ids and BM25 scores from the backend (filters applied there),
    then the user's feedback re-ranking and the explanations of the hits kept, computed by the
    engine on those few listings (a small ``TextIndex`` of them: their terms, surface forms, places)."""
    terms = _query_terms(query)
    events = feedback_events(user, kind) if use_feedback else []
    restriction = Restriction(constraints.engine_filter(),
                              tags=constraints.sectors if kind in LISTING_KINDS else frozenset(),
                              exclude_groups=constraints.exclude_organisations, exclude_ids=constraints.exclude_ids)
    depth = max(5 * limit, 50) if events else limit * 3 + 20
    while True:
        pairs = search_backends.search(kind, terms, k=depth, restriction=restriction)
        fetched = len(pairs)
        if restrict_visibility and kind in LISTING_KINDS:
            allowed = selectors.visible_ids(user, kind, [pk for pk, _s in pairs])
            pairs = [(pk, score) for pk, score in pairs if pk in allowed]
        if len(pairs) >= limit or fetched < depth:
            break
        depth *= 4
    event_ids = {int(e.doc_id) for e in events}
    entries = entries_for(kind, [pk for pk, _s in pairs[: depth if events else limit]] + sorted(event_ids))
    tokenizer, synonyms = engine_parts()
    small = TextIndex(tokenizer=tokenizer, synonyms=synonyms, hnsw_threshold=None)
    if events:
        small.add_many([e.listing for e in entries.values() if e.listing is not None], workers=1)
        ids = {e.doc_id for e in events}
        profile = feedback_profile(events, {i: small.doc_terms(i) for i in ids}, {i: small.doc_trl(i) for i in ids})
        shown = [str(pk) for pk, _s in pairs]
        pairs = [(int(i), score) for i, score in feedback_rerank(
            [(str(pk), score) for pk, score in pairs], profile, {i: small.doc_terms(i) for i in shown},
            {i: small.doc_trl(i) for i in shown})]
    else:
        small.add_many([entries[pk].listing for pk, _s in pairs[:limit]
                        if pk in entries and entries[pk].listing is not None], workers=1)
    pairs = pairs[:limit]
    explained = {h.id: h.explanation for h in small.search(query, k=max(len(small), 1),
                                                            filter=constraints.engine_filter())}
    return _results(kind, [(pk, entries[pk], Hit(str(pk), score, explained.get(str(pk))))
                           for pk, score in pairs if pk in entries], constraints)


def _results(kind: str, candidates: list[tuple[int, Entry, Hit]], constraints: Constraints) -> list[MatchResult]:
    """The hits kept, as explained results (objects read in one query)."""
    from sciencecity.registry.models import Sector

    objects = _objects(kind, [c[0] for c in candidates])
    sector_names = dict(Sector.objects.values_list("code", "name")) if constraints.sectors else {}
    results = []
    for pk, entry, hit in candidates:
        obj = objects.get(pk)
        if obj is None:
            continue
        terms = hit.explanation.highlight_terms if hit.explanation else ()
        results.append(MatchResult(
            kind=kind, id=pk, obj=obj, score=hit.score,
            shared_terms=hit.explanation.shared_terms if hit.explanation else (),
            title_html=mark_safe(highlight(_title(obj), terms)),  # noqa: S308 - highlight() escapes the text
            snippet_html=mark_safe(highlight(_snippet(_shown_text(kind, obj)), terms)),  # noqa: S308
            reasons=_reasons(kind, obj, entry, hit, constraints, sector_names), url=_url(kind, pk),
        ))
    return results


# --- bidirectional matching ---------------------------------------------------------------------
def demand_query(demand: TechDemand) -> str:
    return f"{demand.title}\n{demand.public_summary}\n{demand.description}\n{demand.keywords}"


def achievement_query(achievement: Achievement) -> str:
    return f"{achievement.title}\n{achievement.abstract}\n{achievement.keywords}"


def _sector_codes(obj: Any) -> frozenset[str]:
    return frozenset(obj.sectors.values_list("code", flat=True))


def demand_constraints(demand: TechDemand) -> Constraints:
    return Constraints(sectors=_sector_codes(demand), trl_min=demand.min_trl or None,
                       modes=frozenset(demand.modes), exclude_organisations=frozenset({demand.organisation_id}))


def achievement_constraints(achievement: Achievement) -> Constraints:
    return Constraints(sectors=_sector_codes(achievement), trl_max=achievement.trl, modes=frozenset(achievement.modes),
                       exclude_organisations=frozenset({achievement.owner_id}))


def matches_for_demand(demand: TechDemand, *, user: Any, limit: int = 10,
                       relax: Iterable[str] = ()) -> dict[str, list[MatchResult]]:
    """Achievements, experts and supplier organisations for a demand, each explained; ``relax``
    names hard filters to drop (see :data:`RELAXABLE`)."""
    query = demand_query(demand)
    constraints = relaxed(demand_constraints(demand), relax)
    others = Constraints(sectors=constraints.sectors, exclude_organisations=constraints.exclude_organisations)
    return {
        "achievements": ranked("achievements", query, constraints=constraints, user=user, limit=limit),
        "experts": ranked("experts", query, constraints=others, user=user, limit=limit),
        "organisations": ranked("organisations", query, user=user, limit=limit, constraints=Constraints(
            sectors=constraints.sectors, kinds=frozenset(SUPPLIER_KINDS),
            exclude_organisations=constraints.exclude_organisations)),
    }


def matches_for_achievement(achievement: Achievement, *, user: Any, limit: int = 10,
                            relax: Iterable[str] = ()) -> dict[str, list[MatchResult]]:
    """Demands and enterprises for an achievement, each explained; ``relax`` as for demands."""
    query = achievement_query(achievement)
    constraints = relaxed(achievement_constraints(achievement), relax)
    return {
        "demands": ranked("demands", query, constraints=constraints, user=user, limit=limit),
        "enterprises": ranked("organisations", query, user=user, limit=limit, constraints=Constraints(
            sectors=constraints.sectors, kinds=frozenset({OrganisationKind.ENTERPRISE}),
            exclude_organisations=constraints.exclude_organisations)),
    }


def demand_removals(demand: TechDemand, *, user: Any, relax: Iterable[str] = ()) -> dict[str, int]:
    """Which hard filters of the demand remove how many achievements that match its text."""
    return removed_by("achievements", demand_query(demand), constraints=relaxed(demand_constraints(demand), relax),
                      user=user)


def achievement_removals(achievement: Achievement, *, user: Any, relax: Iterable[str] = ()) -> dict[str, int]:
    """Which hard filters of the achievement remove how many demands that match its text."""
    return removed_by("demands", achievement_query(achievement),
                      constraints=relaxed(achievement_constraints(achievement), relax), user=user)


def search(query: str, *, kind: str = "achievements", user: Any = None, limit: int = 10, sector: str = "",
           restrict_visibility: bool = True) -> list[MatchResult]:
    """Free-text search over achievements or demands (the search page, the API and the CLI)."""
    constraints = Constraints(sectors=frozenset({sector}) if sector else frozenset())
    return ranked(kind, query, constraints=constraints, user=user, limit=limit,
                  restrict_visibility=restrict_visibility)


def meaning_search(query: str, *, kind: str, user: Any, limit: int = 10) -> list[MatchResult] | None:
    """``search`` when the index of ``kind`` fuses meaning (a dense model and stored vectors), for the
    global search; ``None`` otherwise, so the caller keeps its cheaper lexical lookup. The query is
    embedded once for both kinds (the embedder caches recent texts)."""
    if search_backends.active(kind):
        return None  # the shared backends rank lexically (see services.search_backends)
    index = source_index(kind).index
    if index.embedder is None or index.fusion is None or not index.vector_count():
        return None
    return search(query, kind=kind, user=user, limit=limit)


def recommendations(user: Any, *, per_listing: int = 3) -> list[tuple[Any, list[MatchResult]]]:
    """For each of the user's active listings, its top matches (the transfer index page)."""
    achievements, demands = selectors.own_listings(user)
    out: list[tuple[Any, list[MatchResult]]] = []
    for demand in demands[:5]:
        out.append((demand, ranked("achievements", demand_query(demand), constraints=demand_constraints(demand),
                                   user=user, limit=per_listing)))
    for achievement in achievements[:5]:
        out.append((achievement, ranked("demands", achievement_query(achievement),
                                        constraints=achievement_constraints(achievement), user=user,
                                        limit=per_listing)))
    return out


# --- notifications of new matches ---------------------------------------------------------------
def _organisation_users(organisation_ids: set[int]) -> dict[int, list[Any]]:
    from sciencecity.accounts.choices import BUSINESS_ROLES
    from sciencecity.accounts.models import Membership

    users: dict[int, list[Any]] = {}
    rows = (Membership.objects.filter(organisation_id__in=organisation_ids, role__in=list(BUSINESS_ROLES),
                                      user__is_active=True).select_related("user").order_by("user_id"))
    for membership in rows:
        bucket = users.setdefault(membership.organisation_id, [])
        if membership.user not in bucket:
            bucket.append(membership.user)
    return users


def notify_new_listing(kind: str, obj: Any) -> list[Notification]:
    """Tell the owners of listings of the other side that ``obj`` (just created) matches theirs."""
    if kind == "achievements":
        other, query, constraints = "demands", achievement_query(obj), achievement_constraints(obj)
        url = reverse("transfer:achievement_detail", args=[obj.pk])
        can_see = access.can_view_achievement
    else:
        other, query, constraints = "achievements", demand_query(obj), demand_constraints(obj)
        url = reverse("transfer:demand_detail", args=[obj.pk])
        can_see = access.can_view_demand
    hits = ranked(other, query, constraints=constraints, limit=20, restrict_visibility=False, use_feedback=False)
    hits = [h for h in hits if len(h.shared_terms) >= notify_min_shared_terms()]
    owner_of = {h.id: (h.obj.organisation_id if other == "demands" else h.obj.owner_id) for h in hits}
    users = _organisation_users(set(owner_of.values()))
    created: list[Notification] = []
    notified: set[int] = set()
    for hit in hits:
        for user in users.get(owner_of[hit.id], []):
            if user.pk in notified or not can_see(user, obj):
                continue
            notified.add(user.pk)
            if kind == "achievements":
                message = _("New achievement “%(new)s” matches your demand “%(yours)s”.")
            else:
                message = _("New demand “%(new)s” matches your achievement “%(yours)s”.")
            text = message % {"new": obj.title[:100], "yours": hit.obj.title[:100]}
            created.append(Notification(user=user, message=text[:300], url=url, category="match"))
    return Notification.objects.bulk_create(created)


def notification_read(*, user: Any, ids: list[int] | None = None) -> int:
    """Mark the user's notifications (all, or ``ids``) as read (see ``core.notifications``)."""
    from sciencecity.core.notifications import notification_read as mark_read

    return mark_read(user=user, ids=ids)
