from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "sciencecity.registry"
    label = "registry"
    verbose_name = _("Innovation-resource registry")

    def ready(self) -> None:
        from sciencecity.registry.indicator_sources import register_all

        register_all()

        from sciencecity.registry import inbox

        inbox.register_all()
