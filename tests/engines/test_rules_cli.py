"""``sciencecity hnte assess FILE.json [--json]`` on real files in the documented format."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sciencecity.engines.rules import cli

FIXTURE = Path(__file__).parent / "fixtures" / "hnte_assess.json"
SRC = Path(__file__).resolve().parents[2] / "src"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_json_output_follows_the_format():
    code, out, err = run("assess", str(FIXTURE), "--json")
    assert code == 0 and err == ""
    results = json.loads(out)["results"]
    assert [r["id"] for r in results] == ["A-001", "B-002"]  # input order
    first = results[0]
    assert set(first) == {"id", "hnte", "tech_sme"}
    h = first["hnte"]
    assert h["verdict"] == "not_yet"
    assert [c["code"] for c in h["conditions"]] == ["H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8"]
    h5 = next(c for c in h["conditions"] if c["code"] == "H5")
    # (150 + 40 + 10 + 80 % × 50 + 10) + 180 + 150 = 580 over 12,000 = 4.83 %; latest sales 5,000 → 5 %
    assert h5["status"] == "fail" and h5["values"]["rd_ratio"] == 0.0483 and h5["values"]["band"] == 0.05
    assert h5["values"]["domestic_share"] == 1.0
    assert [p["code"] for p in h["score"]["parts"]] == ["ip", "conversion", "rd_management", "growth"]
    assert all(set(p) == {"code", "min", "max"} for p in h["score"]["parts"])  # exactly the documented keys
    h7 = next(c for c in h["conditions"] if c["code"] == "H7")
    assert h7["values"]["growth"] == {"net_assets_rate": 0.225, "sales_rate": 0.2917}
    assert h7["values"]["conversion"] == {"annual_average": 4.0, "band": "B"}
    assert h["score"]["min"] == sum(p["min"] for p in h["score"]["parts"])
    ip = h["score"]["parts"][0]
    assert (ip["min"], ip["max"]) == (13, 28)  # self-rated B 5–6, core 0–8, class I 7–8, own 1–6, no standard
    assert h["improvements"][0] == "Raise R&D by 20万元 (three-year total, HNTE caliber) to reach the 5% band"
    t = first["tech_sme"]
    assert t == {**t, "qualifies": True, "score": 78, "parts": {"staff": 8, "rd": 40, "ip": 30},
                 "direct_route": "hnte_certificate"}
    young = results[1]["hnte"]
    assert young["verdict"] == "not_yet"
    assert {c["code"]: c["status"] for c in young["conditions"]}["H3"] == "unknown"


def test_plain_text_output():
    code, out, _ = run("assess", str(FIXTURE))
    assert code == 0
    assert "== A-001 示例科技有限公司" in out and "H5 fail" in out and "1. Raise R&D by 20万元" in out
    assert ("Tech-SME: qualifies   score 78 (S&T staff 8, R&D 40, S&T results 30), direct route: valid high-tech "
            "enterprise certificate") in out


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["enterprises"][1]["years"][0].update(staff_average=-3),
     "error: enterprise B-002 (#2): field years[0].staff_average: must not be negative\n"),
    (lambda d: d["enterprises"][0].update(revenue_total=1),
     "error: enterprise A-001 (#1): field revenue_total: unknown field\n"),
    (lambda d: d["enterprises"][1]["years"][0].update(main_revenue="三百"),
     "error: enterprise B-002 (#2): field years[0].main_revenue: expected a number, got text\n"),
    (lambda d: d["enterprises"][0]["years"][1]["staff_monthly"].pop(),
     "error: enterprise A-001 (#1): field years[1].staff_monthly: expected the twelve months of the year\n"),
])
def test_bad_file_gets_one_error_naming_enterprise_and_field_and_prints_nothing(tmp_path, mutate, message):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for flags in ((), ("--json",)):
        code, out, err = run("assess", str(path), *flags)
        assert (code, out, err) == (2, "", message)


def test_unreadable_files(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"enterprises": [', encoding="utf-8")
    code, out, err = run("assess", str(broken))
    assert code == 2 and out == "" and "not valid JSON" in err and err.count("\n") == 1
    code, out, err = run("assess", str(tmp_path / "missing.json"))
    assert code == 2 and out == "" and err.endswith("missing.json: no such file\n")


def test_single_profile_object_is_accepted(tmp_path):
    one = json.loads(FIXTURE.read_text(encoding="utf-8"))["enterprises"][1]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(one, ensure_ascii=False), encoding="utf-8")
    code, out, _ = run("assess", str(path), "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)["results"]] == ["B-002"]


def test_the_management_command_runs_the_engine(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "sciencecity.config.test"}
    done = subprocess.run([sys.executable, "-m", "sciencecity", "hnte", "assess", str(FIXTURE), "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert [r["id"] for r in results] == ["A-001", "B-002"]
    h5 = next(c for c in results[0]["hnte"]["conditions"] if c["code"] == "H5")
    assert h5["message"] == "研发费用占比 4.83% < 5%"
    bad = tmp_path / "bad.json"
    bad.write_text('{"enterprises": [{"id": "X", "assessed_on": "2026-01-01", "years": [{"year": "2025"}]}]}',
                   encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sciencecity", "hnte", "assess", str(bad)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    # the command speaks the default language (zh-Hans) through the project's catalogue
    assert done.stderr == "错误：企业 X (#1)：字段 years[0].year：应为数字，实际为文本\n"


def test_english_without_a_translator_and_chinese_with_the_catalogue():
    from django.utils import translation

    from sciencecity.engines.rules.i18n import translating

    code, out, _ = run("assess", str(FIXTURE))
    assert "improvements (most valuable first):" in out
    with translation.override("zh-hans"), translating(translation.gettext):
        code, out, _ = run("assess", str(FIXTURE))
    assert code == 0
    assert "改进建议（按价值从高到低）：" in out and "研发费用增加 20万元（近三年合计，高企口径）以达到 5% 的比例要求" in out
    with translation.override("en"), translating(translation.gettext):
        code, out, _ = run("assess", str(FIXTURE))
    assert "Raise R&D by 20万元 (three-year total, HNTE caliber) to reach the 5% band" in out


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


@pytest.mark.parametrize("seed", range(3))
def test_mutated_files_never_crash(tmp_path, seed):
    """Any value replaced by a wrong type, a negative, null, a huge number or nothing: exit 0, or exit 2
    with exactly one error line and nothing on stdout — never a traceback."""
    import random

    rng = random.Random(seed)
    original = json.loads(FIXTURE.read_text(encoding="utf-8"))
    paths = [p for p in _paths(original) if p]
    replacements = [None, -1, -0.5, "x", "", [], {}, True, 1e308, 0, "2026-02-30", [{}], {"a": 1}]
    for trial in range(120):
        data = json.loads(json.dumps(original))
        path = rng.choice(paths)
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(replacements)
        file = tmp_path / f"m{trial}.json"
        file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        code, out, err = run("assess", str(file), "--json")
        assert code in (0, 2), (path, err)
        if code == 2:
            assert out == "" and err.count("\n") == 1 and err.startswith("error: "), (path, err)
        else:
            assert err == "" and isinstance(json.loads(out)["results"], list)
