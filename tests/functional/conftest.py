"""Fixtures for the functional tests of the JSON API."""

from __future__ import annotations

import pytest

from tests.api_helpers import ApiWorld, build_world


@pytest.fixture
def world(settings, sessions) -> ApiWorld:
    """Two makers, a distributor, a retailer and a regulator, with a token per role."""
    return build_world(sessions, settings.keyring)
