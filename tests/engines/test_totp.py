"""The TOTP engine against the RFC 6238 test vectors, the ±1 step window and replay refusal."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from sciencecity.engines import totp

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238 appendix B, SHA-1


@pytest.mark.parametrize(("at", "expected"), [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130"),
])
def test_rfc6238_vectors(at, expected):
    assert totp.hotp(RFC_SECRET, totp.time_step(at), digits=8) == expected
    assert totp.totp(RFC_SECRET, at) == expected[-6:]


def test_rfc4226_hotp_vectors():
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
    assert [totp.hotp(RFC_SECRET, counter) for counter in range(10)] == expected


def test_window_of_one_step_each_side():
    secret = totp.random_secret()
    now = 1_700_000_000.0
    step = totp.time_step(now)
    assert totp.match_step(secret, totp.totp(secret, now), at=now) == step
    assert totp.match_step(secret, totp.totp(secret, now - 30), at=now) == step - 1
    assert totp.match_step(secret, totp.totp(secret, now + 30), at=now) == step + 1
    assert totp.match_step(secret, totp.totp(secret, now - 60), at=now) is None
    assert totp.match_step(secret, totp.totp(secret, now + 60), at=now) is None


def test_a_code_is_accepted_once():
    secret = totp.random_secret()
    now = 1_700_000_000.0
    code = totp.totp(secret, now)
    step = totp.match_step(secret, code, at=now)
    assert totp.match_step(secret, code, at=now, after_step=step) is None
    assert totp.match_step(secret, code, at=now + 25, after_step=step) is None  # still in the window: replay


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x", "\x00" * 6])
def test_malformed_codes_never_match(typed):
    assert totp.match_step(totp.random_secret(), typed) is None


def test_code_typed_with_spaces_is_accepted():
    secret = totp.random_secret()
    code = totp.totp(secret, 1_700_000_000)
    assert totp.match_step(secret, f"{code[:3]} {code[3:]}", at=1_700_000_000) is not None


def test_provisioning_uri_carries_the_standard_parameters():
    uri = urlparse(totp.provisioning_uri("JBSWY3DPEHPK3PXP", account="secadmin", issuer="科学城"))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    query = parse_qs(uri.query)
    assert query == {"secret": ["JBSWY3DPEHPK3PXP"], "issuer": ["科学城"], "algorithm": ["SHA1"], "digits": ["6"],
                     "period": ["30"]}


def test_secrets_and_recovery_codes_are_random_and_well_formed():
    secret = totp.random_secret()
    assert len(secret) == 32 and len(base64.b32decode(secret)) == 20
    codes = {totp.random_recovery_code() for _ in range(50)}
    assert len(codes) == 50 and all(len(c) == 14 and c.count("-") == 2 for c in codes)
    code = codes.pop()
    key = b"k" * 32
    assert totp.hash_recovery_code(code, key=key) == totp.hash_recovery_code(code.upper().replace("-", " "), key=key)
    assert totp.hash_recovery_code(code, key=key) != totp.hash_recovery_code(code, key=b"other")
