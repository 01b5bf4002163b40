"""The sector vocabulary that migrations seed survives the flush that ends every transactional test, so a test that
runs after one (on the same pytest-xdist worker, in any order) still imports organisations with sector IND-AI."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from sciencecity.registry.models import Sector


@pytest.mark.django_db(transaction=True)
def test_the_vocabulary_is_there_again_after_a_flush():
    assert Sector.objects.filter(code="IND-AI").exists()
    call_command("flush", interactive=False, verbosity=0)
    assert Sector.objects.filter(code="IND-AI").exists()
