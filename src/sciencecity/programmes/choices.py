"""Choices of the funding programmes: mechanisms, states, outcomes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TopicListKind(models.TextChoices):
    INDUSTRY_BOTTLENECK = "industry_bottleneck", _("Key industry bottleneck technologies")  # 重点产业瓶颈技术
    FACILITY_TECHNOLOGY = "facility_technology", _("Key technologies and equipment of major facilities")  # 重大科技基础设施关键技术和设备
    FRONTIER = "frontier", _("Seizing the technology frontier")  # 抢占技术前沿
    OTHER = "other", _("Other")


class DemandStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Taken into a topic")
    DECLINED = "declined", _("Declined")


class Mechanism(models.TextChoices):
    COMPETITIVE = "competitive", _("Competitive grant")  # 竞争性资助
    OPEN_COMPETITION = "open_competition", _("Open competition for a listed problem (揭榜挂帅)")
    HORSE_RACE = "horse_race", _("Horse race (赛马式资助)")
    MILESTONE = "milestone", _("Milestone-based funding (里程碑式资助)")
    POST_FUNDING = "post_funding", _("Funding after verified results (事前立项事后资助)")
    TALENT = "talent", _("Talent programme (代表作评价)")
    COMPETITION = "competition", _("Innovation and entrepreneurship competition (创新创业大赛)")


class CallState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for applications")
    CLOSED = "closed", _("Closed")
    REVIEW = "review", _("Under review")
    PANEL = "panel", _("Panel")
    DECIDED = "decided", _("Decided and notified")


class ApplicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for revision")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    INELIGIBLE = "ineligible", _("Ineligible")
    UNDER_REVIEW = "under_review", _("Under review")
    FUNDED = "funded", _("Funded")
    REJECTED = "rejected", _("Not funded")
    ELIMINATED = "eliminated", _("Eliminated (horse race)")


class MemberRole(models.TextChoices):
    LEAD = "lead", _("Principal investigator")
    MEMBER = "member", _("Team member")


class ConflictKind(models.TextChoices):
    """Declared interests (IFS-style declaration of interest)."""

    EMPLOYMENT = "employment", _("Employment or appointment")
    ADVISORY = "advisory", _("Advisory or board role")
    FINANCIAL = "financial", _("Financial interest")
    FAMILY = "family", _("Family or personal relationship")
    COLLABORATION = "collaboration", _("Recent collaboration")
    OTHER = "other", _("Other")


class AssignmentState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    RELEASED = "released", _("Released to the reviewer")
    DECLINED = "declined", _("Declined")
    SUBMITTED = "submitted", _("Review submitted")


class DeclineReason(models.TextChoices):
    CONFLICT = "conflict", _("Conflict of interest")
    NOT_MY_FIELD = "not_my_field", _("Not my field")
    TOO_MANY = "too_many", _("Too many reviews")


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class DecisionOutcome(models.TextChoices):
    FUND = "fund", _("Fund")
    REJECT = "reject", _("Do not fund")
    RESERVE = "reserve", _("Reserve list")
    KEEP = "keep", _("Keep in the race")
    ELIMINATE = "eliminate", _("Eliminate")


class ProjectState(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated")


class MilestoneState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUBMITTED = "submitted", _("Submitted for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Not accepted")


class Outcome(models.TextChoices):
    """Outcome class of a frontier project (前沿类项目), with 失败再学习 for the failed ones."""

    SUCCESSFUL = "successful", _("Successful")
    PARTIAL = "partial", _("Partially successful")
    FAILED_WITH_LESSONS = "failed_with_lessons", _("Failed, with lessons learned")


class ChangeRequestState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
