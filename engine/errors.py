"""Engine errors that name what is wrong and where."""

from __future__ import annotations

from runtime.errors import BotrtError


class BotFileError(BotrtError):
    """A bot file cannot be read or does not validate."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class FlowError(BotrtError):
    """A flow is malformed; names the node."""

    def __init__(self, node: str, problem: str) -> None:
        super().__init__(f"flow node {node!r}: {problem}")
        self.node = node
        self.problem = problem


class NluSpecError(BotrtError):
    """The [nlu] table is malformed; names the intent or entity."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"nlu {name!r}: {problem}")
        self.name = name
        self.problem = problem


class EmbedderError(BotrtError):
    """An embedder could not embed (model missing, endpoint down); the NLU falls back to lexical."""

    def __init__(self, embedder: str, problem: str) -> None:
        super().__init__(f"embedder {embedder}: {problem}")
        self.embedder = embedder
        self.problem = problem


class HttpCallError(BotrtError):
    """An http node's request failed before a response came (connection, timeout, bad URL)."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem


class FlowVersionError(BotrtError):
    """A flow version is already held with different content."""

    def __init__(self, version: int, problem: str) -> None:
        super().__init__(f"flow version {version}: {problem}")
        self.version = version
        self.problem = problem
