"""Settings for the moderation console.

One env-driven file (after healthchecks' ``hc/settings.py``). Every setting that differs
between a laptop, CI and production comes from the environment, and a missing secret fails
loudly at start-up rather than silently falling back to something insecure. The README's
"Configuration" section lists every variable. Settings never start servers: ``./dev`` does.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = os.environ.get(name, default)
    if required and not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set (see README).")
    return value or ""


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false).")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# A development key is only acceptable when DEBUG is on; production must supply its own.
SECRET_KEY = env("DJANGO_SECRET_KEY", required=not DEBUG) or "dev-only-insecure-key-do-not-deploy"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "audit",
    "accounts",
    "policy",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes goes last: it needs the authenticated user and must see every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "csp.context_processors.nonce",
                "accounts.context_processors.roles",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", required=True),
        # Persistent connections: the web and worker processes reuse them; health checks
        # stop a restarted PostgreSQL from surfacing as errors on the next request.
        conn_max_age=60,
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", required=True)
# Redis down is a cache miss, not an error (config/cache.py), so pages that only read work
# while Redis is away; a Redis that stops answering is given up on within a second.
CACHES = {
    "default": {
        "BACKEND": "config.cache.TolerantRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "console",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
# Sessions live in PostgreSQL, not in the cache: a signed-in officer keeps working while Redis
# is down (a cache-backed session would sign everyone out, and cached_db would add a Redis
# round trip to every request to save one indexed query).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Five wrong passwords lock the username+address pair for an hour (NHS DSPT expects lockout).
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "en-gb"
# Stored in UTC; working hours and bank holidays are computed in Europe/London (DESIGN.md).
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security headers. Production defaults are strict; ./dev (DEBUG) runs on plain http.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = 60 * 60 * 10  # a working day plus slack; officers sign in each morning
SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# CSP from day one (STYLE.md): no CDN, no inline handlers, inline script only with the nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Celery: the database row is the queue, the message only a doorbell (STYLE.md, pretix).
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# With acks_late, a message whose worker died is redelivered instead of acknowledged.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(env("CELERY_TASK_SOFT_TIME_LIMIT", "120"))
CELERY_TASK_TIME_LIMIT = int(env("CELERY_TASK_TIME_LIMIT", "150"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing while Redis is down or unreachable must not hold the request that committed the
# work (moderation/doorbells.py: the message is only a doorbell, and the sweeper rings
# again): one quick retry (a pooled connection Redis closed when it restarted), and socket
# timeouts so a Redis that stops answering without closing its connections is given up on.
# Measured: 2 s when Redis is unreachable, 6 s when it stopped answering on a pooled
# connection (refused connections fail at once). With Celery's defaults (3 retries, no
# socket timeout) such a publish waited for as long as Redis did not answer.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis redelivers an unacknowledged message after this; longer than the hard time limit.
    "visibility_timeout": 600,
    "socket_connect_timeout": 2,
    # Above the worker's BRPOP wait (kombu's brpop_timeout, 1 s), which must not time out.
    "socket_timeout": 2,
}
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule"))
# How often the sweeper looks for rows whose task was lost (seconds), and how old a row
# must be before it counts as lost (a freshly committed row's task is normally in flight).
SWEEPER_INTERVAL_SECONDS = int(env("SWEEPER_INTERVAL_SECONDS", "60"))
SWEEPER_GRACE_SECONDS = int(env("SWEEPER_GRACE_SECONDS", "60"))
SWEEPER_BATCH_SIZE = int(env("SWEEPER_BATCH_SIZE", "500"))

# Channel credentials are encrypted at rest with this Fernet key (cryptography).
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", required=not DEBUG)

# Platform APIs: every base URL is a setting so tests and the demo point at local servers.
FACEBOOK_API_BASE = env("FACEBOOK_API_BASE", "https://graph.facebook.com/v25.0")
INSTAGRAM_API_BASE = env("INSTAGRAM_API_BASE", "https://graph.facebook.com/v25.0")
YOUTUBE_API_BASE = env("YOUTUBE_API_BASE", "https://www.googleapis.com/youtube/v3")
X_API_BASE = env("X_API_BASE", "https://api.x.com/2")
PLATFORM_HTTP_TIMEOUT = float(env("PLATFORM_HTTP_TIMEOUT", "10"))
META_APP_SECRET = env("META_APP_SECRET")
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN")
X_CONSUMER_SECRET = env("X_CONSUMER_SECRET")
# OAuth token endpoints, settings like the base URLs so tests and the simulator point them at
# a local server: Google (YouTube, ~1 h access tokens), X (2 h, rotating refresh tokens) and
# Instagram Login (60-day tokens renewed daily). See README "Platforms".
GOOGLE_TOKEN_URL = env("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")
X_TOKEN_URL = env("X_TOKEN_URL", "https://api.x.com/2/oauth2/token")
INSTAGRAM_REFRESH_URL = env("INSTAGRAM_REFRESH_URL", "https://graph.instagram.com/refresh_access_token")
# The OAuth apps' client credentials: one app per platform serves every channel, so they are
# deployment settings, not stored per channel. X_CLIENT_SECRET is empty for a public client.
GOOGLE_CLIENT_ID = env("GOOGLE_CLIENT_ID")
GOOGLE_CLIENT_SECRET = env("GOOGLE_CLIENT_SECRET")
X_CLIENT_ID = env("X_CLIENT_ID")
X_CLIENT_SECRET = env("X_CLIENT_SECRET")
# How often beat looks for channels due a poll (each channel has its own interval).
POLL_SCHEDULER_SECONDS = int(env("POLL_SCHEDULER_SECONDS", "10"))
# Largest webhook body accepted (bytes). Meta batches up to ~1000 changes per delivery,
# ~300 KB at realistic comment lengths; 1 MB leaves room without letting one request pin a
# worker. Larger bodies get 400 before anything is stored.
WEBHOOK_MAX_BODY_BYTES = int(env("WEBHOOK_MAX_BODY_BYTES", str(1024 * 1024)))

# Mail: the duty manager is paged and safeguarding referrals are sent by e-mail.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "moderation-console@localhost")
SAFEGUARDING_EMAIL = env("SAFEGUARDING_EMAIL", "LICB.safeguarding1@nhs.net")
# Absolute base for links in e-mails (the duty manager opens them from a phone).
CONSOLE_BASE_URL = env("CONSOLE_BASE_URL", "http://127.0.0.1:8000")

# Triage service levels (moderation/sla.py). Ordinary first looks use the rule set's
# working_hours.first_look_minutes (admin-editable); escalations are due this many
# wall-clock minutes after arrival, day or night. An item is "at risk" when it falls due
# within the next SLA_AT_RISK_WORKING_MINUTES of working time.
SLA_ESCALATION_FIRST_LOOK_MINUTES = int(env("SLA_ESCALATION_FIRST_LOOK_MINUTES", "15"))
SLA_AT_RISK_WORKING_MINUTES = int(env("SLA_AT_RISK_WORKING_MINUTES", "60"))
# Out-of-hours paging (moderation/notify.py): the backup on the rota is paged when the duty
# manager has not acknowledged within DUTY_ACK_MINUTES; the sweep runs this often.
DUTY_ACK_MINUTES = int(env("DUTY_ACK_MINUTES", "15"))
ESCALATION_SWEEP_INTERVAL_SECONDS = int(env("ESCALATION_SWEEP_INTERVAL_SECONDS", "60"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Bad webhook signatures and lockouts land here; ship it to the SIEM in production.
        "security": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
