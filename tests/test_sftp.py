"""SFTP pull, against a real SSH server (asyncssh's) on localhost run by each test: the FTP
transport's poll over SSH, with the server's host key checked and password or key login."""

import asyncio
import os
import random
import threading
from pathlib import Path

import asyncssh
import pytest
from conftest import AgencyServer, story_copy

from wiredesk.config import sources
from wiredesk.config.sources import SourceConfig
from wiredesk.desk import health
from wiredesk.desk.leases import Leases
from wiredesk.models import Delivery, Story
from wiredesk.transports import folder
from wiredesk.transports.ftp import Poller
from wiredesk.transports.polling import Limits

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("immediate_tasks"),
]

PASSWORD = "tide-tables-7"
LIMITS = Limits(timeout=5, deadline=5)


class Server(AgencyServer):
    """An SSH server on 127.0.0.1 whose SFTP subsystem serves `root` (the login folder), where the
    agency's user `hp` logs in with PASSWORD or with `client_key`. Files named in `undeletable`
    may not be removed; those named in `growing` grow by a line each time they are opened, as a
    file the agency is still writing."""

    def __init__(self, root: Path):
        self.root = root
        self.undeletable: set[str] = set()
        self.growing: set[str] = set()
        server = self
        (root / "out").mkdir(parents=True, exist_ok=True)
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        client_public = self.client_key.export_public_key().decode()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

        class Login(asyncssh.SSHServer):
            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                return username == "hp" and password == PASSWORD

            def public_key_auth_supported(self):
                return True

            def validate_public_key(self, username, key):
                return username == "hp" and key.export_public_key().decode() == client_public

        class Files(asyncssh.SFTPServer):
            def open(self, path, pflags, attrs):
                name = os.path.basename(path.decode())
                if name in server.growing:
                    with open(server.root / "out" / name, "ab") as still_writing:
                        still_writing.write(b"More to come.\n")
                return super().open(path, pflags, attrs)

            def remove(self, path):
                if os.path.basename(path.decode()) in server.undeletable:
                    raise asyncssh.SFTPPermissionDenied("not yours to delete")
                return super().remove(path)

        async def listen():
            return await asyncssh.create_server(
                Login,
                "127.0.0.1",
                0,
                server_host_keys=[self.host_key],
                sftp_factory=lambda channel: Files(channel, chroot=str(root).encode()),
            )

        self.acceptor = asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)
        self.port = self.acceptor.sockets[0].getsockname()[1]

    def close(self):
        if self.acceptor is None:
            return  # closed already
        acceptor, self.acceptor = self.acceptor, None
        acceptor.close()
        asyncio.run_coroutine_threadsafe(acceptor.wait_closed(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def url(self, path="out", user="hp") -> str:
        return f"sftp://{user}@127.0.0.1:{self.port}/{path}"

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode()}"


@pytest.fixture
def server(tmp_path, settings, monkeypatch):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    server = Server(tmp_path / "sftp")
    (settings.DATA_DIR / "known_hosts").write_text(server.known_hosts_line() + "\n")
    monkeypatch.setenv("HP_SFTP_PASSWORD", PASSWORD)
    yield server
    server.close()


@pytest.fixture
def state():
    return Leases("ftp")


def poll(server, state, **settings):
    site = SourceConfig("hp", **{"ftp": server.url(), "ftp_password_env": "HP_SFTP_PASSWORD", **settings})
    return Poller([site], leases=state, limits=LIMITS, rng=random.Random(1)).poll("hp")


def copy(headline: str) -> bytes:
    return story_copy(headline, paragraphs=(f"PORT SALVIN - {' '.join(headline.lower().split()) * 3}.",))


def test_files_are_fetched_oldest_first_stored_byte_exact_published_and_deleted(server, state):
    server.put("b.txt", copy("Ferries sail again"), age=60)
    server.put("a.txt", copy("Cranes return to service"), age=120)
    server.put("c.txt.part", copy("Not finished"), age=180)
    result = poll(server, state)
    assert (result.status, result.error) == ("new", None)
    assert [(d.filename, bytes(d.data)) for d in Delivery.objects.order_by("pk")] == [
        ("out/a.txt", copy("Cranes return to service")),
        ("out/b.txt", copy("Ferries sail again")),
    ]
    assert {d.transport for d in Delivery.objects.all()} == {"sftp"}
    [report] = health.report()
    assert [(t.transport, t.total_errors) for t in report.transports] == [("sftp", 0)]
    assert sorted(s.current.canonical.headline for s in Story.objects.all()) == [
        "Cranes return to service",
        "Ferries sail again",
    ]
    assert server.names() == ["c.txt.part"]
    assert poll(server, state).status == "nothing"


def test_taken_files_can_be_moved_into_a_folder_made_for_them(server, state):
    server.put("a.txt", copy("Cranes return to service"))
    assert poll(server, state, ftp_after="move", ftp_move_to="taken").status == "new"
    assert server.names() == [] and server.names("out/taken") == ["a.txt"]


def test_a_private_key_from_the_environment_logs_in(server, state, monkeypatch):
    monkeypatch.setenv("HP_SFTP_KEY", server.client_key.export_private_key().decode())
    server.put("a.txt", copy("Cranes return to service"))
    result = poll(server, state, ftp_password_env=None, ftp_key_env="HP_SFTP_KEY")
    assert result.status == "new" and server.names() == []


def test_a_server_whose_host_key_is_not_known_is_refused(server, state, settings):
    (settings.DATA_DIR / "known_hosts").write_text(
        f"[127.0.0.1]:{server.port} {server.client_key.export_public_key().decode()}\n"
    )  # another key
    server.put("a.txt", copy("Cranes return to service"))
    result = poll(server, state)
    assert result.status == "error" and "the server's host key is not trusted" in result.error
    assert f"add it to {settings.DATA_DIR / 'known_hosts'}" in result.error
    assert not Delivery.objects.exists() and server.names() == ["a.txt"]


def test_a_wrong_password_is_an_error_that_names_the_login(server, state, monkeypatch):
    monkeypatch.setenv("HP_SFTP_PASSWORD", "not-the-password")
    result = poll(server, state)
    assert (
        result.status == "error" and f"connecting to 127.0.0.1:{server.port}: logging in as hp: refused" in result.error
    )
    assert state.get("hp")["errors"] == 1


def test_a_folder_that_is_not_there_is_an_error_of_the_poll(server, state):
    result = poll(server, state, ftp=server.url("nowhere"))
    assert result.status == "error" and "changing to the folder nowhere" in result.error


def test_a_file_over_the_limit_is_left_on_the_server_and_the_others_are_taken(server, state):
    server.put("big.xml", b"<x>" + b" " * 2000 + b"</x>", age=120)
    server.put("a.txt", copy("Cranes return to service"), age=60)
    site = SourceConfig("hp", ftp=server.url(), ftp_password_env="HP_SFTP_PASSWORD")
    result = Poller(
        [site], leases=state, limits=Limits(timeout=5, deadline=5, max_bytes=1000), rng=random.Random(1)
    ).poll("hp")
    assert result.status == "new" and "out/big.xml: 2007 bytes, more than the limit of 1000" in result.error
    assert server.names() == ["big.xml"] and Delivery.objects.get().filename == "out/a.txt"


def test_a_file_still_being_written_is_left_for_the_next_poll(server, state):
    server.put("a.txt", copy("Cranes return to service"))
    server.growing.add("a.txt")
    result = poll(server, state)
    assert result.status == "nothing" and result.waiting == ["out/a.txt"] and not Delivery.objects.exists()
    server.growing.clear()  # the agency is done
    assert poll(server, state).status == "new" and server.names() == []
    assert bytes(Delivery.objects.get().data).endswith(b"More to come.\n")


def test_a_file_the_server_will_not_delete_is_not_stored_twice(server, state):
    server.put("a.txt", copy("Cranes return to service"))
    server.undeletable.add("a.txt")
    first, second = poll(server, state), poll(server, state)
    delivery = Delivery.objects.get()
    for result in (first, second):
        assert f"out/a.txt: stored as delivery {delivery.pk} but not deleted (not yours to delete)" in result.error
    server.undeletable.clear()
    assert poll(server, state).error is None and server.names() == [] and Delivery.objects.count() == 1


def test_a_server_that_is_down_is_an_error_of_the_poll(server, state):
    port = server.port
    server.close()
    result = poll(server, state, ftp=f"sftp://hp@127.0.0.1:{port}/out")
    assert result.status == "error" and result.error == f"connecting to 127.0.0.1:{port}: the connection was refused"


def test_sftp_sources_are_read_from_the_sources_file(tmp_path):
    file = tmp_path / "sources.toml"
    file.write_text('[sources.hp]\nftp = "sftp://wire@sftp.hp.example/out"\nftp_key_env = "HP_SFTP_KEY"\n')
    [site] = sources.read(file).sources.values()
    assert (site.ftp, site.ftp_key_env, site.ftp_password_env, folder.path(site)) == (
        "sftp://wire@sftp.hp.example/out",
        "HP_SFTP_KEY",
        None,
        "out",
    )
    file.write_text('[sources.hp]\nftp = "ftps://wire@ftp.hp.example/out"\nftp_key_env = "HP_SFTP_KEY"\n')
    with pytest.raises(sources.ConfigError, match="ftp_key_env is for an sftp:// server only"):
        sources.read(file)
