import pytest
from django.utils import translation

from sciencecity.registry.validators import credit_code_check_character, credit_code_problem


@pytest.mark.parametrize(
    "code",
    [
        "91440300708461136T",  # a published Shenzhen enterprise code
        "914403001922038216",
        "91110000100011743X",
    ],
)
def test_real_credit_codes_are_valid(code):
    assert credit_code_problem(code) is None


def test_check_character_is_computed_per_gb32100():
    assert credit_code_check_character("91440300708461136") == "T"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("9144030070846113", "18"),  # too short: names the length rule
        ("91440300708461136I", "I"),  # I is not in the GB 32100 character set
        ("91440300708461136A", "expected T"),  # wrong check character
    ],
)
def test_malformed_credit_codes_are_explained(code, fragment):
    with translation.override("en"):
        problem = credit_code_problem(code)
    assert problem is not None and fragment in problem
