"""axe-core in Chromium: no serious or critical violation on any shopper page or main portal
page of pages.py (SPEC section 8: contrast, labels, keyboard), at a phone's width.

No rule is turned off and nothing is excluded: violations are fixed in the templates and
stylesheets instead. The shopper pages are checked on the same visit test_page_weight.py
weighs (checks.py); portal pages are opened signed in as the page's user.
"""

from __future__ import annotations

import pytest

from tests.browser.checks import Visits
from tests.browser.pages import PORTAL_PAGES, SHOPPER_PAGES, PageSpec


@pytest.mark.parametrize("spec", SHOPPER_PAGES, ids=lambda spec: spec.name)
def test_shopper_page_is_accessible(spec: PageSpec, shopper_visits: Visits) -> None:
    seen = shopper_visits.of(spec)
    assert seen.violations == []
    assert seen.script_errors == []
    assert seen.too_wide == 0


@pytest.mark.parametrize("spec", PORTAL_PAGES, ids=lambda spec: spec.name)
def test_portal_page_is_accessible(spec: PageSpec, portal_visits: Visits) -> None:
    seen = portal_visits.of(spec)
    assert seen.violations == []
    assert seen.script_errors == []
    # Mobile first: nobody scrolls sideways to read (tables scroll inside their frame).
    assert seen.too_wide == 0
