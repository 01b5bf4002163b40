"""Choices of the plan back office."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatementKind(models.TextChoices):
    GOAL = "goal", _("Development goal")  # 发展目标
    STRATEGY = "strategy", _("Development strategy")  # 发展策略
    MEASURE = "measure", _("Safeguard measure")  # 保障措施


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Comparator(models.TextChoices):
    GE = "ge", "≥"
    GT = "gt", ">"
    LE = "le", "≤"
    LT = "lt", "<"
    APPROX = "approx", _("about (左右)")
    RANGE = "range", _("range")
    EQ = "eq", _("reach")


class Attribute(models.TextChoices):
    EXPECTED = "预期性", _("Expected (预期性)")
    BINDING = "约束性", _("Binding (约束性)")
    NONE = "", _("Not stated")


class TargetBasis(models.TextChoices):
    """What the target measures: the level in the target year, a yearly average or a five-year total."""

    LEVEL = "", _("Level in the target year")
    ANNUAL_AVERAGE = "annual_average", _("Annual average (年均)")
    CUMULATIVE = "cumulative", _("Cumulative over the plan period (累计)")


class ValueSource(models.TextChoices):
    PLAN_TEXT = "plan_text", _("Plan text")
    MANUAL = "manual", _("Web form")
    EXCEL = "excel", _("Excel upload")
    COMPUTED = "computed", _("Computed from the registry")
    API = "api", _("API")


class ValueStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")  # locked


class RoundStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for revision")


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    UNDER_CONSTRUCTION = "under_construction", _("Under construction")
    OPERATING = "operating", _("Operating")
    COMPLETED = "completed", _("Completed")


class HostMatch(models.TextChoices):
    NONE = "none", _("No host named")
    MATCHED = "matched", _("Matched to the registry")
    CREATED = "created", _("Created in the registry")
    UNCERTAIN = "uncertain", _("Uncertain: review")
    CONFIRMED = "confirmed", _("Confirmed by an officer")


class IndicatorStatus(models.TextChoices):
    ACHIEVED = "achieved", _("Achieved")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")
    NO_DATA = "no_data", _("No data")
