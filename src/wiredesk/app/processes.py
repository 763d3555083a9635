"""The processes `wiredesk run` starts beside its own: the web server and the renderer.

Rendering a page is Python work under the GIL: processes, not threads, let pages render on every
core while the desk's own process parses and publishes.

- The web server is granian, in worker processes of its own. It serves Django from a Rust HTTP
  stack and keeps connections open, so nginx's upstream keepalive reuses them (gunicorn's sync
  workers close each one, and waitress's single process served a third of granian's pages here).
  It serves `wiredesk.app.wsgi.front`, which reads each request's body without a thread and with a
  deadline before Django sees it (see there): granian has no deadline for bodies, and without
  nginx in front a slow client would otherwise hold a thread for as long as it liked.
- The renderer (`wiredesk render --follow`) writes the static tree as changes are marked, so the
  desk's workers go from one delivery to the next without waiting for pages.

Each is a child of the desk: started before the desk takes copy, stopped with it, started again
if it dies, and stopped by the kernel if the desk is killed outright (Linux's parent-death
signal), so a `kill -9` never leaves a server holding the port.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)

# Threads per worker process: enough that a slow answer (a search on a big archive) does not
# hold up the pages queued behind it, few enough that they do not fight over the GIL.
THREADS = 4
# A request body has BODY_DEADLINE seconds, and one more for each BODY_MIN_RATE bytes it has
# sent, before it is answered 408: an agency's item on a slow line arrives, and a client that
# trickles is cut off. WIREDESK_BODY_DEADLINE sets it (the tests' late bodies need not take 20 s).
BODY_DEADLINE = float(os.environ.get("WIREDESK_BODY_DEADLINE", 20))
BODY_MIN_RATE = 64 * 1024
# A client's request line and headers come in a packet or two: after ten seconds it has stalled.
HEADER_TIMEOUT_MS = 10_000
# granian's buffer for a request's line and headers: at 64 KiB, more than about 110 KiB of them
# is answered 431 (measured; nginx takes 32 KiB, and browsers send 2 or 3).
HEADER_BUFFER = 64 * 1024
START_TIMEOUT = 30.0
# Names the desk's process to the processes it starts.
DESK_PID = "WIREDESK_DESK_PID"
_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int) -> None:
    # Runs in the child, between fork and exec.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass  # not Linux: a killed desk leaves its server running, as any supervisor's would


def free_port(host: str) -> int:
    """A port the system has just given out, for `--port 0`: granian binds a port it is told."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def site_address(host: str, port: int) -> str:
    """The address of the site served on host:port, as this machine reaches it."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{_WILDCARD_SEEN_AS.get(shown, shown)}:{port}"


# A desk serving on every address is reached on this machine at the loopback one.
_WILDCARD_SEEN_AS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}


class Child:
    """A process of the desk's, started from `command()`."""

    name = "process"
    # What the kernel sends it when the desk dies outright.
    parent_death_signal = signal.SIGTERM

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        # A session of its own: Ctrl-C in a terminal reaches the desk alone, which stops its
        # children in order, rather than every process at once.
        self.process = subprocess.Popen(
            self.command(),
            env=self.env,
            start_new_session=True,
            preexec_fn=functools.partial(_die_with_parent, self.parent_death_signal),
        )

    def keep_running(self) -> None:
        """Start it again if it died; the sweep asks every few seconds."""
        if self.process is not None and self.process.poll() is not None:
            log.error("the %s stopped (exit %s); starting it again", self.name, self.process.returncode)
            self.start()

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            # Its session, not only itself: a server's workers would otherwise go on holding the port.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class WebServer(Child):
    name = "web server"
    # granian, told to stop once its desk is gone, has been seen to wait for ever after its workers
    # ended, holding the port: it is killed outright, and its workers end themselves
    # (`outlive_no_desk`).
    parent_death_signal = signal.SIGKILL

    def __init__(self, host: str, port: int, workers: int, env: dict[str, str]):
        super().__init__(env)
        self.host, self.workers = host, workers
        self.port = port or free_port(host)

    def command(self) -> list[str]:
        # HTTP/1 only: nginx and browsers on plain http speak nothing else, and granian's HTTP/2
        # has limits of its own (16 MiB of headers) that would need keeping in step.
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "rsgi",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-ws",
            "--http",
            "1",
            "--http1-header-read-timeout",
            str(HEADER_TIMEOUT_MS),
            "--http1-buffer-size",
            str(HEADER_BUFFER),
            "--workers-kill-timeout",
            "5",
            "--respawn-failed-workers",
            "--log-level",
            "warning",
            "wiredesk.app.wsgi:front",
        ]

    def start(self) -> None:
        """Start the server and return once it takes connections."""
        super().start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the web server stopped at start (exit {self.process.returncode}); "
                    f"is {self.host}:{self.port} free?"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the web server did not answer on {self.host}:{self.port} within {START_TIMEOUT:.0f}s")


class Renderer(Child):
    name = "renderer"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "wiredesk.app.cli", "render", "--follow"]


def child_environment() -> dict[str, str]:
    """The desk's environment for its processes: every setting as the command set it before
    Django was set up (its data folder, host and address among them), so that they are set up
    alike, and its own process id (see `outlive_no_desk`)."""
    return {
        **os.environ,
        DESK_PID: str(os.getpid()),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "wiredesk.config.settings"),
    }


def outlive_no_desk() -> None:
    """In a web worker of the desk's: end the whole server (its process group) once the desk is
    gone. The kernel kills granian's own process when the desk dies, which leaves its workers
    serving, and holding the port a restarted desk needs, until they see it."""
    desk = os.environ.get(DESK_PID)
    if not desk:
        return  # served by something else than `wiredesk run`: its own supervisor's business

    def watch():
        while True:
            time.sleep(1.0)
            try:
                os.kill(int(desk), 0)
            except ProcessLookupError:
                os.killpg(os.getpgrp(), signal.SIGKILL)
            except PermissionError:
                pass  # alive, as another user: not the desk's case, but not gone either

    threading.Thread(target=watch, name="desk-watch", daemon=True).start()
