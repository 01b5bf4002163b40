"""The labelled matching sets of issue 16 (bench/data/matching): load every file and check its format.

The sets are written apart from ``engines.text``; this test only reads the JSON files, so a broken
reference, a duplicated id or a split that no longer follows the stated rule fails here first.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "bench" / "data" / "matching"

RETRIEVAL_SETS = {
    # name: (language, min documents, min queries, max relevant per query or None)
    "supply_demand_zh.json": ("zh", 120, 60, 3),
    "supply_demand_en.json": ("en", 120, 60, 3),
    "paraphrase_zh.json": ("zh", 100, 32, 1),
    "field_zh.json": ("zh", 60, 20, None),
}
EXPERT_SETS = ["reviewer_expertise_en.json"]
ALL_SETS = [*RETRIEVAL_SETS, *EXPERT_SETS]


def split_of(item_id: str) -> str:
    """The split rule stated in PROTOCOL.md: SHA-256 of the id, as an integer, modulo 10 below 4 is tune."""
    return "tune" if int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % 10 < 4 else "test"


def load(name: str) -> dict:
    path = DATA / name
    assert path.is_file(), f"{name} is missing from {DATA}"
    assert path.stat().st_size < 3 * 1024 * 1024, f"{name} is over 3 MB"
    return json.loads(path.read_text(encoding="utf-8"))


def has_cjk(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


@pytest.mark.parametrize("name", ALL_SETS)
def test_header_names_provenance_licence_and_labelling(name):
    data = load(name)
    assert data["name"] == name.removesuffix(".json")
    for key in ("provenance", "licence", "labelled_by"):
        assert isinstance(data[key], str) and len(data[key].strip()) >= 10, f"{name}: {key} is empty"
    assert data["labelled_on"] == "2026-12-07", "labelled before any tuning, on the day stated in PROTOCOL.md"


@pytest.mark.parametrize("name", list(RETRIEVAL_SETS))
def test_retrieval_set_ids_references_splits_and_sizes(name):
    language, min_docs, min_queries, max_relevant = RETRIEVAL_SETS[name]
    data = load(name)
    assert data["language"] == language
    docs, queries = data["documents"], data["queries"]
    doc_ids = [d["id"] for d in docs]
    assert len(doc_ids) == len(set(doc_ids)), f"{name}: duplicate document ids"
    assert len(docs) >= min_docs and len(queries) >= min_queries, (len(docs), len(queries))
    for doc in docs:
        assert doc["title"].strip() and doc["text"].strip(), doc["id"]
        assert has_cjk(doc["text"]) == (language == "zh"), f"{name}: {doc['id']} not in {language}"
    query_ids = [q["id"] for q in queries]
    assert len(query_ids) == len(set(query_ids)), f"{name}: duplicate query ids"
    assert not set(query_ids) & set(doc_ids), f"{name}: a query id is also a document id"
    known = set(doc_ids)
    for q in queries:
        assert q["text"].strip(), q["id"]
        assert q["relevant"], f"{name}: {q['id']} has no relevant document"
        assert len(q["relevant"]) == len(set(q["relevant"])), q["id"]
        if max_relevant is not None:
            assert len(q["relevant"]) <= max_relevant, q["id"]
        missing = [r for r in q["relevant"] if r not in known]
        assert not missing, f"{name}: {q['id']} names unknown documents {missing}"
        assert q["kind"] in ("lexical", "paraphrase"), q["id"]
        assert q["split"] == split_of(q["id"]), f"{name}: {q['id']} is not in the split the rule gives"
    splits = {q["split"] for q in queries}
    assert splits == {"tune", "test"}, f"{name}: both splits must be non-empty"


@pytest.mark.parametrize("name", ["supply_demand_zh.json", "supply_demand_en.json"])
def test_supply_demand_sets_have_a_third_paraphrases_in_each_split(name):
    queries = load(name)["queries"]
    paraphrases = [q for q in queries if q["kind"] == "paraphrase"]
    assert len(paraphrases) * 3 >= len(queries)
    assert {q["split"] for q in paraphrases} == {"tune", "test"}
    assert any(q["kind"] == "lexical" for q in queries)


def test_paraphrase_set_holds_the_issue_cases_with_technical_targets():
    data = load("paraphrase_zh.json")
    docs = {d["id"]: d for d in data["documents"]}
    queries = {q["text"]: q for q in data["queries"]}
    assert all(q["kind"] == "paraphrase" for q in data["queries"])
    cases = {"用脑电波控制假肢": "运动想象脑电信号", "飞行机器人打农药": "植保无人飞行器"}
    for text, technical in cases.items():
        (target,) = queries[text]["relevant"]
        assert technical in docs[target]["title"] + docs[target]["text"]
    # Everyday words: the query's key nouns are not the target's words.
    for text, avoided in (("用脑电波控制假肢", ("脑电波", "假肢")), ("飞行机器人打农药", ("飞行机器人", "农药"))):
        target = docs[queries[text]["relevant"][0]]
        assert not any(word in target["title"] + target["text"] for word in avoided)
    # Every target is a different document and there are distractors beside them.
    targets = [q["relevant"][0] for q in data["queries"]]
    assert len(targets) == len(set(targets))
    assert len(docs) >= len(targets) * 2


def test_field_set_relevance_is_exactly_the_same_fine_field():
    data = load("field_zh.json")
    fine = {d["id"]: d["fine_field"] for d in data["documents"]}
    for q in data["queries"]:
        assert set(q["relevant"]) == {d for d, f in fine.items() if f == q["fine_field"]}, q["id"]
    assert len(set(fine.values())) >= 10


def test_reviewer_expertise_set_references_and_scale():
    data = load("reviewer_expertise_en.json")
    assert data["language"] == "en" and data["scale"].strip()
    experts = {e["id"]: e for e in data["experts"]}
    assert len(experts) == len(data["experts"]), "duplicate expert ids"
    for expert in data["experts"]:
        assert expert["papers"], expert["id"]
        for paper in expert["papers"]:
            assert paper["title"].strip() and paper["abstract"].strip(), expert["id"]
            assert isinstance(paper["year"], int) and 1950 < paper["year"] < 2030
    submissions = {s["id"]: s for s in data["submissions"]}
    assert len(submissions) == len(data["submissions"]), "duplicate submission ids"
    for sub in data["submissions"]:
        assert sub["title"].strip() and sub["abstract"].strip(), sub["id"]
        assert sub["split"] == split_of(sub["id"]), sub["id"]
    assert {s["split"] for s in data["submissions"]} == {"tune", "test"}
    pairs = set()
    for j in data["judgements"]:
        assert j["expert"] in experts and j["submission"] in submissions, j
        assert isinstance(j["score"], (int, float))
        pairs.add((j["expert"], j["submission"]))
    assert len(pairs) == len(data["judgements"]), "a pair is judged twice"
    # Every submission is judged against at least two experts with different scores, so rankings are testable.
    by_sub: dict[str, set] = {}
    for j in data["judgements"]:
        by_sub.setdefault(j["submission"], set()).add(j["score"])
    assert all(len(scores) >= 2 for scores in by_sub.values())


def test_protocol_describes_every_set():
    protocol = (DATA / "PROTOCOL.md").read_text(encoding="utf-8")
    for name in ALL_SETS:
        assert name in protocol, f"PROTOCOL.md does not describe {name}"
    assert "sha256" in protocol.lower()
