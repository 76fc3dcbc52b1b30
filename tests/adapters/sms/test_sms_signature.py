"""X-Twilio-Signature: twilio-python's vectors, an independent signer, ports, repeats, JSON, GET."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import pytest
from msgspec.structs import replace

from adapters.errors import SignatureInvalid, SignatureMissing
from adapters.sms import SmsAdapter, compute_signature, url_variants
from tests.adapters.sms.support import HOOK_URL, form_request, get_request, recorded, recorded_params
from tests.fakes.twilio import sign_twilio, sign_twilio_json

TOKEN = "12345"
PARAMS = [
    ("ToCountry", "US"),
    ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("NumMedia", "0"),
    ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
    ("SmsStatus", "received"),
    ("Body", "¿Qué tal? 👋 a+b=c & d"),
    ("To", "+15005550006"),
    ("NumSegments", "1"),
    ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
    ("AccountSid", "AC00000000000000000000000000000001"),
    ("From", "+15551230001"),
    ("ApiVersion", "2010-04-01"),
    ("ToZip", ""),
]
BODY = urlencode(PARAMS).encode()
REPEATED = [("b", "2"), ("a", "x"), ("b", "1"), ("b", "2"), ("B", "0")]
JSON_BODY = b'{"MessageSid":"SM0123","MessageStatus":"delivered"}'
GET_URL = HOOK_URL + "?From=%2B15551230001&Body=hi"

# Reference signatures produced with twilio 9.13.0 (twilio-python) in a throwaway venv outside
# the repo, key "12345":
#   v = twilio.request_validator.RequestValidator("12345")
#   v.compute_signature(HOOK_URL, dict(PARAMS))                                   -> FORM
#   v.compute_signature("https://bots.example.com:443/hooks/sms/support", ...)    -> FORM_443
#   v.compute_signature("https://bots.example.com:8443/hooks/sms/support", ...)   -> FORM_8443
#   v.compute_signature(HOOK_URL, <MultiDict of REPEATED with getall()>)          -> REPEATED_SIG
#   v.compute_signature(GET_URL, {})                                              -> GET_SIG
#   v.compute_signature(HOOK_URL + "?bodySHA256=" + sha256(JSON_BODY), {})        -> JSON_SIG
#   v.compute_signature(HOOK_URL, dict(PARAMS), algorithm="HMAC_SHA256")          -> SHA256_SIG
# and each was checked with v.validate(...) the way the adapter is asked to (with/without port).
FORM = "UE4F+FZauALSf4kHxvRMjztURRw="
FORM_443 = "0X6vFZdpYMKlIke75DhY5++eoDg="
FORM_8443 = "a/AeVOdbqEm7TihTxtOBVtePXWg="
REPEATED_SIG = "G7ndU2p+xFxpIEX11ugGmWi5uvA="
GET_SIG = "qAvm/0TWaU7ci2JnijSFTGxsZuI="
JSON_HASH = "35290e0fc4ccf64625db6d7b100c20c0b1bfb84eb7d71c80f498fcd434a573f2"
JSON_SIG = "wDW7P8dCp1jwbObYjv8YFZCM9tc="
SHA256_SIG = "wG/wjBp2zXatWIY/I2Cm2l1M+JmHS+l6BYfJZR+NmS8="


def test_twilio_python_vectors_match_both_implementations() -> None:
    assert compute_signature(TOKEN, HOOK_URL, PARAMS) == sign_twilio(TOKEN, HOOK_URL, PARAMS) == FORM
    assert compute_signature(TOKEN, HOOK_URL, REPEATED) == sign_twilio(TOKEN, HOOK_URL, REPEATED) == REPEATED_SIG
    assert compute_signature(TOKEN, GET_URL) == sign_twilio(TOKEN, GET_URL) == GET_SIG
    assert compute_signature(TOKEN, HOOK_URL, PARAMS, hashlib.sha256) == SHA256_SIG
    assert hashlib.sha256(JSON_BODY).hexdigest() == JSON_HASH
    assert sign_twilio_json(TOKEN, HOOK_URL, JSON_BODY) == (f"{HOOK_URL}?bodySHA256={JSON_HASH}", JSON_SIG)


@pytest.mark.parametrize(
    ("request_url", "signature"),
    [
        pytest.param(HOOK_URL, FORM, id="same-url"),
        pytest.param(HOOK_URL, FORM_443, id="twilio-kept-default-port"),
        pytest.param("https://bots.example.com:443/hooks/sms/support", FORM, id="twilio-dropped-default-port"),
        pytest.param("https://bots.example.com:8443/hooks/sms/support", FORM_8443, id="custom-port"),
        pytest.param("https://bots.example.com:8443/hooks/sms/support", FORM, id="custom-port-dropped"),
    ],
)
def test_form_post_verifies_with_or_without_port(parser: SmsAdapter, request_url: str, signature: str) -> None:
    parser.verify(form_request(BODY, url=request_url, signature=signature), now=0)


def test_repeated_params_sign_their_distinct_values_sorted(parser: SmsAdapter) -> None:
    parser.verify(form_request(urlencode(REPEATED).encode(), signature=REPEATED_SIG), now=0)
    once = [("b", "2"), ("a", "x"), ("b", "1"), ("B", "0")]  # same set of values: same signature
    parser.verify(form_request(urlencode(once).encode(), signature=REPEATED_SIG), now=0)


def test_get_signs_the_url_only(parser: SmsAdapter) -> None:
    parser.verify(get_request(GET_URL, signature=GET_SIG), now=0)
    with pytest.raises(SignatureInvalid):
        parser.verify(get_request(GET_URL.replace("hi", "ho"), signature=GET_SIG), now=0)


def test_json_body_is_bound_by_body_sha256(parser: SmsAdapter) -> None:
    url = f"{HOOK_URL}?bodySHA256={JSON_HASH}"
    good = form_request(JSON_BODY, url=url, signature=JSON_SIG, content_type="application/json")
    parser.verify(good, now=0)
    with pytest.raises(SignatureInvalid):
        parser.verify(replace(good, body=JSON_BODY.replace(b"delivered", b"failed")), now=0)


def test_sha256_when_the_settings_header_names_it(parser: SmsAdapter) -> None:
    settings = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    parser.verify(form_request(BODY, signature=SHA256_SIG, x_twilio_webhooks_signature_settings=settings), now=0)
    with pytest.raises(SignatureInvalid):
        parser.verify(form_request(BODY, signature=SHA256_SIG), now=0)
    with pytest.raises(SignatureInvalid):
        parser.verify(form_request(BODY, signature=FORM, x_twilio_webhooks_signature_settings="algorithm=MD5"), now=0)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(urlencode([*PARAMS[:-1], ("ToZip", "94105")]).encode(), id="value-changed"),
        pytest.param(urlencode([*PARAMS, ("Extra", "1")]).encode(), id="param-added"),
        pytest.param(urlencode(PARAMS[1:]).encode(), id="param-removed"),
        pytest.param(b"\xff=\xfe", id="undecodable"),
    ],
)
def test_tampered_bodies_are_refused(parser: SmsAdapter, body: bytes) -> None:
    with pytest.raises(SignatureInvalid):
        parser.verify(form_request(body, signature=FORM), now=0)


def test_other_url_or_token_is_refused(parser: SmsAdapter) -> None:
    with pytest.raises(SignatureInvalid):
        parser.verify(form_request(BODY, url=HOOK_URL + "/other", signature=FORM), now=0)
    with pytest.raises(SignatureInvalid):
        parser.verify(form_request(BODY, signature=sign_twilio("54321", HOOK_URL, PARAMS)), now=0)


def test_missing_signature_is_signature_missing(parser: SmsAdapter) -> None:
    with pytest.raises(SignatureMissing):
        parser.verify(form_request(BODY), now=0)
    with pytest.raises(SignatureMissing):
        parser.verify(form_request(BODY, signature=""), now=0)


def test_recorded_webhooks_verify_when_signed_independently(parser: SmsAdapter) -> None:
    for name in ("incoming_sms", "incoming_mms", "status_delivered", "whatsapp_button"):
        signature = sign_twilio(TOKEN, HOOK_URL, recorded_params(name))
        parser.verify(form_request(recorded(name), signature=signature), now=0)


@pytest.mark.parametrize(
    ("url", "variants"),
    [
        ("https://h.example/p", ["https://h.example/p", "https://h.example:443/p"]),
        ("http://h.example/p?a=1", ["http://h.example/p?a=1", "http://h.example:80/p?a=1"]),
        ("https://h.example:8443/p", ["https://h.example:8443/p", "https://h.example/p"]),
        ("https://u:pw@h.example/p", ["https://u:pw@h.example/p", "https://h.example/p", "https://h.example:443/p"]),
        ("http://[::1]:8080/p", ["http://[::1]:8080/p", "http://[::1]/p"]),
    ],
)
def test_url_variants(url: str, variants: list[str]) -> None:
    assert url_variants(url) == variants
