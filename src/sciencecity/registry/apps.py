from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "sciencecity.registry"
    label = "registry"
    verbose_name = _("Innovation-resource registry")

    def ready(self) -> None:
        from sciencecity.registry import navigation, permissions

        permissions.register()
        navigation.register()

        from sciencecity.registry import inbox

        inbox.register_all()
