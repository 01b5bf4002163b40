"""Plan import in the browser: upload → preview (tree, notes, warnings, OCR cells, diff) → confirm."""

from __future__ import annotations

import io

import docx
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent, ImportBatch
from sciencecity.engines.plandoc import ocr
from sciencecity.plans import services
from sciencecity.plans.models import Indicator, Plan
from tests.conftest import make_organisation, make_user
from tests.engines.plan_documents import table_image
from tests.engines.test_plandoc_structure import BODY, markdown_with_broken_details_toc

OCR_ROWS = [
    ["序号", "指标", "单位", "2020年", "2025年目标值", "属性"],
    ["1", "高新技术企业数量", "家", "2150", "3500", "预期性"],
    ["2", "技术合同成交额", "亿元", "180", "300", "预期性"],
]


@pytest.fixture
def bureau(db):
    return make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department", district="青山市"))


def upload(client, name: str, content: bytes, **extra):
    return client.post(reverse("plans:plan_import"), {"file": _file(name, content), **extra})


def _file(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_upload_shows_the_preview_and_stores_nothing_until_confirmed(client, bureau):
    client.force_login(bureau)
    response = upload(client, "qingshan.md", markdown_with_broken_details_toc().encode("utf-8"))
    assert response.status_code == 302
    batch = ImportBatch.objects.get(kind=services.PLAN_UPLOAD_KIND)
    assert response["Location"] == reverse("plans:plan_import_review", args=[batch.pk])
    assert Plan.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert "青山市科技创新发展“十四五”规划" in page
    assert "toc_skipped" in page and "front_matter_skipped" in page and "heading_system" in page
    assert "强化战略科技力量" in page and "建设青山实验室" in page  # the tree
    assert "全社会研发经费投入强度" in page  # the indicators
    assert "plan-confirm" in page
    response = client.post(reverse("plans:plan_import_review", args=[batch.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("plans:structure")
    plan = Plan.objects.get()
    assert plan.title == "青山市科技创新发展“十四五”规划" and (plan.start_year, plan.target_year) == (2021, 2025)
    batch.refresh_from_db()
    assert batch.status == "confirmed"
    # confirming twice is refused and writes nothing more
    client.post(reverse("plans:plan_import_review", args=[batch.pk]))
    assert Plan.objects.count() == 1


def test_reimporting_a_corrected_version_shows_the_differences(client, bureau):
    services.plan_import(actor=None, content=BODY.encode("utf-8"), filename="qingshan.md")
    corrected = BODY.replace("## 第六章 强化要素保障", "## 第六章 强化资金和用地保障").replace(
        "| 4 | 高新技术企业数量 | 家 | 2150 | 3500 |", "| 4 | 高新技术企业数量 | 家 | 2150 | 3600 |"
    )
    client.force_login(bureau)
    response = upload(client, "qingshan-v2.md", corrected.encode("utf-8"))
    batch = ImportBatch.objects.get(kind=services.PLAN_UPLOAD_KIND)
    assert batch.report["diff"] == [
        {"what": "chapter", "key": "6", "change": "changed", "old": "强化要素保障", "new": "强化资金和用地保障"},
        {"what": "indicator", "key": "4", "change": "changed", "old": "高新技术企业数量（家）→ 3500",
         "new": "高新技术企业数量（家）→ 3600"},
    ]
    page = client.get(response["Location"]).content.decode()
    assert "强化资金和用地保障" in page and 'data-testid="plan-diff"' in page


def test_a_file_that_cannot_be_read_is_one_error_and_nothing_is_kept(client, bureau):
    client.force_login(bureau)
    before = AuditEvent.objects.count()
    response = upload(client, "scan.pdf", b"%PDF-1.4 broken")
    assert response.status_code == 200
    assert "not a readable PDF" in response.content.decode()
    assert not ImportBatch.objects.exists() and not Plan.objects.exists()
    assert AuditEvent.objects.count() == before


def test_the_period_can_be_given_on_the_form(client, bureau):
    client.force_login(bureau)
    text = BODY.replace("规划期为2021—2025年", "").replace("“十四五”", "")
    response = upload(client, "plan.md", text.encode("utf-8"), period_first="2022", period_last="2026")
    batch = ImportBatch.objects.get()
    client.post(response["Location"])
    assert (Plan.objects.get().start_year, Plan.objects.get().target_year) == (2022, 2026)
    response = upload(client, "plan2.md", text.encode("utf-8"), period_first="2022")
    assert "Give both years" in response.content.decode() or "同时填写" in response.content.decode()
    assert ImportBatch.objects.count() == 1 and batch.pk


def test_uploads_are_private_to_their_uploader(client, bureau):
    client.force_login(bureau)
    response = upload(client, "qingshan.md", BODY.encode("utf-8"))
    review = response["Location"]
    other = make_user(Role.BUREAU_OFFICER, make_organisation(kind="government_department"))
    client.force_login(other)
    assert client.get(review).status_code == 404
    assert client.post(review).status_code == 404
    department = make_user(Role.DEPARTMENT_OFFICER, make_organisation(kind="government_department"))
    client.force_login(department)
    assert client.get(review).status_code == 403
    assert Plan.objects.count() == 0


def _docx_with_table_picture() -> bytes:
    document = docx.Document()
    document.add_paragraph("某市科技创新规划（2026—2030年）")
    document.add_heading("一、发展目标", level=1)
    document.add_paragraph("表1 主要指标")
    document.add_picture(io.BytesIO(table_image(OCR_ROWS)))
    document.add_heading("二、重点任务", level=1)
    document.add_paragraph("1.建设实验室。推动实验室建设。")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.skipif(not ocr.available(), reason="rapidocr-onnxruntime is not installed")
def test_ocr_cells_are_corrected_beside_the_image_before_storing(client, bureau):
    content = _docx_with_table_picture()
    with pytest.raises(ValidationError) as refused:
        services.plan_import(actor=None, content=content, filename="plan.docx")
    assert refused.value.error_dict["file"][0].code == "ocr_review_required"
    assert Plan.objects.count() == 0

    client.force_login(bureau)
    response = upload(client, "plan.docx", content)
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="ocr-table"' in page and 'name="ocr-0-1-4"' in page
    batch = ImportBatch.objects.get()
    image = client.get(reverse("plans:plan_import_image", args=[batch.pk, 0]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    read = [[cell["text"] for cell in row] for row in batch.report["ocr"][0]["rows"]]
    assert read == OCR_ROWS
    # the officer corrects one cell (say the picture was blurred there) and confirms
    response = client.post(response["Location"], {"ocr-0-1-4": "3600"})
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert (plan.start_year, plan.target_year) == (2026, 2030)
    indicator = Indicator.objects.get(plan=plan, number=1)
    assert indicator.target_text == "3600" and indicator.targets.get().value == 3600.0
    review = AuditEvent.objects.filter(action="update", object_id=str(plan.pk)).latest("pk")
    assert review.reason == "cells read from images by OCR, reviewed before storing"
