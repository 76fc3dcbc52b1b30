"""Graph API refusals: the Graph error's code travels with the exception."""

from __future__ import annotations

from adapters.errors import AdapterError, PermanentSendError


class GraphRefused(PermanentSendError):
    """The Graph API refused a call for good; carries its error code, subcode and trace id."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        super().__init__(status, detail)
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id


class OutsideServiceWindow(GraphRefused):
    """The 24-hour customer-service window is closed: only a template may be sent now.

    WhatsApp answers error 131047 ("re-engagement message"); Instagram answers code 10 with
    subcode 2018278 ("sent outside of allowed window"). The outbox reacts by sending the
    channel's template (WhatsApp) or by dropping the message (Instagram has no templates).
    """


class MediaTooLarge(AdapterError):
    """A media download went past the byte limit the caller allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"media larger than {limit} bytes")
        self.limit = limit
