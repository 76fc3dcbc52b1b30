"""Twilio Programmable Messaging (SMS/MMS): signed form webhooks in, Messages.json out.

Buttons go out as numbered options; `resolve_numbered_reply` maps the user's "1" back to a payload.
"""

from adapters.sms.adapter import EMPTY_TWIML, SmsAdapter
from adapters.sms.config import SmsConfig
from adapters.sms.render import numbered_options, resolve_numbered_reply
from adapters.sms.signature import compute_signature, url_variants

__all__ = [
    "EMPTY_TWIML",
    "SmsAdapter",
    "SmsConfig",
    "compute_signature",
    "numbered_options",
    "resolve_numbered_reply",
    "url_variants",
]
