"""The audit trail's 当前代表机构 and 操作 columns are readable, not one character wide (issue 11 obs. 8)."""

from __future__ import annotations

from sciencecity.accounts.choices import Role
from sciencecity.core.audit import audit_record
from sciencecity.core.models import AuditAction
from tests.conftest import PASSWORD, make_organisation, make_user
from tests.e2e.conftest import login


def test_acting_organisation_and_action_columns_are_wide_enough_to_read(page, transactional_db):
    organisation = make_organisation(code="GOV-LONG", name="深圳市光明区科技创新局（区政府科技主管部门）")
    actor = make_user(Role.BUREAU_OFFICER, organisation, username="layout_officer")
    for number in range(3):
        audit_record(action=AuditAction.UPDATE, actor=actor, acting_organisation=organisation,
                     object_type="registry.organisation", object_id=number,
                     object_repr="一个名称很长的对象用于挤压表格的其他各列" * 6)
    make_user(Role.AUDIT_ADMIN, username="layout_auditadmin")
    page.set_viewport_size({"width": 900, "height": 900})  # a narrow office window squeezes the table most
    login(page, "layout_auditadmin", PASSWORD)
    page.goto(f"{page.base_url}/audit/")
    font = page.eval_on_selector("table[data-testid=audit-table]", "t => parseFloat(getComputedStyle(t).fontSize)")
    for column in ("col-organisation", "col-action"):
        width = page.eval_on_selector(f"table[data-testid=audit-table] th.{column}", "th => th.getBoundingClientRect().width")
        assert width >= 4 * font, (column, width, font)  # four Chinese characters on a line at least
