from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class AccountsConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.accounts"
    verbose_name = _("Accounts")
    registers = ("permissions", "navigation")

    def ready(self) -> None:
        super().ready()
        from sciencecity.accounts import two_factor  # noqa: F401  (connects: a new login starts unverified)
