"""WhatsApp Cloud API channel."""

from adapters.whatsapp.adapter import WhatsAppAdapter
from adapters.whatsapp.config import WhatsAppConfig

__all__ = ["WhatsAppAdapter", "WhatsAppConfig"]
