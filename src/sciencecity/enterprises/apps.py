from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "sciencecity.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprise services")

    def ready(self) -> None:
        from sciencecity.enterprises.finance.indicator_sources import register_all as register_finance

        register_finance()
