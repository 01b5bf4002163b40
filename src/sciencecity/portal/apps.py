from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class PortalConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.portal"
    verbose_name = _("Portal")
    registers = ("navigation",)
