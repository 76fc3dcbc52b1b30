"""What the WhatsApp and Instagram adapters share: the adapter base, webhook verification, the Graph API client."""

from adapters.meta.adapter import MetaAdapter, MetaConfig
from adapters.meta.errors import GraphRefused, MediaTooLarge, OutsideServiceWindow
from adapters.meta.graph import DEFAULT_API_BASE, GRAPH_VERSION, GraphClient
from adapters.meta.webhook import SIGNATURE_HEADER, handshake, verify_signature

__all__ = [
    "DEFAULT_API_BASE",
    "GRAPH_VERSION",
    "SIGNATURE_HEADER",
    "GraphClient",
    "GraphRefused",
    "MediaTooLarge",
    "MetaAdapter",
    "MetaConfig",
    "OutsideServiceWindow",
    "handshake",
    "verify_signature",
]
