"""Applications: drafting, eligibility checks at submission, receipts, withdrawal, return for
revision with versioning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot, to_json
from sciencecity.core.models import AuditAction
from sciencecity.programmes.choices import ApplicationState, CallState, Mechanism, MemberRole
from sciencecity.programmes.models import (
    Application,
    ApplicationAttachment,
    ApplicationMember,
    ApplicationVersion,
    Call,
)
from sciencecity.programmes.permissions import can_edit_application
from sciencecity.programmes.services.common import next_code, transition
from sciencecity.programmes.services.integrity import listed_organisation, listed_people

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

APPLICATION_FIELDS = ("title", "abstract", "keywords", "requested_amount", "budget_lines", "answers",
                      "representative_works", "applicant")
#: Attachments: what reviewers can open without special software; 20 MB each.
ATTACHMENT_TYPES = {".pdf": "application/pdf", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
_MAGIC = {".pdf": b"%PDF", ".docx": b"PK", ".xlsx": b"PK", ".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8"}


def _acting_for(actor: User | None, organisation: Any) -> None:
    permissions.require(organisation.pk in permissions.organisation_ids(actor))


@transaction.atomic
def application_create(*, actor: User | None, call: Call, organisation: Any, data: dict[str, Any],
                       members: list[Any] = ()) -> Application:
    """A draft application by ``organisation`` (which the actor acts for)."""
    _acting_for(actor, organisation)
    application = Application(call=call, organisation=organisation, created_by=actor,
                              reference=next_code(Application, call.code, field="reference"),
                              **{k: data[k] for k in APPLICATION_FIELDS if k in data})
    application.full_clean()
    application.save()
    _set_members(application, data.get("applicant"), members)
    audit_record(action=AuditAction.CREATE, actor=actor, obj=application, acting_organisation=organisation,
                 changes=diff({}, _snapshot(application)))
    return application


def _set_members(application: Application, lead: Any, members) -> None:
    application.members.all().delete()
    rows = []
    if lead is not None:
        rows.append(ApplicationMember(application=application, person=lead, role=MemberRole.LEAD))
    rows += [ApplicationMember(application=application, person=p, role=MemberRole.MEMBER)
             for p in members if lead is None or p.pk != lead.pk]
    ApplicationMember.objects.bulk_create(rows)


def _snapshot(application: Application) -> dict[str, Any]:
    data = snapshot(application, ["title", "abstract", "keywords", "requested_amount", "budget_lines", "answers",
                                  "representative_works", "applicant", "state", "version"])
    data["members"] = sorted(application.members.values_list("person_id", flat=True)) if application.pk else []
    return data


@transaction.atomic
def application_update(*, actor: User | None, application: Application, data: dict[str, Any], members=None) -> dict:
    application = Application.objects.select_for_update().get(pk=application.pk)
    permissions.require(can_edit_application(actor, application))
    if application.state not in (ApplicationState.DRAFT, ApplicationState.RETURNED):
        raise ValidationError(_("Only a draft or a returned application can be edited."))
    before = _snapshot(application)
    for key in APPLICATION_FIELDS:
        if key in data:
            setattr(application, key, data[key])
    application.full_clean()
    application.save()
    if members is not None or "applicant" in data:
        _set_members(application, application.applicant, members if members is not None else
                     [m.person for m in application.members.filter(role=MemberRole.MEMBER)])
    changes = diff(before, _snapshot(application))
    if changes:
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=application, changes=changes,
                     acting_organisation=application.organisation)
    return changes


def eligibility_problems(application: Application, day: dt.date | None = None) -> list[str]:
    """Why the application may not be submitted now (empty when it may)."""
    call = application.call
    day = day or timezone.localdate()
    org = application.organisation
    problems = []
    if not call.is_open_on(day):
        problems.append(_("The call is not open for applications (open %(opens)s to %(closes)s).") % {
            "opens": call.opens_on.isoformat(), "closes": call.closes_on.isoformat()})
    if call.eligible_kinds and org.kind not in call.eligible_kinds:
        problems.append(_("Organisations of the kind “%(kind)s” may not apply to this call.") % {
            "kind": org.get_kind_display()})
    if call.eligible_levels and org.level not in call.eligible_levels:
        problems.append(_("Organisations at the level “%(level)s” may not apply to this call.") % {
            "level": org.get_level_display()})
    if call.eligible_districts and org.district not in call.eligible_districts:
        problems.append(_("The call is for organisations located in %(districts)s.") % {
            "districts": "、".join(call.eligible_districts)})
    if call.max_request is not None and application.requested_amount > call.max_request:
        problems.append(_("The requested amount %(amount)s exceeds the cap of %(cap)s (10k CNY).") % {
            "amount": application.requested_amount, "cap": call.max_request})
    budget_total = sum((Decimal(str(line.get("amount", 0) or 0)) for line in application.budget_lines or []),
                       Decimal(0))
    if application.budget_lines and budget_total != application.requested_amount:
        problems.append(_("The budget table adds up to %(total)s but the requested amount is %(amount)s.") % {
            "total": budget_total, "amount": application.requested_amount})
    for field in call.form_fields or []:
        if field.get("required") and not str((application.answers or {}).get(field.get("name"), "")).strip():
            problems.append(_("Answer the required question “%(label)s”.") % {"label": field.get("label") or field.get("name")})
    if call.mechanism == Mechanism.TALENT and not application.representative_works:
        problems.append(_("A talent application lists representative works (代表作)."))
    if listed_organisation(org.pk, day):
        problems.append(_("The organisation is on the research-integrity list."))
    people = set(application.members.values_list("person_id", flat=True))
    if listed_people(people, day):
        problems.append(_("A team member is on the research-integrity list."))
    if application.applicant_id is None and call.mechanism == Mechanism.TALENT:
        problems.append(_("Name the individual applicant."))
    return problems


@transaction.atomic
def application_submit(*, actor: User | None, application: Application, note: str = "") -> Application:
    """Check eligibility, freeze a version and issue a receipt (the reference)."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    permissions.require(can_edit_application(actor, application))
    problems = eligibility_problems(application)
    if problems:
        raise ValidationError(problems, code="ineligible")
    if application.state == ApplicationState.RETURNED:
        application.version += 1
    transition(actor=actor, obj=application, field="state", new=ApplicationState.SUBMITTED,
               allowed_from=(ApplicationState.DRAFT, ApplicationState.RETURNED), labels=ApplicationState)
    application.submitted_at = timezone.now()
    application.save(update_fields=["version", "submitted_at", "updated_at"])
    ApplicationVersion.objects.create(application=application, version=application.version,
                                      snapshot=to_json(_snapshot(application)), note=note)
    return application


@transaction.atomic
def application_withdraw(*, actor: User | None, application: Application, reason: str = "") -> Application:
    permissions.require(can_edit_application(actor, application))
    transition(actor=actor, obj=application, field="state", new=ApplicationState.WITHDRAWN,
               allowed_from=(ApplicationState.DRAFT, ApplicationState.SUBMITTED, ApplicationState.RETURNED),
               reason=reason, labels=ApplicationState)
    return application


@transaction.atomic
def application_return(*, actor: User | None, application: Application, reason: str) -> Application:
    """The bureau returns a submitted application for revision (while the call is open or closed)."""
    permissions.require(permissions.is_bureau_officer(actor))
    if not reason.strip():
        raise ValidationError({"reason": _("Say what to revise.")})
    if application.call.state not in (CallState.OPEN, CallState.CLOSED):
        raise ValidationError(_("Applications can be returned only before the review starts."))
    transition(actor=actor, obj=application, field="state", new=ApplicationState.RETURNED,
               allowed_from=(ApplicationState.SUBMITTED,), reason=reason, labels=ApplicationState)
    from sciencecity.programmes import notices

    notices.application_returned(application, reason)
    return application


def attachment_problem(name: str, size: int, head: bytes) -> str | None:
    suffix = Path(name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        return _("“%(name)s”: attach PDF, Word (.docx), Excel (.xlsx), PNG or JPEG files.") % {"name": name}
    if size > ATTACHMENT_MAX_BYTES:
        return _("“%(name)s” is larger than 20 MB.") % {"name": name}
    if not head.startswith(_MAGIC[suffix]):
        return _("“%(name)s” is not really a %(suffix)s file.") % {"name": name, "suffix": suffix}
    return None


@transaction.atomic
def attachment_add(*, actor: User | None, application: Application, title: str, upload) -> ApplicationAttachment:
    permissions.require(can_edit_application(actor, application))
    if application.state not in (ApplicationState.DRAFT, ApplicationState.RETURNED):
        raise ValidationError(_("Only a draft or a returned application can be edited."))
    head = upload.read(8)
    upload.seek(0)
    problem = attachment_problem(upload.name, upload.size, head)
    if problem:
        raise ValidationError({"file": problem})
    attachment = ApplicationAttachment(application=application, title=title or upload.name, file=upload,
                                       content_type=ATTACHMENT_TYPES[Path(upload.name).suffix.lower()],
                                       size=upload.size)
    attachment.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=attachment, object_repr=attachment.title,
                 changes={"application": [None, application.reference], "file": [None, attachment.file.name],
                          "size": [None, attachment.size]})
    return attachment
