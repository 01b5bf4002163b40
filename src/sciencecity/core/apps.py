from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class CoreConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.core"
    verbose_name = _("Core")
    registers = ("navigation_entries",)

    def ready(self) -> None:
        super().ready()
        from sciencecity.core import (
            checks,  # noqa: F401  (registers the `check --deploy` rules)
            import_jobs,
        )
        from sciencecity.core.forms import guard_model_choice_overflow

        import_jobs.register_kinds()
        guard_model_choice_overflow()
        from django.conf import settings

        from sciencecity.engines.text.threads import limit_blas_threads

        limit_blas_threads(getattr(settings, "BLAS_THREADS", 1))
