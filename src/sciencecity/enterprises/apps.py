from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "sciencecity.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprise services")

    def ready(self) -> None:
        from sciencecity.enterprises import cultivation, indicator_sources, navigation, ops, permissions

        permissions.register()
        navigation.register()
        indicator_sources.register_all()
        ops.register()
        cultivation.register()

        from sciencecity.enterprises.finance.indicator_sources import register_all as register_finance_sources
        from sciencecity.enterprises.policies.navigation import register as register_policy_navigation

        register_finance_sources()
        register_policy_navigation()
