"""Test settings: the real engines (PostgreSQL, Redis) from DATABASE_URL / REDIS_URL.

``./dev test`` starts embedded ones when the variables are not set; CI points them at the
machine's services. Only what must differ for speed or isolation is changed here.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
# A fixed test key (Fernet, base64 of 32 bytes) so encrypted fixtures are reproducible.
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "RoMuLAqwyi5lEo6V646kFflgjoBSoIT5HIN0PHYPPNI=")

from config.settings import *  # noqa: E402,F403

# Fast hashing: tests create many users; security of test passwords is irrelevant.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "test"  # noqa: F405
META_APP_SECRET = "test-meta-app-secret"
META_VERIFY_TOKEN = "test-meta-verify-token"
X_CONSUMER_SECRET = "test-x-consumer-secret"
GOOGLE_CLIENT_ID = "test-google-client.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "test-google-client-secret"
X_CLIENT_ID = "test-x-client-id"
X_CLIENT_SECRET = "test-x-client-secret"
