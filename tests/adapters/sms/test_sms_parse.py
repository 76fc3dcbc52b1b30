"""Twilio webhooks to ParsedMessages: recorded messages, media, buttons, statuses, malformed."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from adapters.base import HttpReply, Location, Parsed
from adapters.errors import PayloadInvalid
from adapters.sms import EMPTY_TWIML, SmsAdapter
from runtime.events import Media
from tests.adapters.sms.support import HOOK_URL, form_request, get_request, recorded
from tests.fakes.twilio import incoming_sms, status_callback

AC = "AC00000000000000000000000000000001"


def _parse(adapter: SmsAdapter, name: str) -> Parsed:
    return adapter.parse(form_request(recorded(name)))


def _form(adapter: SmsAdapter, params: list[tuple[str, str]]) -> Parsed:
    return adapter.parse(form_request(urlencode(params).encode()))


def test_incoming_sms_is_text_from_the_sender(parser: SmsAdapter) -> None:
    (message,) = _parse(parser, "incoming_sms").messages
    assert (message.kind, message.external_id, message.sender, message.text) == (
        "text",
        "SM1f0e8ed4b4b3c1a2d5e6f7a8b9c0d1e2",
        "+15551230001",
        "Hi there! Can I book for 2 + 1 people? ¿Sí? 👋",
    )
    assert message.sender_name is None


def test_incoming_mms_is_media_one_per_item(parser: SmsAdapter) -> None:
    first, second = _parse(parser, "incoming_mms").messages
    base = f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Messages/MM5e0d8ed4b4b3c1a2d5e6f7a8b9c0d1e3/Media"
    assert (first.kind, first.external_id, first.text) == (
        "media",
        "MM5e0d8ed4b4b3c1a2d5e6f7a8b9c0d1e3",
        "Here are the photos",
    )
    assert first.media == Media(
        kind="image",
        url=f"{base}/ME0123456789abcdef0123456789abcdef",
        provider_id="ME0123456789abcdef0123456789abcdef",
        mime_type="image/jpeg",
        caption="Here are the photos",
    )
    assert (second.external_id, second.text) == ("MM5e0d8ed4b4b3c1a2d5e6f7a8b9c0d1e3:1", None)
    assert second.media == Media(
        kind="document",
        url=f"{base}/ME89abcdef0123456789abcdef01234567",
        provider_id="ME89abcdef0123456789abcdef01234567",
        mime_type="application/pdf",
    )


def test_status_callback_is_a_status_about_the_sent_message(parser: SmsAdapter) -> None:
    (status,) = _parse(parser, "status_delivered").messages
    sid = "SM9a8b7c6d5e4f30112233445566778899"
    assert (status.kind, status.status, status.ref_id, status.external_id) == (
        "status",
        "delivered",
        sid,
        f"{sid}:delivered",
    )
    assert status.sender == "+15551230001"  # To: the user the bot wrote to


def test_undelivered_is_failed_and_keyed_by_its_own_status(parser: SmsAdapter) -> None:
    (status,) = _parse(parser, "status_undelivered").messages
    assert (status.status, status.external_id) == ("failed", "SM9a8b7c6d5e4f30112233445566778800:undelivered")


@pytest.mark.parametrize(
    ("raw", "status"), [("sent", "sent"), ("read", "read"), ("failed", "failed"), ("canceled", "failed")]
)
def test_status_vocabulary(parser: SmsAdapter, raw: str, status: str) -> None:
    (message,) = _form(parser, status_callback("SM1", raw)).messages
    assert (message.status, message.external_id) == (status, f"SM1:{raw}")


@pytest.mark.parametrize("raw", ["queued", "accepted", "scheduled", "sending", "something_new"])
def test_intermediate_statuses_are_ignored(parser: SmsAdapter, raw: str) -> None:
    assert _form(parser, status_callback("SM1", raw)) == Parsed()
    assert _parse(parser, "status_sending") == Parsed()


def test_whatsapp_button_tap_is_a_postback(parser: SmsAdapter) -> None:
    (message,) = _parse(parser, "whatsapp_button").messages
    assert (message.kind, message.payload, message.title, message.sender, message.sender_name) == (
        "postback",
        "answer:yes",
        "Yes please",
        "whatsapp:+15551230001",
        "Ann",
    )


def test_whatsapp_location_is_a_location(parser: SmsAdapter) -> None:
    (message,) = _parse(parser, "whatsapp_location").messages
    assert message.kind == "location"
    assert message.location == Location(
        latitude=37.7879277, longitude=-122.4005227, name="Twilio HQ", address="375 Beale St, San Francisco"
    )


def test_an_empty_sms_is_ignored(parser: SmsAdapter) -> None:
    assert _form(parser, incoming_sms(body="  ")) == Parsed()


def test_an_incoming_message_with_message_status_received_is_still_a_message(parser: SmsAdapter) -> None:
    (message,) = _form(parser, incoming_sms(body="hi", sid="SM2", MessageStatus="received")).messages
    assert (message.kind, message.external_id) == ("text", "SM2")


def test_get_webhooks_carry_the_parameters_in_the_query(parser: SmsAdapter) -> None:
    url = HOOK_URL + "?" + urlencode(incoming_sms(body="via GET", sid="SM3"))
    (message,) = parser.parse(get_request(url)).messages
    assert (message.text, message.external_id) == ("via GET", "SM3")


def test_json_bodies_are_read_as_flat_objects(parser: SmsAdapter) -> None:
    body = json.dumps({"MessageSid": "SM4", "MessageStatus": "delivered", "To": "+1555", "ErrorCode": None}).encode()
    (message,) = parser.parse(form_request(body, content_type="application/json")).messages
    assert (message.kind, message.status, message.external_id) == ("status", "delivered", "SM4:delivered")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(urlencode([("From", "+1555"), ("Body", "x")]).encode(), id="no-MessageSid"),
        pytest.param(urlencode([("MessageSid", "SM1"), ("Body", "x")]).encode(), id="no-From"),
        pytest.param(urlencode(incoming_sms(NumMedia="two")).encode(), id="NumMedia-not-a-number"),
        pytest.param(urlencode(incoming_sms(NumMedia="11")).encode(), id="NumMedia-too-many"),
        pytest.param(urlencode(incoming_sms(NumMedia="-1")).encode(), id="NumMedia-negative"),
        pytest.param(
            urlencode(incoming_sms(media=[("https://x/a.jpg", "image/jpeg")], NumMedia="2")).encode(),
            id="MediaUrl1-missing",
        ),
        pytest.param(urlencode(incoming_sms(Latitude="north", Longitude="1")).encode(), id="bad-latitude"),
        pytest.param(b"MessageSid=SM1&From=%FF", id="undecodable"),
        pytest.param(b"", id="empty"),
    ],
)
def test_malformed_bodies_are_payload_invalid(parser: SmsAdapter, body: bytes) -> None:
    with pytest.raises(PayloadInvalid):
        parser.parse(form_request(body))


@pytest.mark.parametrize("body", [b"[1]", b"{not json"])
def test_malformed_json_is_payload_invalid(parser: SmsAdapter, body: bytes) -> None:
    with pytest.raises(PayloadInvalid):
        parser.parse(form_request(body, content_type="application/json"))


def test_ack_is_empty_twiml(parser: SmsAdapter) -> None:
    reply = parser.ack(_parse(parser, "incoming_sms"))
    assert reply == HttpReply(
        status=200, body=b'<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml"
    )
    assert reply.body == EMPTY_TWIML
    assert parser.handshake(get_request(HOOK_URL)) is None
