from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sciencecity.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from sciencecity.core import navigation_entries

        navigation_entries.register_permissions()
        navigation_entries.register()
        from sciencecity.core import import_jobs

        import_jobs.register_kinds()

        from sciencecity.core.forms import guard_model_choice_overflow

        guard_model_choice_overflow()
