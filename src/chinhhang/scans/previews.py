"""Link-preview and crawler detection: these clients must never consume a scan (SPEC 2).

Chat apps fetch a link as soon as it is pasted, to draw a preview card; search engines crawl.
If either counted, a shopper who sends a code to a friend would burn the scan. The rules favour
false positives (a real browser taken for a bot gets a neutral page whose button scans) over
false negatives (a burned stamp):

- a shopper's phone browser, in-app browsers of chat apps included (Zalo, Facebook, LINE…),
  always sends a user agent starting "Mozilla/"; anything else (WhatsApp's and Zalo's preview
  fetchers, curl, HTTP libraries) is not a person looking at a product;
- among "Mozilla/" agents, crawlers and preview services name themselves with a few telltale
  words ("bot", "crawler", "preview", a "+http://…" contact address…).

Plain substring tests on purpose: this runs on every scan, and a large case-insensitive regex
alternation cost more than the database write (docs/benchmarks.md).
"""

from __future__ import annotations

_MARKERS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "preview",
    "externalhit",
    "externalagent",
    "http",
    "embed",
    "fetch",
    "scrap",
    "yandex",
    "baidu",
    "pagerenderer",
    "googleother",
    "read-aloud",
)


def is_preview_agent(user_agent: str | None) -> bool:
    """True for a missing user agent too: every phone browser sends one."""
    if not user_agent:
        return True
    lowered = user_agent.lower()
    if not lowered.startswith("mozilla/"):
        return True
    return any(marker in lowered for marker in _MARKERS)
