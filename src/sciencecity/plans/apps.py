from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "sciencecity.plans"
    label = "plans"
    verbose_name = _("Plan monitoring")

    def ready(self) -> None:
        from sciencecity.plans import navigation, permissions, registry_sources

        permissions.register()
        navigation.register()
        registry_sources.register_all()

        from sciencecity.plans import inbox

        inbox.register_all()
