"""``sciencecity transfer import`` and ``sciencecity transfer search``: exact outputs."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from sciencecity.transfer.models import Achievement, TechDemand
from tests.conftest import make_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _call(*args) -> str:
    out = io.StringIO()
    call_command("transfer", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def files(tmp_path, db):
    make_organisation(code="UNI-1", kind="university")
    make_organisation(code="ENT-1")
    good = tmp_path / "achievements.csv"
    good.write_text("code,owner,title,abstract,trl,modes\n"
                    "A-1,UNI-1,硅碳负极材料,锂离子电池硅碳负极材料，容量高,6,licence\n"
                    "A-2,UNI-1,电池隔膜涂覆,锂电池隔膜陶瓷涂覆工艺,4,licence\n"
                    "A-3,UNI-1,机器视觉检测,表面缺陷检测相机,7,licence\n", encoding="utf-8")
    bad = tmp_path / "demands.jsonl"
    bad.write_text('{"code": "D-1", "organisation": "ENT-1", "title": "", "public_summary": "x"}\n'
                   '{"code": "D-2", "organisation": "ENT-1", "title": "ok", "public_summary": "y", "budget_max": -1}\n',
                   encoding="utf-8")
    return good, bad


def test_import_dry_run_then_import(files):
    good, _bad = files
    assert _call("import", str(good), "--dry-run") == (
        "achievements.csv (achievements): dry run, nothing written: created=3 updated=0 unchanged=0 errors=0\n")
    assert Achievement.objects.count() == 0
    assert _call("import", str(good)) == (
        "achievements.csv (achievements): imported: created=3 updated=0 unchanged=0 errors=0\n")
    assert Achievement.objects.count() == 3


def test_import_errors_are_listed_and_nothing_is_written(files):
    _good, bad = files
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^2 row\(s\) with errors$"):
        call_command("transfer", "import", str(bad), stdout=out)
    assert out.getvalue() == (
        "row 1\tTitle\trequired\tRow 2, Title: a value is required.\n"
        "row 2\tBudget to\tinvalid_value\tRow 3, Budget to: “-1”: an amount cannot be negative.\n"
        "demands.jsonl (demands): rejected, nothing written: created=0 updated=0 unchanged=0 errors=2\n")
    assert TechDemand.objects.count() == 0


def test_search_prints_ranked_ids_titles_and_scores(files):
    good, _bad = files
    _call("import", str(good))
    ids = {a.code: a.pk for a in Achievement.objects.all()}
    lines = _call("search", "锂电池 负极", "--limit", "2").splitlines()
    assert [line.split("\t")[:3] for line in lines] == [["1", str(ids["A-1"]), "A-1"], ["2", str(ids["A-2"]), "A-2"]]
    assert [line.split("\t")[4] for line in lines] == ["硅碳负极材料", "电池隔膜涂覆"]
    scores = [float(line.split("\t")[3]) for line in lines]
    assert scores[0] > scores[1] > 0
    rows = json.loads(_call("search", "锂电池 负极", "--json", "--limit", "1"))
    assert [(r["id"], r["code"], r["title"]) for r in rows] == [(ids["A-1"], "A-1", "硅碳负极材料")]
    assert "负极" in rows[0]["shared_terms"] and abs(rows[0]["score"] - scores[0]) < 0.001
    assert _call("search", "量子计算", "--kind", "demands") == "no match\n"
