from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "sciencecity.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprise services")

    def ready(self) -> None:
        from sciencecity.enterprises import indicator_sources, navigation, permissions

        permissions.register()
        navigation.register()
        indicator_sources.register_all()
