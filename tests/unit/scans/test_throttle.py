"""Scan throttling: per client, IPv6 by /64, shared through the real Redis, failing open."""

from __future__ import annotations

import os
import secrets

import pytest
import redis

from chinhhang.scans.throttle import Throttle
from tests.conftest import IN_CI

REDIS_URL = os.environ.get("CHINHHANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_a_client_over_its_budget_is_refused_others_are_not() -> None:
    throttle = Throttle("3/minute")
    assert [throttle.allow("203.0.113.5") for _ in range(4)] == [True, True, True, False]
    assert throttle.allow("203.0.113.6")


def test_ipv6_clients_share_a_budget_per_64() -> None:
    throttle = Throttle("2/minute")
    assert throttle.allow("2001:db8:1:2::1")
    assert throttle.allow("2001:db8:1:2:ffff::9")
    assert not throttle.allow("2001:db8:1:2:abcd::1")  # same /64, new address: same budget
    assert throttle.allow("2001:db8:1:3::1")


def test_zero_turns_it_off() -> None:
    throttle = Throttle("0")
    assert all(throttle.allow("203.0.113.5") for _ in range(1000))


def test_an_unreachable_redis_lets_scans_through() -> None:
    throttle = Throttle("1/minute", "redis://127.0.0.1:1/0")
    assert throttle.allow("203.0.113.5")
    assert throttle.allow("203.0.113.5")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        message = f"Redis is not reachable at {REDIS_URL}: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


def test_workers_share_one_budget_through_redis(redis_url: str) -> None:
    client = f"198.51.100.{secrets.randbelow(250)}-{secrets.token_hex(4)}"
    worker_a, worker_b = Throttle("3/minute", redis_url), Throttle("3/minute", redis_url)
    assert [worker_a.allow(client), worker_b.allow(client), worker_a.allow(client)] == [True] * 3
    assert not worker_b.allow(client)
