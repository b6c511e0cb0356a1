"""`/healthz` (liveness) and `/readyz` (readiness).

Liveness asks only that the process answers: an orchestrator restarts a process that fails
it, and a database outage is no reason to restart every worker. Readiness asks whether this
worker can do its job: the database answers, its schema is at the migrations' head (a worker
of a newer release must not serve an old schema, nor an old one a newer), and Redis answers
when configured (the throttles share their counts there). A failure is a 503 whose JSON body
names the check and says what is wrong in a word; the error itself is logged, and neither
carries a URL or a password.

The PostgreSQL check opens its own connection with a short timeout rather than borrowing the
pool's: a probe must not wait behind a saturated pool, nor hang on an unreachable server.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cached_property

from alembic.script import ScriptDirectory
from redis import Redis
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chinhhang.config import Settings
from chinhhang.db import alembic_config

log = logging.getLogger(__name__)
PROBE_TIMEOUT_SECONDS = 2
# How long one answer of /readyz stands (per worker process).
CHECK_TTL_SECONDS = 1.0
OK = "ok"


class Readiness:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._lock = threading.Lock()
        self._last: tuple[float, dict[str, str]] | None = None

    @cached_property
    def head(self) -> str | None:
        """The migrations' head revision (read from the scripts once per process)."""
        return ScriptDirectory.from_config(alembic_config(self.settings)).get_current_head()

    @cached_property
    def _probe_engine(self) -> Engine:
        if self.settings.is_sqlite:
            return self.engine  # a local file: nothing to wait for
        return create_engine(
            self.settings.sqlalchemy_url,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args={
                "connect_timeout": PROBE_TIMEOUT_SECONDS,
                "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000}",
            },
        )

    @cached_property
    def _redis(self) -> Redis:
        return Redis.from_url(
            self.settings.redis_url or "",
            socket_timeout=PROBE_TIMEOUT_SECONDS,
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        )

    def checks(self) -> dict[str, str]:
        """Each check's state: "ok", or a word saying what is wrong. Kept CHECK_TTL_SECONDS:
        each check opens its own database connection, and callers polling fast (a load
        balancer, or anyone reaching a server directly) must not exhaust the database's."""
        with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._last[0] >= CHECK_TTL_SECONDS:
                self._last = (now, self._check())
            return dict(self._last[1])

    def _check(self) -> dict[str, str]:
        found = {"database": OK, "migrations": OK}
        try:
            with self._probe_engine.connect() as connection:
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
        except Exception as error:  # any failure means not ready, never a 500
            if _missing_table(error):
                found["migrations"] = "not applied"
            else:
                log.warning("readiness: database unreachable (%s)", _describe(error))
                found["database"] = "unreachable"
                found["migrations"] = "unknown"
        else:
            if revision != self.head:
                found["migrations"] = "behind" if revision else "not applied"
        if self.settings.redis_url:
            try:
                self._redis.ping()
                found["redis"] = OK
            except Exception as error:  # a dead Redis: not ready (the throttles fail open)
                log.warning("readiness: redis unreachable (%s)", _describe(error))
                found["redis"] = "unreachable"
        return found

    def close(self) -> None:
        if "_probe_engine" in self.__dict__ and self._probe_engine is not self.engine:
            self._probe_engine.dispose()
        if "_redis" in self.__dict__:
            self._redis.close()


def _missing_table(error: Exception) -> bool:
    message = str(error).lower()
    return "alembic_version" in message and ("no such table" in message or "does not" in message)


def _describe(error: Exception) -> str:
    """The error's kind and first line, without SQLAlchemy's background link."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}"[:200]


async def healthz(_request: Request) -> Response:
    """The process answers. No database: see the module's docstring."""
    return JSONResponse({"status": OK})


def readyz(request: Request) -> Response:
    checks = request.app.state.readiness.checks()
    ready = all(value == OK for value in checks.values())
    body = {"status": OK if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
