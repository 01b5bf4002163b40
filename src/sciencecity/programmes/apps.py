from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class ProgrammesConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.programmes"
    verbose_name = _("Funding programmes")
    registers = ("permissions", "navigation", "indicator_sources", "inbox")
