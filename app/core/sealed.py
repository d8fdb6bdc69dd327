"""Secrets we must be able to read back (a device's HMAC key), kept encrypted at rest.

Sealed with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`, which wechatpy's extra installs)
under a key derived from the service's SECRET_KEY: a copy of the database alone reveals no device
secret. Rotating SECRET_KEY therefore means issuing the devices new secrets. Values stored before
sealing existed (no prefix) are read as they are.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:"


def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(f"linli-sealed:{key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str, key: str) -> str:
    """The secret encrypted for storage."""
    return PREFIX + _fernet(key).encrypt(secret.encode()).decode()


def unseal(stored: str, key: str) -> str | None:
    """The secret back from storage; None when it was sealed under another key."""
    if not stored.startswith(PREFIX):
        return stored  # stored in the clear before sealing existed
    try:
        return _fernet(key).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        return None
