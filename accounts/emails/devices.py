"""What a security email says about the device behind a request: "Chrome on Windows".

Security emails ("your password was changed", "sign-in locked") tell the owner where a
request came from. The raw ``User-Agent`` header is whatever the client sent, and some of
these emails anyone can trigger (failed sign-ins lock an account and email its owner): an
attacker's header such as ``Call +1 555 0100 to secure your account`` would be quoted in a
mail from us. So emails name the browser and system families that ua-parser (a maintained
parser) recognises, and only well-known ones: ua-parser's catch-all rules return part of
the header itself as a family (``PleaseCallUs bot`` is a family to it), so a family outside
these lists is "unknown". Audit events and sessions keep the raw header, for staff and the
account's owner.
"""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

UNKNOWN_BROWSER = "Unknown browser"

# ua-parser's family names (regexes.yaml) -> how an email names them.
BROWSERS = {
    family: family
    for family in (
        "Brave",
        "Chrome",
        "Chrome Mobile",
        "Chrome Mobile iOS",
        "Chrome Mobile WebView",
        "Chromium",
        "DuckDuckGo Mobile",
        "Edge",
        "Edge Mobile",
        "Firefox",
        "Firefox Mobile",
        "Firefox iOS",
        "HeadlessChrome",
        "IE Mobile",
        "Mobile Safari",
        "Opera",
        "Opera Mini",
        "Opera Mobile",
        "Safari",
        "Samsung Internet",
        "Thunderbird",
        "UC Browser",
        "Vivaldi",
        "Yandex Browser",
        # API clients: a script calling the API is worth naming too.
        "curl",
        "Go-http-client",
        "okhttp",
        "PostmanRuntime",
        "Python Requests",
        "Wget",
    )
} | {"Mobile Safari UI/WKWebView": "Safari (in an app)", "IE": "Internet Explorer"}
SYSTEMS = {
    family: family
    for family in (
        "Android",
        "Chrome OS",
        "Debian",
        "Fedora",
        "FreeBSD",
        "iOS",
        "Linux",
        "Red Hat",
        "Ubuntu",
        "Windows",
        "Windows Phone",
    )
} | {"Mac OS X": "macOS"}


@lru_cache(maxsize=1024)  # parsing runs dozens of regexes; few distinct headers recur
def device_description(user_agent: str) -> str:
    """``"Chrome on Windows"``, ``"Firefox"``, ``"Unknown browser on Android"`` or
    ``"Unknown browser"``; empty when there is no header at all (no request: a job)."""
    if not user_agent:
        return ""
    result = parse(user_agent)
    browser = BROWSERS.get(result.user_agent.family, "") if result.user_agent else ""
    system = SYSTEMS.get(result.os.family, "") if result.os else ""
    browser = browser or UNKNOWN_BROWSER
    return f"{browser} on {system}" if system else browser
