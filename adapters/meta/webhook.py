"""What every Meta webhook shares: the hub.challenge handshake and the X-Hub-Signature-256 check."""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from adapters.base import HttpReply, RawRequest
from adapters.errors import SignatureInvalid, SignatureMissing

SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
_FORBIDDEN: Final = HttpReply(status=403, body=b"forbidden", content_type="text/plain")


def handshake(request: RawRequest, verify_token: str) -> HttpReply | None:
    """Answers Meta's GET verification: 200 with hub.challenge, or 403; None for any other method."""
    if request.method.upper() != "GET":
        return None
    query = dict(request.query)  # a repeated parameter keeps its last value
    mode = query.get("hub.mode")
    token = query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    # An empty configured token would let an empty hub.verify_token through.
    if mode != "subscribe" or token is None or challenge is None or not verify_token:
        return _FORBIDDEN
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return _FORBIDDEN
    return HttpReply(status=200, body=challenge.encode(), content_type="text/plain")


def verify_signature(request: RawRequest, app_secret: str) -> None:
    """Checks "sha256=" + hex HMAC-SHA256(app secret, raw body) in constant time."""
    header = request.header(SIGNATURE_HEADER)
    if not header:
        raise SignatureMissing(f"{SIGNATURE_HEADER} header missing")
    scheme, sep, given = header.strip().partition("=")
    # Anyone can compute an HMAC under an empty key, so an empty secret verifies nothing.
    if not sep or scheme.lower() != "sha256" or not app_secret:
        raise SignatureInvalid(f"{SIGNATURE_HEADER} is not a sha256 signature")
    expected = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise SignatureInvalid(f"{SIGNATURE_HEADER} does not match the body")
