"""Who may do what with shared instruments, bookings and vouchers: one module for the pages and the API."""

from __future__ import annotations

from typing import Any

from sciencecity.accounts.choices import Role
from sciencecity.core import permissions
from sciencecity.facilities.choices import InstrumentStatus


def manages(user: Any, instrument: Any) -> bool:
    """The instrument's manager, a facility manager of the host organisation, or a bureau officer."""
    if not permissions._active(user):
        return False
    if permissions.is_bureau_officer(user) or instrument.manager_id == user.pk:
        return True
    return user.memberships.filter(role=Role.FACILITY_MANAGER, organisation_id=instrument.host_id).exists()


def can_create_instrument(user: Any, host: Any) -> bool:
    """A facility manager of the host organisation, or a bureau officer, adds instruments to the catalogue."""
    if not permissions._active(user):
        return False
    if permissions.is_bureau_officer(user):
        return True
    return user.memberships.filter(role=Role.FACILITY_MANAGER, organisation_id=host.pk).exists()


def can_add_instruments(user: Any) -> bool:
    """Whether the user may add instruments to some organisation (shows the "add" link)."""
    return permissions._active(user) and (permissions.is_bureau_officer(user)
                                          or permissions.has_role(user, Role.FACILITY_MANAGER))


def can_use(user: Any) -> bool:
    """Business users acting for an organisation see their bookings, statements and vouchers; so does the bureau."""
    return permissions.is_business_user(user) and (bool(permissions.organisation_ids(user))
                                                   or permissions.is_bureau_officer(user))


def can_book(user: Any, instrument: Any) -> bool:
    """Any business user (acting for an organisation) may book an instrument open for booking."""
    return (permissions.is_business_user(user) and bool(permissions.organisation_ids(user))
            and instrument.status == InstrumentStatus.ACTIVE)


def can_act_on_booking(user: Any, booking: Any) -> bool:
    """The booker, a user of the booking organisation, or the instrument's managers."""
    if not permissions._active(user):
        return False
    if booking.user_id == user.pk or (booking.organisation_id and
                                      booking.organisation_id in permissions.organisation_ids(user)):
        return True
    return manages(user, booking.instrument)


def can_see_statement(user: Any, organisation_id: int) -> bool:
    return organisation_id in permissions.organisation_ids(user) or permissions.is_bureau_officer(user)


def can_manage_vouchers(user: Any) -> bool:
    """Voucher schemes, approvals and settlement are the bureau's."""
    return permissions.is_bureau_officer(user)


def can_view_openness(user: Any) -> bool:
    return permissions.is_officer(user) or permissions.has_role(user, Role.FACILITY_MANAGER)


def register() -> None:
    """The facilities actions, registered at ``FacilitiesConfig.ready``."""
    permissions.register("facilities.book", can_book)
    permissions.register("facilities.manage_instrument", manages)
    permissions.register("facilities.create_instrument", can_create_instrument)
    permissions.register("facilities.add_instruments", can_add_instruments)
    permissions.register("facilities.act_on_booking", can_act_on_booking)
    permissions.register("facilities.use", can_use)
    permissions.register("facilities.manage_vouchers", can_manage_vouchers)
    permissions.register("facilities.view_openness", can_view_openness)
