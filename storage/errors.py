"""Storage errors, typed so callers can tell what went wrong and what to do."""

from __future__ import annotations

from runtime.errors import BotrtError


class StorageError(BotrtError):
    """Base of storage failures."""


class MigrationChecksumMismatch(StorageError):
    """An applied schema file was edited; schema changes go in a new file."""

    def __init__(self, filename: str, recorded: str, current: str) -> None:
        super().__init__(
            f"schema file {filename} was edited after it was applied (recorded sha256 {recorded[:12]}..., "
            f"now {current[:12]}...). Applied migrations are immutable: revert the edit and put the "
            "change in a new file with a higher number."
        )
        self.filename = filename
        self.recorded = recorded
        self.current = current


class MigrationFailed(StorageError):
    """A schema file failed to apply; its transaction was rolled back."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"schema file {filename} failed and was rolled back: {reason}")
        self.filename = filename
        self.reason = reason


class MigrationMissing(StorageError):
    """The database records a migration whose file is gone."""

    def __init__(self, filename: str) -> None:
        super().__init__(f"the database has {filename} applied but sql/schema/ no longer has it")
        self.filename = filename


class ChannelSlugTaken(StorageError):
    """A channel slug is already used by another bot; slugs are unique in the deployment."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"channel slug {slug!r} already belongs to another bot; pick another slug")
        self.slug = slug


class EmbeddedDatabaseError(StorageError):
    """The embedded PostgreSQL could not be started."""
