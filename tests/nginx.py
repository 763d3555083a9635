"""A real nginx for the tests, started with a configuration of deploy/ and everything it writes
kept in one folder."""

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@contextlib.contextmanager
def running(root: Path, site: str, port: int):
    """nginx with `site` (a configuration for its http block) listening on 127.0.0.1:`port`,
    until the block ends. As root, its workers run as the owner of the files it serves."""
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed: scripts/ensure-nginx installs it (make test runs it)")
    (root / "site.conf").write_text(site)
    temp_paths = "\n".join(
        f"{kind}_temp_path {root / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (root / "nginx.conf").write_text(f"""
daemon off;
worker_processes 1;
{f"user {getpass.getuser()};" if os.geteuid() == 0 else ""}
pid {root / "nginx.pid"};
error_log {root / "error.log"};
events {{ worker_connections 64; }}
http {{
access_log off;
{temp_paths}
include {root / "site.conf"};
}}
""")
    command = [NGINX, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")]
    tested = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start:\n{(root / 'error.log').read_text()}")
                time.sleep(0.02)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
