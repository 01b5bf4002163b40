"""A plan imported from a PDF is stored; bad files give one clear error and write nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from sciencecity.core.models import AuditEvent
from sciencecity.plans import services
from sciencecity.plans.models import Chapter, Indicator, Plan, Task
from sciencecity.registry.models import Organisation
from tests.engines.plan_documents import build_pdf, image_only_pdf, items
from tests.engines.test_plandoc_structure import BODY


def test_pdf_plan_is_imported(db):
    result = services.plan_import(actor=None, content=build_pdf(items(BODY)), filename="qingshan.pdf")
    plan = result.plan
    assert plan.title == "青山市科技创新发展“十四五”规划"
    assert Chapter.objects.filter(plan=plan).count() == 7
    assert Task.objects.filter(plan=plan).count() == 7
    assert Indicator.objects.filter(plan=plan).count() == 8


def _zip_renamed() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/readme.txt", "not a Word document")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "make", "message"),
    [
        ("locked.pdf", lambda: build_pdf(items(BODY), encrypt="secret"), "the PDF is encrypted"),
        ("scan.pdf", lambda: image_only_pdf(1), "the PDF has no text layer"),
        ("plan.docx", _zip_renamed, "not a readable Word .docx file"),
        ("plan.pdf", lambda: b"", "the file is empty"),
        ("plan.md", lambda: b"", "the file is empty"),
        ("plan.docx", lambda: b"", "the file is empty"),
    ],
)
def test_bad_file_is_one_clear_error_and_writes_nothing(db, filename, make, message):
    before = (Organisation.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as error:
        services.plan_import(actor=None, content=make(), filename=filename)
    messages = error.value.messages
    assert len(messages) == 1
    assert messages[0].startswith(f"{filename}: ") and message in messages[0]
    assert Plan.objects.count() == 0
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before


REPEATED_NUMBERS = """某区科技创新规划

一、总体要求

（一）指导思想

1.坚持创新。内容。

1.坚持开放。内容。

（一）发展目标

正文。

一、重点任务

正文。

表1 主要指标

| 序号 | 指标 | 单位 | 2025年目标值 |
|---|---|---|---|
| 1 | 高新技术企业 | 家 | 200 |

表2 其他指标

| 序号 | 指标 | 单位 | 2025年目标值 |
|---|---|---|---|
| 1 | 技术合同成交额 | 亿元 | 10 |
"""


def test_repeated_numbers_in_the_document_are_stored_renumbered_not_a_crash(db):
    """A chapter, section, task or indicator number used twice hit the unique constraints (a 500)."""
    result = services.plan_import(actor=None, content=REPEATED_NUMBERS.encode("utf-8"), filename="plan.md")
    plan = result.plan
    assert list(Chapter.objects.filter(plan=plan).values_list("number", "title")) == [(1, "总体要求"), (2, "重点任务")]
    assert sorted(Task.objects.filter(plan=plan).values_list("code", flat=True)) == ["1.1.1", "1.1.2"]
    assert sorted(Indicator.objects.filter(plan=plan).values_list("code", "name")) == [
        ("1", "高新技术企业"), ("2", "技术合同成交额")]
    assert {"chapter_numbering", "section_numbering", "task_numbering"} <= {w["code"] for w in result.warnings}
