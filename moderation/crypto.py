"""Channel credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`.

The key comes from FIELD_ENCRYPTION_KEY; it may hold several comma-separated keys, newest
first, so keys can be rotated (MultiFernet decrypts with any, encrypts with the first).
Plaintext credentials never reach a log line, a page or an exception message.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialsError(Exception):
    """The stored credentials cannot be read (wrong key, corrupted). Says nothing secret."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip()]
    if not keys:
        raise CredentialsError("FIELD_ENCRYPTION_KEY is not set")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt_credentials(credentials: dict) -> bytes:
    return _fernet().encrypt(json.dumps(credentials, sort_keys=True).encode())


def decrypt_credentials(token: bytes | memoryview) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(bytes(token)))
    except (InvalidToken, ValueError):
        # Deliberately vague: the token or key must never appear in an error.
        raise CredentialsError("stored channel credentials could not be decrypted") from None
