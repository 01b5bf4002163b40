"""Deals (交易) through to technology-contract registration (技术合同认定登记), and technology brokers.

The deal is a state machine; every transition is a service with a permission check and an audit
event::

    interest ──accept──▶ contact ──note/negotiate──▶ negotiation ──agree──▶ agreed ──register──▶ registered
        │                   │                            │                     │
        └──decline──▶ declined   └───────────── close ──▶ closed ◀─────────────┘

The buyer is an enterprise acting through its enterprise users; the seller is the achievement's
owner organisation. Accepting an expression of interest is the owner's consent to share contacts:
only then does each side see the other's contact details. The seller files the contract; its
registration updates the current plan's indicator fed by ``transfer.contract_turnover`` for the
registration year (unless that value is approved and locked).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from sciencecity.accounts.models import User
from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.core.notifications import notification_send
from sciencecity.registry.models import Organisation, Person
from sciencecity.transfer import permissions as access
from sciencecity.transfer.choices import OPEN_STATES, ContractType, DealState
from sciencecity.transfer.models import Achievement, Deal, DealNote, TechContract, TechDemand
from sciencecity.transfer.permissions import can_file_contract, can_set_broker, is_party, is_seller

TURNOVER_SOURCE = "transfer.contract_turnover"
#: The written contract: PDF, Word or an image (a scan), at most 20 MB; the extension and the first
#: bytes must agree.
CONTRACT_FILE_TYPES = {
    ".pdf": (b"%PDF",),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".docx": (b"PK\x03\x04",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
CONTRACT_FILE_MAX_BYTES = 20 * 1024 * 1024
CONTRACT_FIELDS = ("contract_type", "title", "amount", "technical_income", "registration_number", "signed_on",
                   "registered_on")


# --- permissions (the UI and the API share them)
def _orgs(user: Any) -> set[int]:
    return permissions.organisation_ids(user) if permissions.is_business_user(user) else set()


def deal_queryset(user: Any) -> QuerySet[Deal]:
    """Deals ``user`` may see: the parties' users, the named broker, bureau officers (all)."""
    qs = Deal.objects.select_related("achievement", "demand", "seller", "buyer", "broker")
    if permissions.is_bureau_officer(user):
        return qs
    if not permissions.is_business_user(user):
        return qs.none()
    orgs = _orgs(user)
    visible = Q(seller_id__in=orgs) | Q(buyer_id__in=access.enterprise_organisation_ids(user))
    if getattr(user, "person_id", None):
        visible |= Q(broker_id=user.person_id)
    return qs.filter(visible)


def deal_contacts(deal: Deal) -> dict[str, dict[str, str]]:
    """Both sides' contacts (show only when :func:`can_see_contacts`): the listing's contact for the
    seller, the user who expressed the interest for the buyer."""
    achievement, buyer_user = deal.achievement, deal.created_by
    return {
        "seller": {"organisation": deal.seller.name, "name": achievement.contact_name if achievement else "",
                   "email": achievement.contact_email if achievement else "",
                   "phone": achievement.contact_phone if achievement else ""},
        "buyer": {"organisation": deal.buyer.name, "name": str(buyer_user) if buyer_user else "",
                  "email": buyer_user.email if buyer_user else "", "phone": buyer_user.phone if buyer_user else ""},
    }


def contract_queryset(user: Any) -> QuerySet[TechContract]:
    """Bureau officers see every contract; organisations see those they are a party to."""
    qs = TechContract.objects.select_related("seller", "buyer", "deal", "filed_by")
    if permissions.is_bureau_officer(user):
        return qs
    orgs = _orgs(user)
    return qs.filter(Q(seller_id__in=orgs) | Q(buyer_id__in=orgs)) if orgs else qs.none()


def available_actions(user: Any, deal: Deal) -> list[str]:
    """What ``user`` may do next on ``deal`` (drives the buttons and who-acts-next)."""
    actions = []
    seller, party = is_seller(user, deal), is_party(user, deal)
    if deal.state == DealState.INTEREST and seller:
        actions += ["accept", "decline"]
    if deal.state in (DealState.CONTACT, DealState.NEGOTIATION, DealState.AGREED) and party:
        actions.append("note")
    if deal.state == DealState.CONTACT and party:
        actions.append("negotiate")
    if deal.state in (DealState.CONTACT, DealState.NEGOTIATION) and party:
        actions.append("agree")
    if deal.state == DealState.AGREED and seller:
        actions.append("register")
    if deal.state in OPEN_STATES and party:
        actions.append("close")
    if can_set_broker(user, deal):
        actions.append("broker")
    return actions


# --- helpers
def _next_code(prefix: str) -> str:
    last = (Deal.objects.filter(code__startswith=f"{prefix}-").order_by("-code").values_list("code", flat=True).first())
    tail = last.rsplit("-", 1)[1] if last else ""
    return f"{prefix}-{(int(tail) + 1 if tail.isdigit() else 1):05d}"


def _notify(users, message: str, url: str) -> None:
    notification_send(users=users, message=message, url=url, category="deal")


def _organisation_users(organisation_id: int) -> QuerySet[User]:
    return User.objects.filter(is_active=True, memberships__organisation_id=organisation_id).distinct()


def _deal_url(deal: Deal) -> str:
    from django.urls import reverse

    return reverse("transfer:deal_detail", args=[deal.pk])


def _locked(deal: Deal) -> Deal:
    return Deal.objects.select_for_update().get(pk=deal.pk)


def _move(actor: User | None, deal: Deal, new: str, *, allowed_from: tuple[str, ...], reason: str = "",
          **fields: Any) -> Deal:
    """One audited state change of a (locked) deal."""
    if deal.state not in allowed_from:
        raise ValidationError(_("A deal that is “%(old)s” cannot become “%(new)s”.") % {
            "old": DealState(deal.state).label, "new": DealState(new).label}, code="invalid_transition")
    old = deal.state
    deal.state = new
    changes = {"state": [old, new]}
    for name, value in fields.items():
        changes[name] = [getattr(deal, name), value]
        setattr(deal, name, value)
    deal.save(update_fields=["state", *fields, "updated_at"])
    audit_record(action=AuditAction.TRANSITION, actor=actor, obj=deal, object_repr=deal.code, changes=changes,
                 reason=reason)
    return deal


def _broker(broker: Person | int | None) -> Person | None:
    if broker in (None, ""):
        return None
    person = broker if isinstance(broker, Person) else Person.objects.filter(pk=broker).first()
    if person is None or "broker" not in (person.categories or []):
        raise ValidationError({"broker": _("Choose a person registered as a technology broker.")})
    return person


# --- transitions
@transaction.atomic
def deal_express_interest(*, actor: User | None, achievement: Achievement, buyer: Organisation, message: str = "",
                          demand: TechDemand | None = None, broker: Person | int | None = None) -> Deal:
    """意向. An enterprise (``buyer``, which the actor acts for) is interested in an achievement."""
    permissions.require(buyer.pk in access.enterprise_organisation_ids(actor))
    permissions.require(access.can_view_achievement(actor, achievement))
    if achievement.owner_id == buyer.pk:
        raise ValidationError({"achievement": _("An organisation cannot express interest in its own achievement.")})
    if demand is not None and demand.organisation_id != buyer.pk:
        raise ValidationError({"demand": _("Choose one of your organisation's demands.")})
    if Deal.objects.filter(achievement=achievement, buyer=buyer, state__in=OPEN_STATES).exists():
        raise ValidationError({"achievement": _("Your organisation already has an open deal on this achievement.")})
    deal = Deal(code=_next_code(f"DEAL{timezone.localdate().year}"), achievement=achievement, demand=demand,
                seller_id=achievement.owner_id, buyer=buyer, broker=_broker(broker), message=message.strip(),
                state=DealState.INTEREST, created_by=actor)
    deal.full_clean()
    deal.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=deal, object_repr=deal.code, acting_organisation=buyer,
                 changes=diff({}, snapshot(deal, ["achievement", "demand", "seller", "buyer", "broker", "state",
                                                  "message"])))
    _notify(_organisation_users(deal.seller_id),
            _("%(buyer)s is interested in “%(title)s”.") % {"buyer": buyer.name, "title": achievement.title},
            _deal_url(deal))
    return deal


def _seller_answers(actor: User | None, deal: Deal, new: str, message: str, reason: str = "", **fields: Any) -> Deal:
    deal = _locked(deal)
    permissions.require(is_seller(actor, deal))
    _move(actor, deal, new, allowed_from=(DealState.INTEREST,), reason=reason, **fields)
    if deal.created_by_id:
        _notify([deal.created_by], message % {"seller": deal.seller.name, "code": deal.code}, _deal_url(deal))
    return deal


def _party_moves(actor: User | None, deal: Deal, new: str, allowed_from: tuple[str, ...], reason: str = "") -> Deal:
    deal = _locked(deal)
    permissions.require(is_party(actor, deal))
    return _move(actor, deal, new, allowed_from=allowed_from, reason=reason)


@transaction.atomic
def deal_accept(*, actor: User | None, deal: Deal) -> Deal:
    """The owner accepts: consent to share contacts; both sides now see each other's details."""
    return _seller_answers(actor, deal, DealState.CONTACT, contact_consent=True, message=_(
        "%(seller)s accepted your interest in deal %(code)s; contacts are shared."))


@transaction.atomic
def deal_decline(*, actor: User | None, deal: Deal, reason: str = "") -> Deal:
    return _seller_answers(actor, deal, DealState.DECLINED, _("%(seller)s declined deal %(code)s."), reason)


@transaction.atomic
def deal_negotiate(*, actor: User | None, deal: Deal) -> Deal:
    return _party_moves(actor, deal, DealState.NEGOTIATION, (DealState.CONTACT,))


@transaction.atomic
def deal_note_add(*, actor: User | None, deal: Deal, text: str) -> DealNote:
    """谈判记录 by either side; the first note after the contact exchange opens the negotiation."""
    deal = _locked(deal)
    permissions.require(is_party(actor, deal))
    if deal.state not in (DealState.CONTACT, DealState.NEGOTIATION, DealState.AGREED):
        raise ValidationError({"text": _("Notes are taken once contacts are exchanged and until registration.")})
    if not text.strip():
        raise ValidationError({"text": _("Write the note.")})
    if deal.state == DealState.CONTACT:
        _move(actor, deal, DealState.NEGOTIATION, allowed_from=(DealState.CONTACT,))
    note = DealNote(deal=deal, author=actor, text=text.strip())
    note.full_clean()
    note.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=note, object_repr=f"{deal.code} note",
                 changes={"deal": [None, deal.pk], "text": [None, note.text]})
    return note


@transaction.atomic
def deal_agree(*, actor: User | None, deal: Deal, reason: str = "") -> Deal:
    return _party_moves(actor, deal, DealState.AGREED, (DealState.CONTACT, DealState.NEGOTIATION), reason)


@transaction.atomic
def deal_close(*, actor: User | None, deal: Deal, reason: str = "") -> Deal:
    """Either side ends the deal without a contract."""
    return _party_moves(actor, deal, DealState.CLOSED, OPEN_STATES, reason)


@transaction.atomic
def deal_broker_set(*, actor: User | None, deal: Deal, broker: Person | int | None) -> Deal:
    """Name (or clear) the technology broker credited with the deal: either party or the bureau."""
    deal = _locked(deal)
    permissions.require(is_party(actor, deal) or permissions.is_bureau_officer(actor))
    if deal.state not in OPEN_STATES:
        raise ValidationError({"broker": _("The broker can be changed only while the deal is open.")})
    person = _broker(broker)
    if person is None and deal.broker_id is None or person is not None and person.pk == deal.broker_id:
        return deal
    old = deal.broker_id
    deal.broker = person
    deal.save(update_fields=["broker", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=deal, object_repr=deal.code,
                 changes={"broker": [old, deal.broker_id]})
    return deal


# --- technology contracts
def contract_file_problem(upload: Any) -> str:
    """Why ``upload`` is not an acceptable written contract ("" when it is)."""
    if upload is None:
        return _("Attach the written contract (PDF, Word or a scanned image).")
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in CONTRACT_FILE_TYPES:
        return _("The written contract must be a PDF, Word (.doc, .docx) or image (.png, .jpg) file.")
    if not upload.size:
        return _("The file is empty.")
    if upload.size > CONTRACT_FILE_MAX_BYTES:
        return _("The file is larger than %(mb)d MB.") % {"mb": CONTRACT_FILE_MAX_BYTES // (1024 * 1024)}
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in CONTRACT_FILE_TYPES[suffix]):
        return _("The file's content is not a %(kind)s file.") % {"kind": suffix.lstrip(".").upper()}
    return ""


def _decimal(value: Any, name: str, errors: dict[str, str]) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors[name] = _("Enter a number.")
        return None
    if not number.is_finite():
        errors[name] = _("Enter a number.")
        return None
    return number


def _date(value: Any, name: str, errors: dict[str, str]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors[name] = _("Enter a date (YYYY-MM-DD).")
        return None


def _clean_contract(data: dict[str, Any], upload: Any) -> dict[str, Any]:
    """All the checks of a registration at once (so the form shows every problem)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if data.get("contract_type") not in ContractType.values:
        errors["contract_type"] = _("Choose the contract type.")
    clean["contract_type"] = data.get("contract_type")
    clean["title"] = str(data.get("title") or "").strip()
    if not clean["title"]:
        errors["title"] = _("Enter the contract title.")
    amount = _decimal(data.get("amount"), "amount", errors)
    income = _decimal(data.get("technical_income"), "technical_income", errors)
    if amount is not None and amount <= 0:
        errors["amount"] = _("The contract amount must be greater than zero.")
    if income is not None and income < 0:
        errors["technical_income"] = _("The technical income cannot be negative.")
    elif income is not None and amount is not None and income > amount:
        errors["technical_income"] = _("The technical income cannot exceed the contract amount.")
    clean["amount"], clean["technical_income"] = amount, income
    number = str(data.get("registration_number") or "").strip()
    if not number:
        errors["registration_number"] = _("Enter the registration number.")
    elif len(number) > 40:
        errors["registration_number"] = _("The registration number has at most 40 characters.")
    elif TechContract.objects.filter(registration_number=number).exists():
        errors["registration_number"] = _("The registration number %(number)s is already registered.") % {
            "number": number}
    clean["registration_number"] = number
    signed = _date(data.get("signed_on"), "signed_on", errors)
    registered = _date(data.get("registered_on"), "registered_on", errors)
    if registered and registered > timezone.localdate():
        errors["registered_on"] = _("The registration date cannot be in the future.")
    elif signed and registered and signed > registered:
        errors["registered_on"] = _("A contract is registered on or after the day it is signed.")
    clean["signed_on"], clean["registered_on"] = signed, registered
    problem = contract_file_problem(upload)
    if problem:
        errors["contract_file"] = problem
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def contract_register(*, actor: User | None, data: dict[str, Any], contract_file: Any, deal: Deal | None = None,
                      seller: Organisation | None = None, buyer: Organisation | None = None) -> TechContract:
    """技术合同认定登记 filed by the seller: from an agreed deal (its parties) or on its own."""
    if deal is not None:
        deal = _locked(deal)
        permissions.require(is_seller(actor, deal))
        if deal.state != DealState.AGREED:
            raise ValidationError(_("Only an agreed deal can be registered (this one is “%(state)s”).") % {
                "state": DealState(deal.state).label})
        seller, buyer = deal.seller, deal.buyer
    else:
        if seller is None:
            raise ValidationError({"seller": _("Choose the seller.")})
        permissions.require(can_file_contract(actor, seller))
    if buyer is None:
        raise ValidationError({"buyer": _("Choose the buyer.")})
    if buyer.pk == seller.pk:
        raise ValidationError({"buyer": _("The buyer and the seller must be different organisations.")})
    clean = _clean_contract(data, contract_file)
    contract = TechContract(deal=deal, seller=seller, buyer=buyer, filed_by=actor, contract_file=contract_file,
                            **clean)
    contract.full_clean()
    contract.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=contract, object_repr=contract.registration_number,
                 acting_organisation=seller,
                 changes=diff({}, snapshot(contract, ["deal", "seller", "buyer", *CONTRACT_FIELDS, "contract_file"])))
    if deal is not None:
        _move(actor, deal, DealState.REGISTERED, allowed_from=(DealState.AGREED,))
    turnover_refresh(actor=actor, year=contract.registered_on.year)
    return contract


def turnover_refresh(*, actor: User | None, year: int):
    """Tell plans that 技术合同成交金额 of ``year`` changed: it recomputes the current plan's value (a
    locked value stays as approved) and drops the dashboard's cached live value."""
    from sciencecity.plans import sources

    return sources.source_changed(TURNOVER_SOURCE, year, actor=actor)
