"""Tokeniser, synonyms, highlighting and the affinity file formats of ``engines.text``."""

from __future__ import annotations

import json

import numpy as np

from sciencecity.engines.text import Tokenizer, affinity_scores, default_tokenizer, highlight, normalize
from sciencecity.engines.text.openreview_io import (
    Paper,
    main,
    read_experts,
    read_scores,
    read_submissions,
    write_experts,
    write_scores,
    write_submissions,
)
from sciencecity.engines.text.synonyms import SynonymTable
from sciencecity.engines.text.tokenize import BIGRAM_PREFIX, stem


def test_chinese_search_mode_yields_words_and_sub_words_without_stopwords_or_punctuation():
    terms = default_tokenizer().terms("锂离子电池负极材料的制备方法。")
    assert terms == ["离子", "电池", "锂离子", "锂离子电池", "负极", "材料", "负极材料", "制备"]


def test_user_dictionary_keeps_domain_words_whole():
    terms = default_tokenizer().terms("非侵入式脑机接口与植保无人飞行器")
    assert "脑机接口" in terms and "植保无人飞行器" in terms


def test_english_is_casefolded_and_lightly_stemmed():
    assert default_tokenizer().terms("Lithium-ion Batteries for Imaging the Cells") == [
        "lithium",
        "ion",
        "battery",
        "imag",
        "cell",
    ]
    assert [stem(w) for w in ("running", "imaged", "image", "studies", "glass")] == [
        "run",
        "imag",
        "imag",
        "study",
        "glass",
    ]


def test_mixed_text_keeps_codes_and_numbers_of_two_digits_or_more():
    terms = default_tokenizer().terms("５Ｇ基站 BCI 2023年 3 CO2")
    assert normalize("５Ｇ") == "5g"
    assert terms == ["5g", "基站", "bci", "2023", "co2"]


def test_bigrams_are_prefixed_and_skip_stopword_characters():
    tokenizer = Tokenizer(bigrams=True)
    assert tokenizer.bigram_terms("锂电的负极") == [BIGRAM_PREFIX + "锂电", BIGRAM_PREFIX + "负极"]


def test_synonyms_expand_across_languages_with_lower_weight():
    table = SynonymTable.bundled(default_tokenizer())
    expansions = {e.term: e for e in table.expand(default_tokenizer().terms("drone 农药"))}
    assert expansions["无人机"].weight == 0.6 and expansions["无人机"].source == "drone"
    assert expansions["uav"].weight == 0.6
    assert abs(expansions["unman"].weight - 0.2) < 1e-9
    assert 0 < expansions["飞行器"].weight < 0.6


def test_highlight_escapes_html_and_marks_longest_terms_first():
    text = "<script>x</script>锂离子电池 & Lithium Batteries"
    assert highlight(text, ["锂离子", "锂离子电池", "battery", "lithium"]) == (
        "&lt;script&gt;x&lt;/script&gt;<mark>锂离子电池</mark> &amp; <mark>Lithium</mark> Batteries"
    )
    assert highlight("Batteries", ["batter"]) == "<mark>Batteries</mark>"


def test_affinity_prefers_the_expert_who_wrote_on_the_topic_in_either_language():
    result = affinity_scores(
        {
            "battery": ["锂离子电池硅碳负极材料", "固态电解质界面研究"],
            "neuro": ["Brain-computer interface decoding of motor imagery EEG"],
            "empty": [],
        },
        {"s1": "脑机接口 运动想象 脑电解码", "s2": "lithium-ion battery anode"},
    )
    assert result.expert_ids == ("battery", "neuro", "empty")
    assert np.argmax(result.scores[0]) == 1 and np.argmax(result.scores[1]) == 0
    assert result.scores[:, 2].tolist() == [0.0, 0.0]
    assert list(result.rows(top_n=1)) == [
        ("s1", "neuro", result.scores[0, 1]),
        ("s2", "battery", result.scores[1, 0]),
    ]
    mean = affinity_scores({"a": ["石墨烯 散热", "石墨烯 导热膜"]}, {"s": "石墨烯"}, aggregate="mean")
    assert 0 < mean.scores[0, 0] <= 1


def test_openreview_files_round_trip_and_command_writes_scores(tmp_path, capsys):
    experts = {
        "e1": [Paper("p1", "锂离子电池负极", "硅碳复合材料"), Paper("p2", "固态电池", "")],
        "e2": [Paper("p3", "Graphene coatings", "anticorrosion for marine steel")],
    }
    submissions = {"s1": Paper("s1", "石墨烯防腐涂料", "海洋钢结构"), "s2": Paper("s2", "锂电负极", "")}
    write_experts(tmp_path / "experts", experts)
    write_submissions(tmp_path / "submissions.json", submissions)
    assert read_experts(tmp_path / "experts") == experts
    assert read_submissions(tmp_path / "submissions.json") == submissions

    v2 = {"s9": {"content": {"title": {"value": "标题"}, "abstract": {"value": "摘要"}}}}
    (tmp_path / "v2.json").write_text(json.dumps(v2, ensure_ascii=False), encoding="utf-8")
    assert read_submissions(tmp_path / "v2.json") == {"s9": Paper("s9", "标题", "摘要")}

    write_scores(tmp_path / "r.csv", [("s1", "e1", 0.5)])
    assert read_scores(tmp_path / "r.csv") == [("s1", "e1", 0.5)]

    out = tmp_path / "scores.csv"
    args = ["--experts", str(tmp_path / "experts"), "--submissions", str(tmp_path / "submissions.json")]
    assert main([*args, "--out", str(out)]) == 0
    rows = read_scores(out)
    assert [(s, e) for s, e, _ in rows] == [("s1", "e1"), ("s1", "e2"), ("s2", "e1"), ("s2", "e2")]
    scores = {(s, e): v for s, e, v in rows}
    assert scores[("s1", "e2")] > scores[("s1", "e1")] and scores[("s2", "e1")] > scores[("s2", "e2")]
    assert "4 scores" in capsys.readouterr().out
