"""Browser journey of a plan import: the bureau uploads a Markdown copy saved from a government site
(front matter, a broken <details> table of contents), sees how it was read and the tree, confirms;
then uploads a corrected version and sees what changed before storing it."""

from __future__ import annotations

from sciencecity.accounts.choices import Role
from sciencecity.plans.models import Plan
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login
from tests.engines.test_plandoc_structure import markdown_with_broken_details_toc


def upload(page, path) -> None:
    page.goto(f"{page.base_url}/plan/import/")
    page.set_input_files("[data-testid=plan-file]", str(path))
    with page.expect_navigation():
        page.click("[data-testid=plan-upload-form] button[type=submit]")


def test_bureau_uploads_reviews_confirms_and_sees_the_diff_of_a_corrected_version(page, transactional_db, tmp_path):
    bureau = make_organisation(kind="government_department", level="district", district="青山市")
    make_user(Role.BUREAU_OFFICER, bureau, username="qs_bureau")
    login(page, "qs_bureau", PASSWORD)

    first = tmp_path / "qingshan.md"
    first.write_text(markdown_with_broken_details_toc(), encoding="utf-8")
    upload(page, first)
    assert page.locator("[data-testid=plan-title]").inner_text() == "青山市科技创新发展“十四五”规划"
    notes = page.locator("[data-testid=plan-notes]").inner_text()
    assert "toc_skipped" in notes and "front_matter_skipped" in notes
    tree = page.locator("[data-testid=plan-tree]").inner_text()
    assert "强化战略科技力量" in tree and "建设青山实验室" in tree
    assert Plan.objects.count() == 0  # nothing stored before the confirmation
    with page.expect_navigation():
        page.click("[data-testid=plan-confirm]")
    assert page.url.endswith("/plan/structure/")
    assert Plan.objects.get().title == "青山市科技创新发展“十四五”规划"

    second = tmp_path / "qingshan-v2.md"
    second.write_text(
        markdown_with_broken_details_toc().replace("## 第七章 健全监测评估", "## 第七章 健全监测评估和考核"),
        encoding="utf-8",
    )
    upload(page, second)
    diff = page.locator("[data-testid=plan-diff]").inner_text()
    assert "健全监测评估和考核" in diff and "健全监测评估" in diff
    with page.expect_navigation():
        page.click("[data-testid=plan-confirm]")
    assert Plan.objects.get(is_current=True).chapters.get(number=7).title == "健全监测评估和考核"
