"""WebSub: telling the hub the feeds name (WIREDESK_WEBSUB_HUB) that they changed, so that it
fetches them and pushes the new stories to every subscriber at once, instead of subscribers
polling.

The WebSub recommendation leaves a publisher's notice to each hub; the hubs in use (Google's,
Superfeedr's, WebSub.rocks, the PubSubHubbub 0.4 ones) take the form PubSubHubbub defined: a
POST of `hub.mode=publish` with a `hub.url` for each feed that changed.

The static tree's renderer calls `notify` after each pass with the feeds whose bytes that pass
changed: the site's, each section's and each source's, in every format (topic feeds, which the
tree does not hold, are not announced). It runs in a thread of its own: a hub that is slow or
down holds up neither the tree nor the desk, and costs no more than a line in the log, since the
feeds keep being served to whoever polls them.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

from django.conf import settings

from wiredesk import __version__

log = logging.getLogger(__name__)

TIMEOUT = 10.0


def notify(feed_urls: list[str]) -> threading.Thread | None:
    """Tell the hub, if one is configured, that these feeds changed. Returns the thread that
    tells it, or None when there is nothing to tell or no hub."""
    hub = settings.WIREDESK["WEBSUB_HUB"]
    if not hub or not feed_urls:
        return None
    # Not a daemon: a command (`wiredesk ingest`, `story kill`) that ends right after its pass
    # waits for its notice, at most TIMEOUT, rather than cutting it off.
    thread = threading.Thread(target=_post, args=(hub, sorted(feed_urls)), name="websub")
    thread.start()
    return thread


def _post(hub: str, feed_urls: list[str]) -> None:
    body = urlencode([("hub.mode", "publish"), *(("hub.url", url) for url in feed_urls)]).encode()
    request = urllib.request.Request(
        hub,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": f"wiredesk/{__version__} (WebSub publisher)",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            log.info("websub: %s told of %s changed feeds (%s)", hub, len(feed_urls), answer.status)
    except urllib.error.HTTPError as exc:
        log.warning(
            "websub: %s refused the notice of %s changed feeds: %s %s",
            hub,
            len(feed_urls),
            exc.code,
            exc.read(500).decode("utf-8", "replace").strip(),
        )
    except (OSError, ValueError) as exc:
        log.warning("websub: %s could not be told of %s changed feeds: %s", hub, len(feed_urls), exc)
