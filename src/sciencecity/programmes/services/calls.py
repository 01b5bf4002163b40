"""Demands → topic lists → calls, and the call state machine (draft → open → closed → review →
panel → decided)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.programmes.choices import CallState, DemandStatus, Mechanism
from sciencecity.programmes.models import Call, Criterion, Demand, Topic, TopicList
from sciencecity.programmes.permissions import can_manage_programmes
from sciencecity.programmes.services.common import next_code, transition

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

CALL_FIELDS = ("title", "description", "mechanism", "topic", "opens_on", "closes_on", "review_until", "panel_on",
               "notify_on", "eligible_kinds", "eligible_levels", "eligible_districts", "max_request", "total_budget",
               "form_fields", "reviews_per_application", "min_load", "max_load", "require_senior", "blind_review",
               "conflict_years", "alliance_conflicts", "normalise_scores", "reward", "acceptance_criteria",
               "teams_funded", "keep_per_round")


@transaction.atomic
def demand_submit(*, actor: User | None, organisation: Any, data: dict[str, Any]) -> Demand:
    """An enterprise, department or facility submits a technology problem (需求方出题)."""
    permissions.require(permissions.is_bureau_officer(actor) or organisation.pk in permissions.organisation_ids(actor))
    demand = Demand(organisation=organisation, submitted_by=actor, code=next_code(Demand, "XQ"),
                    **{k: data.get(k) for k in ("title", "description", "sector", "expected_results", "budget",
                                                "deadline") if k in data})
    demand.full_clean()
    demand.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=demand, acting_organisation=organisation,
                 changes=diff({}, snapshot(demand, ["code", "title", "organisation", "budget", "deadline"])))
    return demand


@transaction.atomic
def topic_list_create(*, actor: User | None, name: str, kind: str, year: int) -> TopicList:
    permissions.require(can_manage_programmes(actor))
    topic_list = TopicList(name=name, kind=kind, year=year)
    topic_list.full_clean()
    topic_list.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=topic_list, changes={"name": [None, name]})
    return topic_list


@transaction.atomic
def topic_create(*, actor: User | None, topic_list: TopicList, data: dict[str, Any], demands: list[Demand]) -> Topic:
    """Curate demands into a topic; the demands become 'accepted' and stay traceable."""
    permissions.require(can_manage_programmes(actor))
    topic = Topic(topic_list=topic_list, **{k: data.get(k) for k in ("title", "description", "sector",
                                                                      "acceptance_criteria", "reward") if k in data})
    topic.full_clean()
    topic.save()
    topic.demands.set(demands)
    Demand.objects.filter(pk__in=[d.pk for d in demands]).update(status=DemandStatus.ACCEPTED)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=topic,
                 changes={"title": [None, topic.title], "demands": [None, sorted(d.pk for d in demands)]})
    return topic


@transaction.atomic
def call_create(*, actor: User | None, data: dict[str, Any], criteria: list[dict[str, Any]]) -> Call:
    """A call with its rubric; weights must be positive."""
    permissions.require(can_manage_programmes(actor))
    call = Call(code=data.get("code") or next_code(Call, "CALL"), created_by=actor,
                **{k: v for k, v in data.items() if k in CALL_FIELDS})
    if call.mechanism == Mechanism.OPEN_COMPETITION and call.topic_id and not call.reward:
        call.reward = call.topic.reward
    if call.mechanism == Mechanism.OPEN_COMPETITION and call.topic_id and not call.acceptance_criteria:
        call.acceptance_criteria = call.topic.acceptance_criteria
    call.full_clean()
    if not criteria:
        raise ValidationError({"criteria": _("A call needs at least one scoring criterion.")})
    call.save()
    for order, c in enumerate(criteria, start=1):
        criterion = Criterion(call=call, order=order, name=c["name"], weight=c["weight"],
                              max_score=c.get("max_score", 10), descriptors=c.get("descriptors", ""))
        if criterion.weight <= 0:
            raise ValidationError({"criteria": _("Criterion weights must be positive.")})
        criterion.full_clean()
        criterion.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=call,
                 changes={**diff({}, snapshot(call, ["code", "title", "mechanism", "opens_on", "closes_on"])),
                          "criteria": [None, [c["name"] for c in criteria]]})
    return call


_CALL_FLOW = {
    CallState.OPEN: (CallState.DRAFT, CallState.CLOSED),
    CallState.CLOSED: (CallState.OPEN,),
    CallState.REVIEW: (CallState.CLOSED,),
    CallState.PANEL: (CallState.REVIEW,),
    CallState.DECIDED: (CallState.PANEL,),
}


@transaction.atomic
def call_transition(*, actor: User | None, call: Call, new: str, reason: str = "") -> Call:
    """Move a call along draft → open → closed → review → panel → decided (officers only)."""
    permissions.require(can_manage_programmes(actor))
    call = Call.objects.select_for_update().get(pk=call.pk)
    transition(actor=actor, obj=call, field="state", new=new, allowed_from=_CALL_FLOW.get(CallState(new), ()),
               reason=reason, labels=CallState)
    if new == CallState.REVIEW:
        from sciencecity.programmes.choices import ApplicationState

        call.applications.filter(state=ApplicationState.SUBMITTED).update(state=ApplicationState.UNDER_REVIEW)
    return call


def call_is_open(call: Call, day: dt.date | None = None) -> bool:
    return call.is_open_on(day or dt.date.today())
