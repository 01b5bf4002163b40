"""The README's worked examples exist in the demo data (issue 11, item 5: the example expert held no review)."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from sciencecity.programmes.models import Assignment

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.django_db
def test_every_expert_the_readme_names_holds_released_reviews_in_the_demo():
    call_command("bootstrap", verbosity=0)
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Trying it out"):text.index("## What is here")]
    codes = re.findall(r"`(DEMO-PER-\d+)`", section)
    assert codes, "the walkthrough names no demo expert"
    for code in codes:
        assert Assignment.objects.filter(expert__code=code, state="released").exists(), code
