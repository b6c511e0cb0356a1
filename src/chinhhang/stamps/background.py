"""Issuing long runs in the background: the portal's request returns at once and the run's
page shows progress (the run's `filled` count, advanced with every committed chunk).

One worker thread per process: issuing is bulk writing, and two runs filling at once would
only take turns on the database. Runs left unfinished by a restart are resumed at start-up
(`resume_unfinished`) from where their last chunk stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from threading import Event

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from chinhhang.db import session_scope
from chinhhang.stamps.codes import Keyring
from chinhhang.stamps.models import StampRun
from chinhhang.stamps.services.runs import complete_run, fill_run

log = logging.getLogger(__name__)


class RunFiller:
    def __init__(
        self, engine: Engine, keyring: Callable[[], Keyring], sessions: sessionmaker[Session]
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.sessions = sessions
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fill-run")
        self.stopping = Event()

    def submit(self, run: StampRun) -> Future[None]:
        """Fill the run (from its `filled` count), then complete it: the activation it was
        issued with, if any (`complete_run`). The run must be committed before."""
        run_id = run.id

        def work() -> None:
            try:
                fill_run(self.engine, run, self.keyring(), stop=self.stopping)
                if self.stopping.is_set():
                    return
                with session_scope(self.sessions) as session:
                    complete_run(session, run_id)
            except Exception:  # a background failure must be logged, not lost in a Future
                log.exception("filling stamp run %s failed; it stays 'issuing'", run_id)
                raise

        return self.executor.submit(work)

    def close(self) -> None:
        """Stop after the chunk being written; the run resumes at the next start-up."""
        self.stopping.set()
        self.executor.shutdown(wait=True, cancel_futures=True)
