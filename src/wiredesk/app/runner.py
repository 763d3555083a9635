"""`wiredesk run`: the site, the inbox watcher and the workers under one command.

The web server and the renderer of the static tree run in processes of their own
(wiredesk.app.processes). In this one, the task consumer owns the main thread because it installs the
signal handlers that make Ctrl-C a clean stop; the watcher, the pollers and the sweeper run
beside it in threads.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from huey.contrib.djhuey import HUEY

from wiredesk.app.processes import Renderer, WebServer, child_environment, site_address
from wiredesk.db import thread_connections
from wiredesk.desk import pipeline, upkeep
from wiredesk.publish import pagecache, static
from wiredesk.transports import email, ftp, http_poll
from wiredesk.transports.inbox import Inbox, watch

log = logging.getLogger(__name__)


def _every(seconds: float, stop: threading.Event, job) -> threading.Thread:
    def loop():
        with thread_connections():
            while not stop.wait(seconds):
                try:
                    job()
                except Exception:
                    log.exception("background job %s failed; it runs again in %ss", job.__name__, seconds)
                finally:
                    close_old_connections()

    thread = threading.Thread(target=loop, name=job.__name__, daemon=True)
    thread.start()
    return thread


def run(host: str, port: int, workers: int = 2, web_workers: int = 2, announce=print) -> None:
    """Serve on host:port, a port chosen already (the site's address, set before Django was,
    names it: see wiredesk.app.cli)."""
    shown_host = f"[{host}]" if ":" in host else host
    _refuse_taken(host, port, f"{shown_host}:{port}")
    served = site_address(host, port)
    base_url = settings.WIREDESK["BASE_URL"]
    inbox = Inbox(settings.INBOX_DIR, settings.ARCHIVE_DIR, settings.ERROR_DIR)
    with contextlib.ExitStack() as running:  # whatever started is stopped, last started first
        # First, while this process has no other thread: children are started by fork and exec.
        environment = child_environment()
        server = WebServer(host, port, web_workers, environment)
        _start(server.start, "the web server")
        running.callback(server.stop)
        renderer = Renderer(environment)
        renderer.start()
        running.callback(renderer.stop)
        watcher = watch(inbox)
        if watcher:
            running.callback(watcher.stop)
        stop = threading.Event()
        running.callback(stop.set)
        # Files left in the inbox while we were down are taken by the scan like any other once they
        # have held still (one may be a writer's, paused); deliveries stored but never processed, by
        # the sweep.
        _every(1.0, stop, inbox.scan)
        _every(settings.WIREDESK["SWEEP_SECONDS"], stop, pipeline.sweep)
        # Embargoes lift with no event to say so: the site's version moves on within a sweep
        # (the renderer's own sweep brings the static tree up), and Django serves it meanwhile.
        _every(settings.WIREDESK["SWEEP_SECONDS"], stop, pagecache.catch_up)
        _every(upkeep.EVERY_SECONDS, stop, upkeep.run)
        for child in (server, renderer):
            _every(settings.WIREDESK["SWEEP_SECONDS"], stop, child.keep_running)
        # Feeds polled over HTTP(S) and folders over FTP(S): one thread a source, so a slow
        # agency never delays another.
        for poller in (http_poll.Poller.from_config(), ftp.Poller.from_config()):
            poller.start()
            running.callback(poller.stop, timeout=5)
        mail = None
        if settings.WIREDESK["SMTP"]:
            tls = settings.WIREDESK["SMTP_TLS"]
            mail = _start(
                lambda: email.Listener.at(
                    settings.WIREDESK["SMTP"],
                    tls_certificate=tls and Path(tls),
                    require_tls=settings.WIREDESK["SMTP_REQUIRE_TLS"],
                ),
                "the SMTP listener (WIREDESK_SMTP)",
            )
            _start(mail.start, f"the SMTP listener on {settings.WIREDESK['SMTP']}")
            running.callback(mail.stop, timeout=5)

        announce(
            f"wiredesk is running\n"
            f"  site:  http://{shown_host}:{port}/\n"
            + (f"  url:   {base_url}/  (WIREDESK_BASE_URL: the address pages name)\n" if base_url != served else "")
            + f"  web:   {web_workers} server processes (granian)\n"
            f"  inbox: {settings.INBOX_DIR}  (drop agency copy here; a subfolder names the source)\n"
            + (
                f"  mail:  SMTP on {mail.host or '*'}:{mail.port}{' with STARTTLS' if mail.tls_certificate else ''}"
                f"  (to each source's email address)\n"
                if mail
                else ""
            )
            + f"  data:  {settings.DATA_DIR}\n"
            f"  tree:  {static.tree()}  (static pages for nginx: deploy/nginx.conf)\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        # A short, flat poll: an idle desk must still publish within a second of a file landing.
        consumer = HUEY.create_consumer(
            workers=workers, worker_type="thread", periodic=False, initial_delay=0.01, backoff=1.0, max_delay=0.01
        )
        consumer.run()
    announce("wiredesk stopped.", flush=True)


def _refuse_taken(host: str, port: int, shown: str) -> None:
    """Stop, with the reason, before anything starts, if host:port cannot be served. granian
    binds with SO_REUSEPORT, so a second desk would share a port in use and answer half its
    requests: a bind without it fails on a port held. (create_server sets SO_REUSEADDR, so the
    closed connections of a desk just stopped do not hold the port.)"""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"wiredesk: cannot start: {shown} is in use (by another wiredesk run?); "
                f"stop it or choose another --port"
            ) from None
        raise SystemExit(f"wiredesk: cannot start: {shown}: {exc.strerror or exc}") from None


def _start(start, what: str):
    """Start something the desk cannot run without; a reason in words, not a traceback, if not."""
    try:
        return start()
    except (OSError, ValueError, RuntimeError) as exc:
        raise SystemExit(f"wiredesk: cannot start {what}: {exc}") from None
