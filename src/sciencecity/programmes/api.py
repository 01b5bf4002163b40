"""Programme API: one router assembled from the work packages' routers."""

from ninja import Router

router = Router(tags=["programmes"])

from sciencecity.programmes.api_projects import router as projects_router  # noqa: E402

router.add_router("", projects_router)

from sciencecity.programmes.api_calls import router as calls_router  # noqa: E402

router.add_router("", calls_router)

from sciencecity.programmes.api_review import router as review_router  # noqa: E402

router.add_router("", review_router)
