"""FTP and FTPS pull, against a real FTP server (pyftpdlib) on localhost run by each test."""

import contextlib
import ftplib
import logging
import random
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
from conftest import AgencyServer, story_copy
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

from wiredesk.config import sources
from wiredesk.config.sources import SourceConfig
from wiredesk.desk import health
from wiredesk.desk.leases import Leases
from wiredesk.models import Delivery, Story
from wiredesk.transports import folder, ftp
from wiredesk.transports.ftp import Poller
from wiredesk.transports.polling import Limits

pytestmark = [
    # The poller's threads use connections of their own, which see only committed rows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("immediate_tasks"),
]

PASSWORD = "tide-tables-7"
LIMITS = Limits(timeout=2, deadline=5)


class Authorizer(DummyAuthorizer):
    """Users as DummyAuthorizer keeps them; the files named in `unreadable` may not be fetched."""

    def __init__(self):
        super().__init__()
        self.unreadable: set[str] = set()

    def has_perm(self, username, perm, path=None):
        if perm == "r" and path and Path(path).name in self.unreadable:
            return False
        return super().has_perm(username, perm, path)


class Server(AgencyServer):
    """A real FTP server on 127.0.0.1 serving `root`, where the agency's user `hp` may list, read,
    delete, rename and make folders (`perm`). `before_sending` and `after_sending` are called with
    a file's path around each RETR, standing for an agency still writing it."""

    def __init__(self, root: Path, *, handler=FTPHandler, perm="elrdfm", **handler_settings):
        self.root = root
        (root / "out").mkdir(parents=True, exist_ok=True)
        self.authorizer = Authorizer()
        self.authorizer.add_user("hp", PASSWORD, str(root), perm=perm)
        self.fetched: list[str] = []
        self.before_sending = self.after_sending = lambda path: None
        self.hang_up_on_delete = False  # once, as a server going down would
        server = self

        class Handler(handler):
            authorizer = self.authorizer
            auth_failed_timeout = 0  # a wrong password is answered at once

            def ftp_RETR(self, file):
                server.fetched.append(Path(file).name)
                server.before_sending(Path(file))
                return super().ftp_RETR(file)

            def on_file_sent(self, file):
                server.after_sending(Path(file))

            def ftp_DELE(self, path):
                if server.hang_up_on_delete:
                    server.hang_up_on_delete = False
                    return self.close()
                return super().ftp_DELE(path)

        for name, value in handler_settings.items():
            setattr(Handler, name, value)
        self.ftpd = FTPServer(("127.0.0.1", 0), Handler)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        # pyftpdlib's loop is not thread-safe: it is turned, and closed, in this thread only.
        while not self._stop.is_set():
            self.ftpd.serve_forever(timeout=0.02, blocking=False, handle_exit=False)
        self.ftpd.close_all()

    def close(self):
        self._stop.set()
        self._thread.join(5)

    def url(self, path="out", scheme="ftp", user="hp") -> str:
        return f"{scheme}://{user}@127.0.0.1:{self.ftpd.address[1]}/{path}"


@pytest.fixture(autouse=True)
def quiet_ftp_server():
    # pyftpdlib logs every command and every turn of its loop.
    logger = logging.getLogger("pyftpdlib")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("HP_FTP_PASSWORD", PASSWORD)


@pytest.fixture
def server(tmp_path, password):
    server = Server(tmp_path / "ftp")
    yield server
    server.close()


@pytest.fixture
def state():
    return Leases("ftp")


def site(server, slug="hp", **settings) -> SourceConfig:
    return SourceConfig(
        slug, ftp=settings.pop("url", None) or server.url(), ftp_password_env="HP_FTP_PASSWORD", **settings
    )


def poller(state, *sites, limits=LIMITS, **kwargs) -> Poller:
    return Poller(list(sites), leases=state, limits=limits, rng=random.Random(1), **kwargs)


def headlines() -> list[str]:
    return sorted(story.current.canonical.headline for story in Story.objects.all())


def test_files_are_fetched_stored_byte_exact_published_and_deleted(server, state):
    first = story_copy("Harbour cranes return to service")
    second = story_copy("Ferry strike ends after nine days", date="2026-11-25")
    server.put("cranes.txt", first, age=120)
    server.put("ferry.txt", second, age=60)
    result = poller(state, site(server)).poll("hp")
    assert result.status == "new" and result.error is None and len(result.deliveries) == 2
    deliveries = list(Delivery.objects.order_by("pk"))
    assert [(d.transport, d.filename, d.source.slug) for d in deliveries] == [
        ("ftp", "out/cranes.txt", "hp"),
        ("ftp", "out/ferry.txt", "hp"),
    ]  # oldest first
    assert [bytes(d.data) for d in deliveries] == [first, second]
    assert all(d.status == Delivery.Status.PROCESSED for d in deliveries)
    assert headlines() == ["Ferry strike ends after nine days", "Harbour cranes return to service"]
    assert server.names() == []
    assert poller(state, site(server)).poll("hp").status == "nothing"
    assert health.report()[0].transports[0].consecutive_errors == 0


def test_move_mode_moves_each_file_into_done(server, state):
    server.put("cranes.txt", story_copy())
    result = poller(state, site(server, ftp_after="move")).poll("hp")
    assert result.status == "new" and result.error is None
    assert server.names() == [] and server.names("out/done") == ["cranes.txt"]
    server.put("ferry.txt", story_copy("Ferry strike ends after nine days"))
    poller(state, site(server, ftp_after="move")).poll("hp")  # done/ is there already
    assert server.names("out/done") == ["cranes.txt", "ferry.txt"]
    assert Delivery.objects.count() == 2 and Story.objects.count() == 2


def test_temporary_names_are_left_alone(server, state):
    for name in ("cranes.txt.part", ".cranes.txt", "cranes.tmp", "~cranes.txt"):
        server.put(name, story_copy())
    server.put("ferry.txt", story_copy("Ferry strike ends after nine days"))
    poller(state, site(server)).poll("hp")
    assert [d.filename for d in Delivery.objects.all()] == ["out/ferry.txt"]
    assert server.names() == [".cranes.txt", "cranes.tmp", "cranes.txt.part", "~cranes.txt"]


def test_a_backlog_is_taken_a_few_files_a_poll_and_a_stop_ends_a_poll_between_files(server, state):
    for n in range(3):
        server.put(f"story-{n}.txt", story_copy(f"Harbour story number {n}"), age=90 - n)
    desk = poller(state, site(server), limits=Limits(timeout=2, max_files=2))
    assert len(desk.poll("hp").deliveries) == 2 and server.names() == ["story-2.txt"]
    stop = threading.Event()
    stop.set()
    result = ftp.poll(site(server), state.get("hp"), limits=LIMITS, stop=stop)
    assert (result.status, result.error) == ("nothing", None) and server.names() == ["story-2.txt"]
    assert len(desk.poll("hp").deliveries) == 1 and server.names() == []


@pytest.mark.parametrize("when", ["before the transfer", "during the transfer"])
def test_a_file_still_being_written_is_left_for_the_next_poll(server, state, when):
    server.put("cranes.txt", story_copy())

    def agency_writes(path):
        with path.open("ab") as file:
            file.write(b"Dock workers said the queues had cleared.\n")

    if when == "before the transfer":
        server.before_sending = agency_writes  # the transfer brings more than the listing said
    else:
        server.after_sending = agency_writes  # SIZE after the transfer finds the file has grown
    desk = poller(state, site(server))
    result = desk.poll("hp")
    assert result.status == "nothing" and result.error is None and result.waiting == ["out/cranes.txt"]
    assert not Delivery.objects.exists() and server.names() == ["cranes.txt"]
    server.before_sending = server.after_sending = lambda path: None  # the agency has finished
    assert desk.poll("hp").status == "new"
    assert bytes(Delivery.objects.get().data).endswith(b"the queues had cleared.\n")
    assert server.names() == []


def test_a_wrong_password_is_an_error_and_three_in_a_row_make_the_source_failing(server, state, monkeypatch):
    monkeypatch.setenv("HP_FTP_PASSWORD", "not-the-password")
    server.put("cranes.txt", story_copy())
    desk = poller(state, site(server))
    for _ in range(3):
        result = desk.poll("hp")
        assert result.status == "error" and result.error.startswith("logging in as hp: 530")
    assert state.get("hp")["errors"] == 3
    [report] = health.report()
    assert report.status == "failing"
    assert report.problems == [f"ftp: 3 failures in a row; last: {result.error}"]
    assert server.names() == ["cranes.txt"] and not Delivery.objects.exists()


def test_a_missing_password_variable_is_named(server, state, monkeypatch):
    monkeypatch.delenv("HP_FTP_PASSWORD")
    result = poller(state, site(server)).poll("hp")
    assert result.error == "the environment variable HP_FTP_PASSWORD (ftp_password_env) is not set"


def test_an_anonymous_login_when_no_password_is_configured(server, state):
    server.authorizer.add_anonymous(str(server.root))  # read only, as anonymous users are kept
    server.put("cranes.txt", story_copy())
    result = poller(state, SourceConfig("hp", ftp=server.url(user="anonymous"))).poll("hp")
    assert result.status == "new" and Delivery.objects.get().filename == "out/cranes.txt"
    assert "not deleted" in result.error


def test_a_server_down_or_silent_is_an_error_and_another_source_is_polled_meanwhile(server, state):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
    silent = socket.create_server(("127.0.0.1", 0))  # connections are let in, and never greeted
    silent_port = silent.getsockname()[1]
    server.put("cranes.txt", story_copy())
    desk = poller(
        state,
        SourceConfig("down", ftp=f"ftp://127.0.0.1:{closed_port}/", interval=0.05),
        SourceConfig("silent", ftp=f"ftp://127.0.0.1:{silent_port}/", interval=0.05),
        site(server, interval=0.05),
        limits=Limits(timeout=30),
    )
    desk.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
            Delivery.objects.exists() and state.get("down").get("errors", 0) >= 2
        ):
            time.sleep(0.05)
        assert not state.get("silent")  # still waiting for its greeting: the others did not wait
    finally:
        silent.close()  # the connection waiting in it is reset
        desk.stop(timeout=5)
    assert [d.source.slug for d in Delivery.objects.all()] == ["hp"] and server.names() == []
    assert state.get("down")["last_error"].startswith(f"connecting to 127.0.0.1:{closed_port}: ConnectionRefusedError")
    assert state.get("silent")["last_error"].startswith(f"connecting to 127.0.0.1:{silent_port}: ")
    assert state.get("hp")["errors"] == 0


def test_a_server_that_never_answers_is_given_up_after_the_timeout(state):
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        result = poller(state, SourceConfig("silent", ftp=f"ftp://127.0.0.1:{port}/"), limits=Limits(timeout=0.3)).poll(
            "silent"
        )
    assert result.error == f"connecting to 127.0.0.1:{port}: timed out: no answer within 0.3s"


def test_a_delete_refused_does_not_store_the_file_again(tmp_path, password, state):
    server = Server(tmp_path / "ftp", perm="elr")  # the agency forgot to let us delete
    try:
        server.put("cranes.txt", story_copy())
        server.put("ferry.txt", story_copy("Ferry strike ends after nine days"))
        desk = poller(state, site(server))
        first = desk.poll("hp")
        assert first.status == "new" and len(first.deliveries) == 2
        assert "out/cranes.txt: stored as delivery" in first.error and "550" in first.error
        assert "out/ferry.txt: stored as delivery" in first.error
        second = desk.poll("hp")
        assert second.status == "nothing" and second.deliveries == [] and "550" in second.error
        assert server.fetched == ["cranes.txt", "ferry.txt"]  # not even fetched again
        server.authorizer.user_table["hp"]["perm"] = "elrd"
        third = desk.poll("hp")
        assert (third.status, third.error) == ("nothing", None)
        assert server.names() == [] and server.fetched == ["cranes.txt", "ferry.txt"]
        assert Delivery.objects.count() == 2 and Story.objects.count() == 2
        assert state.get("hp")["pending"] == {}
    finally:
        server.close()


def test_a_fetch_refused_does_not_stop_the_other_files(server, state):
    server.put("cranes.txt", story_copy())
    server.authorizer.unreadable.add("cranes.txt")
    server.put("ferry.txt", story_copy("Ferry strike ends after nine days"))
    result = poller(state, site(server)).poll("hp")
    assert result.status == "new" and [d.filename for d in Delivery.objects.all()] == ["out/ferry.txt"]
    assert result.error.startswith("out/cranes.txt: 550")
    assert server.names() == ["cranes.txt"]


class Killed(BaseException):
    """The process dies here: nothing after this point happens, nothing is saved."""


def test_a_crash_between_storing_and_deleting_gives_no_second_delivery(server, state, monkeypatch):
    server.put("cranes.txt", story_copy())
    delete = ftplib.FTP.delete

    def crash_once(self, name):
        monkeypatch.setattr(ftplib.FTP, "delete", delete)
        raise Killed

    monkeypatch.setattr(ftplib.FTP, "delete", crash_once)
    with pytest.raises(Killed):
        poller(state, site(server)).poll("hp")
    assert Delivery.objects.count() == 1 and server.names() == ["cranes.txt"]
    restarted = poller(Leases("ftp"), site(server))
    result = restarted.poll("hp")
    assert (result.status, result.deliveries, result.error) == ("nothing", [], None)
    assert Delivery.objects.count() == 1 and Story.objects.count() == 1
    assert server.names() == []


def test_a_connection_lost_before_the_delete_is_resumed_without_fetching_again(server, state):
    server.put("cranes.txt", story_copy())
    server.hang_up_on_delete = True
    desk = poller(state, site(server))
    result = desk.poll("hp")
    assert result.status == "error" and len(result.deliveries) == 1
    assert result.error == "out/cranes.txt: the server closed the connection"
    assert server.names() == ["cranes.txt"]
    result = desk.poll("hp")
    assert (result.status, result.deliveries, result.error) == ("nothing", [], None)
    assert server.fetched == ["cranes.txt"] and server.names() == []
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize("listing", ["MLSD", "NLST without SIZE"])
def test_a_file_over_the_size_limit_is_refused_and_left_on_the_server(tmp_path, password, state, listing):
    # A server that does not say how big a file is has the transfer cut at the limit.
    unknown = {"MLSD": (), "NLST without SIZE": ("MLSD", "MLST", "SIZE")}[listing]
    server = Server(
        tmp_path / "ftp",
        proto_cmds={name: value for name, value in FTPHandler.proto_cmds.items() if name not in unknown},
    )
    try:
        server.put("cranes.txt", story_copy(paragraphs=["The harbour's cranes worked again."] * 40), age=90)
        server.put("ferry.txt", story_copy("Ferry strike ends after nine days"), age=30)
        result = poller(state, site(server), limits=Limits(max_bytes=500)).poll("hp")
        size = (server.root / "out" / "cranes.txt").stat().st_size
        assert result.status == "new" and [d.filename for d in Delivery.objects.all()] == ["out/ferry.txt"]
        assert (
            result.error
            == {
                "MLSD": f"out/cranes.txt: {size} bytes, more than the limit of 500; left on the server",
                "NLST without SIZE": "out/cranes.txt: more than the limit of 500 bytes; left on the server",
            }[listing]
        )
        assert server.names() == ["cranes.txt"]
        transport = health.report()[0].transports[0]
        assert (transport.transport, transport.last_error) == ("ftp", result.error)
    finally:
        server.close()


def test_a_transfer_past_its_deadline_is_cut_and_the_next_file_is_taken(tmp_path, password, state):
    # pyftpdlib sends a burst, then holds the data back for a second or two.
    dripping = type("Dripping", (ThrottledDTPHandler,), {"write_limit": 1024})
    server = Server(tmp_path / "ftp", dtp_handler=dripping)
    try:
        server.put("cranes.txt", story_copy(paragraphs=["The harbour's cranes worked again."] * 100), age=90)
        server.put("ferry.txt", story_copy("Ferry strike ends after nine days"), age=30)
        result = poller(state, site(server), limits=Limits(timeout=5, deadline=0.5)).poll("hp")
        assert result.status == "new" and [d.filename for d in Delivery.objects.all()] == ["out/ferry.txt"]
        assert result.error == "out/cranes.txt: the transfer took more than 0.5s; tried again next poll"
        assert server.names() == ["cranes.txt"]
    finally:
        server.close()


def test_a_server_without_mlsd_is_listed_with_nlst_and_folders_are_skipped(tmp_path, password, state):
    without_mlsd = {name: value for name, value in FTPHandler.proto_cmds.items() if name not in ("MLSD", "MLST")}
    server = Server(tmp_path / "ftp", proto_cmds=without_mlsd)
    try:
        (server.root / "out" / "archive").mkdir()
        server.put("ferry.txt", story_copy("Ferry strike ends after nine days"), age=30)
        server.put("cranes.txt", story_copy(), age=90)
        result = poller(state, site(server)).poll("hp")
        assert result.status == "new" and result.error is None
        assert [d.filename for d in Delivery.objects.order_by("pk")] == ["out/cranes.txt", "out/ferry.txt"]
        assert server.names() == [] and (server.root / "out" / "archive").is_dir()
    finally:
        server.close()


def test_one_source_is_never_polled_twice_at_once(server, state):
    entered, release = threading.Event(), threading.Event()

    def held(path):
        entered.set()
        release.wait(5)

    server.put("cranes.txt", story_copy())
    server.before_sending = held
    desk = poller(state, site(server))
    first = threading.Thread(target=desk.poll, args=("hp",))
    first.start()
    assert entered.wait(5)
    assert desk.poll("hp") is None
    release.set()
    first.join(5)
    assert server.fetched == ["cranes.txt"] and Delivery.objects.count() == 1


@pytest.fixture
def tls_server(tmp_path, password, certificate):
    # Plain FTP is refused: the control and the data channels must both be protected.
    server = Server(
        tmp_path / "ftp",
        handler=TLS_FTPHandler,
        certfile=str(certificate),
        ssl_context=None,
        tls_control_required=True,
        tls_data_required=True,
    )
    yield server
    server.close()


def test_ftps_round_trip_with_the_certificate_checked(tls_server, state, certificate):
    tls_server.put("cranes.txt", story_copy())
    trusted = ssl.create_default_context(cafile=str(certificate))
    result = poller(state, site(tls_server, url=tls_server.url(scheme="ftps")), context=trusted).poll("hp")
    assert result.status == "new" and result.error is None
    assert headlines() == ["Harbour cranes return to service"] and tls_server.names() == []


def test_ftps_refuses_a_certificate_the_system_does_not_trust(tls_server, state):
    tls_server.put("cranes.txt", story_copy())
    result = poller(state, site(tls_server, url=tls_server.url(scheme="ftps"))).poll("hp")
    assert result.status == "error"
    assert result.error.startswith("securing the connection (AUTH TLS): the server's TLS certificate was refused: ")
    assert not Delivery.objects.exists() and tls_server.names() == ["cranes.txt"]


def test_ftps_data_connections_resume_the_tls_session_of_the_control_connection(tls_server, certificate):
    trusted = ssl.create_default_context(cafile=str(certificate))
    with contextlib.closing(
        ftp.connect(site(tls_server, url=tls_server.url(scheme="ftps")), LIMITS, trusted)
    ) as session:
        data, _ = session.ntransfercmd("NLST")
        with data:
            assert data.version() and data.session_reused
            while data.recv(4096):  # the listing, read to its end: the transfer completes
                pass
        session.voidresp()


def test_plain_ftp_is_refused_by_a_server_that_requires_tls(tls_server, state):
    result = poller(state, site(tls_server)).poll("hp")
    assert result.status == "error" and result.error.startswith("logging in as hp: 550")


def test_the_poll_state_is_kept_apart_from_the_http_pollers():
    assert Poller([]).leases.transport == "ftp"


def test_the_configured_sources_and_their_defaults(tmp_path):
    file = tmp_path / "sources.toml"
    file.write_text(
        '[sources.hp]\nftp = "ftps://wire@ftp.hp.example/%2Fsrv/wire"\nftp_password_env = "HP_FTP_PASSWORD"\n'
        'ftp_after = "move"\nftp_move_to = "taken"\ninterval = 1\n'
        '[sources.afp]\nftp = "ftp://ftp.afp.example"\n'
        '[sources.ians]\nurl = "https://ians.example/feed"\n'
    )
    hp, afp, _ = sources.read(file).sources.values()
    assert (hp.ftp, hp.ftp_password_env, hp.ftp_after, hp.ftp_move_to, hp.interval) == (
        "ftps://wire@ftp.hp.example/%2Fsrv/wire",
        "HP_FTP_PASSWORD",
        "move",
        "taken",
        5.0,
    )
    assert (afp.ftp, afp.ftp_password_env, afp.ftp_after, afp.ftp_move_to, afp.interval) == (
        "ftp://ftp.afp.example",
        None,
        "delete",
        "done",
        60.0,
    )
    assert (folder.path(hp), folder.path_of(hp, "a.xml")) == ("/srv/wire", "/srv/wire/a.xml")  # %2F: from the root
    assert (folder.path(afp), folder.path_of(afp, "a.xml")) == ("", "a.xml")


@pytest.mark.parametrize(
    "url, says",
    [
        ("ftp://wire:secret@ftp.hp.example/out", "ftp must not hold a password"),
        ("ftp:///out", "ftp must name a server"),
        ("ftp://ftp.hp.example:99999/out", "ftp has a port that is not a number"),
        ("sftp://sftp.hp.example/out", "ftp must name the user to log in as"),
        ("http://ftp.hp.example/out", "ftp must start with ftp://, ftps:// or sftp://"),
    ],
)
def test_a_wrong_ftp_url_is_named(tmp_path, url, says):
    file = tmp_path / "sources.toml"
    file.write_text(f'[sources.hp]\nftp = "{url}"\n')
    with pytest.raises(sources.ConfigError, match=says):
        sources.read(file)


def test_the_state_saved_names_what_waits_for_a_delete(tmp_path, password, state):
    server = Server(tmp_path / "ftp", perm="elr")
    try:
        server.put("cranes.txt", story_copy())
        poller(state, site(server)).poll("hp")
        saved = state.get("hp")
        delivery = Delivery.objects.get()
        assert saved["pending"]["cranes.txt"]["delivery"] == delivery.pk
        assert saved["pending"]["cranes.txt"]["size"] == delivery.size
        assert saved["errors"] == 0 and "550" in saved["last_error"]
    finally:
        server.close()


def test_a_source_added_to_the_sources_file_is_polled_and_one_taken_out_stops_without_a_restart(
    server, state, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    file = settings.DATA_DIR / "sources.toml"
    file.write_text('[sources.ians]\nname = "IANS"\n')  # nothing to pull yet
    desk = Poller.from_config(leases=state, limits=LIMITS, rng=random.Random(1), reload_every=0.05)
    desk.start()
    try:
        server.put("cranes.txt", story_copy())
        file.write_text(f'[sources.hp]\nftp = "{server.url()}"\nftp_password_env = "HP_FTP_PASSWORD"\ninterval = 5\n')
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.names():
            time.sleep(0.05)
        file.write_text("[sources.hp]\n")  # no longer pulled over FTP
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(thread.name == "ftp-hp" for thread in threading.enumerate()):
            time.sleep(0.05)
        assert not any(thread.name == "ftp-hp" for thread in threading.enumerate())
    finally:
        desk.stop(timeout=5)
    assert server.names() == [] and Delivery.objects.get().source.slug == "hp"
