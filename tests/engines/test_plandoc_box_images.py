"""A 专栏 (project box) printed only as a picture: detected, reported as not read without an OCR
package, and with one read into box items marked as OCR results that an officer reviews before
they are stored. The pictures are drawn here with Pillow from known lines."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sciencecity.engines.plandoc import ocr, parse_file
from tests.engines.plan_documents import box_image

LINES = [
    "1.合成生物研究重大科技基础设施",
    "2.脑解析与脑模拟重大科技基础设施",
    "3.材料基因组大科学装置平台",
    "4.精准医学影像大科学装置集群",
]
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="rapidocr-onnxruntime is not installed")


def plan_markdown(picture: str) -> str:
    return (
        "# 青山区科技创新“十四五”规划\n\n## 第一章 发展基础\n\n基础扎实。\n\n"
        "## 第二章 建设重大科技基础设施\n\n### 第一节 布局设施集群\n\n1.建设设施集群。加快建设。\n\n"
        f"专栏1 重大科技基础设施\n\n![专栏1]({picture})\n\n"
        "## 第三章 保障措施\n\n1.加强组织领导。落实责任。\n"
    )


@pytest.fixture(params=[True, False], ids=["framed", "unframed"])
def plan_path(request, tmp_path):
    (tmp_path / "box1.png").write_bytes(box_image(LINES, framed=request.param))
    path = tmp_path / "plan.md"
    path.write_text(plan_markdown("box1.png"), encoding="utf-8")
    return path


def test_without_ocr_the_box_picture_is_a_not_read_warning(plan_path, monkeypatch):
    monkeypatch.setattr(ocr, "available", lambda: False)
    doc = parse_file(plan_path)
    warnings = {w.code: w.message for w in doc.warnings}
    assert warnings["box_image_only"] == (
        "专栏1 重大科技基础设施: given as an image; its content was not read "
        "(no OCR package is installed (rapidocr-onnxruntime))"
    )
    assert doc.boxes == [] and doc.ocr_tables == []
    assert [c.title for c in doc.chapters] == ["发展基础", "建设重大科技基础设施", "保障措施"]


@needs_ocr
def test_with_ocr_the_box_is_read_into_items_marked_as_ocr(plan_path):
    doc = parse_file(plan_path)
    (box,) = doc.boxes
    assert (box.number, box.title, box.chapter_number, box.section_number) == (1, "重大科技基础设施", 2, 1)
    items = [item for group in box.groups for item in group.items]
    assert [(item.number, item.title) for item in items] == [
        (int(line.split(".")[0]), line.split(".", 1)[1]) for line in LINES
    ]
    assert box.ocr_confidence is not None and 0.9 <= box.ocr_confidence <= 1
    (table,) = doc.ocr_tables
    assert (table.caption, table.kind, table.reviewed) == ("专栏1 重大科技基础设施", "box", False)
    assert [[cell["text"] for cell in row] for row in table.rows] == [[line] for line in LINES]
    assert all(0.9 <= cell["confidence"] <= 1 for row in table.rows for cell in row)
    warning = next(w for w in doc.warnings if w.code == "table_read_by_ocr")
    assert warning.message.startswith("专栏1 重大科技基础设施: read from an image by OCR")
    assert "box_image_only" not in doc.warning_codes()


def plan_zip(framed: bool = True) -> bytes:
    """The Markdown copy and its picture as one upload."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("plan/plan.md", plan_markdown("images/box1.png"))
        archive.writestr("plan/images/box1.png", box_image(LINES, framed=framed))
    return buffer.getvalue()


@needs_ocr
def test_box_items_read_by_ocr_are_stored_only_after_review(db):
    from sciencecity.plans import services
    from sciencecity.plans.models import MajorProject, Plan

    content = plan_zip()
    with pytest.raises(ValidationError) as refused:
        services.plan_import(actor=None, content=content, filename="plan.zip")
    assert refused.value.error_dict["file"][0].code == "ocr_review_required"
    assert "专栏1 重大科技基础设施" in refused.value.messages[0]
    assert Plan.objects.count() == 0 and MajorProject.objects.count() == 0
    corrected = [[line] for line in LINES]
    corrected[2] = ["3.材料基因组大科学装置"]  # the officer corrects one line beside the picture
    plan = services.plan_import(actor=None, content=content, filename="plan.zip", ocr_overrides={0: corrected}).plan
    assert list(MajorProject.objects.filter(box__plan=plan).order_by("number").values_list("code", "title")) == [
        ("1.1", "合成生物研究重大科技基础设施"),
        ("1.2", "脑解析与脑模拟重大科技基础设施"),
        ("1.3", "材料基因组大科学装置"),
        ("1.4", "精准医学影像大科学装置集群"),
    ]
