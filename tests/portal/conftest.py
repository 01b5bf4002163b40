"""The portal gathers every app: it borrows their fixtures."""

from tests.programmes.conftest import review_world  # noqa: F401
from tests.transfer.conftest import _fresh_matching_indexes, academic_user, deal_world, university  # noqa: F401
