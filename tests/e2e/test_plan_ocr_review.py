"""Browser journey of the OCR review: the bureau uploads a Markdown copy of a plan together with the
picture of its indicator table (one .zip), corrects one cell beside the picture, confirms; the
stored indicator has the corrected value and the audit trail records the correction."""

from __future__ import annotations

import io
import zipfile

import pytest

from sciencecity.accounts.choices import Role
from sciencecity.core.models import AuditEvent
from sciencecity.engines.plandoc import ocr
from sciencecity.plans.models import Indicator, Plan
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login
from tests.e2e.test_plan_import import upload
from tests.engines.plan_documents import table_image

pytestmark = pytest.mark.skipif(not ocr.available(), reason="rapidocr-onnxruntime is not installed")

ROWS = [
    ["序号", "指标", "单位", "2020年", "2025年目标值", "属性"],
    ["1", "高新技术企业数量", "家", "2150", "3500", "预期性"],
    ["2", "技术合同成交额", "亿元", "180", "300", "预期性"],
]
MARKDOWN = (
    "# 青山市科技创新规划（2021—2025年）\n\n## 一、发展目标\n\n到2025年，主要指标见表1。\n\n表1 主要指标\n\n"
    "![表1](images/table1.png)\n\n## 二、重点任务\n\n1.建设实验室。推动实验室建设。\n"
)


def test_officer_corrects_an_ocr_cell_beside_the_picture_and_confirms(page, transactional_db, tmp_path):
    bureau = make_organisation(kind="government_department", level="district", district="青山市")
    officer = make_user(Role.BUREAU_OFFICER, bureau, username="qs_ocr")
    login(page, "qs_ocr", PASSWORD)

    archive = tmp_path / "qingshan.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("qingshan/plan.md", MARKDOWN)
        z.writestr("qingshan/images/table1.png", table_image(ROWS))
    archive.write_bytes(buffer.getvalue())
    upload(page, archive)

    section = page.locator("[data-testid=ocr-table]")
    assert section.locator("h3").inner_text() == "表1 主要指标"
    picture = section.locator("[data-testid=ocr-image]")
    assert picture.evaluate("img => img.complete && img.naturalWidth > 0")  # the picture beside the cells
    cell = page.locator("input[name=ocr-0-1-4]")
    assert cell.input_value() == "3500"
    assert [page.locator(f"input[name=ocr-0-{r}-1]").input_value() for r in (1, 2)] == ["高新技术企业数量", "技术合同成交额"]
    assert Plan.objects.count() == 0  # nothing stored before the confirmation

    cell.fill("3600")
    with page.expect_navigation():
        page.click("[data-testid=plan-confirm]")
    assert page.url.endswith("/plan/structure/")

    plan = Plan.objects.get()
    indicator = Indicator.objects.get(plan=plan, name="高新技术企业数量")
    assert indicator.target_text == "3600" and indicator.targets.get().value == 3600.0
    assert Indicator.objects.get(plan=plan, name="技术合同成交额").targets.get().value == 300.0
    event = AuditEvent.objects.filter(object_id=str(plan.pk), reason__startswith="cells read from images").get()
    assert event.actor_id == officer.pk
    assert event.changes["ocr_corrections"][1] == [
        {"table": 0, "caption": "表1 主要指标", "row": 1, "column": 4, "read": "3500", "corrected": "3600"}]
