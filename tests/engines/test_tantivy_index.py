"""The on-disk tantivy index over our tokens ranks like the memory BM25 index, filters, and takes any text."""

from __future__ import annotations

import pytest

from sciencecity.engines.text import Filter, Listing, TextIndex
from sciencecity.engines.text.index import analyze_query, document_terms
from sciencecity.engines.text.tantivy_index import IndexedDoc, Restriction, TantivyReader, TantivyWriter

LISTINGS = [
    Listing("1", "硅碳负极材料，提升锂离子电池能量密度与循环寿命。", title="硅碳负极材料", trl=6, modes=frozenset({"license"})),
    Listing("2", "固态电解质薄膜制备工艺，用于全固态锂电池。", title="固态电解质", trl=4, modes=frozenset({"sale"})),
    Listing("3", "工业视觉缺陷检测算法，面向印刷电路板。", title="机器视觉检测", trl=7, modes=frozenset({"sale"})),
    Listing("4", "High-throughput machine learning screening of battery cathode materials.",
            title="Battery materials screening", trl=3),
    Listing("5", "锂电池回收与梯次利用，退役动力电池的检测分选。", title="动力电池回收", trl=8,
            modes=frozenset({"license", "sale"})),
]
TAGS = {1: {"energy"}, 2: {"energy"}, 3: {"ai"}, 4: {"energy", "ai"}, 5: {"energy"}}
GROUPS = {1: 10, 2: 20, 3: 30, 4: 40, 5: 10}


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    memory = TextIndex()
    memory.add_many(LISTINGS)
    path = tmp_path_factory.mktemp("tantivy")
    writer = TantivyWriter(path)
    writer.add_new(IndexedDoc(int(x.id), document_terms(memory.tokenizer, x.title, x.text), trl=x.trl, modes=x.modes,
                              tags=frozenset(TAGS[int(x.id)]), group=GROUPS[int(x.id)]) for x in LISTINGS)
    writer.commit()
    writer.close()
    return memory, TantivyReader(path), path


def _ids(memory, reader, query, **kwargs):
    return [str(i) for i, _score in reader.search(analyze_query(memory.tokenizer, memory.synonyms, query), **kwargs)]


@pytest.mark.parametrize("query", ["锂电池负极", "电池检测", "machine learning battery", "固态电解质", "视觉"])
def test_same_ranking_and_scores_as_the_memory_index(indexes, query):
    memory, reader, _path = indexes
    expected = memory.search(query, k=10, explain=False)
    got = reader.search(analyze_query(memory.tokenizer, memory.synonyms, query), k=10)
    assert [h.id for h in expected] == [str(i) for i, _s in got]
    for hit, (_i, score) in zip(expected, got, strict=True):  # tantivy stores document lengths in one byte
        assert score == pytest.approx(hit.score, rel=0.08)


def test_filters_and_exclusions(indexes):
    memory, reader, _path = indexes
    assert _ids(memory, reader, "电池", restriction=Restriction(Filter(trl_min=5))) == [
        h.id for h in memory.search("电池", filter=Filter(trl_min=5), explain=False)]
    assert set(_ids(memory, reader, "电池", restriction=Restriction(Filter(modes=frozenset({"license"}))))) == {"1", "5"}
    assert set(_ids(memory, reader, "电池 检测", restriction=Restriction(tags=frozenset({"ai"})))) <= {"3", "4"}
    assert "5" not in _ids(memory, reader, "电池", restriction=Restriction(exclude_groups=frozenset({10})))
    assert "1" not in _ids(memory, reader, "电池", restriction=Restriction(exclude_ids=frozenset({1})))
    assert _ids(memory, reader, "电池", restriction=Restriction(Filter(trl_min=9))) == []


@pytest.mark.parametrize("query", ['"', ":", "(", "*", "\x00", 'title:"锂电池" AND (x OR *', "\\", "'", "", " ",
                                   "id:1", "-电池", "电池^100"])
def test_query_syntax_characters_never_reach_a_parser(indexes, query):
    memory, reader, _path = indexes
    assert isinstance(_ids(memory, reader, query), list)


def test_an_update_and_a_removal_are_seen_after_the_commit(indexes, tmp_path):
    memory, _reader, _path = indexes
    writer = TantivyWriter(tmp_path)
    writer.add_new(IndexedDoc(int(x.id), document_terms(memory.tokenizer, x.title, x.text)) for x in LISTINGS)
    writer.commit()
    reader = TantivyReader(tmp_path)
    assert not reader.refresh()
    writer.put([IndexedDoc(3, document_terms(memory.tokenizer, "超导量子比特", "稀释制冷机中的超导量子比特读出。"))])
    writer.remove([1])
    writer.commit()
    writer.close()
    assert reader.refresh()
    assert _ids(memory, reader, "超导量子") == ["3"]
    assert "1" not in _ids(memory, reader, "硅碳负极")
    assert "3" not in _ids(memory, reader, "视觉检测")  # the replaced text is gone
    assert len(reader) == len(LISTINGS) - 1
    assert len(reader) == len(LISTINGS) - 1
