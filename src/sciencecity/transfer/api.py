"""Marketplace API: one router assembled from the work packages' routers."""

from ninja import Router

router = Router(tags=["transfer"])
