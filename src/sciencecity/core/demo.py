"""The reference day of the synthetic demo data, shared by every demo generator (registry, plans, marketplace, ...)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from sciencecity.core.models import DemoReference

REFERENCE_NAME = "demo"


def demo_as_of(requested: dt.date | None = None) -> dt.date:
    """The day demo data are generated as of.

    ``requested`` (``--as-of``) wins for this run; otherwise the recorded day; on the very first run
    the day asked for, or today, is recorded so that later runs on other days reuse it.
    """
    with transaction.atomic():
        recorded = DemoReference.objects.select_for_update().filter(name=REFERENCE_NAME).first()
        if recorded is None:
            day = requested or timezone.localdate()
            DemoReference.objects.create(name=REFERENCE_NAME, as_of=day)
            return day
    return requested or recorded.as_of


def parse_as_of(value: str) -> dt.date:
    """``argparse`` type of ``--as-of``: an ISO date."""
    import argparse

    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--as-of: not a date in YYYY-MM-DD form: {value!r}") from exc


def add_as_of_argument(parser) -> None:
    """The ``--as-of`` option every demo command shares."""
    from django.utils.translation import gettext as _

    parser.add_argument(
        "--as-of", type=parse_as_of, default=None, dest="as_of",
        help=_("reference date YYYY-MM-DD of the synthetic data (default: the date recorded by the first demo run, "
               "or today on the very first run)"),
    )
