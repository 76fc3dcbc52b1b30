"""What the WhatsApp and Instagram adapters do alike: settings, the webhook's handshake and signature, sending."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Final, Generic, Protocol, TypeVar

import aiohttp
import msgspec

from adapters.base import HttpReply, Parsed, RawRequest, SendResult
from adapters.meta.graph import GraphClient
from adapters.meta.webhook import handshake, verify_signature
from adapters.platform_http import PlatformHttp
from runtime.errors import ConfigError

_OK: Final = HttpReply(status=200)
# Settings every Meta channel needs; each product adds the id of the Graph node it sends from.
_SECRETS: Final = ("access_token", "app_secret", "verify_token")


class MetaConfig(Protocol):
    """The settings both channel configs have."""

    @property
    def slug(self) -> str: ...
    @property
    def access_token(self) -> str: ...
    @property
    def app_secret(self) -> str: ...
    @property
    def verify_token(self) -> str: ...
    @property
    def api_base(self) -> str: ...


ConfigT = TypeVar("ConfigT", bound=MetaConfig)


class MetaAdapter(abc.ABC, Generic[ConfigT]):
    """One Meta channel: a Graph node that sends through POST /{node}/messages.

    A product names the setting holding its node id and itself (for errors), and reads the
    message ids out of a send's answer; it adds parsing, rendering and anything of its own.
    """

    # The config field holding the sending node's id, e.g. "phone_number_id".
    _node_setting: ClassVar[str]
    # How errors name the channel, e.g. "a WhatsApp channel".
    _channel_name: ClassVar[str]
    # Meta's GET is only the hub.challenge handshake; notifications are POSTed.
    get_webhooks: ClassVar[bool] = False

    __slots__ = ("_config", "_graph", "_messages_path")

    def __init__(self, config: ConfigT, *, http: aiohttp.ClientSession, api: PlatformHttp | None = None) -> None:
        for name in (*_SECRETS, self._node_setting):
            if not getattr(config, name):
                raise ConfigError(f"channels.{config.slug}.{name}", f"must be set for {self._channel_name}")
        self._config = config
        self._graph = GraphClient(http=http, api_base=config.api_base, access_token=config.access_token, api=api)
        self._messages_path = f"/{getattr(config, self._node_setting)}/messages"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(slug={self._config.slug!r})"

    @property
    def config(self) -> ConfigT:
        return self._config

    def handshake(self, request: RawRequest) -> HttpReply | None:
        """Answers Meta's GET hub.challenge; None for a POST."""
        return handshake(request, self._config.verify_token)

    def verify(self, request: RawRequest, now: float) -> None:
        """Checks X-Hub-Signature-256; Meta signs no timestamp, so there is no staleness window."""
        verify_signature(request, self._config.app_secret)

    def ack(self, parsed: Parsed) -> HttpReply:
        """Meta wants a 200; the body is ignored."""
        return _OK

    @staticmethod
    @abc.abstractmethod
    def _message_ids(answer: bytes) -> Iterable[str]:
        """The ids of what a 2xx send answer says was sent; msgspec.DecodeError if unreadable."""

    async def _send_all(self, bodies: Sequence[Mapping[str, object]]) -> SendResult:
        # Parts go in order, each after the previous one was accepted. A failure part-way raises
        # and the outbox retries the whole message: the Graph API has no idempotency key to dedupe on.
        ids: list[str] = []
        for body in bodies:
            answer = await self._graph.post(self._messages_path, body)
            try:
                ids.extend(self._message_ids(answer))
            except msgspec.DecodeError:
                pass  # accepted (2xx) but unreadable: retrying would send it twice
        return SendResult(provider_ids=tuple(ids))
