"""Enterprise services API (/api/enterprises)."""

from ninja import Router

router = Router(tags=["enterprises"])
