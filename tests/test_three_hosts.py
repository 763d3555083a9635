"""Three `wiredesk run` hosts on one PostgreSQL and one Redis, as separate processes with data
folders of their own on loopback ports, fed by every way copy comes (an HTTP feed and an FTP
folder they poll, signed pushes, mail, their inboxes). One is killed outright in the middle of
taking copy: nothing it stored is lost, nothing is published twice, the sources it polled are
taken over within two intervals, and a kill through one host leaves every host's tree.

It needs PostgreSQL (DATABASE_URL, as scripts/with_postgres.py sets it): it runs in the suite's
PostgreSQL run, in a database of its own on that server, dropped afterwards.
"""

import hashlib
import json
import os
import signal
import smtplib
import subprocess
import time
import urllib.request
import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from conftest import REDIS_URL, desk_env, story_copy
from running_desk import WIREDESK, wait_for
from test_ftp import PASSWORD, Server
from test_http_poll import Site

from wiredesk.desk import leases
from wiredesk.transports import push

pytestmark = pytest.mark.postgres

INTERVAL = 5  # seconds between polls: the floor sources.toml allows
PUSH_SECRET = "harbour-push-secret-0042"


def words(tag: str, n: int = 14) -> str:
    """Words of a story's own, so that no two are taken for copies of one another."""
    return " ".join(hashlib.sha1(f"{tag}{k}".encode()).hexdigest()[:9] for k in range(n))


def copy(tag: str) -> bytes:
    return story_copy(f"Harbour report {tag}", paragraphs=(f"{words(tag)}.", f"{words(tag + 'b')}."))


def atom(tags: list[str]) -> bytes:
    entries = "".join(
        f"<entry><id>urn:hp:{tag}</id><title>Harbour report {tag}</title><updated>2026-11-24T09:00:00Z</updated>"
        f"<content>PORT SALVIN (HP) - {words(tag)}.</content></entry>"
        for tag in tags
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:hp:feed</id><title>HP</title><updated>2026-11-24T09:00:00Z</updated>{entries}</feed>"
    ).encode()


@pytest.fixture
def database():
    """A database of its own on the suite's PostgreSQL server; its URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.fail("this test needs PostgreSQL: run it under scripts/with_postgres.py (make test-postgres)")
    name = f"wiredesk_hosts_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(f"DROP DATABASE {name} WITH (FORCE)")


class Host:
    """One `wiredesk run` of the three: its data folder, SMTP port, process and site."""

    def __init__(self, data: Path, env: dict, smtp_port: int):
        self.data, self.env, self.smtp_port = data, env, smtp_port
        self.process: subprocess.Popen | None = None
        self.base = ""

    def start(self) -> None:
        self.process = subprocess.Popen(
            [WIREDESK, "run", "--data", str(self.data), "--port", "0", "--web-workers", "1"],
            env={**self.env, "WIREDESK_SMTP": f"127.0.0.1:{self.smtp_port}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def started(self) -> None:
        for line in self.process.stdout:
            if line.startswith("  site:"):
                self.base = line.split()[1].rstrip("/")
            if line.startswith("Press Ctrl-C"):
                return
        raise AssertionError(f"{self.data.name} stopped before its banner (exit {self.process.wait()})")

    def holds(self, holder: str) -> bool:
        return holder.split(":")[1] == str(self.process.pid)

    def article(self, story_id: int, slug: str) -> Path:
        return self.data / "site" / "story" / str(story_id) / slug / "index.html"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


def pushed(host: Host, tag: str) -> None:
    """Push a story to the host, signed as the agency signs."""
    body, stamp = copy(tag), str(int(time.time()))
    request = urllib.request.Request(
        host.base + "/push/pusher",
        data=body,
        headers={
            "Content-Type": "text/plain",
            "X-Wiredesk-Timestamp": stamp,
            "X-Wiredesk-Signature": push.sign(PUSH_SECRET, stamp, body),
        },
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
        assert answer.status == 202


def free_port() -> int:
    from wiredesk.app.processes import free_port

    return free_port("127.0.0.1")


def test_three_hosts_share_the_work_survive_a_kill_and_follow_each_others_kills(
    tmp_path, database, redis_queue, monkeypatch
):
    site = Site()
    feed = [f"feed{n}" for n in range(3)]
    site.routes["/feed"] = lambda request: (200, {}, atom(feed))
    ftp = Server(tmp_path / "ftp")
    for n in range(3):
        ftp.put(f"ftp{n}.txt", copy(f"ftp{n}"))
    env = {
        **desk_env(),
        "DATABASE_URL": database,
        "WIREDESK_REDIS_URL": REDIS_URL,
        "WIREDESK_QUEUE": redis_queue[1],
        "WIREDESK_SWEEP_SECONDS": "1",
        "HP_FTP_PASSWORD": PASSWORD,
        "PUSHER_SECRET": PUSH_SECRET,
    }
    sources = (
        f'[sources.hp]\nurl = "{site.url("/feed")}"\ninterval = {INTERVAL}\n'
        f'[sources.ftpwire]\nftp = "{ftp.url()}"\nftp_password_env = "HP_FTP_PASSWORD"\ninterval = {INTERVAL}\n'
        '[sources.pusher]\npush_secret_env = "PUSHER_SECRET"\n'
        '[sources.mailer]\nemail = "wire@mailer.test"\n'
    )
    hosts = [Host(tmp_path / name, env, free_port()) for name in ("a", "b", "c")]
    for host in hosts:
        host.data.mkdir()
        (host.data / "sources.toml").write_text(sources)
    migrated = subprocess.run([WIREDESK, "migrate", "--data", str(hosts[0].data)], env=env, capture_output=True)
    assert migrated.returncode == 0, migrated.stderr
    db = psycopg.connect(database, autocommit=True)

    def rows(sql, *args):
        return db.execute(sql, args).fetchall()

    expected = {f"Harbour report {tag}" for tag in feed} | {f"Harbour report ftp{n}" for n in range(3)}
    try:
        for host in hosts:
            host.start()
        for host in hosts:
            host.started()
        # Pushes through a, mail through b, the inbox of c: any host takes them.
        for n in range(3):
            pushed(hosts[0], f"push{n}")
            expected.add(f"Harbour report push{n}")
        with smtplib.SMTP("127.0.0.1", hosts[1].smtp_port, timeout=10) as smtp:
            for n in range(2):
                mail = EmailMessage()
                mail["From"], mail["To"], mail["Subject"] = "desk@mailer.test", "wire@mailer.test", f"mail{n}"
                mail.set_content(copy(f"mail{n}").decode())
                smtp.send_message(mail)
                expected.add(f"Harbour report mail{n}")
        for n in range(2):
            (hosts[2].data / "inbox" / f"inbox{n}.txt").write_bytes(copy(f"inbox{n}"))
            expected.add(f"Harbour report inbox{n}")
        wait_for(
            lambda: {h for (h,) in rows("SELECT headline FROM wiredesk_story WHERE state = 'live'")} >= expected,
            timeout=30,
        )

        # Each pulled source is polled by one host, whichever holds its lease.
        [(holder,)] = rows("SELECT holder FROM wiredesk_polllease WHERE source = 'hp'")
        [victim] = [host for host in hosts if host.holds(holder)]
        others = [host for host in hosts if host is not victim]
        # Killed outright while files pour into its inbox.
        for n in range(20):
            (victim.data / "inbox" / f"burst{n}.txt").write_bytes(copy(f"burst{n}"))
        wait_for(lambda: rows("SELECT count(*) FROM wiredesk_delivery WHERE filename LIKE 'burst%%'")[0][0] >= 3)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        killed_at = time.monotonic()
        # What the agencies send meanwhile is taken by the others, within two intervals.
        feed += ["feed3", "feed4"]
        ftp.put("ftp3.txt", copy("ftp3"))
        expected |= {"Harbour report feed3", "Harbour report feed4", "Harbour report ftp3"}
        [(new_holder,)] = wait_for(
            lambda: rows("SELECT holder FROM wiredesk_polllease WHERE source = 'hp' AND holder <> %s", holder),
            timeout=(leases.TERM + leases.RENEW) * INTERVAL + 2,
        )
        assert any(host.holds(new_holder) for host in others)
        print(f"hp taken over {time.monotonic() - killed_at:.1f} s after the kill (interval {INTERVAL} s)")
        wait_for(
            lambda: {h for (h,) in rows("SELECT headline FROM wiredesk_story WHERE state = 'live'")} >= expected,
            timeout=2 * INTERVAL + 10,
        )
        # Whatever the dead host stored, the others' sweeps processed.
        wait_for(lambda: not rows("SELECT id FROM wiredesk_delivery WHERE status <> 'processed'"), timeout=15)
        # Back, it takes what it had not stored yet from its inbox.
        victim.start()
        victim.started()
        expected |= {f"Harbour report burst{n}" for n in range(20)}
        wait_for(
            lambda: {h for (h,) in rows("SELECT headline FROM wiredesk_story WHERE state = 'live'")} >= expected,
            timeout=30,
        )
        # Nothing lost, nothing twice: each story once, in one version, from one delivery.
        headlines = [h for (h,) in rows("SELECT headline FROM wiredesk_story")]
        assert sorted(headlines) == sorted(expected)
        assert rows("SELECT count(*) FROM wiredesk_storyversion")[0][0] == len(expected)
        assert rows("SELECT count(*) FROM wiredesk_delivery WHERE status <> 'processed'") == [(0,)]

        # A kill through one host leaves every host's tree: a story new enough for every tree to
        # hold its page (the older pages of a section are left to Django).
        pushed(others[1], "latest")
        [(story_id, slug)] = wait_for(
            lambda: rows("SELECT id, slug FROM wiredesk_story WHERE headline = 'Harbour report latest'")
        )
        wait_for(lambda: all(host.article(story_id, slug).exists() for host in hosts), timeout=20)
        killed = subprocess.run(
            [WIREDESK, "story", "kill", str(story_id), "--reason", "legal", "--data", str(others[0].data)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert killed.returncode == 0, killed.stderr
        committed = time.monotonic()
        wait_for(lambda: not any(host.article(story_id, slug).exists() for host in hosts), timeout=5)
        print(f"the kill left all three trees {time.monotonic() - committed:.2f} s after the command ended")
        for host in hosts:
            assert json.loads(host.data.joinpath("site.state", "state.json").read_text())["mark"]
    finally:
        for host in hosts:
            host.stop()
        db.close()
        ftp.close()
        site.server.shutdown()
        site.server.server_close()
