"""Unified social credit code (统一社会信用代码), GB 32100-2015."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: GB 32100-2015 §4.2: the code uses the 31 characters 0-9 and A-Z without I, O, S, V, Z.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: GB 32100-2015 §4.3 (Appendix B): weight of position i is 3^i mod 31.
CREDIT_CODE_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def credit_code_check_character(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a credit code."""
    total = sum(CREDIT_CODE_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def credit_code_problem(value: str) -> str | None:
    """Why ``value`` is not a valid credit code, or ``None`` when it is."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        return _("A unified social credit code has 18 characters; this one has %(n)d.") % {"n": len(code)}
    bad = sorted({c for c in code if c not in CREDIT_CODE_CHARSET})
    if bad:
        return _("The credit code contains characters that GB 32100-2015 does not use: %(chars)s.") % {
            "chars": " ".join(bad)
        }
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        return _("The check character of the credit code is wrong (expected %(expected)s, found %(found)s).") % {
            "expected": expected,
            "found": code[17],
        }
    return None


def normalise_credit_code(value: str) -> str:
    return (value or "").strip().upper()


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(problem, code="credit_code_invalid")
