from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "sciencecity.plans"
    label = "plans"
    verbose_name = _("Plan monitoring")

    def ready(self) -> None:
        from sciencecity.plans import inbox

        inbox.register_all()
