"""Typed errors of the agent layer: each says whether a retry can help."""

from __future__ import annotations

from typing import ClassVar

from runtime.errors import BotrtError


class LLMError(BotrtError):
    """A chat-completions call failed; ``code`` names the failure for records and replies."""

    retryable: ClassVar[bool] = False
    code: ClassVar[str] = "llm_error"


class LLMRateLimited(LLMError):
    """HTTP 429: the provider asks us to slow down, maybe saying for how long."""

    retryable = True
    code = "llm_rate_limited"

    def __init__(self, retry_after: float | None, detail: str = "") -> None:
        super().__init__(f"rate limited (retry after {retry_after}s): {detail}".rstrip(": "))
        self.status = 429
        self.retry_after = retry_after
        self.detail = detail


class LLMUnavailable(LLMError):
    """HTTP 5xx or no connection: the provider is down or overloaded."""

    retryable = True
    code = "llm_unavailable"

    def __init__(self, status: int | None, detail: str = "") -> None:
        super().__init__(f"provider unavailable (HTTP {status}): {detail}" if status else f"no connection: {detail}")
        self.status = status
        self.detail = detail


class LLMTimeout(LLMError):
    """No response (or no next stream event) within the per-request timeout."""

    retryable = True
    code = "llm_timeout"

    def __init__(self, after_s: float) -> None:
        super().__init__(f"no response within {after_s:g}s")
        self.after_s = after_s


class LLMRejected(LLMError):
    """HTTP 4xx other than 429: the request itself is wrong; retrying cannot help."""

    code = "llm_rejected"

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"request rejected (HTTP {status}): {detail}")
        self.status = status
        self.detail = detail


class LLMProtocolError(LLMError):
    """The server answered, but not in the chat-completions wire format."""

    code = "llm_protocol"

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class LLMEmptyAnswer(LLMError):
    """The model answered with neither text nor tool calls."""

    code = "empty_answer"

    def __init__(self) -> None:
        super().__init__("the model gave an empty answer")


class HttpCallError(BotrtError):
    """An HTTP tool's upstream could not be reached or did not answer in time."""

    def __init__(self, url: str, problem: str, *, timed_out: bool = False) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem
        self.timed_out = timed_out


class ToolDefinitionError(BotrtError):
    """A tool definition is malformed (bad schema, bad template); names the tool."""

    def __init__(self, tool: str, problem: str) -> None:
        super().__init__(f"tool {tool!r}: {problem}")
        self.tool = tool
        self.problem = problem


def error_for_status(status: int, detail: str = "", retry_after: float | None = None) -> LLMError:
    """Maps an HTTP error status to its typed error (transports call this)."""
    detail = detail[:500]
    if status == 429:
        return LLMRateLimited(retry_after, detail)
    # 408 (request timeout) and 409 (conflict/lock) are transient by OpenAI's own retry rules.
    if status >= 500 or status in (408, 409):
        return LLMUnavailable(status, detail)
    return LLMRejected(status, detail)


def parse_retry_after(value: str | None) -> float | None:
    """Reads a Retry-After header given in seconds; HTTP dates are rare from LLM APIs and ignored."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)
