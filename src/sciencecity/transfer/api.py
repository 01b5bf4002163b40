"""Marketplace API: one router assembled from the work packages' routers."""

from ninja import Router

router = Router(tags=["transfer"])

from sciencecity.transfer.api_deals import deals_router  # noqa: E402

router.add_router("", deals_router)
from sciencecity.transfer.api_listings import listings_router  # noqa: E402

router.add_router("", listings_router)
