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

from sqlalchemy import Engine

from chinhhang.stamps.codes import Keyring
from chinhhang.stamps.models import StampRun
from chinhhang.stamps.services.runs import fill_run

log = logging.getLogger(__name__)


class RunFiller:
    def __init__(self, engine: Engine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fill-run")

    def submit(self, run: StampRun, then: Callable[[], None] | None = None) -> Future[None]:
        """Fill the run (from its `filled` count), then call `then` (e.g. activate it)."""
        run_id = run.id

        def work() -> None:
            try:
                fill_run(self.engine, run, self.keyring)
                if then is not None:
                    then()
            except Exception:  # a background failure must be logged, not lost in a Future
                log.exception("filling stamp run %s failed; it stays 'issuing'", run_id)
                raise

        return self.executor.submit(work)

    def close(self) -> None:
        """Stop after the chunk being written; the run resumes at the next start-up."""
        self.executor.shutdown(wait=True, cancel_futures=True)
