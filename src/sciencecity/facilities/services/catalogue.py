"""Catalogue writes: facility managers create and edit instruments (details, opening hours, booking rules,
training and qualification requirements), their price lists and training records (voucher schemes, the
bureau's, in ``vouchers.py`` use :func:`edit` too). Each checks its permission, refuses bad input naming
the field, writes nothing on a refusal and records its audit event in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from sciencecity.core import permissions
from sciencecity.core.audit import audit_record, diff, snapshot
from sciencecity.core.models import AuditAction
from sciencecity.facilities.choices import UserClass, refuse
from sciencecity.facilities.models import Instrument, InstrumentPrice

if TYPE_CHECKING:
    from sciencecity.accounts.models import User

#: The fields a manager edits (``code`` and ``host`` are fixed at creation).
INSTRUMENT_FIELDS = ["name", "name_en", "kind", "model", "capabilities", "keywords", "location", "opens_at",
                     "closes_at", "open_weekdays", "always_open", "rules", "training_required", "qualification",
                     "approval_required", "min_booking_minutes", "max_booking_minutes", "weekly_quota_hours_per_user",
                     "weekly_quota_hours_per_organisation", "cancel_notice_hours", "no_show_grace_minutes",
                     "cma_number", "cnas_number", "accredited_scope", "status"]
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$")


def _check_instrument(instrument: Instrument) -> None:
    """Refuse, naming the field, what the model's constraints would refuse without a field name."""
    days = instrument.open_weekdays or ""
    if not days or any(d not in "1234567" for d in days) or len(set(days)) != len(days):
        raise refuse({"open_weekdays": _("Give the open weekdays as digits 1–7 (1 = Monday), each once, "
                                         "e.g. 12345.")}, code="open_weekdays")
    if not instrument.always_open and instrument.opens_at and instrument.closes_at and \
            instrument.closes_at <= instrument.opens_at:
        raise refuse({"closes_at": _("The closing time must be after the opening time.")}, code="opening_hours")
    low, high = instrument.min_booking_minutes, instrument.max_booking_minutes
    if isinstance(low, int) and low < 1:
        raise refuse({"min_booking_minutes": _("The shortest booking is at least 1 minute.")}, code="booking_length")
    if isinstance(low, int) and isinstance(high, int) and high < low:
        raise refuse({"max_booking_minutes": _("The longest booking cannot be shorter than the shortest.")},
                     code="booking_length")


def _changed_search(instrument: Instrument) -> None:
    from sciencecity.facilities.search import instrument_index_refresh

    transaction.on_commit(instrument_index_refresh)


@transaction.atomic
def instrument_create(*, actor: User | None, host: Any, code: str, data: dict[str, Any]) -> Instrument:
    """A new instrument of ``host``, managed by ``actor`` unless ``data`` names another manager."""
    permissions.require(actor, "facilities.create_instrument", host)
    code = (code or "").strip()
    if not CODE.match(code):
        raise refuse({"code": _("A code of 2–40 letters, digits, '.', '-' or '_', e.g. INS-SEM-01.")}, code="code")
    if Instrument.objects.filter(code__iexact=code).exists():
        raise refuse({"code": _("The code %(code)s is taken.") % {"code": code}}, code="code_taken")
    instrument = Instrument(code=code, host=host, manager=data.get("manager") or actor,
                            **{k: v for k, v in data.items() if k in INSTRUMENT_FIELDS})
    _check_instrument(instrument)
    instrument.full_clean()
    instrument.save()
    audit_record(action=AuditAction.CREATE, actor=actor, obj=instrument, acting_organisation=host,
                 changes=diff({}, snapshot(instrument, ["code", "host", "manager", *INSTRUMENT_FIELDS])))
    _changed_search(instrument)
    return instrument


def edit(*, actor: User | None, obj: Any, fields: list[str], data: dict[str, Any], check: Callable[[Any], None],
         acting_organisation: Any = None) -> Any:
    """Set the given ``fields`` of a locked, permitted ``obj`` from ``data``; validate (``check`` names the
    field); save and audit the difference, if any. Callers hold the row lock and have checked permission."""
    old = snapshot(obj, fields)
    for key, value in data.items():
        if key in fields:
            field = obj._meta.get_field(key)
            if isinstance(value, Decimal) and value.is_finite() and getattr(field, "decimal_places", None):
                value = value.quantize(Decimal(10) ** -field.decimal_places)  # 800000 is 800000.00, no change
            setattr(obj, key, value)
    check(obj)
    obj.full_clean()
    changes = diff(old, snapshot(obj, fields))
    if changes:
        obj.save()
        audit_record(action=AuditAction.UPDATE, actor=actor, obj=obj, acting_organisation=acting_organisation,
                     changes=changes)
    return obj


@transaction.atomic
def instrument_update(*, actor: User | None, instrument: Instrument, data: dict[str, Any]) -> Instrument:
    """Change an instrument's details, hours, rules and requirements (only the fields given)."""
    instrument = Instrument.objects.select_for_update().select_related("host").get(pk=instrument.pk)
    permissions.require(actor, "facilities.manage_instrument", instrument)
    edit(actor=actor, obj=instrument, fields=INSTRUMENT_FIELDS, data=data, check=_check_instrument,
         acting_organisation=instrument.host)
    _changed_search(instrument)
    return instrument


def _rate(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        rate = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise refuse({field: _("Enter a price per hour in CNY.")}, code="rate") from None
    if not rate.is_finite() or rate < 0 or rate >= Decimal("1e10"):
        raise refuse({field: _("A price per hour cannot be negative.")}, code="rate")
    return rate


@transaction.atomic
def price_list_set(*, actor: User | None, instrument: Instrument, rates: dict[str, Any]) -> list[InstrumentPrice]:
    """The price list per user class in one go: a rate sets the class's price, an empty one removes it.
    A bad rate (field ``price_<class>``) refuses the whole list."""
    permissions.require(actor, "facilities.manage_instrument", instrument)
    unknown = set(rates) - set(UserClass.values)
    if unknown:
        raise refuse({"user_class": _("Unknown user class: %(c)s") % {"c": ", ".join(sorted(unknown))}},
                     code="user_class")
    wanted = {c: _rate(v, f"price_{c}") for c, v in rates.items()}
    current = {p.user_class: p for p in InstrumentPrice.objects.filter(instrument=instrument)}
    result = []
    for user_class, rate in wanted.items():
        price = current.get(user_class)
        old = price.hourly_rate if price else None
        if rate is None:
            if price is not None:
                price.delete()
                audit_record(action=AuditAction.DELETE, actor=actor, obj=price, object_repr=str(price),
                             changes={"hourly_rate": [old, None]})
            continue
        if old == rate:
            result.append(price)
            continue
        price = price or InstrumentPrice(instrument=instrument, user_class=user_class)
        price.hourly_rate = rate
        price.full_clean(exclude=["instrument"])
        price.save()
        audit_record(action=AuditAction.UPDATE if old is not None else AuditAction.CREATE, actor=actor, obj=price,
                     changes={"hourly_rate": [old, rate]})
        result.append(price)
    return result


#: The largest photo accepted (bytes) and the image formats, with the file extension stored.
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
#: The most pixels accepted: a 50-megapixel camera's frame. A small file can declare a huge canvas (a
#: decompression bomb: 30,000 × 30,000 one-bit pixels compress to a few hundred KB and decode to 900 MB).
PHOTO_MAX_PIXELS = 50_000_000


@transaction.atomic
def instrument_photo_set(*, actor: User | None, instrument: Instrument, upload: Any) -> Instrument:
    """Replace the instrument's photo: a JPEG, PNG or WebP image of at most 5 MB (checked by decoding it,
    not by its name); anything else is refused naming the field ``photo`` and nothing is stored."""
    from PIL import Image, UnidentifiedImageError

    instrument = Instrument.objects.select_for_update().select_related("host").get(pk=instrument.pk)
    permissions.require(actor, "facilities.manage_instrument", instrument)
    if upload is None or upload.size > PHOTO_MAX_BYTES:
        raise refuse({"photo": _("Choose an image of at most 5 MB.")}, code="photo_size")
    try:
        with Image.open(upload) as image:  # reads the header only; Pillow refuses past 2× its own limit
            width, height = image.size
            if width * height > PHOTO_MAX_PIXELS:
                raise refuse({"photo": _("The image is %(width)s × %(height)s pixels; at most %(limit)s million "
                                         "pixels are accepted.") % {"width": width, "height": height,
                                                                    "limit": PHOTO_MAX_PIXELS // 1_000_000}},
                             code="photo_pixels")
            image.verify()
            kind = image.format
    except Image.DecompressionBombError:
        raise refuse({"photo": _("The image declares more pixels than any photo; at most %(limit)s million "
                                 "pixels are accepted.") % {"limit": PHOTO_MAX_PIXELS // 1_000_000}},
                     code="photo_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind = None
    if kind not in PHOTO_FORMATS:
        raise refuse({"photo": _("The file is not a JPEG, PNG or WebP image.")}, code="photo_format")
    upload.seek(0)
    old = instrument.photo.name or None
    storage = instrument.photo.storage
    if old:  # the old file goes once the new one is committed
        transaction.on_commit(lambda: storage.delete(old))
    instrument.photo.save(f"{instrument.code}.{PHOTO_FORMATS[kind]}", upload, save=False)
    instrument.save(update_fields=["photo", "updated_at"])
    audit_record(action=AuditAction.UPDATE, actor=actor, obj=instrument, acting_organisation=instrument.host,
                 changes={"photo": [old, instrument.photo.name]})
    return instrument
