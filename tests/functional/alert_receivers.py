"""Real receivers for alert deliveries: an HTTP server that verifies webhook signatures and
drops repeated idempotency keys, as a careful customer's would, and a real SMTP server."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from chinhhang.alerts.signing import verify
from chinhhang.db import utcnow
from tests.functional.test_concurrency import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int


@dataclass
class Receiver:
    """What a webhook receiver saw and what it accepted (each key at most once)."""

    secret: str = ""
    # Status codes to answer, in order; 200 once they run out.
    answers: list[int] = field(default_factory=list)
    # Hold the first request after accepting it, until `release` (a lost answer).
    stall_first: bool = False
    # Where a 3xx answer points (a receiver that tries to bounce the request elsewhere).
    location: str = ""
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        verified = verify(self.secret, headers.get("x-chinhhang-signature", ""), body, utcnow())
        key = headers.get("idempotency-key", "")
        with self.lock:
            stall = self.stall_first and not self.requests
            status = (self.answers.pop(0) if self.answers else 200) if verified else 401
            self.seen[key] += 1
            if 200 <= status < 300 and key not in self.accepted:
                self.accepted[key] += 1  # a repeat is answered 200 and dropped
            self.requests.append(Received(headers, body, verified, status))
        if stall:
            self.stalled.set()
            self.release.wait(30)
        return status

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [request.body for request in self.requests]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver.handle(headers, body)
            try:
                self.send_response(status)
                if 300 <= status < 400 and receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender is gone (killed while we stalled)
                pass

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@contextmanager
def webhook_receiver(**options: Any) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/chinhhang"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(port=free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
