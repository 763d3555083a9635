"""`wiredesk run` as a user runs it: a real process, a real inbox, real HTTP, Ctrl-C to stop.

It runs on the embedded default (SQLite in its own data folder) whatever database the rest of
the suite uses, as `make run` does.
"""

import re
import shutil
import signal
import subprocess

import pytest
from conftest import SEED, desk_env
from desk import WIREDESK, get, rows, start, wait_for


@pytest.fixture
def desk(tmp_path):
    """A running desk; yields (base URL, data folder, process)."""
    base, process = start(tmp_path)
    yield base, tmp_path, process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_file_dropped_in_the_inbox_is_published_and_ctrl_c_stops_cleanly(desk):
    base, data, process = desk
    (data / "inbox" / "ians").mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, data / "inbox" / "ians" / SEED.name)

    link = wait_for(lambda: re.search(r'<h2><a href="(/story/[^"]+)">US President Joe Biden', get(base + "/")))
    article = get(base + link.group(1))
    assert '<span class="agency">IANS</span>' in article
    assert "The Presidents previously met on the sidelines of the G20 summit in Bali in 2022" in article
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
        b"Ferry timetable changes\n\nPORT SALVIN (HP) - The ferry company changed its winter timetable.\n")
    wait_for(lambda: "Ferry timetable changes" in get(base + "/"))
    assert process.poll() is None

    [(filename, error)] = wait_for(lambda: rows(data, "select filename, error from wiredesk_delivery where status = 'quarantined'"))
    assert filename == "garbage.bin" and "binary" in error

    ingest = subprocess.run([WIREDESK, "ingest", "--data", str(data), str(data / "archive")], env=desk_env(),
                            capture_output=True, text=True)
    assert ingest.returncode == 1  # a folder is not copy: said, not crashed
    assert "Is a directory" in ingest.stderr


def test_files_left_in_the_inbox_while_stopped_are_taken_at_start(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "early.txt").write_bytes(
        b"Early bird story\n\nOSLO (HP) - This copy arrived before the desk started.\n")
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
            f"in the harbour on day {number} of the regatta.\n".encode())

    base, process = start(tmp_path)
    for number in range(count):
        drop(number)
    wait_for(lambda: rows(tmp_path, "select count(*) from wiredesk_story")[0][0] > 0)
    process.kill()  # SIGKILL: no chance to finish or clean up
    process.wait()

    base, process = start(tmp_path)
    try:
        wait_for(lambda: rows(tmp_path, "select count(*) from wiredesk_delivery where status = 'received'")[0][0] == 0
                 and not any(inbox.iterdir()), timeout=30)
        assert rows(tmp_path, "select count(*), count(distinct uri) from wiredesk_story where state = 'live'") == [(count, count)]
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
        f'[sources.hp]\nurl = "http://127.0.0.1:{server.server_address[1]}/item.json"\ninterval = 5\n')
    base, process = start(tmp_path)
    try:
        wait_for(lambda: "Polled story arrives" in get(base + "/"))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
        server.shutdown()
