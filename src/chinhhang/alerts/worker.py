"""Placeholder for the alert worker (issue 6 in progress)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from chinhhang.config import Settings


class AlertWorker:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    def start(self) -> None:
        """Start delivering in a background thread."""

    def close(self) -> None:
        """Stop after the delivery in hand."""
