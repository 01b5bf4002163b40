from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "sciencecity.portal"
    label = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from sciencecity.portal import navigation

        navigation.register()
