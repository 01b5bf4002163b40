from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    """共享仪器与大设施机时. Shared instruments, bookings, usage and fees, innovation vouchers, facility time."""

    name = "sciencecity.facilities"
    label = "facilities"
    verbose_name = _("Shared facilities")

    def ready(self) -> None:
        from sciencecity.facilities import navigation, permissions
        from sciencecity.facilities.beamtime import navigation as beamtime_navigation
        from sciencecity.facilities.beamtime import permissions as beamtime_permissions
        from sciencecity.facilities.beamtime.services import register_jobs
        from sciencecity.facilities.indicator_sources import register_all

        permissions.register()
        navigation.register()
        register_all()
        register_jobs()
        beamtime_permissions.register()
        beamtime_navigation.register()
