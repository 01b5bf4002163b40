"""Operations hooks of the enterprise services: the warm-up builds the policy preview's enterprise table."""

from __future__ import annotations

from sciencecity.core import ops


def warm_enterprise_table() -> None:
    """Build the columnar table of every enterprise (in the gunicorn master, before fork), so that the first
    policy preview does not wait for it; after a data change the table is brought up to date incrementally."""
    from sciencecity.enterprises.policies.selectors import enterprise_table

    enterprise_table()


def register() -> None:
    ops.register_warmer("enterprise_table", warm_enterprise_table)
