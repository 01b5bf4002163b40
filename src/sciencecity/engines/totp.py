"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), as standard authenticator apps use.

Pure Python (``hmac``, ``hashlib``, ``base64``), no Django. The parameters are the ones every
authenticator app understands from an ``otpauth://`` URI: SHA-1, 6 digits, 30-second steps.
Accepting a code returns the time step it matched, so that the caller can refuse a replay
(a code is accepted once: only steps after the last accepted one count).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

DIGITS = 6
STEP_SECONDS = 30
SECRET_BYTES = 20  # 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 recommends


def random_secret() -> str:
    """A new shared secret in base32 without padding (what apps accept typed in)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret_base32: str) -> bytes:
    cleaned = secret_base32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(secret_base32: str, counter: int, *, digits: int = DIGITS) -> str:
    """RFC 4226 HOTP value of ``counter`` (dynamic truncation of HMAC-SHA-1)."""
    digest = hmac.new(_key(secret_base32), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % (10 ** digits)).zfill(digits)


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def totp(secret_base32: str, at: float | None = None) -> str:
    """The code an authenticator app shows at time ``at`` (seconds since the epoch; default now)."""
    return hotp(secret_base32, time_step(at))


def normalise_code(code: str) -> str:
    """What the user typed without spaces or dashes (apps show ``123 456``)."""
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-")


def match_step(secret_base32: str, code: str, *, at: float | None = None, window: int = 1,
               after_step: int | None = None) -> int | None:
    """The time step whose code is ``code`` within ±``window`` steps of ``at``, or ``None``.

    Steps at or before ``after_step`` (the last accepted one) never match: a code is used once.
    The comparison is constant-time per candidate.
    """
    code = normalise_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    now_step = time_step(at)
    found = None
    for step in range(now_step - window, now_step + window + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(hotp(secret_base32, step), code) and found is None:
            found = step
    return found


def provisioning_uri(secret_base32: str, *, account: str, issuer: str) -> str:
    """``otpauth://totp/Issuer:account?secret=…&issuer=…`` (Google Authenticator key-URI format)."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode({"secret": secret_base32, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS,
                       "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"


def random_recovery_code() -> str:
    """A one-time recovery code such as ``k3m9-x2p7-q8rd`` (60 bits, no look-alike characters)."""
    alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def hash_recovery_code(code: str, *, key: bytes) -> str:
    """HMAC-SHA-256 of the normalised code under a server key kept outside the database, so a copy of
    the database alone does not allow an offline search of the ~59-bit codes."""
    return hmac.new(key, normalise_recovery_code(code).encode("ascii", "ignore"), hashlib.sha256).hexdigest()
