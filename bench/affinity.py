"""Expert affinity (engines.text.affinity): choice of aggregate on the labelled set, then
throughput in expert–submission pairs per second for Chinese and English texts.

Usage: python bench/affinity.py [--experts 300] [--papers 10] [--submissions 1000]
"""

from __future__ import annotations

import argparse
import random
import time

import results
from sciencecity.engines.text import affinity_scores
from sciencecity.engines.text.affinity import score_vectors, vectorise
from sciencecity.engines.text.quality import reciprocal_rank
from text_corpus import labelled_set, synthetic_listings

ENGLISH_WORDS = """lithium ion battery anode cathode electrolyte graphene nanotube sensor chip laser robot drone
antibody vaccine diagnostic gene editing cell therapy organoid wastewater soil remediation cement steel coating
composite ceramic polymer algorithm model platform software database packaging power device silicon carbide
gallium nitride lidar radar autonomous driving digital twin edge computing industrial internet storage charging
hydrogen electrolysis carbon capture brain computer interface exoskeleton prosthesis imaging surgical irrigation
breeding remote sensing synthetic biology fermentation photoresist additive manufacturing titanium alloy quantum
blockchain federated learning efficient low cost novel flexible portable durable scalable method system design
control optimisation detection monitoring prediction recycling synthesis fabrication evaluation""".split()


def aggregate_choice() -> dict[str, float]:
    """Experts = pairs of listings of one field; submissions = the labelled queries."""
    listings, queries = labelled_set()
    by_field: dict[str, list] = {}
    for listing in listings:
        by_field.setdefault(listing.field, []).append(listing)
    experts: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for field, members in sorted(by_field.items()):
        for i in range(0, len(members), 2):
            expert_id = f"{field}-{i // 2}"
            experts[expert_id] = [f"{x.title}\n{x.text}" for x in members[i : i + 2]]
            for x in members[i : i + 2]:
                owner[x.id] = expert_id
    submissions = {q.id: q.text for q in queries}
    mrr: dict[str, float] = {}
    print(f"Aggregate choice: {len(experts)} experts (2 listings each), {len(submissions)} labelled queries")
    for aggregate in ("max", "mean"):
        result = affinity_scores(experts, submissions, aggregate=aggregate)
        total = 0.0
        for i, query in enumerate(queries):
            ranking = [result.expert_ids[j] for j in (-result.scores[i]).argsort(kind="stable")]
            total += reciprocal_rank(ranking, {owner[x] for x in query.relevant})
        mrr[aggregate] = round(total / len(queries), 4)
        print(f"  {aggregate:<5} MRR of the right expert: {total / len(queries):.3f}")
    return mrr


def english_texts(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choices(ENGLISH_WORDS, k=rng.randint(25, 60))) for _ in range(n)]


def throughput(language: str, n_experts: int, n_papers: int, n_submissions: int) -> dict[str, dict]:
    rng = random.Random(11)
    total_papers = n_experts * n_papers
    if language == "Chinese":
        texts = [f"{x.title}\n{x.text}" for x in synthetic_listings(total_papers + n_submissions, seed=3)]
    else:
        texts = english_texts(total_papers + n_submissions, rng)
    experts = {f"e{i}": texts[i * n_papers : (i + 1) * n_papers] for i in range(n_experts)}
    submissions = {f"s{i}": texts[total_papers + i] for i in range(n_submissions)}
    pairs = n_experts * n_submissions
    start = time.perf_counter()
    vectors = vectorise(experts, submissions)
    tokenise = time.perf_counter() - start
    figures: dict[str, dict] = {}
    for aggregate in ("max", "mean"):
        start = time.perf_counter()
        score_vectors(vectors, aggregate=aggregate)
        scoring = time.perf_counter() - start
        total = tokenise + scoring
        print(
            f"  {language:<9}{aggregate:<6}{pairs:>10,}{tokenise:>11.2f}{scoring:>10.2f}"
            f"{pairs / total:>14,.0f}{pairs / scoring:>16,.0f}"
        )
        figures[aggregate] = {"pairs": pairs, "tokenise_s": round(tokenise, 3), "score_s": round(scoring, 3),
                              "pairs_per_s": round(pairs / total), "pairs_per_s_scoring": round(pairs / scoring)}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experts", type=int, default=300)
    parser.add_argument("--papers", type=int, default=10)
    parser.add_argument("--submissions", type=int, default=1000)
    args = parser.parse_args()
    mrr = aggregate_choice()
    print()
    print(f"Throughput: {args.experts} experts × {args.papers} papers, {args.submissions} submissions")
    print(
        f"  {'language':<9}{'agg':<6}{'pairs':>10}{'tokenise s':>11}{'score s':>10}{'pairs/s':>14}{'pairs/s scoring':>16}"
    )
    speed = {language: throughput(language, args.experts, args.papers, args.submissions)
             for language in ("Chinese", "English")}
    results.write("affinity", {"experts": args.experts, "papers": args.papers, "submissions": args.submissions,
                               "mrr_of_right_expert": mrr, "throughput": speed})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
