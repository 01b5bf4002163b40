"""Facilities API, instruments and bookings."""

from ninja import Router

bookings_router = Router(tags=["facilities"])
