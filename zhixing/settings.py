"""Django settings for Zhixing, read from the environment (twelve-factor).

Environment variables:

- ``ZHIXING_MODE``: ``embedded`` (default: one machine, SQLite, generated secret key),
  ``demo`` (embedded, with demo logins) or ``production``.
- ``DATABASE_URL``: database address; defaults to the SQLite file ``db.sqlite3`` in the data
  directory. Production uses ``postgres://...``.
- ``ZHIXING_DATA_DIR``: folder for the SQLite file, the generated secret key and uploads;
  defaults to ``data/`` in the checkout.
- ``ZHIXING_SECRET_KEY``: required in production; in embedded and demo mode a key is generated
  on first run and kept in the data directory.
- ``ZHIXING_ALLOWED_HOSTS``: comma-separated host names (default: localhost names only).
- ``ZHIXING_DEBUG``: ``1`` to show Django's debug pages (default off in every mode).
- ``ZHIXING_HTTPS``: ``1`` when served over HTTPS; turns on secure cookies and HSTS.
- ``ZHIXING_SESSION_IDLE_MINUTES``: minutes of inactivity after which a login expires (30).
- ``ZHIXING_SUPERVISION_HOURS``: hours from the reminder about an overdue order to the
  supervision notice for the courts above the late court (24).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

MODE = os.environ.get("ZHIXING_MODE", "embedded")
if MODE not in {"embedded", "demo", "production"}:
    raise ImproperlyConfigured(
        f"ZHIXING_MODE={MODE!r} is invalid; use embedded, demo or production."
    )

DATA_DIR = Path(os.environ.get("ZHIXING_DATA_DIR", BASE_DIR / "data")).resolve()


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is invalid; use 1 or 0.")


def _embedded_secret_key() -> str:
    """Read the secret key kept in the data directory, generating it on first run."""
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="ascii").strip()
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Create with owner-only permissions before the key is written.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


SECRET_KEY = os.environ.get("ZHIXING_SECRET_KEY", "")
if not SECRET_KEY:
    if MODE == "production":
        raise ImproperlyConfigured(
            "ZHIXING_SECRET_KEY is missing; production mode needs a secret key of at least "
            "50 random characters, e.g. from `python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = _embedded_secret_key()

# Debug pages list every URL and tell a missing record from one outside the user's scope, so
# they stay off unless asked for, in the demo too.
DEBUG = _env_flag("ZHIXING_DEBUG", default=False)

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ZHIXING_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Trigram search and its migration operation; both do nothing on SQLite.
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "csp",
    "zhixing.audit",
    "zhixing.courts",
    "zhixing.cases",
    "zhixing.linkage",
    "zhixing.inquiry",
    "zhixing.events",
    "zhixing.reports",
    "zhixing.command",
    "zhixing.documents",
    "zhixing.esign",
    "zhixing.measures",
    "zhixing.approvals",
    "zhixing.idempotency",
    "zhixing.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After the session, user and messages, which the page's layout reads.
    "zhixing.web.middleware.MethodNotAllowedPageMiddleware",
    "zhixing.web.middleware.PasswordChangeRequiredMiddleware",
    "zhixing.audit.middleware.AuditContextMiddleware",
    # Axes must come last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhixing.urls"
WSGI_APPLICATION = "zhixing.wsgi.application"
ASGI_APPLICATION = "zhixing.asgi.application"

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
                "csp.context_processors.nonce",
                "zhixing.web.context_processors.navigation",
            ],
        },
    },
]

# Database
DEFAULT_SQLITE_URL = f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or DEFAULT_SQLITE_URL,
        conn_max_age=int(os.environ.get("ZHIXING_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Owner-only, because the database file contains password hashes, tokens and personal data.
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process and the worker read while one of them writes.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a database file beside this one, not Django's in-memory default. With an
    # in-memory database every thread of the live test server shares the test's connection
    # and its transaction state, and other threads' connections meet shared-cache table locks
    # ("database table is locked"), so live-page tests failed at random. A file gives each
    # thread its own connection, as in production.
    sqlite_name = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {
        "NAME": str(sqlite_name.with_name(f"{sqlite_name.stem}-test{sqlite_name.suffix}"))
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Users and authentication
AUTH_USER_MODEL = "courts.User"
AUTHENTICATION_BACKENDS = [
    # Axes checks the lockout before any credential is compared.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "zhixing.courts.passwords.TranslatedMinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "zhixing.courts.passwords.CharacterClassValidator"},
    {"NAME": "zhixing.courts.passwords.NotContainingUsernameValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = int(os.environ.get("ZHIXING_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ZHIXING_LOGIN_LOCKOUT_MINUTES", "15")))
# Lock the user name from the client address that failed, so that one attacker cannot lock
# an officer out from every desk.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "zhixing.web.views.locked_out"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Sessions expire after a period of inactivity and when the browser closes.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("ZHIXING_SESSION_IDLE_MINUTES", "30"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Security headers
HTTPS = _env_flag("ZHIXING_HTTPS", default=False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("ZHIXING_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

# Every page is served from this host alone: no inline script, no inline style, nothing from
# another origin, because court intranets have no internet and the pages must not need it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Internationalisation: Chinese by default, English as the complete translation.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "zhixing" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Static files: front-end packages come from npm (node_modules) at set-up time.
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/pico", NODE_MODULES / "@picocss" / "pico" / "css"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# On one machine (embedded and demo modes) files are served straight from their source folders,
# so no collectstatic run is needed. Production runs `zhixing collectstatic` at deployment.
WHITENOISE_USE_FINDERS = MODE != "production"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "zhixing.authentication.AuditedTokenAuthentication",
        "zhixing.authentication.AuditedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "zhixing.api_schema.ErrorDocumentingAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "zhixing.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "zhixing.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zhixing API",
    "DESCRIPTION": "REST API of the enforcement command center platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name per choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "ClosingModeEnum": "zhixing.cases.models.EnforcementCase.ClosingMode",
        "PartyKindEnum": "zhixing.cases.models.Party.Kind",
        "FlowStepEnum": "zhixing.cases.models.FlowNode.Kind",
    },
}

# Background work. With a broker URL (production: RabbitMQ), workers run under Celery and a
# queue message wakes them; without one, `zhixing serve` runs the same loops in threads. The
# database holds every job, so a lost message delays work and loses nothing.
CELERY_BROKER_URL = os.environ.get("ZHIXING_BROKER_URL", "")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("ZHIXING_QUEUE", "zhixing")
# A task is acknowledged after it ran, so a worker that dies mid-task leaves it to another.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "Asia/Shanghai"
# The periodic passes pick up what no message announced: retries after backoff, polls for
# answers, expiries, lapsed leases. A tick that waited longer than its interval is dropped.
GATEWAY_TICK_SECONDS = float(os.environ.get("ZHIXING_GATEWAY_TICK_SECONDS", "2"))
CELERY_BEAT_SCHEDULE = {
    "gateway-pass": {
        "task": "zhixing.linkage.gateway_pass",
        "schedule": GATEWAY_TICK_SECONDS,
        "options": {"expires": GATEWAY_TICK_SECONDS},
    },
    "timers": {
        "task": "zhixing.timers",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
    "import-jobs": {
        "task": "zhixing.cases.run_import_jobs",
        "schedule": 30.0,
        "options": {"expires": 30.0},
    },
}

# Electronic seals. Issued certificates name ZHIXING_PUBLIC_URL + /esign/crl.der as their CRL
# distribution point. With ZHIXING_TSA_URL set, every seal carries an RFC 3161 timestamp from
# that service. ZHIXING_PKCS11_MODULE, _TOKEN and _PIN select a hardware token for the seal
# keys (zhixing/esign/tokens.py). Private keys are encrypted with ZHIXING_KEY_PASSPHRASE.
ESIGN_PUBLIC_URL = os.environ.get("ZHIXING_PUBLIC_URL", "http://127.0.0.1:8000")
ESIGN_TSA_URL = os.environ.get("ZHIXING_TSA_URL", "")
ESIGN_PKCS11_MODULE = os.environ.get("ZHIXING_PKCS11_MODULE", "")
ESIGN_PKCS11_TOKEN = os.environ.get("ZHIXING_PKCS11_TOKEN", "")
ESIGN_PKCS11_PIN = os.environ.get("ZHIXING_PKCS11_PIN", "")
# Outside production a court's seal certificate is issued the first time the court seals.
ESIGN_AUTO_ISSUE = _env_flag("ZHIXING_ESIGN_AUTO_ISSUE", default=MODE != "production")

# The courts' signature on gateway messages (zhixing/linkage/keys.py): "certificate" (default)
# with the key of the court's seal certificate (ECDSA or RSA with SHA-256), or "sm2" with an
# SM2 key pair per court (SM2 with SM3).
GATEWAY_SIGNATURE_MODES = ("certificate", "sm2")
GATEWAY_SIGNATURE = os.environ.get("ZHIXING_GATEWAY_SIGNATURE", "certificate")
if GATEWAY_SIGNATURE not in GATEWAY_SIGNATURE_MODES:
    raise ImproperlyConfigured(
        f"ZHIXING_GATEWAY_SIGNATURE={GATEWAY_SIGNATURE!r} is invalid; use "
        f"{' or '.join(GATEWAY_SIGNATURE_MODES)}."
    )

# Hours from the reminder to a court whose reply to an order is overdue until the supervision
# notice (督办) that every court above it sees.
COMMAND_SUPERVISION_HOURS = float(os.environ.get("ZHIXING_SUPERVISION_HOURS", "24"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "zhixing.logfilters.RedactPersonalData"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("ZHIXING_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # 403 and 404 responses are normal in a scoped application; server errors still log.
        "django.request": {"level": "ERROR"},
    },
}
