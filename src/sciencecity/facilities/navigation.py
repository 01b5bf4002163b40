"""The facilities menu entries: the instrument catalogue for everyone, vouchers and openness for those who use them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sciencecity.core import navigation, permissions


def register() -> None:
    navigation.register_menu_item(navigation.MenuItem(
        key="facilities.index", label=_("Shared instruments"), url_name="facilities:index", order=350, group="marketplace",
        visible=lambda user: not permissions.is_administrator(user)))  # public catalogue; 三员 see no business
    navigation.register_menu_item(navigation.MenuItem(
        key="facilities.vouchers", label=_("Innovation vouchers"), url_name="facilities:vouchers", order=355, group="marketplace",
        visible=lambda user: permissions.has_perm(user, "facilities.use")))
    navigation.register_menu_item(navigation.MenuItem(
        key="facilities.openness", label=_("Instrument openness"), url_name="facilities:openness", order=360, group="marketplace",
        visible=lambda user: permissions.has_perm(user, "facilities.view_openness")))
    register_widgets()


def _voucher_burn(request) -> dict:
    from sciencecity.facilities import selectors
    from sciencecity.facilities.models import VoucherScheme
    from sciencecity.facilities.services.vouchers import budget_committed

    return {"voucher_burn": [{"scheme": s, "committed": budget_committed(s), **selectors.scheme_burn(s)}
                             for s in VoucherScheme.objects.filter(status="open")[:4]]}


def register_widgets() -> None:
    """The budget burn of the open voucher schemes on the home page of those who manage them."""
    navigation.register_home_widget(navigation.HomeWidget(
        key="facilities.vouchers", template="facilities/home_vouchers.html", order=250,
        visible=lambda user: permissions.has_perm(user, "facilities.manage_vouchers"), context=_voucher_burn))
