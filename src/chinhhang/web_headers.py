"""Response headers shared by the shopper-facing answers of several domains.

A neutral module (no domain's): `scans` (verdict and product pages) and `trace` (the GS1
resolver) both answer scans of printed codes and must say the same to caches, referrers and
crawlers, but neither may import the other (DESIGN, "Which way things flow").
"""

from __future__ import annotations

# An answer about one scan is about one shopper: not kept by shared caches, not leaked to the
# next site through the Referer, not indexed (a verdict or a code's target is no search result).
NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
