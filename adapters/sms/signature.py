"""Twilio's X-Twilio-Signature, computed as twilio-python's RequestValidator does (no dependency).

The string to sign is the full URL Twilio called, followed, for form POSTs, by every parameter
name and value: names sorted (case-sensitive, code point order), and for a repeated name its
distinct values sorted (`sorted(set(values))`). It is signed with HMAC-SHA1 keyed by the Auth
Token and base64-encoded. JSON bodies are not parameters: Twilio adds `bodySHA256` (hex SHA-256
of the raw body) to the query and signs the URL alone. GET requests sign the URL alone too.
Twilio is inconsistent about the port (kept for SMS over HTTPS, dropped for voice), so, like the
SDK, a request passes if the URL with or without its port matches.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from adapters.base import RawRequest
from adapters.errors import SignatureInvalid, SignatureMissing

Digest = Callable[[], Any]  # a hashlib constructor

# X-Twilio-Webhooks-Signature-Settings (twilio >= 9.13) names the HMAC when a Webhook Rule
# matched: "key=<id>,algorithm=HMAC_SHA256". Absent means the Auth Token's HMAC-SHA1.
_ALGORITHMS: Final[dict[str, Digest]] = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


def compute_signature(key: str, url: str, params: Iterable[tuple[str, str]] = (), digest: Digest = hashlib.sha1) -> str:
    """base64(HMAC(key, url + sorted name+value pairs)); repeated names sign their distinct values."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    signed = url + "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    return base64.b64encode(hmac.new(key.encode(), signed.encode(), digest).digest()).decode()


def url_variants(url: str) -> list[str]:
    """The URL as given, without its port and with an explicit one (the SDK's remove/add_port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [url]
    hostinfo = parts.netloc.rpartition("@")[2]  # Twilio never signs basic-auth userinfo
    host = hostinfo.rsplit(":", 1)[0] if port is not None else hostinfo
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    with_port = f"{host}:{port if port is not None else default}" if port is not None or default else hostinfo
    variants = [url, urlunsplit(parts._replace(netloc=host)), urlunsplit(parts._replace(netloc=with_port))]
    return list(dict.fromkeys(variants))


def form_params(body: bytes) -> list[tuple[str, str]]:
    """Every name/value pair of a form body, blanks kept (Twilio signs empty values too)."""
    return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, errors="strict")


def _digest(settings: str | None) -> Digest:
    for part in (settings or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            found = _ALGORITHMS.get(value.strip().upper())
            if found is None:
                raise SignatureInvalid(f"unsupported signature algorithm {value.strip()!r}")
            return found
    return hashlib.sha1


def _signed_params(request: RawRequest) -> Sequence[tuple[str, str]]:
    body_hash = next((v for k, v in request.query if k == "bodySHA256"), None)
    if body_hash is not None:
        actual = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(actual.encode(), body_hash.lower().encode()):
            raise SignatureInvalid("bodySHA256 does not match the body")
        return ()
    if request.method != "POST":
        return ()
    try:
        return form_params(request.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SignatureInvalid("form body cannot be decoded, so it cannot be verified") from exc


def verify_request(request: RawRequest, key: str) -> None:
    """Raises SignatureMissing or SignatureInvalid unless X-Twilio-Signature matches."""
    signature = request.header("x-twilio-signature")
    if not signature:
        raise SignatureMissing("X-Twilio-Signature missing")
    digest = _digest(request.header("x-twilio-webhooks-signature-settings"))
    params = _signed_params(request)
    given = signature.strip().encode()
    # Every variant is compared (no early exit), each in constant time.
    matches = [
        hmac.compare_digest(compute_signature(key, url, params, digest).encode(), given)
        for url in url_variants(request.url)
    ]
    if not any(matches):
        raise SignatureInvalid("X-Twilio-Signature does not match")
