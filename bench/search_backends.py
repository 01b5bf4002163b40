"""Search backends (SEARCH_BACKEND): ranking quality on the labelled sets, then build, worker memory,
reader cold start and query latency on synthetic listings — memory (the baseline, measured in the
same run), tantivy, and PostgreSQL full text when ``--postgres`` names a database.

    .venv/bin/python bench/search_backends.py [--listings 100000] [--queries 200]
        [--postgres postgres://root@127.0.0.1:5432/NAME] [--skip-memory] [--keep DIR]
    .venv/bin/python bench/search_backends.py --reader DIR     # cold start of a reader on a built index

Quality: per set of bench/data/matching/ (test split only, PROTOCOL.md), recall@10 and MRR of the
memory index (BM25 + synonyms) and of each backend, with the ratio of MRR to memory.

Scale: the listings of bench/text_corpus.py are tokenised once (the same terms for every backend);
memory builds a ``TextIndex`` (its build is what every worker pays at start); tantivy writes its
index on disk, then a *fresh process* opens a reader and answers the first query (the cold start of
a worker) and reports its resident memory; PostgreSQL loads the table, then a fresh process connects
and answers the first query. Query p50/p95 over the same queries (a third with field + TRL filters).
Writes bench/results/search_backends-<time>.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matching_sets
import results
from sciencecity.engines.text import Filter, TextIndex
from sciencecity.engines.text.index import analyze_query, document_terms
from sciencecity.engines.text.tantivy_index import IndexedDoc, Restriction, TantivyReader, TantivyWriter
from text_corpus import rss_bytes, synthetic_listings, synthetic_queries

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _postgres(url: str | None):
    if not url:
        return None
    import psycopg

    from sciencecity.transfer.services.search_backends import PostgresBackend

    conn = psycopg.connect(url, autocommit=True)
    migration = importlib.import_module("sciencecity.transfer.migrations.0004_search_document")
    with conn.cursor() as cursor:
        for statement in migration.CREATE:
            cursor.execute(statement)
    return PostgresBackend(conn)


# --- quality --------------------------------------------------------------------------------------
def quality(pg) -> dict:
    figures: dict = {}
    print(f"{'set (test split)':<22}{'backend':<12}{'n':>4}{'recall@10':>10}{'MRR':>8}{'MRR ÷ memory':>14}")
    for data in matching_sets.load_retrieval_sets(matching_sets.DATA_DIR):
        figures[data["name"]] = _set_quality(data, pg)
    return figures


def _set_quality(data: dict, pg) -> dict:
    figures: dict = {}
    name = data["name"]
    listings = matching_sets._listings(data)
    test = [q for q in data["queries"] if q.get("split") == "test"]
    memory = TextIndex()
    memory.add_many(listings)
    tokenizer, synonyms = memory.tokenizer, memory.synonyms
    docs = [IndexedDoc(i, document_terms(tokenizer, x.title, x.text)) for i, x in enumerate(listings)]
    ids = {i: x.id for i, x in enumerate(listings)}
    folder = Path(tempfile.mkdtemp(prefix="bench-tantivy-"))
    writer = TantivyWriter(folder)
    writer.add_new(docs)
    writer.commit()
    writer.close()
    reader = TantivyReader(folder)
    rankers = {
        "memory": lambda text: [h.id for h in memory.search(text, k=10, explain=False)],
        "tantivy": lambda text: [ids[i] for i, _s in reader.search(analyze_query(tokenizer, synonyms, text), k=10)],
    }
    if pg is not None:
        source = f"bench:{name}"[:32]
        pg.write(source, docs, (), full=True, stamp=(len(docs), None))
        rankers["postgres"] = lambda text, s=source: [
            ids[i] for i, _s in pg.search(s, analyze_query(tokenizer, synonyms, text), 10, Restriction())]
    base = None
    for backend, rank in rankers.items():
        m = matching_sets._mean([matching_sets.ranking_from_ids(rank(q["text"]), set(q["relevant"])) for q in test])
        base = base or m
        ratio = m["mrr"] / base["mrr"] if base["mrr"] else 1.0
        figures[backend] = {**m, "mrr_ratio_to_memory": round(ratio, 3)}
        print(f"{name:<22}{backend:<12}{m['queries']:>4}{m['recall_at_10']:>10.3f}{m['mrr']:>8.3f}{ratio:>13.3f}×")
    shutil.rmtree(folder, ignore_errors=True)
    return figures


# --- scale ----------------------------------------------------------------------------------------
READER_SCRIPT = """
import json, sys, time, resource
from pathlib import Path
sys.path.insert(0, {bench!r})
from text_corpus import rss_bytes
before = rss_bytes()
import sciencecity.engines.text.tantivy_index as ti
from sciencecity.engines.text.index import QueryTerm
imported = time.perf_counter()
reader = ti.TantivyReader(Path({path!r}))
hits = reader.search([QueryTerm("电池", 1.0), QueryTerm("检测", 1.0)], k=10)
first = time.perf_counter() - imported
for word in ["材料", "芯片", "传感器", "算法", "平台", "装备", "系统", "工艺"] * 6:
    reader.search([QueryTerm(word, 1.0)], k=10)
print(json.dumps({{"cold_start_s": first, "docs": len(reader), "hits": len(hits),
                   "rss_after_mb": rss_bytes() / 1e6, "rss_before_mb": before / 1e6}}))
"""

PG_SCRIPT = """
import json, sys, time
sys.path.insert(0, {bench!r})
from text_corpus import rss_bytes
before = rss_bytes()
started = time.perf_counter()
import psycopg
from sciencecity.engines.text.index import QueryTerm
from sciencecity.engines.text.tantivy_index import Restriction
from sciencecity.transfer.services.search_backends import PostgresBackend
imported = time.perf_counter()
backend = PostgresBackend(psycopg.connect({url!r}, autocommit=True))
hits = backend.search({source!r}, [QueryTerm("电池", 1.0), QueryTerm("检测", 1.0)], 10, Restriction())
first = time.perf_counter() - imported
print(json.dumps({{"cold_start_s": first, "hits": len(hits), "rss_after_mb": rss_bytes() / 1e6,
                   "rss_before_mb": before / 1e6}}))
"""


def _fresh_process(script: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'bench'}"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def reader_cold_start(path: Path, runs: int = 3) -> dict:
    rows = [_fresh_process(READER_SCRIPT.format(bench=str(ROOT / "bench"), path=str(path))) for _ in range(runs)]
    median = statistics.median(r["cold_start_s"] for r in rows)
    rss = statistics.median(r["rss_after_mb"] - r["rss_before_mb"] for r in rows)
    return {"cold_start_s_median": round(median, 4), "cold_start_s_runs": [round(r["cold_start_s"], 4) for r in rows],
            "worker_rss_added_mb": round(rss, 1), "docs": rows[0]["docs"]}


def _latency(search, queries) -> dict:
    times = []
    for text, flt in queries:
        started = time.perf_counter()
        search(text, flt)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 0.95), 2)}


def scale(n: int, n_queries: int, pg, *, skip_memory: bool, keep: Path | None) -> dict:
    figures: dict = {"listings": n}
    listings = synthetic_listings(n)
    queries = [(text, Filter(**f) if f else None) for text, f in synthetic_queries(n_queries)]
    seed = TextIndex()
    tokenizer, synonyms = seed.tokenizer, seed.synonyms
    started = time.perf_counter()
    docs = [IndexedDoc(i, document_terms(tokenizer, x.title, x.text), trl=x.trl, modes=x.modes,
                       tags=frozenset({x.field})) for i, x in enumerate(listings)]
    figures["tokenise_s"] = round(time.perf_counter() - started, 1)
    print(f"\n{n:,} synthetic listings: tokenised once in {figures['tokenise_s']} s")
    if not skip_memory:
        rss0 = rss_bytes()
        started = time.perf_counter()
        memory = TextIndex(tokenizer=tokenizer, synonyms=synonyms)
        memory.add_many(listings, workers=2)
        build = time.perf_counter() - started
        memory.search("电池", k=10)
        figures["memory"] = {"build_s": round(build, 2), "worker_rss_added_mb": round((rss_bytes() - rss0) / 1e6, 1),
                             **_latency(lambda t, f: memory.search(t, k=10, filter=f, explain=False), queries)}
        print(f"memory   build (every worker, at start) {build:8.2f} s   RSS +{figures['memory']['worker_rss_added_mb']} MB"
              f"   query p50 {figures['memory']['p50_ms']} ms p95 {figures['memory']['p95_ms']} ms")
        del memory
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-tantivy-"))
    if keep is not None and folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    writer = TantivyWriter(folder, heap_bytes=256_000_000, threads=2)
    writer.add_new(docs)
    writer.commit()
    writer.close()
    write_s = time.perf_counter() - started
    reader = TantivyReader(folder)
    cold = reader_cold_start(folder)
    figures["tantivy"] = {"write_s": round(write_s, 1), **cold, "disk_mb": round(
        sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6, 1),
        **_latency(lambda t, f: reader.search(analyze_query(tokenizer, synonyms, t), k=10,
                                              restriction=Restriction(f)), queries)}
    t = figures["tantivy"]
    print(f"tantivy  written once (the job) {write_s:.1f} s, {t['disk_mb']} MB on disk; reader cold start "
          f"{t['cold_start_s_median']} s (median of 3 fresh processes), RSS +{t['worker_rss_added_mb']} MB"
          f"   query p50 {t['p50_ms']} ms p95 {t['p95_ms']} ms")
    if pg is not None:
        source = f"bench:{n}"
        started = time.perf_counter()
        pg.write(source, docs, (), full=True, stamp=(n, None))
        load_s = time.perf_counter() - started
        rows = [_fresh_process(PG_SCRIPT.format(bench=str(ROOT / "bench"), url=pg._url, source=source))
                for _ in range(3)]
        figures["postgres"] = {"load_s": round(load_s, 1),
                               "cold_start_s_median": round(statistics.median(r["cold_start_s"] for r in rows), 4),
                               "worker_rss_added_mb": round(statistics.median(
                                   r["rss_after_mb"] - r["rss_before_mb"] for r in rows), 1),
                               **_latency(lambda t, f: pg.search(source, analyze_query(tokenizer, synonyms, t), 10,
                                                                 Restriction(f)), queries)}
        p = figures["postgres"]
        print(f"postgres loaded once (the job) {load_s:.1f} s; connect + first query {p['cold_start_s_median']} s, "
              f"RSS +{p['worker_rss_added_mb']} MB   query p50 {p['p50_ms']} ms p95 {p['p95_ms']} ms")
    if "memory" in figures:
        m = figures["memory"]
        for name in ("tantivy", "postgres"):
            if name in figures:
                x = figures[name]
                figures[name]["ratio_to_memory"] = {
                    "cold_start": round(x["cold_start_s_median"] / m["build_s"], 4),
                    "worker_rss": round(x["worker_rss_added_mb"] / max(m["worker_rss_added_mb"], 0.1), 4),
                    "p95": round(x["p95_ms"] / m["p95_ms"], 2)}
                r = figures[name]["ratio_to_memory"]
                print(f"{name:<8} ÷ memory: cold start {r['cold_start']}×, worker RSS {r['worker_rss']}×, p95 {r['p95']}×")
    if keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", default="", help="a database URL (its tables are created; use a bench database)")
    parser.add_argument("--skip-memory", action="store_true", help="no memory baseline (1M: minutes and ~1 GB)")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--keep", type=Path, help="build the tantivy index here and keep it (for --reader)")
    parser.add_argument("--reader", type=Path, help="only: cold start of fresh readers on an index built before")
    args = parser.parse_args()
    if args.reader:
        print(json.dumps(reader_cold_start(args.reader, runs=5), indent=1))
        return
    pg = _postgres(args.postgres)
    if pg is not None:
        pg._url = args.postgres
    figures = {"quality": {} if args.skip_quality else quality(pg)}
    figures["scale"] = scale(args.listings, args.queries, pg, skip_memory=args.skip_memory, keep=args.keep)
    print(f"written: {results.write('search_backends', figures)}")


if __name__ == "__main__":
    main()
