"""The alert worker: outbox rows into alerts, then due deliveries out, in a loop.

It runs as a daemon thread inside `serve` (CHINHHANG_ALERT_WORKER, on by default) or in the
foreground as `chinhhang alerts worker`; any number may run at once, in any number of
processes (grouping and delivery each take their rows with SKIP LOCKED or SQLite's write lock,
and deliveries are leased, see delivery.py). One pass: fold the outbox, then send what is due;
a pass that found a full batch is followed at once by the next, otherwise the worker sleeps
CHINHHANG_ALERT_POLL_SECONDS (and wakes at once when told to stop).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from chinhhang.alerts.delivery import CLAIM_BATCH, deliver_due
from chinhhang.alerts.grouping import outbox_waiting, process_outbox
from chinhhang.config import Settings
from chinhhang.db import session_scope, utcnow

log = logging.getLogger("chinhhang.alerts")
OUTBOX_BATCH = 200
STOP_WAIT_SECONDS = 15.0


class AlertWorker:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start delivering in a background thread (once; later calls do nothing)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name="alert-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end after the pass in hand (safe from a signal handler)."""
        self._stop.set()

    def close(self) -> None:
        """Stop after the delivery in hand; an unfinished one is sent again by the next worker
        once its lease runs out."""
        self.stop()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(STOP_WAIT_SECONDS)

    def run_once(self) -> tuple[int, int]:
        """One pass: (outbox rows folded into alerts, deliveries attempted)."""
        grouped = 0
        if outbox_waiting(self.sessions):  # no write lock for an empty outbox (SQLite)
            with session_scope(self.sessions) as session:
                grouped = process_outbox(session, utcnow(), limit=OUTBOX_BATCH)
        sent = deliver_due(self.sessions, self.settings)
        return grouped, sent

    def run_forever(self) -> None:
        """Loop until `stop`; an error is logged and the next pass tries again."""
        while not self._stop.is_set():
            try:
                grouped, sent = self.run_once()
            except Exception:  # a database hiccup or a bug must not end the worker
                log.exception("alert worker pass failed")
                grouped = sent = 0
            if grouped < OUTBOX_BATCH and sent < CLAIM_BATCH:
                self._stop.wait(self.settings.alert_poll_seconds)
