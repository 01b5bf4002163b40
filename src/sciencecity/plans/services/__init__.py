"""Plan writes, one module per concern: the plan document (``documents``), task decomposition and
progress (``tasks``), indicator values and reporting rounds (``values``), major projects (``projects``), the
default decomposition (``setup``) and indicator metadata (``indicators``). Every write is audited in the same
transaction. The public names are re-exported here, so ``from sciencecity.plans import services`` keeps working."""

from __future__ import annotations

from sciencecity.plans.services.documents import (
    BUNDLED_PLAN,
    MATCH_SURE,
    MATCH_UNCERTAIN,
    PLAN_UPLOAD_KIND,
    PlanImportResult,
    infer_organisation_kind,
    plan_import,
    plan_import_bundled,
    plan_upload_confirm,
    plan_upload_stage,
)
from sciencecity.plans.services.indicators import (
    INDICATOR_FIELDS,
    NULLABLE_FIELDS,
    TARGET_CHANGES,
    TARGET_KEYS,
    indicator_update,
)
from sciencecity.plans.services.projects import (
    PROJECT_FIELDS,
    milestone_add,
    milestone_done,
    project_update,
)
from sciencecity.plans.services.setup import (
    importing_district,
    plan_setup_apply,
)
from sciencecity.plans.services.tasks import (
    TASK_FIELDS,
    task_progress_report,
    task_update,
)
from sciencecity.plans.services.values import (
    check_plausible,
    indicator_department,
    indicator_value_compute,
    indicator_value_set,
    indicator_value_set_unchecked,
    round_open,
    submission_approve,
    submission_return,
    submission_submit,
    value_reopen,
)

__all__ = [
    "BUNDLED_PLAN",
    "INDICATOR_FIELDS",
    "MATCH_SURE",
    "MATCH_UNCERTAIN",
    "NULLABLE_FIELDS",
    "PLAN_UPLOAD_KIND",
    "PROJECT_FIELDS",
    "PlanImportResult",
    "TARGET_CHANGES",
    "TARGET_KEYS",
    "TASK_FIELDS",
    "check_plausible",
    "importing_district",
    "indicator_department",
    "indicator_update",
    "indicator_value_compute",
    "indicator_value_set",
    "indicator_value_set_unchecked",
    "infer_organisation_kind",
    "milestone_add",
    "milestone_done",
    "plan_import",
    "plan_import_bundled",
    "plan_setup_apply",
    "plan_upload_confirm",
    "plan_upload_stage",
    "project_update",
    "round_open",
    "submission_approve",
    "submission_return",
    "submission_submit",
    "task_progress_report",
    "task_update",
    "value_reopen",
]
