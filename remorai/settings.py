"""Remorai settings: one module driven by django-environ.

Safe laptop defaults; production hardening is switched on by DJANGO_DEBUG=false.
Every variable is listed in .env.example and in the README's configuration table.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from extraction.conf import DEFAULTS as _extraction_defaults
from extraction.webhooks.conf import DEFAULTS as _webhook_defaults
from llm.conf import DEFAULTS as _llm_defaults
from remorai.dbconfig import database_from_parts
from remorai.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")
# Local state of a laptop install: the default SQLite database and media, `make run`'s notes.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=True)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false (production)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "csp",
    "remorai",
    "llm",
    "extraction",
]

MIDDLEWARE = [
    "remorai.middleware.ApiJsonErrorsMiddleware",  # first: sees every error response of /api/
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# --- Admin hardening ----------------------------------------------------------------------------
# Repeated failed admin logins lock that username from that address (django-axes, its own
# tables) for a while; a successful login resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "remorai.clientip.client_ip"  # NUM_PROXIES, as the throttles
AXES_VERBOSE = False

# Content-Security-Policy on every response (django-csp): the admin, the dashboard and Swagger
# UI load scripts only from our own static files (the sidecar; its init script is a file too,
# SpectacularSwaggerSplitView). Inline styles stay allowed: Swagger UI and the admin use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "remorai.urls"
WSGI_APPLICATION = "remorai.wsgi.application"
ASGI_APPLICATION = "remorai.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default. It must carry the web process and the worker at once without
# "database is locked": WAL journal, a busy timeout and IMMEDIATE transactions (so a writer takes
# the lock when its transaction starts instead of failing to upgrade a read lock half-way).
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'remorai.sqlite3'}")}
# Without DATABASE_URL, DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD (ECS injects the RDS secret's
# fields one by one; docs/deploy.md) make the PostgreSQL connection.
DATABASES["default"] = database_from_parts(os.environ) or DATABASES["default"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            ),
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            "location": env.str("AWS_LOCATION", default="documents"),
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Uploads --------------------------------------------------------------------------------
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
MAX_PDF_PAGES = env.int("MAX_PDF_PAGES", default=2000)
# Cross-reference entries a PDF may declare (pypdf visits each: ~3-4 µs apiece); a file also may
# not declare more than one per 2 bytes of itself. More → 422 pdf_unreadable before pypdf reads it.
MAX_PDF_OBJECTS = env.int("MAX_PDF_OBJECTS", default=500_000)
# Uploads larger than this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
# A request body must average REQUEST_BODY_MIN_RATE bytes/s once REQUEST_BODY_GRACE_SECONDS have
# passed, and never stall longer than REQUEST_BODY_IDLE_SECONDS (remorai/slowbody.py, gunicorn):
# a client trickling an upload cannot hold a web thread. 0 switches the pace check off.
REQUEST_BODY_MIN_RATE = env.int("REQUEST_BODY_MIN_RATE", default=1024)
REQUEST_BODY_GRACE_SECONDS = env.float("REQUEST_BODY_GRACE_SECONDS", default=10.0)
REQUEST_BODY_IDLE_SECONDS = env.float("REQUEST_BODY_IDLE_SECONDS", default=20.0)
# The first handler stops an upload past MAX_UPLOAD_BYTES before Django spools all of it.
FILE_UPLOAD_HANDLERS = [
    "extraction.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "remorai.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "remorai.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "remorai.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["remorai.filter_backends.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "remorai.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="100/min"),
        "user": env.str("THROTTLE_USER_RATE", default="3000/min"),
    },
    # Proxies in front of the app that append to X-Forwarded-For: 0 locally (the header is
    # ignored, clients are told apart by the socket's address), 1 behind the ALB (its entry, the
    # last one, is the client). A client rotating the header then cannot dodge the anon throttle.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Remorai API",
    "DESCRIPTION": "Structured data from PDFs with LLMs (Gemini, OpenAI, Anthropic).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "extraction.models.ExtractionRun.Status",
        "WebhookDeliveryStatusEnum": "extraction.webhooks.models.WebhookDelivery.Status",
        # A run's route (also `embedded`) and an attempt's or remote copy's (proxy/direct only).
        "RunRouteEnum": "extraction.models.RunRoute",
        "RouteEnum": "extraction.models.Route",
        "RunErrorCodeEnum": "extraction.errors.RunErrorCode",
        # Evidence has a `status` too (verified, not_found, …): its own enum.
        "EvidenceStatusEnum": "extraction.api.verification_serializers.EVIDENCE_STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "remorai.schema.add_error_responses",
    ],
}

# --- Cache (circuit breakers, throttling) ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Shared between the web process and the worker: a database cache table (made by a
    # migration, so `migrate` is the only set-up step).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "remorai_cache",
        }
    }

# --- Queue (django-q2) ----------------------------------------------------------------------
# At-least-once delivery: a task whose worker dies is delivered again after `retry` seconds;
# `timeout` stays well under `retry` so a live task is never delivered twice while it runs.
Q_CLUSTER = {
    "name": "remorai",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=900),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "ack_failures": True,
    "catch_up": False,
    "bulk": 1,
    # At most this many tasks are held by the cluster's internal queue at once; the rest wait
    # in the broker, where another cluster can take them.
    "queue_limit": env.int("Q_QUEUE_LIMIT", default=8),
    "save_limit": 1000,
    "label": "Task queue",
    "poll": env.float("Q_POLL", default=0.5),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Queue metrics for the CloudWatch alarm on the oldest queued run (extraction/queue_metrics.py;
# on in production, where the worker's task role may put metrics in this namespace).
QUEUE_METRICS_ENABLED = env.bool("QUEUE_METRICS_ENABLED", default=False)
QUEUE_METRICS_NAMESPACE = env.str("QUEUE_METRICS_NAMESPACE", default="Remorai")
QUEUE_METRICS_REGION = env.str("QUEUE_METRICS_REGION", default="")

# --- App tunables ----------------------------------------------------------------------------
# Each app's settings reader holds its tunables and their defaults, written once there:
# extraction/conf.py, extraction/webhooks/conf.py, llm/conf.py (provider keys: read them through
# llm.secrets.get_api_key, which also masks them in logs). A variable set in the environment
# overrides its default, read as the default's type (None: seconds, derived from other settings).


def _read_env(name: str, default):
    if isinstance(default, bool):
        return env.bool(name)
    if isinstance(default, int):
        return env.int(name)
    if isinstance(default, tuple | list):
        numbers = bool(default) and all(isinstance(v, int | float) for v in default)
        return env.list(name, cast=float if numbers else str)
    if isinstance(default, dict):
        return env.json(name)
    return env.str(name) if isinstance(default, str) else env.float(name)


for _name, _default in {**_extraction_defaults, **_webhook_defaults, **_llm_defaults}.items():
    if _name in os.environ:
        globals()[_name] = _read_env(_name, _default)
if "AWS_SECRETS_REGION" not in os.environ and "AWS_DEFAULT_REGION" in os.environ:
    AWS_SECRETS_REGION = env.str("AWS_DEFAULT_REGION")

# --- Remote copies of documents at providers ------------------------------------------------
# The daily retention task deletes copies uploaded longer ago than this (and expired ones).
REMOTE_FILE_RETENTION_DAYS = env.int("REMOTE_FILE_RETENTION_DAYS", default=7)
# Idempotency-Key records are replayed this long, then purged hourly (a migration's schedule).
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)

# --- Logging --------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)

# --- Production hardening -------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
