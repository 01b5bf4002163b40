from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransferConfig(AppConfig):
    name = "sciencecity.transfer"
    label = "transfer"
    verbose_name = _("Technology transfer")

    def ready(self) -> None:
        from sciencecity.transfer import navigation, permissions

        permissions.register()
        navigation.register()
        from sciencecity.transfer.indicator_sources import register_all

        register_all()

        from sciencecity.transfer import inbox

        inbox.register_all()
