"""Slack: Events API and block_actions webhooks in, chat.postMessage out.

Recipients are channel ids, or "channel:thread_ts" to answer inside a thread (see render.address).
"""

from adapters.slack.adapter import SlackAdapter
from adapters.slack.config import SlackConfig
from adapters.slack.inbound import to_plain
from adapters.slack.render import address, split_address

__all__ = ["SlackAdapter", "SlackConfig", "address", "split_address", "to_plain"]
