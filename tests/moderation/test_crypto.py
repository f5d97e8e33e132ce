import pytest
from cryptography.fernet import Fernet

from moderation.crypto import CredentialsError, decrypt_credentials, encrypt_credentials


def test_credentials_round_trip_and_are_not_stored_in_clear():
    token = encrypt_credentials({"access_token": "EAAB-secret-token"})
    assert b"EAAB-secret-token" not in token
    assert decrypt_credentials(token) == {"access_token": "EAAB-secret-token"}


def test_rotated_keys_still_decrypt_old_tokens(settings):
    old_key = settings.FIELD_ENCRYPTION_KEY
    token = encrypt_credentials({"access_token": "t"})
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old_key}"
    assert decrypt_credentials(token) == {"access_token": "t"}


def test_wrong_key_gives_an_error_that_reveals_nothing(settings):
    token = encrypt_credentials({"access_token": "EAAB-secret-token"})
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CredentialsError) as excinfo:
        decrypt_credentials(token)
    assert "EAAB" not in str(excinfo.value) and settings.FIELD_ENCRYPTION_KEY not in str(excinfo.value)
