from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class TransferConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.transfer"
    verbose_name = _("Technology transfer")
    registers = ("permissions", "navigation", "indicator_sources", "ops", "inbox", "services.vectors",
                 "services.search_backends")
