"""Test settings: the same as production but fast hashing and an in-memory SQLite default."""

import os

# One state folder per pytest-xdist worker (media, job files, indexes, audit keys), so parallel workers
# never share files; a plain run uses var/test.
os.environ.setdefault(
    "SCIENCECITY_VAR_DIR",
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "var", "test", os.environ.get("PYTEST_XDIST_WORKER", "")),
)
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

from sciencecity.config.base import *  # noqa: E402,F403
from sciencecity.config.base import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].pop("OPTIONS", None)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEBUG = False
# Background jobs run inside the call that queues them (tests of the worker switch this off).
JOBS_INLINE = True
# Lexical matching unless a test turns the dense model on (embedding costs ~40 ms a text).
TEXT_EMBEDDER = "none"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
