"""The load: bounded loops of scans from a few concurrent clients, each answer recorded.

Every client is a loop on loopback: it picks a target (a stamp of some kind, or a forged code),
asks `/v/{code}` for JSON (the outcome and, for a genuine scan, its number: `scan_count` after
the increment) and records what came back. A loop ends at the first of: the controller's stop,
its share of the request budget, or a hard deadline, so no test can run away. Cookies are
refused (each request is a new phone: a grace cookie would answer from a read, counting
nothing), and the environment's proxies are ignored (trust_env=False).

A request that gets no HTTP answer (the connection reset by a killed worker, a timeout) is
recorded as unanswered, not raised: the crash test expects a few, and the invariants bound
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
)
REQUEST_TIMEOUT_SECONDS = 30.0
# Past the planned duration, loops stop anyway (the controller may wait for a worker's
# replacement; never longer than this).
GRACE_DEADLINE_SECONDS = 90.0
UNANSWERED = "unanswered"


@dataclass(frozen=True, slots=True)
class Target:
    """A kind of code and how often the clients pick it (weights are relative)."""

    kind: str
    codes: Sequence[str]
    weight: float


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str
    code: str
    # None when nothing came back (UNANSWERED outcome).
    status: int | None
    # The JSON outcome for 200/404, "throttled" (429), "busy" (503), "error" (other statuses,
    # or a body that is not the JSON verdict), or UNANSWERED.
    outcome: str
    # For 200 answers: the stamp's count as answered (a genuine scan's number).
    scan_count: int | None
    # Seconds since the load started, when the answer (or the failure) came.
    at: float


@dataclass
class LoadResult:
    answers: list[Answer] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.answers)

    def count(self, outcome: str) -> int:
        return sum(1 for answer in self.answers if answer.outcome == outcome)


def _no_cookies() -> CookieJar:
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _read(kind: str, code: str, response: httpx.Response, at: float) -> Answer:
    status = response.status_code
    if status == 429:
        return Answer(kind, code, status, "throttled", None, at)
    if status == 503:
        return Answer(kind, code, status, "busy", None, at)
    if status not in (200, 404):
        return Answer(kind, code, status, "error", None, at)
    try:
        body = response.json()
        outcome = str(body["outcome"])
        count = body.get("scan_count")
    except (ValueError, KeyError, TypeError):
        return Answer(kind, code, status, "error", None, at)
    return Answer(kind, code, status, outcome, int(count) if count is not None else None, at)


async def _client(
    base: str,
    targets: Sequence[Target],
    rng: random.Random,
    budget: int,
    stop: asyncio.Event,
    hard_deadline: float,
    started: float,
    answers: list[Answer],
) -> None:
    kinds = [target for target in targets if target.codes]
    weights = [target.weight for target in kinds]
    async with httpx.AsyncClient(
        base_url=base,
        timeout=REQUEST_TIMEOUT_SECONDS,
        cookies=_no_cookies(),
        trust_env=False,
        headers={"User-Agent": PHONE, "Accept": "application/json"},
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    ) as client:
        for _ in range(budget):
            if stop.is_set() or time.monotonic() > hard_deadline:
                return
            target = rng.choices(kinds, weights)[0]
            code = rng.choice(target.codes)
            try:
                response = await client.get(f"/v/{code}")
            except httpx.TransportError:
                answers.append(
                    Answer(target.kind, code, None, UNANSWERED, None, time.monotonic() - started)
                )
                continue
            answers.append(_read(target.kind, code, response, time.monotonic() - started))


async def _load(
    base: str,
    targets: Sequence[Target],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    seed: int,
    controller: Callable[[asyncio.Event], Awaitable[None]] | None,
) -> LoadResult:
    result = LoadResult()
    stop = asyncio.Event()
    started = time.monotonic()
    hard_deadline = started + seconds + GRACE_DEADLINE_SECONDS

    async def timed_stop() -> None:
        await asyncio.sleep(seconds)
        stop.set()

    async def control() -> None:
        try:
            if controller is None:
                await timed_stop()
            else:
                await controller(stop)
        finally:
            stop.set()

    budget = max(1, max_requests // clients)
    loops = [
        _client(
            base,
            targets,
            random.Random(seed * 1000 + n),
            budget,
            stop,
            hard_deadline,
            started,
            result.answers,
        )
        for n in range(clients)
    ]
    controlling = asyncio.create_task(control())
    await asyncio.gather(*loops)
    if not controlling.done():  # every loop spent its budget first
        controlling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await controlling
    result.seconds = time.monotonic() - started
    return result


def run_load(
    base: str,
    targets: Sequence[Target],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    seed: int = 1,
    controller: Callable[[asyncio.Event], Awaitable[None]] | None = None,
) -> LoadResult:
    """Load `base` with `clients` concurrent loops for `seconds` (or until `controller`, given
    the stop event, returns), at most `max_requests` requests in all. Loopback only."""
    host = urllib.parse.urlsplit(base).hostname
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError(f"load tests run against loopback only, not {host}")
    return asyncio.run(
        _load(
            base,
            targets,
            clients=clients,
            seconds=seconds,
            max_requests=max_requests,
            seed=seed,
            controller=controller,
        )
    )
