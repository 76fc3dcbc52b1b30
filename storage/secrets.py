"""Secrets at rest: AES-256-GCM with BOTRT_SECRET_KEY, or a key generated into the data dir.

Each sealed value is nonce (12 bytes) + ciphertext + tag, bound to an "associated data" label
(e.g. the channel id and key name) so a sealed value cannot be moved to another row unnoticed.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path
from typing import Final, final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.errors import ConfigError
from storage.errors import StorageError

KEY_FILE: Final = "secret.key"
_NONCE: Final = 12


class SecretUnreadable(StorageError):
    """A sealed value does not open with this key (wrong key, or tampered)."""


@final
class SecretBox:
    """Seals and opens small secrets with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, label: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), label.encode())

    def open(self, sealed: bytes, label: str) -> str:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], label.encode()).decode()
        except InvalidTag as exc:
            raise SecretUnreadable(f"secret {label!r} does not open: wrong BOTRT_SECRET_KEY or tampered") from exc


def _decode_key(value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("BOTRT_SECRET_KEY", "is not base64 (make one: botrt secret-key)") from exc
    if len(key) != 32:
        raise ConfigError("BOTRT_SECRET_KEY", f"decodes to {len(key)} bytes; it must be 32 (make one: botrt secret-key)")
    return key


def new_key() -> str:
    """A fresh key in the form BOTRT_SECRET_KEY takes."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def load_secret_box(secret_key: str | None, data_dir: Path) -> SecretBox:
    """BOTRT_SECRET_KEY when set; else data_dir/secret.key, created 0600 on first use."""
    if secret_key:
        return SecretBox(_decode_key(secret_key))
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(new_key() + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(str(path), f"has permissions {oct(mode)}; run chmod 600 on it (it holds the secret key)")
    return SecretBox(_decode_key(path.read_text().strip()))
