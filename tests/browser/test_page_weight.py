"""Each shopper page, opened cold on a phone, transfers under 100 KB and loads nothing from
any other origin (SPEC section 8: a cheap phone on a slow network, no external CDN).

Every request the page makes is recorded until the network is quiet; the weight counts every
response's headers and body as sent, except the uploaded product and promotion pictures under
/media/ (checks.py says exactly what is counted). The context is fresh: nothing comes from a
cache. The figures are written to tests/browser/screenshots/page-weight.json after the run;
the table in docs/browser-tests.md is copied from there.
"""

from __future__ import annotations

import pytest

from tests.browser.checks import Visits
from tests.browser.pages import SHOPPER_PAGES, PageSpec

LIMIT_BYTES = 100 * 1024


@pytest.mark.parametrize("spec", SHOPPER_PAGES, ids=lambda spec: spec.name)
def test_shopper_page_is_light_and_self_hosted(spec: PageSpec, shopper_visits: Visits) -> None:
    seen = shopper_visits.of(spec)
    assert seen.elsewhere == [], "requests to another origin"
    assert (seen.failed, seen.unfinished, seen.broken) == ([], [], [])
    assert 0 < seen.weight < LIMIT_BYTES
