"""HTTP tools defined in data: a templated request, its response mapped into the tool result."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal, final
from urllib.parse import quote, urlencode

import msgspec

from engine.agents import template
from engine.agents.errors import HttpCallError, ToolDefinitionError
from engine.agents.ports import HttpCaller, HttpResponse
from engine.agents.tools import ToolContext, ToolResult, check_tool, error_result
from engine.agents.wire import FunctionSpec

# The scheme and host come from the definition, never from the model (no request forgery).
_ORIGIN: Final = re.compile(r"^https?://[^/{}?#]+(?:[/?#]|$)")
_SCOPES: Final = ("slots", "secrets")
_DECODER: Final = msgspec.json.Decoder()


class HttpToolConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The request template of an HTTP tool (tool_definitions.http_config).

    ``{{ arg }}``, ``{{ slots.name }}`` and ``{{ secrets.name }}`` fill the url (URL-quoted),
    query, headers and body; a body string that is exactly one placeholder keeps the value's
    JSON type. ``response`` maps result fields to dotted paths in the JSON answer
    (``{"temp": "main.temp", "first": "items[0].name"}``); empty passes the answer through.
    """

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    url: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    query: dict[str, str] = msgspec.field(default_factory=dict)
    body: Any = None
    response: dict[str, str] = msgspec.field(default_factory=dict)
    # What the model sees is bounded: a huge answer would eat the token budget.
    max_response_chars: int = 4000


@final
class HttpTool:
    """A tool that sends a templated HTTP request through an HttpCaller."""

    def __init__(self, *, spec: FunctionSpec, config: HttpToolConfig, caller: HttpCaller,
                 secrets: Mapping[str, str] | None = None, timeout_s: float = 10.0) -> None:
        self.spec = spec
        self.config = config
        self.timeout_s = timeout_s
        self._caller = caller
        self._secrets = dict(secrets or {})
        check_tool(self)
        self._check_templates()

    def _check_templates(self) -> None:
        name = self.spec.name
        if not _ORIGIN.match(self.config.url):
            raise ToolDefinitionError(name, f"url {self.config.url!r} must start with a literal http(s)://host")
        arguments = set(self.spec.parameters.get("properties", {}))
        used = template.names(self.config.url) + template.json_names(self.config.body)
        for value in (*self.config.headers.values(), *self.config.query.values()):
            used += template.names(value)
        for ref in used:
            head, _, rest = ref.partition(".")
            if head == "secrets" and rest not in self._secrets:
                raise ToolDefinitionError(name, f"template uses {{{{ {ref} }}}} but no such secret is configured")
            if head not in _SCOPES and head not in arguments:
                raise ToolDefinitionError(name, f"template uses {{{{ {ref} }}}}, which is not a parameter")

    def _scope(self, arguments: Mapping[str, Any], ctx: ToolContext) -> dict[str, Any]:
        return {**arguments, "slots": ctx.slots, "secrets": self._secrets}

    def build_request(self, arguments: Mapping[str, Any], ctx: ToolContext) -> tuple[str, dict[str, str], bytes | None]:
        """The URL, headers and body this call sends."""
        scope = self._scope(arguments, ctx)
        url = template.render(self.config.url, scope, escape=lambda text: quote(text, safe=""))
        query = {key: template.render(value, scope) for key, value in self.config.query.items()}
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        # A value with a line break could smuggle a second header into the request.
        headers = {
            key: template.render(value, scope).replace("\r", " ").replace("\n", " ")
            for key, value in self.config.headers.items()
        }
        body: bytes | None = None
        if self.config.body is not None:
            body = msgspec.json.encode(template.render_json(self.config.body, scope))
            if not any(key.lower() == "content-type" for key in headers):
                headers["Content-Type"] = "application/json"
        return url, headers, body

    async def __call__(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        url, headers, body = self.build_request(arguments, ctx)
        try:
            response = await self._caller.request(
                self.config.method, url, headers=headers, body=body, timeout_s=self.timeout_s
            )
        except HttpCallError as exc:
            code = "timeout" if exc.timed_out else "unreachable"
            return error_result(code, f"{self.spec.name}: the service did not answer ({exc.problem})")
        return self._result(response)

    def _result(self, response: HttpResponse) -> ToolResult:
        payload = self._decode(response.body)
        if not 200 <= response.status < 300:
            return ToolResult(content={"status": response.status, "error": self._trim(payload)}, is_error=True)
        if self.config.response and isinstance(payload, dict | list):
            mapped = {key: template.lookup(payload, path) for key, path in self.config.response.items()}
            return ToolResult(content={"status": response.status, "body": self._trim(mapped)})
        return ToolResult(content={"status": response.status, "body": self._trim(payload)})

    @staticmethod
    def _decode(body: bytes) -> Any:
        try:
            return _DECODER.decode(body) if body else None
        except msgspec.DecodeError:
            return body.decode("utf-8", errors="replace")

    def _trim(self, value: Any) -> Any:
        limit = self.config.max_response_chars
        if isinstance(value, str):
            return value if len(value) <= limit else value[:limit] + "…"
        encoded = msgspec.json.encode(value)
        if len(encoded) <= limit:
            return value
        return encoded[:limit].decode("utf-8", errors="ignore") + "…"
