from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "sciencecity.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from sciencecity.accounts import navigation, permissions

        permissions.register()
        navigation.register()
        from sciencecity.accounts import two_factor  # noqa: F401  (connects: a new login starts unverified)
