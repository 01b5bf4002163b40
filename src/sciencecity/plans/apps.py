from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class PlansConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.plans"
    verbose_name = _("Plan monitoring")
    registers = ("permissions", "navigation", "registry_sources", "report_jobs", "inbox")
