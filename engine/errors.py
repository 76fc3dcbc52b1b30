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
