"""`wiredesk run` as a user runs it: a real process, a real inbox, real HTTP, Ctrl-C to stop.

It runs on the embedded default (SQLite in its own data folder) whatever database the rest of
the suite uses, as `make run` does.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error

import pytest
from conftest import REPO, SEED, desk_env
from running_desk import WIREDESK, get, processes_of, rows, start, stop, wait_for

pytestmark = pytest.mark.embedded


@pytest.fixture
def desk(tmp_path):
    """A running desk; yields (base URL, data folder, process)."""
    base, process = start(tmp_path)
    yield base, tmp_path, process
    if process.poll() is None:
        process.kill()
        process.wait()
    # However the desk ended, nothing it started lives on.
    wait_for(lambda: not processes_of(process.pid), timeout=10)


def test_a_file_dropped_in_the_inbox_is_published_and_ctrl_c_stops_cleanly(desk):
    base, data, process = desk
    (data / "inbox" / "ians").mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, data / "inbox" / "ians" / SEED.name)

    link = wait_for(lambda: re.search(r'<h2><a href="(/story/[^"]+)">US President Joe Biden', get(base + "/")))
    article = get(base + link.group(1))
    assert '<span class="agency">IANS</span>' in article
    assert "The Presidents previously met on the sidelines of the G20 summit in Bali in 2022" in article
    # The renderer process wrote the page into the static tree (for the site's own address).
    page = data / "site" / link.group(1).lstrip("/") / "index.html"
    wait_for(lambda: page.exists() and "The Presidents previously met" in page.read_text())
    # The file left the inbox for the archive once its bytes were safe in the database.
    assert not (data / "inbox" / "ians" / SEED.name).exists()
    assert len(list((data / "archive").rglob(SEED.name))) == 1

    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "wiredesk stopped." in output
    assert "Traceback" not in output


def test_bad_input_is_quarantined_and_the_desk_keeps_publishing(desk):
    base, data, process = desk
    (data / "inbox" / "garbage.bin").write_bytes(b"\x00\xff\x00\xfe not a story")
    (data / "inbox" / "story.txt").write_bytes(
        b"Ferry timetable changes\n\nPORT SALVIN (HP) - The ferry company changed its winter timetable.\n"
    )
    wait_for(lambda: "Ferry timetable changes" in get(base + "/"))
    assert process.poll() is None

    [(filename, error)] = wait_for(
        lambda: rows(data, "select filename, error from wiredesk_delivery where status = 'quarantined'")
    )
    assert filename == "garbage.bin" and "binary" in error
    # Set aside for whoever watches the folders, with the reason beside it.
    [reason] = wait_for(lambda: list((data / "error").rglob("garbage.bin.reason.txt")))
    assert (
        error in reason.read_text() and reason.with_name("garbage.bin").read_bytes() == b"\x00\xff\x00\xfe not a story"
    )

    ingest = subprocess.run(
        [WIREDESK, "ingest", "--data", str(data), str(data / "archive")], env=desk_env(), capture_output=True, text=True
    )
    assert ingest.returncode == 1  # a folder is not copy: said, not crashed
    assert "Is a directory" in ingest.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_renderer_stops_when_told_even_if_its_parent_ignored_the_signal(tmp_path, sig):
    subprocess.run([WIREDESK, "migrate", "--data", str(tmp_path)], env=desk_env(), check=True, capture_output=True)
    renderer = subprocess.Popen(
        [WIREDESK, "render", "--follow", "--data", str(tmp_path)],
        env=desk_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(sig, signal.SIG_IGN),
    )  # as a shell's background job
    try:
        wait_for(lambda: (tmp_path / "site.state" / "state.json").exists())  # its first sweep is done
        renderer.send_signal(sig)
        assert renderer.wait(10) == 0
    finally:
        renderer.kill()
        output = renderer.communicate()[0]
    assert "Traceback" not in output


def test_a_kill_from_another_process_reaches_every_web_process_at_once(desk):
    base, data, process = desk
    (data / "inbox" / "story.txt").write_bytes(
        b"Dam inspection finds cracks\n\nVALMORA (MNS) - Inspectors found cracks in the upper dam on Monday.\n"
    )
    link = wait_for(lambda: re.search(r'<h2><a href="(/story/(\d+)/[^"]+)">Dam inspection', get(base + "/")))
    for _ in range(20):  # kept by both web processes
        assert "Inspectors found cracks" in get(base + link.group(1))
    killed = subprocess.run(
        [WIREDESK, "story", "kill", link.group(2), "--data", str(data), "--reason", "legal"],
        env=desk_env(),
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 0, killed.stderr
    for _ in range(20):
        with pytest.raises(urllib.error.HTTPError) as gone:
            get(base + link.group(1))
        assert gone.value.code == 410
        assert "Dam inspection" not in get(base + "/")


def test_files_left_in_the_inbox_while_stopped_are_taken_at_start(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "early.txt").write_bytes(
        b"Early bird story\n\nOSLO (HP) - This copy arrived before the desk started.\n"
    )
    base, process = start(tmp_path)
    try:
        wait_for(lambda: "Early bird story" in get(base + "/"))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_kill_9_while_files_arrive_loses_none_and_publishes_none_twice(tmp_path):
    inbox = tmp_path / "inbox" / "hp"
    inbox.mkdir(parents=True)
    count = 40

    def drop(number):
        (inbox / f"story-{number}.txt").write_bytes(
            f"Island story number {number}\n\nPORT SALVIN (HP) - Islanders counted {number} boats "
            f"in the harbour on day {number} of the regatta.\n".encode()
        )

    base, process = start(tmp_path)
    for number in range(count):
        drop(number)
    wait_for(lambda: rows(tmp_path, "select count(*) from wiredesk_story")[0][0] > 0)
    process.kill()  # SIGKILL: no chance to finish or clean up
    process.wait()

    base, process = start(tmp_path)
    try:
        wait_for(
            lambda: (
                rows(tmp_path, "select count(*) from wiredesk_delivery where status = 'received'")[0][0] == 0
                and not any(inbox.iterdir())
            ),
            timeout=30,
        )
        assert rows(tmp_path, "select count(*), count(distinct uri) from wiredesk_story where state = 'live'") == [
            (count, count)
        ]
        assert rows(tmp_path, "select count(*) from wiredesk_storyversion") == [(count,)]
        assert "Island story number" in get(base + "/")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_a_feed_configured_in_sources_toml_is_polled_and_published(tmp_path):
    import http.server
    import threading

    item = b'{"uri": "urn:hp:polled", "headline": "Polled story arrives", "body_text": "It came over HTTP."}'

    class Feed(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(item)))
            self.end_headers()
            self.wfile.write(item)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "sources.toml").write_text(
        f'[sources.hp]\nurl = "http://127.0.0.1:{server.server_address[1]}/item.json"\ninterval = 5\n'
    )
    base, process = start(tmp_path)
    try:
        wait_for(lambda: "Polled story arrives" in get(base + "/"))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
        server.shutdown()


def test_every_way_a_wire_arrives_feeds_one_running_desk(tmp_path, monkeypatch, certificate):
    """Inbox, push, FTP, SFTP and mail (over STARTTLS) into one `wiredesk run`, each published,
    each source healthy."""
    import json
    import smtplib
    import ssl
    import urllib.request
    from email.message import EmailMessage

    from conftest import story_copy
    from running_desk import _opener
    from test_ftp import PASSWORD, Server
    from test_sftp import Server as SftpServer

    from wiredesk.app.processes import free_port
    from wiredesk.transports import push

    def copy(headline):
        words = " ".join(f"{headline.split()[0].lower()}{n}" for n in range(10))  # no two alike
        return story_copy(headline, paragraphs=(f"PORT SALVIN - {words}.",), dateline="")

    ftp_server = Server(tmp_path / "ftp")
    ftp_server.put("cranes.txt", copy("Cranes arrive by FTP"))
    sftp_server = SftpServer(tmp_path / "sftp")
    sftp_server.put("gales.txt", copy("Gales arrive by SFTP"))
    smtp = f"127.0.0.1:{free_port('127.0.0.1')}"
    secret = "harbour-press-shared-secret-2026"
    data = tmp_path / "data"
    data.mkdir()
    (data / "sources.toml").write_text(
        f'[sources.hp]\nftp = "{ftp_server.url()}"\nftp_password_env = "HP_FTP"\ninterval = 5\n'
        f'push_secret_env = "HP_PUSH"\nemail = "wire@hp.example"\n'
        f'[sources.nb]\nftp = "{sftp_server.url()}"\nftp_password_env = "NB_SFTP"\ninterval = 5\n',
        encoding="utf-8",
    )
    (data / "known_hosts").write_text(sftp_server.known_hosts_line() + "\n")
    env = {
        **desk_env(),
        "HP_FTP": PASSWORD,
        "NB_SFTP": PASSWORD,
        "HP_PUSH": secret,
        "WIREDESK_SMTP": smtp,
        "WIREDESK_SMTP_TLS": str(certificate),
        "WIREDESK_SMTP_REQUIRE_TLS": "1",
    }
    base, process = start(data, env)
    try:
        (data / "inbox" / "hp").mkdir(parents=True, exist_ok=True)
        (data / "inbox" / "hp" / "inbox.txt").write_bytes(copy("Ferries arrive by inbox"))
        body, ts = copy("Tides arrive by push"), str(int(time.time()))
        request = urllib.request.Request(
            f"{base}/push/hp",
            data=body,
            method="POST",
            headers={
                "Content-Type": "text/plain",
                "X-Wiredesk-Timestamp": ts,
                "X-Wiredesk-Signature": push.sign(secret, ts, body),
            },
        )
        with _opener().open(request, timeout=10) as answer:
            assert answer.status == 202
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "desk@hp.example", "wire@hp.example", "Copy"
        mail.set_content(copy("Gulls arrive by mail").decode())
        with smtplib.SMTP(*smtp.split(":"), timeout=10) as client:
            client.starttls(context=ssl.create_default_context(cafile=str(certificate)))
            client.send_message(mail)
        wanted = [
            "Cranes arrive by FTP",
            "Ferries arrive by inbox",
            "Tides arrive by push",
            "Gulls arrive by mail",
            "Gales arrive by SFTP",
        ]
        wait_for(lambda: all(headline in get(base + "/") for headline in wanted), timeout=30)
        assert ftp_server.names() == [] and sftp_server.names() == []
        [hp] = [s for s in json.loads(get(base + "/healthz"))["sources"] if s["slug"] == "hp"]
        assert hp["status"] != "failing" and hp["deliveries_last_hour"] == 4
        assert [(t["transport"], t["consecutive_errors"]) for t in hp["transports"]] == [("ftp", 0)]
        assert sorted(t for (t,) in rows(data, "select transport from wiredesk_delivery")) == [
            "ftp",
            "inbox",
            "push",
            "sftp",
            "smtp",
        ]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        ftp_server.close()
        sftp_server.close()
    assert "Traceback" not in output


def test_kill_9_while_pushes_arrive_loses_no_acknowledged_push_and_publishes_none_twice(tmp_path):
    import json
    import threading
    import urllib.request

    from running_desk import _opener

    from wiredesk.transports import push

    secret = "harbour-press-shared-secret-2026"
    (tmp_path / "sources.toml").write_text('[sources.hp]\npush_secret_env = "HP_PUSH"\n', encoding="utf-8")
    env = {**desk_env(), "HP_PUSH": secret}
    base, process = start(tmp_path, env)
    acknowledged, stop = [], threading.Event()

    def send(number):
        body = (
            f"Pushed story number {number}\n\nPORT SALVIN (HP) - Pushed {number} times over the "
            f"wire, day {number} of the regatta, boat {number}.\n"
        ).encode()
        stamp = str(int(time.time()))
        request = urllib.request.Request(
            f"{base}/push/hp",
            data=body,
            method="POST",
            headers={
                "Content-Type": "text/plain",
                "X-Wiredesk-Timestamp": stamp,
                "X-Wiredesk-Signature": push.sign(secret, stamp, body),
            },
        )
        try:
            with _opener().open(request, timeout=5) as answer:
                acknowledged.append(json.load(answer)["delivery"])
        except OSError:
            stop.set()  # the desk is gone: whatever was not answered 202 is the agency's to send again

    def pusher():
        number = 0
        while not stop.is_set() and number < 200:
            send(number)
            number += 1

    thread = threading.Thread(target=pusher)
    thread.start()
    wait_for(lambda: len(acknowledged) >= 20)
    process.kill()  # SIGKILL, mid-stream
    process.wait()
    thread.join(10)
    base, process = start(tmp_path, env)
    try:
        wait_for(
            lambda: rows(tmp_path, "select count(*) from wiredesk_delivery where status = 'received'")[0][0] == 0,
            timeout=30,
        )
        stored = {pk for (pk,) in rows(tmp_path, "select id from wiredesk_delivery where transport = 'push'")}
        assert set(acknowledged) <= stored  # every 202 was a promise kept
        stories = rows(tmp_path, "select count(*), count(distinct uri) from wiredesk_story where state = 'live'")
        assert stories[0][0] == stories[0][1] >= len(acknowledged)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_after_kill_9_the_desk_starts_again_on_its_port_even_if_its_server_would_not_stop(tmp_path):
    from wiredesk.app.processes import free_port

    port = free_port("127.0.0.1")

    def run():
        process = subprocess.Popen(
            [WIREDESK, "run", "--data", str(tmp_path), "--port", str(port)],
            env=desk_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in process.stdout:
            if line.startswith("Press Ctrl-C"):
                return process
        raise AssertionError(f"the desk did not start: {process.wait()}")

    process = run()
    server = [
        int(pid)
        for pid in subprocess.run(
            ["pgrep", "-P", str(process.pid), "-f", "granian"], capture_output=True, text=True
        ).stdout.split()
    ]
    assert len(server) == 1
    os.kill(server[0], signal.SIGSTOP)  # a server that will not stop when told (as granian has been seen to)
    process.kill()
    process.wait()
    wait_for(lambda: subprocess.run(["pgrep", "-g", str(server[0])], capture_output=True).returncode == 1, timeout=10)
    process = run()
    try:
        assert "wiredesk" in get(f"http://127.0.0.1:{port}/")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_a_desk_refuses_to_start_on_a_port_in_use_before_starting_anything(tmp_path):
    with socket.socket() as taken:
        # As granian binds: with SO_REUSEPORT, which would let a second server share the port.
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [WIREDESK, "run", "--data", str(tmp_path), "--port", str(port)],
            env=desk_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"wiredesk: cannot start: 127.0.0.1:{port} is in use (by another wiredesk run?); "
        f"stop it or choose another --port\n"
    )
    assert not (tmp_path / "site.state").exists()  # no renderer ever ran


def test_the_site_is_rendered_for_the_port_the_desk_runs_on(desk):
    base, data, process = desk
    assert not base.endswith(":8000")  # --port 0: a free port
    (data / "inbox" / "story.txt").write_bytes(
        b"Bridge reopens to traffic\n\nVALMORA (MNS) - The old bridge reopened on Monday after repairs.\n"
    )
    link = wait_for(lambda: re.search(r'<h2><a href="(/story/[^"]+)">Bridge reopens', get(base + "/"))).group(1)
    page = data / "site" / link.lstrip("/") / "index.html"
    wait_for(lambda: page.exists())
    assert f'<link rel="canonical" href="{base}{link}">' in page.read_text()


def test_wiredesk_base_url_is_kept_whatever_the_port(tmp_path):
    process = subprocess.Popen(
        [WIREDESK, "run", "--data", str(tmp_path), "--port", "0"],
        env={**desk_env(), "WIREDESK_BASE_URL": "https://news.example"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert "  url:   https://news.example/  (WIREDESK_BASE_URL: the address pages name)\n" in banner
        (tmp_path / "inbox" / "story.txt").write_bytes(
            b"Ferry strike ends\n\nVALMORA (MNS) - Ferry crews returned to work on Monday.\n"
        )
        [page] = wait_for(lambda: list((tmp_path / "site" / "story").glob("*/*/index.html")))
        link = "/" + str(page.parent.relative_to(tmp_path / "site")) + "/"
        assert f'<link rel="canonical" href="https://news.example{link}">' in page.read_text()
    finally:
        stop(process)


def test_make_run_takes_the_port():
    dry = subprocess.run(["make", "-n", "run", "PORT=8123", "DATA=somewhere"], cwd=REPO, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "wiredesk run --data somewhere --port 8123" in dry.stdout
