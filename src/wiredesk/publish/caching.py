"""How long browsers and shared caches may keep each kind of answer. deploy/nginx.conf sends
the same Cache-Control on the files it serves from the static tree (the suite compares them).

A kill takes a story out of the static tree and out of Django at once, but not out of caches
that already hold its page: PAGE keeps that to at most 90 seconds (60 fresh, then at most 30
served stale while the cache asks again). Articles, fronts, feeds and sitemaps all take PAGE,
since a kill changes every one of them. Last-Modified is never sent by Django: a page shows
other stories (fronts, "More in", the section list) whose changes move no date of its own, so
only an ETag over the bytes can say whether it changed.
"""

PAGE = "public, max-age=60, stale-while-revalidate=30"
# Results change with every story that arrives or goes, and each query is its own address:
# not worth a shared cache's room.
SEARCH = "private, max-age=30"
# Short: an embargoed story's address is a 404 until its time, then its page.
NOT_FOUND = "public, max-age=30"
# A kill is final unless an operator releases the story again, which is rare and deliberate:
# an hour of 410 in caches is the price of not asking Django again for every killed address.
GONE = "public, max-age=3600"
# Errors and refusals (a wrong Host, a server error) must not outlive their cause.
OTHER = "no-store"

_BY_STATUS = {200: PAGE, 301: PAGE, 404: NOT_FOUND, 410: GONE}


def policy(url_name: str | None, status: int) -> str:
    if url_name == "search" and status == 200:
        return SEARCH
    return _BY_STATUS.get(status, OTHER)


def cache_control(get_response):
    """Middleware: the Cache-Control of every answer that does not set its own."""

    def middleware(request):
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            match = request.resolver_match
            response["Cache-Control"] = policy(match.url_name if match else None, response.status_code)
        return response

    return middleware
