"""Django settings for digitsite, read from the environment with safe development defaults.

See README.md "Configuration" for every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from digitsite.file_store import default_file_store

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return default if value is None else [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "recognizer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "recognizer.middleware.SiteNotFoundPageMiddleware",
    "recognizer.middleware.PrivateAnswersMiddleware",
]

ROOT_URLCONF = "digitsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "digitsite.wsgi.application"

# DATABASE_URL (e.g. postgres://user@127.0.0.1:5432/digitsite) selects PostgreSQL; absent, SQLite.
# DB_POOL_MAX_SIZE > 0 gives each process a pool of at most that many connections (psycopg 3's pool), which
# caps the connections at processes x DB_POOL_MAX_SIZE; `make serve` sets it for the web processes. Without
# it (workers, runserver) each thread keeps its own connection for DB_CONN_MAX_AGE seconds.
# https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0 if DB_POOL_MAX_SIZE else env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that refuses or never answers must not hang a web thread: connecting and each statement
    # are bounded, and a request waits at most DB_POOL_TIMEOUT for a free pooled connection.
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
        "options": f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT', 30) * 1000}",
        **DATABASES["default"].get("OPTIONS", {}),
    }
    if DB_POOL_MAX_SIZE:
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": min(env_int("DB_POOL_MIN_SIZE", 1), DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env_int("DB_POOL_TIMEOUT", 5),
        }

# CACHE_URL (e.g. redis://127.0.0.1:6379/1) puts the cache in Redis, shared by every web process: the API
# throttles and the failed-login counts live there. Absent, each process keeps its own in memory, which is
# only right for development and for one process (README "Configuration").
# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "digitsite"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "digitsite"}}

# How many proxies in front of the site append to X-Forwarded-For. 0: the header is ignored and the
# connection's address is the client's (anyone can send the header). With N, the Nth address from the
# right is the client's. The API throttles and the login limits both count per this address.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The first backend only refuses (PermissionDenied) while a user name or an address is locked out after
# too many failed logins; ModelBackend checks the password. Every login goes through both: the site's,
# the admin's and the API's token endpoint.
AUTHENTICATION_BACKENDS = [
    "recognizer.auth_backends.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (README "Configuration"): after LOGIN_FAILURES_PER_USERNAME failures for one user name, or
# LOGIN_FAILURES_PER_ADDRESS from one client address, within LOGIN_FAILURE_WINDOW seconds, logins for that
# name or from that address are refused for LOGIN_LOCKOUT_SECONDS, then allowed again by themselves.
LOGIN_FAILURES_PER_USERNAME = env_int("LOGIN_FAILURES_PER_USERNAME", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Password reset mails: at most this many to one e-mail address, and requests from one client address, per
# window (README "Configuration"), so that the form cannot flood someone's inbox.
PASSWORD_RESET_MAILS_PER_EMAIL = env_int("PASSWORD_RESET_MAILS_PER_EMAIL", 3)
PASSWORD_RESET_MAILS_PER_ADDRESS = env_int("PASSWORD_RESET_MAILS_PER_ADDRESS", 10)
PASSWORD_RESET_MAIL_WINDOW = env_int("PASSWORD_RESET_MAIL_WINDOW", 60 * 60)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ta", "தமிழ்"), ("hi", "हिन्दी")]
# Dates and times in each language's own way (digitsite/formats/<lang>/formats.py): Django's Tamil and
# Hindi formats leave the date-and-time formats to the English default ("Nov. 25, 2026, 3:43 p.m.").
# https://docs.djangoproject.com/en/5.2/topics/i18n/formatting/#creating-custom-format-files
FORMAT_MODULE_PATH = ["digitsite.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` (make serve) gathers the static files; with DEBUG off they are served from here.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # MEDIA_ROOT on this machine, or with S3_BUCKET set a bucket that every machine shares (digitsite/file_store.py).
    "default": default_file_store(os.environ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads are kept here (unless S3_BUCKET is set) but never served directly: image views check the owner first.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "upload"
LOGOUT_REDIRECT_URL = "home"

# E-mail, for password resets. EMAIL_HOST set: SMTP with the settings below. Unset: in development
# (DEBUG on) mails are printed on the console; with DEBUG off they go to an SMTP server on localhost.
# EMAIL_BACKEND overrides both.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG and not EMAIL_HOST
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", bool(EMAIL_HOST))  # STARTTLS; on by default for a named server
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "digitsite <webmaster@localhost>")
# A reset link works this long (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)

# Upload limits (see README "Configuration").
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_FILES = env_int("UPLOAD_MAX_FILES", 20)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 50_000_000)
# The memory one picture may take once decoded (Pillow: a byte a pixel for grey, four for colour), checked from
# its header at upload: the web process never decodes a picture, and a worker decodes nothing larger.
UPLOAD_MAX_DECODED_BYTES = env_int("UPLOAD_MAX_DECODED_BYTES", 200_000_000)
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES + 5
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES

# The committed model (default: mlcore/models/): the first active version of the model registry.
DIGIT_MODEL_PATH = os.environ.get("DIGIT_MODEL_PATH", "") or None
# Trained versions live in the file store; a worker on a remote store keeps local copies here.
MODEL_CACHE_DIR = Path(os.environ.get("MODEL_CACHE_DIR", BASE_DIR / ".model-cache"))
# A running training job not heard of for this long has lost its worker and is marked failed.
TRAINING_STALE_SECONDS = env_int("TRAINING_STALE_SECONDS", 300)
# Overrides of mlcore.retrain's defaults for jobs started in the admin: {"retrain": {...RetrainConfig},
# "score": {...ScoreSettings}} (smaller settings make quick trial runs; the defaults are for real decisions).
TRAINING_DEFAULT_OPTIONS: dict = {}

# A prediction whose database or stored picture cannot be reached is retried PREDICTION_MAX_RETRIES times,
# waiting 2, 4, 8, ... seconds (at most PREDICTION_RETRY_MAX_COUNTDOWN) between tries: by default about two
# minutes, so a short database outage or restart costs nothing.
PREDICTION_MAX_RETRIES = env_int("PREDICTION_MAX_RETRIES", 6)
PREDICTION_RETRY_MAX_COUNTDOWN = env_int("PREDICTION_RETRY_MAX_COUNTDOWN", 60)

# Celery: with no broker, tasks run eagerly in the web process through the same code path.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# With eager tasks the web process loads the reader in the background as it starts (digitsite/wsgi.py).
READER_PRELOAD = env_bool("READER_PRELOAD", True)
# TensorFlow's C++ INFO lines at start-up (CPU features) tell a developer nothing and buried the server's address.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # results live in the Prediction table, not a result backend
CELERY_TASK_DEFAULT_QUEUE = "inference"
CELERY_TASK_ROUTES = {
    # Training has its own queue and worker (make worker-training), so it never holds up a prediction.
    "recognizer.tasks.train_model_version": {"queue": "training"},
    "recognizer.tasks.*": {"queue": "inference"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Fail fast when the broker is down, so an upload is answered (and kept pending) instead of hanging.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "socket_timeout": 3,
    "socket_connect_timeout": 3,
}
# A prefix on every broker key, so that several installations (or test runs) can share one Redis.
if os.environ.get("CELERY_BROKER_KEY_PREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = os.environ["CELERY_BROKER_KEY_PREFIX"]
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
# Celery's Django support closes every database connection before and after each task unless this is set: a
# new PostgreSQL connection per picture. Kept for this many tasks instead (recognizer/tasks.py drops one that
# failed or outlived DB_CONN_MAX_AGE before each task).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90)
# A message taken by a worker that dies (kill -9, a lost machine) goes back to the queue after this long. It
# must outlast the longest task and the longest retry countdown, or a slow task would be delivered twice.
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int(
    "CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + PREDICTION_RETRY_MAX_COUNTDOWN + 60
)

# Recovery without a person (README "Faults and recovery"). Each worker beats every WORKER_HEARTBEAT_SECONDS
# in the broker's Redis (health reports no worker after WORKER_HEARTBEAT_TTL of silence), and one of them at a
# time sweeps every SWEEP_INTERVAL_SECONDS: predictions that could not be queued, queued more than
# SWEEP_PENDING_AFTER_SECONDS ago and still pending, or processing for more than SWEEP_PROCESSING_AFTER_SECONDS
# (longer than any task may run: their worker died) are queued again; after PREDICTION_MAX_ATTEMPTS starts a
# prediction is failed instead.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
WORKER_HEARTBEAT_TTL = env_int("WORKER_HEARTBEAT_TTL", 3 * WORKER_HEARTBEAT_SECONDS)
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 15)
SWEEP_PENDING_AFTER_SECONDS = env_int("SWEEP_PENDING_AFTER_SECONDS", 300)
SWEEP_PROCESSING_AFTER_SECONDS = env_int("SWEEP_PROCESSING_AFTER_SECONDS", CELERY_TASK_TIME_LIMIT + 30)
PREDICTION_MAX_ATTEMPTS = env_int("PREDICTION_MAX_ATTEMPTS", 5)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's own throttles, but reading the rates below on each request (so overrides take effect).
    "DEFAULT_THROTTLE_CLASSES": [
        "recognizer.api.throttles.AnonThrottle",
        "recognizer.api.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "60/minute"),
        "user": os.environ.get("THROTTLE_USER", "600/minute"),
    },
    # Every error as {"detail": ..., "code": ...} with the status that fits (see README "REST API").
    "EXCEPTION_HANDLER": "recognizer.api.exceptions.api_exception_handler",
    # DRF's parsers, the JSON one refusing a body nested deeper than any request of ours (400, not a crash).
    "DEFAULT_PARSER_CLASSES": [
        "recognizer.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # None would make DRF count the whole X-Forwarded-For as the client: a new header per request, a new client.
    "NUM_PROXIES": NUM_PROXIES,
}
# POST /api/v1/predictions/?wait=N waits at most this long for the worker; list pages hold at most this many.
API_WAIT_MAX_SECONDS = env_int("API_WAIT_MAX_SECONDS", 30)
# A wait is woken when the worker announces the answer (recognizer/finish_notices.py); it re-reads its rows at
# least every API_WAIT_FALLBACK_SECONDS anyway, in case a notice was lost. At most API_WAITS_PER_PROCESS requests
# of one web process wait at once (each holds a thread); one more is answered at once, as if its time ran out.
API_WAIT_FALLBACK_SECONDS = float(os.environ.get("API_WAIT_FALLBACK_SECONDS", "1"))
API_WAITS_PER_PROCESS = env_int("API_WAITS_PER_PROCESS", 4)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 100)

SPECTACULAR_SETTINGS = {
    "TITLE": "digitsite API",
    "DESCRIPTION": "Handwritten digit recognition: upload pictures, get digits, give feedback.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so that uploads are documented as binary files.
    "COMPONENT_SPLIT_REQUEST": True,
    # UI assets from drf-spectacular-sidecar, served by us: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's "django" logger has a console handler of its own (with DEBUG on) and also passes each record
    # up to the root's: every line came twice. Now it only passes them up.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}

# HTTPS in production (README "Configuration"). Development (DEBUG on) keeps plain http and none of these
# unless asked; `manage.py check --deploy`, which `make serve` runs, warns about what is left off.
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/#https
# Session and CSRF cookies only over https.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
# Behind a proxy that ends TLS (nginx, a load balancer) every request reaches Django as plain http: name the
# header that proxy sets to "https" (e.g. X-Forwarded-Proto). Only for a proxy that always sets it and drops
# the client's own, or any client could claim https.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
PROXY_SSL_HEADER = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
# Every http request redirected to https. Off unless asked, also in production: `make serve` may run on plain
# http (a load test on 127.0.0.1, or behind a proxy not yet named above, where it would redirect forever).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Monitors may ask for health over plain http from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]
# HSTS: a browser that reached the site over https keeps to https for this long. Sent on https answers only, so
# a server on plain http is not affected; a year by default in production, none in development.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
