"""HTTP(S) polling, against a real HTTP server on localhost run by each test."""

import datetime as dt
import http.server
import random
import threading
import time

import pytest
from django.utils import timezone

from wiredesk.config import sources
from wiredesk.config.sources import SourceConfig
from wiredesk.desk import health, leases
from wiredesk.desk.leases import Leases
from wiredesk.models import Delivery, Story
from wiredesk.transports import polling
from wiredesk.transports.http_poll import Poller
from wiredesk.transports.polling import Limits

pytestmark = [
    # The poller's threads use connections of their own, which see only committed rows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("immediate_tasks", "no_proxy"),
]


@pytest.fixture
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def atom(*titles, next_href=None) -> bytes:
    entries = "".join(
        f"<entry><id>urn:hp:{title.lower().replace(' ', '-')}</id><title>{title}</title><updated>2026-11-24T09:00:00Z</updated>"
        f"<content>PORT SALVIN (HP) - {title}, the harbour authority said on Monday.</content></entry>"
        for title in titles
    )
    link = f'<link rel="next" href="{next_href}"/>' if next_href else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:hp:feed</id><title>HP</title><updated>2026-11-24T09:00:00Z</updated>{link}{entries}</feed>"
    ).encode()


class Site:
    """A local HTTP server: `routes[path]` answers with (status, headers, body), given the request."""

    def __init__(self):
        self.routes, self.hits, self.requests = {}, {}, []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                site.requests.append((self.path, dict(self.headers)))
                status, headers, body = site.routes[self.path](self.headers)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def serve(self, path: str, body: bytes, **headers):
        self.routes[path] = lambda request: (200, {"Content-Length": str(len(body)), **headers}, body)


@pytest.fixture
def site():
    site = Site()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def state():
    return Leases("http")


def poller(state, *feeds, limits=Limits(timeout=2, deadline=5)):  # noqa: B008 (Limits is frozen)
    return Poller(list(feeds), leases=state, limits=limits, rng=random.Random(1))


def test_the_first_poll_stores_a_delivery_and_publishes_it(site, state):
    site.serve("/feed", atom("Harbour cranes return to service"))
    result = poller(state, SourceConfig("hp", url=site.url("/feed"))).poll("hp")
    assert result.status == "new" and len(result.deliveries) == 1
    delivery = Delivery.objects.get()
    assert (delivery.transport, delivery.filename, delivery.source.slug) == ("http", site.url("/feed"), "hp")
    assert delivery.status == Delivery.Status.PROCESSED
    assert Story.objects.get().current.canonical.headline == "Harbour cranes return to service"
    saved = state.get("hp")
    assert saved["errors"] == 0 and saved["urls"][site.url("/feed")]["sha256"] == delivery.sha256


def test_an_etag_brings_a_304_and_nothing_is_stored(site, state):
    body = atom("Harbour cranes return to service")
    site.routes["/feed"] = lambda request: (
        (304, {}, b"")
        if request.get("If-None-Match") == '"v1"'
        else (200, {"ETag": '"v1"', "Content-Length": str(len(body))}, body)
    )
    desk = poller(state, SourceConfig("hp", url=site.url("/feed")))
    assert desk.poll("hp").status == "new"
    assert desk.poll("hp").status == "not-modified"
    assert site.requests[-1][1]["If-None-Match"] == '"v1"'
    assert Delivery.objects.count() == 1


def test_last_modified_is_sent_back_and_a_304_stores_nothing(site, state):
    stamp = "Tue, 24 Nov 2026 09:00:00 GMT"
    body = atom("Harbour cranes return to service")
    site.routes["/feed"] = lambda request: (
        (304, {}, b"")
        if request.get("If-Modified-Since") == stamp
        else (200, {"Last-Modified": stamp, "Content-Length": str(len(body))}, body)
    )
    desk = poller(state, SourceConfig("hp", url=site.url("/feed")))
    desk.poll("hp")
    assert desk.poll("hp").status == "not-modified"
    assert "If-None-Match" not in site.requests[-1][1]
    assert Delivery.objects.count() == 1


def test_the_same_body_without_validators_is_not_stored_again_and_a_changed_one_is(site, state):
    desk = poller(state, SourceConfig("hp", url=site.url("/feed")))
    site.serve("/feed", atom("Harbour cranes return to service"))
    assert desk.poll("hp").status == "new"
    assert desk.poll("hp").status == "unchanged"
    assert Delivery.objects.count() == 1
    site.serve("/feed", atom("Harbour cranes return to service", "Ferry strike ends"))
    assert desk.poll("hp").status == "new"
    assert Delivery.objects.count() == 2 and Story.objects.count() == 2


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_a_response_over_the_size_limit_is_an_error_and_nothing_is_stored(site, state, declared):
    body = atom(*[f"Story {i}" for i in range(50)])
    site.routes["/feed"] = lambda request: (200, {"Content-Length": str(len(body))} if declared else {}, body)
    result = poller(state, SourceConfig("hp", url=site.url("/feed")), limits=Limits(max_bytes=1000)).poll("hp")
    assert result.status == "error"
    assert "more than the limit of 1000" in result.error
    assert not Delivery.objects.exists()
    assert "limit of 1000" in state.get("hp")["last_error"] and state.get("hp")["errors"] == 1


def test_redirects_are_followed_up_to_the_limit(site, state):
    site.serve("/feed", atom("Harbour cranes return to service"))
    for n in (1, 2, 3):
        site.routes[f"/r{n}"] = lambda request, n=n: (
            302 if n % 2 else 301,
            {"Location": f"/r{n + 1}" if n < 3 else "/feed"},
            b"",
        )
    feed = SourceConfig("hp", url=site.url("/r1"))
    result = poller(state, feed, limits=Limits(max_redirects=2)).poll("hp")
    assert (result.status, result.error) == ("error", f"{site.url('/r1')}: more than 2 redirects")
    assert not Delivery.objects.exists()
    assert poller(state, feed, limits=Limits(max_redirects=3)).poll("hp").status == "new"
    assert Delivery.objects.get().filename == site.url("/r1")


def test_an_http_error_is_an_error_with_its_status(site, state):
    site.routes["/feed"] = lambda request: (503, {"Content-Length": "4"}, b"busy")
    result = poller(state, SourceConfig("hp", url=site.url("/feed"))).poll("hp")
    assert result.status == "error" and "HTTP 503" in result.error


def test_each_poll_is_recorded_in_health_and_three_failures_make_the_source_failing(site, state):
    site.routes["/feed"] = lambda request: (503, {"Content-Length": "4"}, b"busy")
    desk = poller(state, SourceConfig("hp", url=site.url("/feed")))
    for _ in range(3):
        desk.poll("hp")
    [report] = health.report()
    assert report.failing and report.problems == [
        f"http: 3 failures in a row; last: {site.url('/feed')}: HTTP 503 Service Unavailable"
    ]
    site.serve("/feed", atom("Harbour cranes return to service"))
    desk.poll("hp")
    [report] = health.report()
    assert not report.failing and report.transports[0].attempts == 4


def test_next_page_links_are_followed_each_page_a_delivery(site, state):
    site.serve("/feed", atom("Story one", next_href="/feed?page=2"))
    site.serve("/feed?page=2", atom("Story two", next_href=site.url("/feed?page=3")))
    site.serve("/feed?page=3", atom("Story three", next_href="/feed"))  # a loop back to the start
    result = poller(state, SourceConfig("hp", url=site.url("/feed"))).poll("hp")
    assert len(result.deliveries) == 3
    assert [d.filename for d in Delivery.objects.order_by("pk")] == [
        site.url("/feed"),
        site.url("/feed?page=2"),
        site.url("/feed?page=3"),
    ]
    assert sorted(s.current.canonical.headline for s in Story.objects.all()) == [
        "Story one",
        "Story three",
        "Story two",
    ]
    assert poller(state, SourceConfig("hp", url=site.url("/feed"))).poll("hp").status == "unchanged"
    assert site.hits["/feed?page=2"] == 1  # behind an unchanged first page nothing is fetched


def test_the_pages_followed_are_limited(site, state):
    for n in range(1, 10):
        site.serve(f"/p{n}", atom(f"Story {n}", next_href=f"/p{n + 1}"))
    result = poller(state, SourceConfig("hp", url=site.url("/p1")), limits=Limits(max_pages=2)).poll("hp")
    assert len(result.deliveries) == 2 and "/p3" not in site.hits


def test_a_slow_source_times_out_and_backs_off_while_another_keeps_being_polled(site, state):
    def slow(request):
        time.sleep(1.5)
        return 200, {}, atom("Too late")

    site.routes["/slow"] = slow
    site.serve("/fast", atom("Harbour cranes return to service"))
    desk = poller(
        state,
        SourceConfig("slow", url=site.url("/slow"), interval=0.05),
        SourceConfig("fast", url=site.url("/fast"), interval=0.05),
        limits=Limits(timeout=0.3),
    )
    desk.start()
    try:
        time.sleep(1.0)
    finally:
        desk.stop(timeout=3)
    slow_state = state.get("slow")
    assert slow_state["errors"] >= 1 and "timed out" in slow_state["last_error"]
    assert site.hits["/fast"] >= 5
    assert state.get("fast")["errors"] == 0
    assert [d.source.slug for d in Delivery.objects.all()] == ["fast"]


def test_one_source_is_never_polled_twice_at_once(site, state):
    entered, release = threading.Event(), threading.Event()

    def held(request):
        entered.set()
        release.wait(5)
        return 200, {}, atom("Harbour cranes return to service")

    site.routes["/feed"] = held
    desk = poller(state, SourceConfig("hp", url=site.url("/feed")))
    first = threading.Thread(target=desk.poll, args=("hp",))
    first.start()
    assert entered.wait(5)
    assert desk.poll("hp") is None
    release.set()
    first.join(5)
    assert site.hits["/feed"] == 1 and Delivery.objects.count() == 1


def test_a_source_is_polled_by_the_host_holding_its_lease_and_taken_over_with_its_state_when_it_lapses(site):
    body = atom("Harbour cranes return to service")
    site.routes["/feed"] = lambda request: (
        (304, {}, b"")
        if request.get("If-None-Match") == '"v1"'
        else (200, {"ETag": '"v1"', "Content-Length": str(len(body))}, body)
    )
    config = SourceConfig("hp", url=site.url("/feed"), interval=60)
    host_a, host_b = (
        Poller([config], leases=Leases("http", holder=name), limits=Limits(timeout=2, deadline=5)) for name in "ab"
    )
    assert host_a.poll("hp").status == "new"
    assert host_b.poll("hp") is None  # a holds the lease: b neither fetches nor stores
    assert site.hits["/feed"] == 1
    # a dies: its lease lapses TERM intervals after its last renewal, and b takes the source over
    # with a's validators, so the unchanged feed answers 304 and nothing is stored again.
    lapsed = timezone.now() + dt.timedelta(seconds=60 * leases.TERM + 1)
    assert not host_b.leases.take("hp", 60, now=lapsed - dt.timedelta(seconds=2))
    assert host_b.leases.take("hp", 60, now=lapsed)
    assert host_b.poll("hp").status == "not-modified"
    assert site.requests[-1][1]["If-None-Match"] == '"v1"'
    assert host_a.poll("hp") is None and not host_a.leases.put("hp", {"errors": 9})  # a, back, holds nothing
    assert host_b.leases.get("hp")["errors"] == 0
    assert Delivery.objects.count() == 1


def test_a_host_stopping_gives_its_leases_back_for_another_to_take_at_once(site, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    site.serve("/feed", atom("Harbour cranes return to service"))
    (tmp_path / "sources.toml").write_text(f'[sources.hp]\nurl = "{site.url("/feed")}"\n')
    host_a = Poller.from_config(leases=Leases("http", holder="a"), limits=Limits(timeout=2, deadline=5))
    host_a.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not site.hits.get("/feed"):
            time.sleep(0.05)
    finally:
        host_a.stop(timeout=5)
    assert site.hits["/feed"] == 1
    assert Leases("http", holder="b").take("hp", 60)


def test_the_configured_interval_has_a_floor_and_a_default(tmp_path):
    file = tmp_path / "sources.toml"
    file.write_text(
        '[sources.hp]\nurl = "https://hp.example/feed"\ninterval = 1\n'
        '[sources.afp]\nurl = "http://afp.example/feed"\n'
        '[sources.ians]\nname = "IANS"\n'
    )
    assert list(sources.read(file).sources.values()) == [
        SourceConfig("hp", url="https://hp.example/feed", interval=5.0),
        SourceConfig("afp", url="http://afp.example/feed", interval=60.0),
        SourceConfig("ians", name="IANS"),
    ]


@pytest.mark.parametrize(
    "text, says",
    [
        ('[sources.hp]\nurl = "ftp://hp.example/feed"\n', "url must start with http:// or https://"),
        ('[sources.hp]\ninterval = "60"\n', "interval must be a whole number"),
    ],
)
def test_a_wrong_url_or_interval_is_named(tmp_path, text, says):
    file = tmp_path / "sources.toml"
    file.write_text(text)
    with pytest.raises(sources.ConfigError, match=says):
        sources.read(file)


def test_the_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(7)
    draws = {errors: [polling.backoff(errors, 60, rng, cap=900) for _ in range(200)] for errors in range(1, 12)}
    assert all(60 <= d <= 120 for d in draws[1])  # never sooner than the interval
    assert all(120 <= d <= 240 for d in draws[2])
    assert all(450 <= d <= 900 for errors in range(4, 12) for d in draws[errors])
    assert len(set(draws[11])) == 200  # jittered: sources failing together retry apart
    assert polling.backoff(3, 1200, rng, cap=900) >= 600  # a long interval is its own cap


def test_a_healthy_source_is_polled_at_its_interval_with_jitter():
    rng = random.Random(3)
    delays = [polling.delay(60, 0, rng) for _ in range(200)]
    assert all(54 <= d <= 60 for d in delays) and len(set(delays)) == 200  # early, never late


def test_the_next_poll_is_counted_from_the_start_of_a_slow_one(site, state):
    clock = iter([1000.0, 1045.0, 1045.0])  # the poll takes 45 s
    site.serve("/wire.atom", atom("Cranes return"))
    p = Poller(
        [SourceConfig("hp", url=site.url("/wire.atom"), interval=60)],
        leases=state,
        limits=Limits(timeout=2, deadline=5),
        rng=random.Random(1),
        clock=lambda: next(clock),
    )
    result = p.poll("hp")
    assert 1054 <= result.state["next_poll"] <= 1060


def test_a_source_added_removed_or_changed_in_the_sources_file_is_followed_while_polling(
    site, state, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    file = settings.DATA_DIR / "sources.toml"
    for path, title in (
        ("/a", "Cranes return"),
        ("/b", "Ferry strike ends"),
        ("/c", "Tug sinks"),
        ("/d", "Port opens"),
    ):
        site.serve(path, atom(title))
    now = time.time()
    # Neither is due before the file changes; afp, within a second if it were still polled.
    state.put("hp", {"next_poll": now + 30, "errors": 0})
    state.put("afp", {"next_poll": now + 1, "errors": 0})
    file.write_text(f'[sources.hp]\nurl = "{site.url("/a")}"\n[sources.afp]\nurl = "{site.url("/b")}"\n')
    desk = Poller.from_config(
        leases=state, limits=Limits(timeout=2, deadline=5), rng=random.Random(1), reload_every=0.05
    )
    assert sorted(desk.configs) == ["afp", "hp"]
    desk.start()
    try:
        # hp is re-pointed, afp taken out, nb added: no restart.
        file.write_text(
            f'[sources.hp]\nurl = "{site.url("/c")}"\ninterval = 5\n[sources.nb]\nurl = "{site.url("/d")}"\ninterval = 5\n'
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (site.hits.get("/c") and site.hits.get("/d")):
            time.sleep(0.05)
        time.sleep(max(0.0, now + 1.5 - time.time()))  # past the time afp was due
    finally:
        desk.stop(timeout=5)
    assert site.hits.get("/c") == 1 and site.hits.get("/d") == 1
    assert "/a" not in site.hits and "/b" not in site.hits
    assert sorted(d.source.slug for d in Delivery.objects.all()) == ["hp", "nb"]
