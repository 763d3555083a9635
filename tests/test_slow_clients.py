"""Slow and oversize request bodies against a real `wiredesk run` (issue 13): what `make run`
exposes with no nginx in front to buffer them.

A body that trickles in must hold none of the threads that pages need, and must be answered 408
once it is late; a body over the limit is answered 413 before it is read. The requests are
written by hand on raw sockets, as a slow or hostile client writes them.
"""

import select
import socket
import threading
import time
import urllib.parse
import urllib.request

import pytest
from conftest import desk_env, story_copy
from running_desk import _opener, get, start, stop

from wiredesk.app.processes import BODY_MIN_RATE, THREADS
from wiredesk.transports import push

pytestmark = pytest.mark.embedded

SECRET = "harbour-press-shared-secret-2026"
WEB_WORKERS = 2  # `wiredesk run`'s default
# Seconds a page may take while slow bodies come in: it takes milliseconds when nothing holds it.
PAGE_WITHIN = 3.0
# Beyond the deadline, for an answer to be on its way back.
MARGIN = 2.5


@pytest.fixture
def desk(tmp_path):
    """Starts a desk that takes hp's pushes, with the body deadline asked; returns its base URL."""
    started = []

    def run(deadline: float) -> str:
        (tmp_path / "sources.toml").write_text('[sources.hp]\npush_secret_env = "HP_PUSH"\n', encoding="utf-8")
        base, process = start(tmp_path, {**desk_env(), "HP_PUSH": SECRET, "WIREDESK_BODY_DEADLINE": str(deadline)})
        started.append(process)
        return base

    yield run
    for process in started:
        stop(process)


def request_head(base: str, *, length: int | None, body: bytes = b"") -> bytes:
    """A signed push's request line and headers: with Content-Length `length`, or chunked."""
    host = urllib.parse.urlsplit(base).netloc
    stamp = str(int(time.time()))
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST /push/hp HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n{framing}\r\n"
        f"X-Wiredesk-Timestamp: {stamp}\r\nX-Wiredesk-Signature: {push.sign(SECRET, stamp, body)}\r\n\r\n"
    ).encode()


def connect(base: str) -> socket.socket:
    address = urllib.parse.urlsplit(base)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def answer(sock: socket.socket, timeout: float) -> int | None:
    """The status of the answer that comes within `timeout` seconds; None if the connection was
    closed with none. Raises TimeoutError if neither happens."""
    sock.settimeout(timeout)
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        head += chunk
    return int(head.split(b" ", 2)[1])


class Trickle:
    """Push bodies sent a byte at a time, every `interval` seconds, on connections of their own,
    from one thread."""

    def __init__(self, base: str, count: int, *, interval: float = 1.0, length: int = 4000):
        self.sockets = []
        for _ in range(count):
            sock = connect(base)
            sock.sendall(request_head(base, length=length) + b"d")
            self.sockets.append(sock)
        self.interval, self.stopped = interval, threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self):
        while not self.stopped.wait(self.interval):
            for sock in self.sockets:
                try:
                    sock.send(b"d")
                except OSError:
                    pass  # answered and closed: the tests look at what came back

    def unanswered(self) -> int:
        """How many have had no answer, nor been closed, yet."""
        readable, _, _ = select.select(self.sockets, [], [], 0)
        return len(self.sockets) - len(readable)

    def close(self):
        self.stopped.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


def test_bodies_trickling_in_on_more_connections_than_threads_hold_no_page_up(desk):
    base = desk(deadline=60)
    get(base + "/")
    slow = Trickle(base, count=3 * THREADS * WEB_WORKERS)
    try:
        time.sleep(1.0)  # every one of them has reached the server and is being read
        for _ in range(6):  # a new connection each: every web process is asked
            started = time.monotonic()
            with _opener().open(base + "/", timeout=PAGE_WITHIN) as page:
                assert page.status == 200
            assert time.monotonic() - started < PAGE_WITHIN
        # The pages were answered while every slow body was still coming in.
        assert slow.unanswered() == len(slow.sockets)
    finally:
        slow.close()


def test_a_body_slower_than_the_deadline_is_answered_408_and_closed(desk):
    deadline = 2.0
    base = desk(deadline=deadline)
    trickling = Trickle(base, count=1, interval=0.2)
    stalled = connect(base)
    stalled.sendall(request_head(base, length=4000) + b"half of it")
    try:
        started = time.monotonic()
        assert answer(trickling.sockets[0], deadline + MARGIN) == 408
        assert answer(stalled, deadline + MARGIN) == 408
        assert time.monotonic() - started < deadline + MARGIN
        # And the connections are closed: the rest of a late body is not waited for.
        for sock in (trickling.sockets[0], stalled):
            sock.settimeout(MARGIN)
            while sock.recv(4096):
                pass
    finally:
        trickling.close()
        stalled.close()


def test_a_body_over_the_limit_is_refused_413_before_it_is_read(desk):
    base = desk(deadline=30)
    declared = connect(base)
    declared.sendall(request_head(base, length=push.MAX_BYTES + 1) + b"d" * 1024)
    assert answer(declared, MARGIN) == 413
    declared.close()

    # Chunked, no length declared: refused once the bytes read pass the limit, no end waited for.
    chunked = connect(base)
    chunked.sendall(request_head(base, length=None))
    piece = b"d" * 65536
    for _ in range(push.MAX_BYTES // len(piece) + 1):
        chunked.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
    assert answer(chunked, MARGIN) == 413
    chunked.close()


def test_pushes_still_land_and_a_steady_body_may_take_longer_than_the_deadline(desk):
    deadline = 2.0
    base = desk(deadline=deadline)
    body = story_copy("Tides arrive by push")
    stamp = str(int(time.time()))
    request = urllib.request.Request(
        f"{base}/push/hp",
        data=body,
        method="POST",
        headers={
            "Content-Type": "text/plain",
            "X-Wiredesk-Timestamp": stamp,
            "X-Wiredesk-Signature": push.sign(SECRET, stamp, body),
        },
    )
    with _opener().open(request, timeout=10) as landed:
        assert landed.status == 202

    # Twice the deadline, at four times the least rate: a large item on a slow line.
    pieces = 8
    steady = story_copy("Gales arrive slowly") + b"\n" + b"w" * int(4 * BODY_MIN_RATE * 2 * deadline)
    sock = connect(base)
    sock.sendall(request_head(base, length=len(steady), body=steady))
    step = len(steady) // pieces + 1
    for offset in range(0, len(steady), step):
        sock.sendall(steady[offset : offset + step])
        time.sleep(2 * deadline / pieces)
    assert answer(sock, 10) == 202
    sock.close()
