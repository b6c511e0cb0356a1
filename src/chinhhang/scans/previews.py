"""Link-preview and crawler detection: these clients must never consume a scan (SPEC 2).

Chat apps fetch a link as soon as it is pasted, to draw a preview card; search engines crawl.
If either counted, a shopper who sends a code to a friend would burn the scan. Matching is by
case-insensitive substring; the list favours false positives (a real browser named "bot" gets a
neutral page with a button that scans) over false negatives (a burned stamp).
"""

from __future__ import annotations

_MARKERS = (
    # chat apps and social networks that unfurl links
    "facebookexternalhit",
    "facebot",
    "meta-externalagent",
    "twitterbot",
    "slackbot",
    "slack-imgproxy",
    "discordbot",
    "telegrambot",
    "whatsapp",
    "zalo",
    "viber",
    "line/",
    "skypeuripreview",
    "linkedinbot",
    "pinterest",
    "redditbot",
    "snapchat",
    "embedly",
    "vkshare",
    "iframely",
    "mastodon",
    "bluesky",
    "cardyb",
    "microsoftpreview",
    "google-pagerenderer",
    "googleother",
    "google-read-aloud",
    # search engines and generic crawlers
    "googlebot",
    "bingbot",
    "bingpreview",
    "applebot",
    "yandex",
    "baiduspider",
    "duckduckbot",
    "coccocbot",
    "petalbot",
    "semrush",
    "ahrefs",
    "mj12bot",
    "dotbot",
    "ia_archiver",
    "bot/",
    "bot;",
    "crawler",
    "spider",
    "preview",
    "python-requests",
    "wget",
    "go-http-client",
    "okhttp",
    "axios",
    "node-fetch",
)
_LOWERED = tuple(m.lower() for m in _MARKERS)


def is_preview_agent(user_agent: str | None) -> bool:
    """True for a missing user agent too: every phone browser sends one."""
    if not user_agent:
        return True
    lowered = user_agent.lower()
    return any(marker in lowered for marker in _LOWERED)
