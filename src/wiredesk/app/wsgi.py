"""The site: Django's WSGI application, and `front`, through which `wiredesk run`'s granian serves it.

granian's own WSGI interface hands a request to a thread as soon as its headers are in, and the
thread then reads the body as the client sends it: clients trickling bodies a byte a second held
every thread, and no page was answered while they lasted (issue 13). granian has no timeout for
a body (a request for one was closed as won't-fix), and a thread blocked in a read cannot be
given one. So granian serves `front` through its native interface (RSGI), where the event loop
reads each body, holding no thread, within a deadline and a size (processes.py), and only then
hands the request to Django in a thread of the process's pool.

The hand-over costs a kept page about 15 microseconds of its 0.3 ms: measured with wrk on two
cores, nine tenths of the pages a second of granian's WSGI. Through ASGI, which granian also
serves, Django's own handler (a new thread, and so a new database connection, for every request)
gave a seventh of them, and a2wsgi's WSGIMiddleware half.
"""

import asyncio
import io
import json
import os
import queue
import sys
import threading

from django.core.wsgi import get_wsgi_application

from wiredesk.app.processes import BODY_DEADLINE, BODY_MIN_RATE, THREADS, outlive_no_desk

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wiredesk.config.settings")
application = get_wsgi_application()
outlive_no_desk()

# After Django is set up: the module reads models.
from wiredesk.transports.store import MAX_BYTES  # noqa: E402

# What PEP 3333 asks of every environ, the same for every request.
_CONSTANT = {
    "SCRIPT_NAME": "",
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}
_REFUSED = [("content-type", "application/json"), ("cache-control", "no-store"), ("connection", "close")]


class Refused(Exception):
    """A request answered before Django sees it, with `status` and why."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class Front:
    """An RSGI application that reads each request's body whole, in time and within `max_bytes`,
    then answers it from the WSGI application `app` (Django's: its responses are bytes and have a
    close()), called in a pool of `threads`."""

    def __init__(self, app, *, threads: int, max_bytes: int, deadline: float, min_rate: float):
        self.app, self.threads = app, threads
        self.max_bytes, self.deadline, self.min_rate = max_bytes, deadline, min_rate
        self.calls = queue.SimpleQueue()
        self.loop = None

    def __rsgi_init__(self, loop) -> None:
        """Called by granian in each worker process, with its event loop: the threads start there."""
        self.loop = loop
        for number in range(self.threads):
            threading.Thread(target=self._serve, name=f"web-{number}", daemon=True).start()

    async def __rsgi__(self, scope, protocol) -> None:
        body = b""
        # A request with neither header has no body (RFC 9112): a page's, which goes straight on.
        if "content-length" in scope.headers or "transfer-encoding" in scope.headers:
            try:
                body = await self._body(scope.headers.get("content-length", ""), protocol)
            except Refused as refused:
                # As the push view answers (transports/push.py); closed, since the rest of the
                # body, whatever comes of it, is not waited for.
                protocol.response_bytes(refused.status, _REFUSED, json.dumps({"error": refused.reason}).encode())
                return
        answer = self.loop.create_future()
        self.calls.put((answer, _environ(scope, body)))
        protocol.response_bytes(*await answer)

    async def _body(self, declared: str, protocol) -> bytes:
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise Refused(413, f"the body is {declared} bytes, more than the limit of {self.max_bytes}")
        started = asyncio.get_running_loop().time()
        body = bytearray()
        try:
            # The deadline, plus a second for each `min_rate` bytes come: a large body on a slow but
            # steady line arrives, and one that stalls, or crawls, is cut off.
            async with asyncio.timeout_at(started + self.deadline) as late:
                async for chunk in protocol:
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise Refused(413, f"the body is more than the limit of {self.max_bytes} bytes")
                    late.reschedule(started + self.deadline + len(body) / self.min_rate)
        except TimeoutError:
            raise Refused(
                408,
                f"the body came too slowly: {len(body)} bytes in {asyncio.get_running_loop().time() - started:.0f} s",
            ) from None
        if declared.isdigit() and len(body) < int(declared):
            # The client went away: its request is not Django's to answer, whatever it sent.
            raise Refused(400, f"the body ended after {len(body)} of its {declared} bytes")
        return bytes(body)

    def _serve(self) -> None:
        # A queue, and a callback into the loop: run_in_executor on a ThreadPoolExecutor took
        # twice as long to hand a request over and back (measured, 30 microseconds against 15).
        while True:
            answer, environ = self.calls.get()
            try:
                result, error = self._respond(environ), None
            except Exception as exc:
                result, error = None, exc
            self.loop.call_soon_threadsafe(_settle, answer, result, error)

    def _respond(self, environ: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        answer = []

        def start_response(status, headers, exc_info=None):
            answer[:] = int(status[:3]), headers

        chunks = self.app(environ, start_response)
        try:
            return *answer, b"".join(chunks)
        finally:
            # Django's end of the request (request_finished: its database connection put back).
            chunks.close()


def _settle(answer: asyncio.Future, result, error: Exception | None) -> None:
    if answer.cancelled():
        return  # the request's task was cancelled meanwhile: nobody waits for the answer
    if error is None:
        answer.set_result(result)
    else:
        answer.set_exception(error)


def _environ(scope, body: bytes) -> dict:
    """PEP 3333's environ for an RSGI request, as granian's WSGI interface gives it."""
    host, _, port = scope.server.rpartition(":")
    environ = {
        **_CONSTANT,
        "REQUEST_METHOD": scope.method,
        # The path percent-decoded, a character a byte, as PEP 3333 has it.
        "PATH_INFO": scope.path.encode().decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host.strip("[]"),
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in scope.headers.items():
        # X_Forwarded_Proto would pass for X-Forwarded-Proto: such names are dropped, as nginx does.
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


front = Front(application, threads=THREADS, max_bytes=MAX_BYTES, deadline=BODY_DEADLINE, min_rate=BODY_MIN_RATE)
