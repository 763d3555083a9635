"""What deploy/ ships for several hosts: the systemd unit, checked as systemd reads it, and the
balancer's nginx configuration, run in front of stand-ins for the hosts."""

import http.server
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import nginx
import pytest
from conftest import REPO

from wiredesk.app.processes import free_port

DEPLOY = REPO / "deploy"

pytestmark = pytest.mark.nodb  # touches no database: run once


def test_the_systemd_unit_is_one_systemd_reads_without_a_word(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is not installed: scripts/ensure-systemd-analyze installs it (make test runs it)")
    unit = tmp_path / "wiredesk.service"
    unit.write_text(
        (DEPLOY / "wiredesk.service")
        .read_text()
        .replace("@WIREDESK@", str(Path(sys.executable).parent / "wiredesk"))
        .replace("@DATA@", str(tmp_path / "data"))
    )
    checked = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    # Warnings too: an unknown or misspelt setting is only a warning to systemd, and ignored.
    assert (checked.returncode, checked.stderr) == (0, "")
    assert "@" not in unit.read_text()  # every value to fill in was filled in


def test_a_unit_with_a_misspelt_setting_is_caught(tmp_path):
    unit = tmp_path / "wiredesk.service"
    unit.write_text(
        (DEPLOY / "wiredesk.service")
        .read_text()
        .replace("@WIREDESK@", str(Path(sys.executable).parent / "wiredesk"))
        .replace("@DATA@", str(tmp_path))
        .replace("KillSignal=", "KilSignal=")
    )
    checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert "Unknown key 'KilSignal'" in checked.stderr


class StandIn:
    """A host's nginx, as the balancer sees it: it answers with its own name."""

    def __init__(self, name: str):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def balancer(tmp_path):
    """deploy/nginx-balancer.conf in front of three stand-in hosts; yields (address, hosts)."""
    hosts = [StandIn(name) for name in ("a", "b", "c")]
    port = free_port("127.0.0.1")
    balancer = (
        (DEPLOY / "nginx-balancer.conf")
        .read_text()
        .replace("@LISTEN@", f"127.0.0.1:{port}")
        .replace("@HOSTS@", " ".join(f"server {host.address};" for host in hosts))
    )
    with nginx.running(tmp_path, balancer, port):
        yield f"http://127.0.0.1:{port}", hosts
    for host in hosts:
        host.close()


def answers(address: str, n: int) -> list[str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    found = []
    for _ in range(n):
        with opener.open(address + "/", timeout=5) as response:
            found.append(response.read().decode())
    return found


def test_the_balancer_spreads_readers_over_the_hosts_and_passes_one_down_by(balancer):
    address, hosts = balancer
    assert set(answers(address, 9)) == {"a", "b", "c"}
    hosts[1].close()  # down, or restarting
    assert set(answers(address, 9)) == {"a", "c"}
