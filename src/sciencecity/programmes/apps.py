from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    name = "sciencecity.programmes"
    label = "programmes"
    verbose_name = _("Funding programmes")

    def ready(self) -> None:
        from sciencecity.programmes import navigation, permissions

        permissions.register()
        navigation.register()
        from sciencecity.programmes.indicator_sources import register_all

        register_all()

        from sciencecity.programmes import inbox

        inbox.register_all()
