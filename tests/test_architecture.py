"""The import contracts of pyproject.toml hold, and a forbidden import does fail them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                          cwd=src.parent, env=env, capture_output=True, text=True, timeout=300)


def test_the_tree_keeps_every_contract():
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


def test_core_importing_a_domain_app_breaks_the_build(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "sciencecity", src / "sciencecity",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates", "data"))
    (src / "sciencecity" / "core" / "probe.py").write_text("from sciencecity.transfer import models  # noqa\n")
    result = _lint(src)
    assert result.returncode == 1
    assert "core imports no domain app BROKEN" in result.stdout
    assert "sciencecity.core.probe -> sciencecity.transfer.models" in result.stdout
