"""Facilities API: one router assembled from the work packages' routers (instruments and bookings here;
facility time proposals in their own module)."""

from ninja import Router

router = Router(tags=["facilities"])

from sciencecity.facilities.api_bookings import bookings_router  # noqa: E402

router.add_router("", bookings_router)

from sciencecity.facilities.beamtime.api import router as beamtime_router  # noqa: E402

router.add_router("/beamtime", beamtime_router)
