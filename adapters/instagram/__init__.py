"""Instagram Direct channel (Messenger Platform for Instagram)."""

from adapters.instagram.adapter import InstagramAdapter
from adapters.instagram.config import InstagramConfig

__all__ = ["InstagramAdapter", "InstagramConfig"]
