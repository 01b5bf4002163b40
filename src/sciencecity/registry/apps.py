from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class RegistryConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.registry"
    verbose_name = _("Innovation-resource registry")
    registers = ("permissions", "navigation", "inbox")
