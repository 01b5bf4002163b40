"""Read deployment settings from the environment.

Production differs from development only by environment variables (DESIGN.md §3.6). A development
secret key is generated under ``var/`` on first run so that nothing secret is committed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def var_dir() -> Path:
    """The writable state folder (SQLite database, uploads, generated secret)."""
    path = Path(os.environ.get("SCIENCECITY_VAR_DIR", Path.cwd() / "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key() -> str:
    """``SECRET_KEY`` from the environment, else a per-installation key kept in ``var/secret_key``."""
    value = os.environ.get("SECRET_KEY")
    if value:
        return value
    key_file = var_dir() / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
