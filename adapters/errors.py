"""Adapter errors: each carries data and says whether to retry."""

from __future__ import annotations

from runtime.errors import ChannelError


class AdapterError(ChannelError):
    """Base of adapter failures."""


class SignatureMissing(AdapterError):
    """No signature header: answered 401."""

    http_status = 401


class SignatureInvalid(AdapterError):
    """Wrong or stale signature: answered 403."""

    http_status = 403


class PayloadInvalid(AdapterError):
    """A body that cannot be parsed: answered 400, nothing stored."""

    http_status = 400


class RateLimited(AdapterError):
    """The platform said 429; retry after the given seconds."""

    retryable = True

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(f"rate limited, retry after {retry_after:g} s {detail}".strip())
        self.retry_after = retry_after


class ProviderUnavailable(AdapterError):
    """5xx, timeout or connection failure: retry with backoff."""

    retryable = True


class PermanentSendError(AdapterError):
    """The platform refused for good (4xx other than 429): dead letter, no retry."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"platform refused ({status}): {detail}")
        self.status = status
        self.detail = detail
