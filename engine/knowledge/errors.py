"""Knowledge errors that say which document and what is wrong with it."""

from __future__ import annotations

from runtime.errors import BotrtError


class DocumentError(BotrtError):
    """A document cannot be ingested (unsupported type, unreadable, no text); names the file."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class KnowledgeBaseNotFound(BotrtError):
    """The bot has no knowledge base of that name, or the bot does not exist."""

    def __init__(self, bot: str, problem: str) -> None:
        super().__init__(f"bot {bot}: {problem}")
        self.bot = bot
        self.problem = problem
