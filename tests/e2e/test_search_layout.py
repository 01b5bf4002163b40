"""The marketplace search page reads in order (issue 11 obs. 8): each label sits right above its own field,
and a result's feedback is a small control beside it, not a full-width box under every result."""

from __future__ import annotations

from sciencecity.accounts.choices import Role
from sciencecity.transfer.services import matching
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login
from tests.transfer.conftest import make_achievement

LABELS_ABOVE_FIELDS = """form => [...form.querySelectorAll("label[for]")].map(label => {
  const field = document.getElementById(label.htmlFor), l = label.getBoundingClientRect(),
        f = field.getBoundingClientRect();
  return {name: field.name, left: Math.round(f.left - l.left), gap: Math.round(f.top - l.bottom)};
})"""


def test_search_form_labels_sit_above_their_fields_and_feedback_is_compact(page, transactional_db):
    matching.reset()
    university = make_organisation(kind="university", name="光明示例大学")
    for title in ("高能量密度硅碳负极材料", "电池隔膜涂覆工艺"):
        make_achievement(university, title=title, abstract=f"{title}，用于锂离子电池。", keywords="锂电池")
    make_user(Role.ENTERPRISE_USER, make_organisation(name="光明电池科技有限公司"), username="searcher")
    login(page, "searcher", PASSWORD)
    page.goto(f"{page.base_url}/transfer/search/?q=锂电池&kind=achievements")

    placed = page.eval_on_selector("[data-testid=search-form]", LABELS_ABOVE_FIELDS)
    assert [p["name"] for p in placed] == ["q", "kind", "sector"]
    assert all(abs(p["left"]) <= 2 and 0 <= p["gap"] <= 16 for p in placed), placed  # same column, just below
    results = page.locator("[data-testid=match-list-search] > li")
    assert results.count() == 2
    for number in range(2):
        result = results.nth(number)
        width = result.bounding_box()["width"]
        feedback = result.locator("details.feedback").bounding_box()
        assert feedback["width"] <= width / 3, (feedback, width)
