"""`wiredesk run`: the site, the inbox watcher and the workers under one command.

The web server and the renderer of the static tree run in processes of their own
(wiredesk.processes). In this one, the task consumer owns the main thread because it installs the
signal handlers that make Ctrl-C a clean stop; the watcher, the pollers and the sweeper run
beside it in threads.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from huey.contrib.djhuey import HUEY

from wiredesk import pipeline
from wiredesk.db import thread_connections
from wiredesk.publish import pagecache, static
from wiredesk.transports import email, ftp, http_poll
from wiredesk.transports.inbox import Inbox, watch
from wiredesk.processes import Renderer, WebServer, child_environment

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
    inbox = Inbox(settings.INBOX_DIR, settings.ARCHIVE_DIR, settings.ERROR_DIR)
    static.followed = True
    with contextlib.ExitStack() as running:  # whatever started is stopped, last started first
        # First, while this process has no other thread: children are started by fork and exec.
        environment = child_environment(settings.ALLOWED_HOSTS)
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
        # Files left in the inbox while we were down, and deliveries stored but never processed.
        inbox.scan(settle=0)
        _every(1.0, stop, inbox.scan)
        _every(settings.WIREDESK["SWEEP_SECONDS"], stop, pipeline.sweep)
        # Embargoes lift with no event to say so: the site's version moves on within a sweep
        # (the renderer's own sweep brings the static tree up), and Django serves it meanwhile.
        _every(settings.WIREDESK["SWEEP_SECONDS"], stop, pagecache.catch_up)
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
            mail = _start(lambda: email.Listener.at(settings.WIREDESK["SMTP"], tls_certificate=tls and Path(tls),
                                                    require_tls=settings.WIREDESK["SMTP_REQUIRE_TLS"]),
                          "the SMTP listener (WIREDESK_SMTP)")
            _start(mail.start, f"the SMTP listener on {settings.WIREDESK['SMTP']}")
            running.callback(mail.stop, timeout=5)

        shown_host = f"[{host}]" if ":" in host else host
        announce(f"wiredesk is running\n"
                 f"  site:  http://{shown_host}:{server.port}/\n"
                 f"  web:   {web_workers} server processes (granian)\n"
                 f"  inbox: {settings.INBOX_DIR}  (drop agency copy here; a subfolder names the source)\n"
                 + (f"  mail:  SMTP on {mail.host or '*'}:{mail.port}{' with STARTTLS' if mail.tls_certificate else ''}"
                    f"  (to each source's email address)\n" if mail else "")
                 + f"  data:  {settings.DATA_DIR}\n"
                 f"  tree:  {static.tree()}  (static pages for nginx: deploy/nginx.conf)\n"
                 f"Press Ctrl-C to stop.", flush=True)
        # A short, flat poll: an idle desk must still publish within a second of a file landing.
        consumer = HUEY.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                        initial_delay=0.01, backoff=1.0, max_delay=0.01)
        consumer.run()
    announce("wiredesk stopped.", flush=True)


def _start(start, what: str):
    """Start something the desk cannot run without; a reason in words, not a traceback, if not."""
    try:
        return start()
    except (OSError, ValueError, RuntimeError) as exc:
        raise SystemExit(f"wiredesk: cannot start {what}: {exc}") from None
