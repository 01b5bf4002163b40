"""Enterprise services API (/api/enterprises)."""

from ninja import Router

router = Router(tags=["enterprises"])

# Policies (政策找人 / 免申即享) and tech finance
from sciencecity.enterprises.finance.api import router as finance_router  # noqa: E402
from sciencecity.enterprises.policies.api import router as policies_router  # noqa: E402

router.add_router("", policies_router)
router.add_router("", finance_router)
