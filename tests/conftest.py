import datetime as dt
import ipaddress
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("WIREDESK_CORPUS", REPO.parent / "shared" / "corpus"))
SEED = CORPUS / "seed" / "ians-2024-11-14-biden-xi-summit.agency-copy.txt"
SEED_PUBLISHED = CORPUS / "seed" / "ians-2024-11-14-biden-xi-summit.as-published.txt"


def pytest_configure(config):
    if not SEED.exists():
        raise pytest.UsageError(f"the test corpus is missing: {CORPUS} (set WIREDESK_CORPUS)")


@pytest.fixture
def ingest(db):
    """Store and process copy as the CLI does; returns the results."""
    from wiredesk.desk import pipeline

    def ingest(data: bytes, source="ians", received_at=None):
        delivery = pipeline.receive(data, source=source, transport="cli", received_at=received_at)
        # The same bytes again are the delivery they were stored as, run again as the CLI does.
        return pipeline.process(delivery.pk, again=delivery.again)

    return ingest


@pytest.fixture
def inbox(tmp_path, settings):
    """An inbox, with its archive and error folders, of its own."""
    from wiredesk.transports.inbox import Inbox

    settings.INBOX_DIR, settings.ARCHIVE_DIR, settings.ERROR_DIR = (tmp_path / n for n in ("inbox", "archive", "error"))
    settings.INBOX_DIR.mkdir()
    return Inbox(settings.INBOX_DIR, settings.ARCHIVE_DIR, settings.ERROR_DIR)


@pytest.fixture
def immediate_tasks():
    """Tasks run as they are enqueued, as a transport's tests need to see what it published."""
    from django.test import override_settings

    with override_settings(TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}):
        yield


# The Redis these machines and CI run; WIREDESK_TEST_REDIS_URL names another.
REDIS_URL = os.environ.get("WIREDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_queue():
    """(client, name): a queue name of its own on the Redis at REDIS_URL, its keys removed
    afterwards. Without Redis the test fails, saying so: a queue never tried against a server is
    not known to work."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis does not answer at {REDIS_URL} ({exc}): start it (Debian: apt-get install redis-server)")
    name = f"wiredesktest{uuid.uuid4().hex}"  # letters and digits: RedisHuey's keys keep no others
    yield client, name
    client.delete(*(f"huey.{kind}.{name}" for kind in ("redis", "schedule", "results", "counters")))
    client.close()


def desk_env() -> dict:
    """The environment for a `wiredesk` child process: the embedded default in its own data
    folder, whatever database and settings this suite runs with."""
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser fixture's, for this process only.
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "WIREDESK_DATA", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }


def migrated(data) -> None:
    """Migrate the data folder `data` unless its embedded database is there already: only
    `migrate`, `run` and `demo` create it, and every other command refuses until then. Not
    checked: a mistake in sources.toml or sections.toml fails it once it has migrated, for the
    command the test runs next to say."""
    if not (Path(data) / "wiredesk.sqlite3").exists():
        wiredesk = Path(sys.executable).parent / "wiredesk"
        subprocess.run([wiredesk, "migrate", "--data", str(data)], env=desk_env(), capture_output=True)


def story_copy(
    headline="Harbour cranes return to service",
    *,
    dateline="PORT SALVIN (HP) - ",
    paragraphs=(
        "The harbour's cranes worked again on Monday after a week of repairs.",
        "Dock workers said queues of lorries had cleared by noon.",
    ),
    date="2026-11-24",
) -> bytes:
    """Fictional agency copy for tests, built from parts."""
    body = "\n\n".join([dateline + paragraphs[0], *paragraphs[1:]])
    head = f"date {date}\n" if date else ""
    return f"{head}{headline}\n\n{body}\n".encode() if headline else f"{head}{body}\n".encode()


NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def chromium():
    from browser import launch
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Each test starts with no kept pages: its database starts again at the same site version."""
    from django.core.cache import caches

    caches["pages"].clear()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> Path:
    """A self-signed certificate for 127.0.0.1, with its key, in one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wire.harbour-press.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("tls") / "server.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


class AgencyServer:
    """What the tests' FTP and SFTP servers share: the login folder `root`, where the agency
    leaves its files in `out`."""

    root: Path

    def put(self, name: str, data: bytes, *, age: float = 60) -> Path:
        """A file the agency has uploaded, `age` seconds ago."""
        path = self.root / "out" / name
        path.write_bytes(data)
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
        return path

    def names(self, folder="out") -> list[str]:
        return sorted(p.name for p in (self.root / folder).iterdir() if p.is_file())


class Hub:
    """A WebSub hub on localhost at `url`: each notice it takes (a dict of the form's fields) is
    put in `notices`."""

    def __init__(self):
        self.notices = queue.Queue()
        notices = self.notices

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
                notices.put(parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
