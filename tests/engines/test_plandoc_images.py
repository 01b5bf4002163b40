"""Images are never dropped silently, with or without an OCR package."""

from __future__ import annotations

from sciencecity.engines.plandoc import ocr, parse_file
from tests.engines.plan_documents import table_image


def test_without_an_ocr_package_the_table_image_is_a_not_read_warning(tmp_path, monkeypatch):
    (tmp_path / "t.png").write_bytes(table_image([["指标", "2025年目标值"], ["高新技术企业", "200"]]))
    path = tmp_path / "plan.md"
    path.write_text(
        "# 规划\n\n## 一、目标\n\n表1 主要指标\n\n![](t.png)\n\n![logo](logo.png)\n\n## 二、任务\n\n正文。\n", encoding="utf-8"
    )
    monkeypatch.setattr(ocr, "available", lambda: False)  # the machine without rapidocr-onnxruntime
    doc = parse_file(path)
    warnings = {w.code: w.message for w in doc.warnings}
    assert warnings["table_image_only"] == (
        "表1 主要指标: given as an image; its content was not read "
        "(no OCR package is installed (rapidocr-onnxruntime))"
    )
    assert warnings["image_not_read"] == "an image (logo.png) that is not under a 表N or 专栏 caption was not read"
    assert doc.indicators == []
