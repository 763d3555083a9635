"""Push: agencies POST signed items to /push/<source>; through Django's test client, and over a
real socket to a running desk."""

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
import running_desk
import time_machine
from conftest import story_copy
from django.conf import settings
from django.db import OperationalError
from django.tasks.backends.base import BaseTaskBackend
from django.test import override_settings

from wiredesk.db import thread_connections
from wiredesk.desk import pipeline
from wiredesk.models import Delivery, Story
from wiredesk.transports import push
from wiredesk.transports.push import SignatureError, sign, verify

pytestmark = [
    # The desk's own threads use connections of their own, which see only committed rows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("immediate_tasks", "hp_pushes"),
]

SECRET = "harbour-press-shared-secret-2026"
STORY = story_copy()


@pytest.fixture
def queued_only(immediate_tasks):
    """Deliveries queued, not processed: for tests of what is taken, not of what it reads as.
    (Set up after immediate_tasks, which it overrides.)"""
    with override_settings(TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}):
        yield


def write_sources(text: str) -> None:
    (settings.DATA_DIR / "sources.toml").write_text(text, encoding="utf-8")


@pytest.fixture
def hp_pushes(monkeypatch):
    write_sources(
        '[sources.hp]\nname = "Harbour Press"\npush_secret_env = "HP_PUSH_SECRET"\n'
        '[sources.salvin-times]\nname = "Salvin Times"\n'
    )
    monkeypatch.setenv("HP_PUSH_SECRET", SECRET)
    yield
    (settings.DATA_DIR / "sources.toml").unlink()


def signed(body: bytes = STORY, *, secret: str = SECRET, at: float | None = None, **headers) -> dict:
    timestamp = str(int(time.time() if at is None else at))
    return {"X-Wiredesk-Timestamp": timestamp, "X-Wiredesk-Signature": sign(secret, timestamp, body), **headers}


def post(client, body: bytes = STORY, *, source: str = "hp", content_type: str = "text/plain", headers=None):
    return client.generic(
        "POST", f"/push/{source}", body, content_type=content_type, headers=signed(body) if headers is None else headers
    )


def refused(response, status: int, says: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    error = response.json()["error"]
    assert says in error, error
    return error


def test_a_signed_push_is_stored_as_sent_and_published(client):
    response = client.generic(
        "POST",
        "/push/hp",
        STORY,
        content_type="text/plain; charset=utf-8",
        headers=signed(X_Wiredesk_Filename="hp-20261124-0930.txt"),
    )
    assert response.status_code == 202
    delivery = Delivery.objects.get()
    assert response.json() == {"delivery": delivery.pk}
    assert response["Cache-Control"] == "no-store" and not response.has_header("Location")
    assert bytes(delivery.data) == STORY
    assert (delivery.source.slug, delivery.transport, delivery.filename) == ("hp", "push", "hp-20261124-0930.txt")
    assert delivery.status == Delivery.Status.PROCESSED
    page = client.get(Story.objects.get().get_absolute_url())
    assert page.status_code == 200 and b"Harbour cranes return to service" in page.content


@pytest.mark.usefixtures("queued_only")
def test_a_15_mb_file_is_taken_whole(client):
    body = STORY + b"\n" + b"Dock workers said queues of lorries had cleared by noon. " * (15 * 1024 * 1024 // 57)
    assert len(body) > 15 * 1024 * 1024 > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = post(client, body)
    assert response.status_code == 202
    assert bytes(Delivery.objects.get(pk=response.json()["delivery"]).data) == body


def test_a_fresh_signature_verifies_whatever_the_case_of_its_hex():
    now = 1795000000
    assert verify(SECRET, "1795000000", sign(SECRET, "1795000000", STORY), STORY, now=now) is None
    upper = "sha256=" + sign(SECRET, 1795000300, STORY).removeprefix("sha256=").upper()
    assert verify(SECRET, "1795000300", upper, STORY, now=now) is None


@pytest.mark.parametrize(
    "secret, timestamp, signature, says",
    [
        ("another-secret-entirely-1234", "1795000000", None, "does not match"),
        (SECRET, "1795000001", None, "does not match"),  # the timestamp moved after signing
        (SECRET, "1795000000", "sha256=" + "0" * 64, "does not match"),
        (SECRET, "1795000000", "sha1=" + "0" * 40, "must be sha256= and 64 hexadecimal digits"),
        (SECRET, "1795000000", "sha256=é" + "0" * 63, "must be sha256= and 64 hexadecimal digits"),
        (SECRET, "1795000000", "", "X-Wiredesk-Signature is missing"),
        (SECRET, None, "", "send X-Wiredesk-Timestamp and X-Wiredesk-Signature"),
        (SECRET, "1795000000.5", "", "whole Unix seconds"),
        (SECRET, "1794999699", None, "301 s behind the desk's clock"),
        (SECRET, "1795000301", None, "301 s ahead of the desk's clock"),
    ],
)
def test_the_signature_check_names_what_is_wrong(secret, timestamp, signature, says):
    if signature is None:
        signature = sign(secret, "1795000000", STORY)
    with pytest.raises(SignatureError, match=says):
        verify(SECRET, timestamp, signature, STORY, now=1795000000)


def test_the_signature_is_the_documented_hmac():
    # What the module docstring's openssl recipe gives for this secret, timestamp and body.
    assert sign("k" * 16, 1795000000, b"<x/>") == (
        "sha256=6b1d4d81bfd1a5b05530e21f9b254852d66b3f265959b33602f0249c2a831194"
    )


def test_a_bad_signature_is_refused_and_nothing_is_stored(client):
    response = post(client, headers=signed(secret="not-the-harbour-press-secret"))
    refused(response, 401, "the signature does not match")
    assert response["WWW-Authenticate"].startswith("Wiredesk-Signature")
    refused(post(client, headers=signed(b"other bytes")), 401, "the signature does not match")
    refused(post(client, headers={}), 401, "the push is not signed")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("off, says", [(-400, "s behind the desk's clock"), (400, "s ahead of the desk's clock")])
def test_a_timestamp_more_than_five_minutes_off_is_refused(client, off, says):
    refused(post(client, headers=signed(at=time.time() + off)), 401, says)
    assert not Delivery.objects.exists()
    assert post(client, headers=signed(at=time.time() + off / 2)).status_code == 202


def test_a_replay_stores_nothing_and_after_five_minutes_is_refused(client):
    headers = signed()
    first = post(client, headers=headers)
    assert first.status_code == 202
    again = post(client, headers=headers)
    assert (again.status_code, again.json()) == (202, first.json())
    with time_machine.travel(time.time() + 301):
        refused(post(client, headers=headers), 401, "behind the desk's clock")
    assert Delivery.objects.count() == 1


def test_the_same_bytes_later_are_still_the_one_delivery(client):
    first = post(client).json()["delivery"]
    with time_machine.travel(time.time() + 2 * push.TOLERANCE + 1):
        second = post(client).json()["delivery"]
    assert second == first and Delivery.objects.count() == 1


def test_identical_pushes_at_once_store_one_delivery(client):
    from django.test import Client

    headers, answers = signed(), []
    start = threading.Barrier(4)

    def push_once():
        with thread_connections():
            start.wait()
            answers.append(post(Client(), headers=headers))

    threads = [threading.Thread(target=push_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [202] * 4
    assert len({a.json()["delivery"] for a in answers}) == 1 and Delivery.objects.count() == 1


@pytest.mark.parametrize("source", ["lighthouse-news", "salvin-times"])
def test_a_source_that_does_not_push_is_not_found(client, source):
    refused(post(client, source=source), 404, f"no source '{source}' takes pushes here")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("value", [None, "", "short", f"{SECRET} short"])
def test_a_source_without_a_usable_secret_is_refused_for_a_retry(client, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("HP_PUSH_SECRET")
    else:
        monkeypatch.setenv("HP_PUSH_SECRET", value)
    response = post(client, headers=signed(secret=value or ""))
    error = refused(response, 503, "the desk has no usable secret")
    assert "HP_PUSH_SECRET" not in error and response["Retry-After"]
    assert not Delivery.objects.exists()


def test_while_a_secret_is_changed_either_of_two_signs(client, monkeypatch):
    new = "harbour-press-secret-of-2027"
    monkeypatch.setenv("HP_PUSH_SECRET", f"{new} {SECRET}")
    assert post(client).status_code == 202
    resent = STORY + b"\n"
    assert post(client, resent, headers=signed(resent, secret=new)).status_code == 202
    refused(
        post(client, resent + b"\n", headers=signed(resent + b"\n", secret="harbour-press-never-given")),
        401,
        "the signature does not match",
    )
    monkeypatch.setenv("HP_PUSH_SECRET", new)  # the old one retired
    refused(post(client, resent + b"\n"), 401, "the signature does not match")
    assert Delivery.objects.count() == 2


def test_the_sources_file_is_read_again_when_it_changes(client, monkeypatch):
    monkeypatch.setenv("HP_NEW_SECRET", "harbour-press-rotated-secret")
    assert post(client).status_code == 202
    write_sources('[sources.hp]\npush_secret_env = "HP_NEW_SECRET"\n')
    resent = STORY + b"\n"
    refused(post(client, resent), 401, "the signature does not match")
    assert post(client, resent, headers=signed(resent, secret="harbour-press-rotated-secret")).status_code == 202
    write_sources("[sources.hp\n")
    refused(post(client), 503, "source settings cannot be read")
    assert Delivery.objects.count() == 2


def test_a_body_over_the_limit_by_content_length_is_refused_unread(client):
    response = post(client, headers={**signed(), "Content-Length": str(push.MAX_BYTES + 1)})
    refused(response, 413, f"{push.MAX_BYTES + 1} bytes, more than the limit of {push.MAX_BYTES}")
    assert not Delivery.objects.exists()


def test_a_body_over_the_limit_is_refused_by_the_bytes_read_whatever_content_length_says(client):
    big = b"x" * (push.MAX_BYTES + 1)
    # A length Django reads as a number but that is not plain digits, as a server other than
    # some servers pass on: the bytes read still stop at the limit.
    response = post(client, big, headers={**signed(big), "Content-Length": f"+{len(big)}"})
    refused(response, 413, f"more than the limit of {push.MAX_BYTES} bytes")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    [
        "application/xml",
        "text/xml; charset=utf-8",
        "application/vnd.iptc.g2.newsitem+xml",
        "application/json",
        "application/ninjs+json",
        "text/plain",
        "TEXT/PLAIN; charset=ISO-8859-1",
        "application/octet-stream",
        "",
    ],
)
@pytest.mark.usefixtures("queued_only")
def test_agency_copy_types_are_accepted_and_none_means_the_bytes_decide(client, content_type):
    assert post(client, content_type=content_type).status_code == 202


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "text/html", "application/x-www-form-urlencoded"]
)
def test_other_content_types_are_refused_with_what_is_accepted(client, content_type):
    error = refused(
        post(client, content_type=content_type), 415, f"Content-Type {content_type.split(';')[0]} is not agency copy"
    )
    assert "application/xml, text/xml, any +xml type" in error
    assert not Delivery.objects.exists()


def test_a_compressed_body_is_refused(client):
    refused(post(client, headers=signed(Content_Encoding="gzip")), 415, "Content-Encoding gzip is not accepted")


def test_only_post_is_allowed(client):
    response = client.get("/push/hp")
    refused(response, 405, "only POST")
    assert response["Allow"] == "POST"


def test_an_empty_body_is_refused(client):
    refused(client.generic("POST", "/push/hp", b"", headers=signed(b"")), 400, "the body is empty")


def test_signed_garbage_is_taken_then_quarantined_with_its_reason(client):
    garbage = b"\x00\x01PORT SALVIN \xff\xfe not a format anyone knows \x00"
    response = post(client, garbage, content_type="application/octet-stream", headers=signed(garbage))
    assert response.status_code == 202
    delivery = Delivery.objects.get(pk=response.json()["delivery"])
    assert delivery.status == Delivery.Status.QUARANTINED and delivery.error
    assert bytes(delivery.data) == garbage


def test_a_store_that_fails_is_a_503_never_a_202(client, monkeypatch):
    def database_down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed")

    monkeypatch.setattr(pipeline, "receive_arrival", database_down)
    response = post(client)
    refused(response, 503, "could not be stored (OperationalError); send it again later")
    assert response["Retry-After"]


class QueueDown(BaseTaskBackend):
    """A task backend whose queue cannot be reached, as Redis down is to the Huey backend."""

    def enqueue(self, task, args, kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_queue_that_fails_still_answers_stored_and_the_sweep_processes_it(client):
    with override_settings(TASKS={"default": {"BACKEND": "test_push.QueueDown"}}):
        response = post(client)
    assert response.status_code == 202
    assert Delivery.objects.get().status == Delivery.Status.RECEIVED
    assert pipeline.sweep(grace=dt.timedelta(0)) == 1
    assert Story.objects.get().current.canonical.headline == "Harbour cranes return to service"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A real `wiredesk run` (its own process and database), which HP pushes to."""
    monkeypatch.setenv("HP_PUSH_SECRET", SECRET)
    (tmp_path / "sources.toml").write_text('[sources.hp]\npush_secret_env = "HP_PUSH_SECRET"\n', encoding="utf-8")
    base, process = running_desk.start(tmp_path)
    yield base, tmp_path
    running_desk.stop(process)


def send(url: str, body, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with running_desk._opener().open(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.load(exc)


@pytest.mark.embedded
def test_a_push_to_a_running_desk_is_published(server):
    base, data = server
    status, answer = send(
        f"{base}/push/hp",
        STORY,
        signed(**{"Content-Type": "text/plain", "X-Wiredesk-Filename": "hamn-kranar-p%C3%A5-plats.txt"}),
    )
    assert status == 202
    [(stored, filename)] = running_desk.rows(
        data, f"select data, filename from wiredesk_delivery where id = {answer['delivery']}"
    )
    assert (stored, filename) == (STORY, "hamn-kranar-på-plats.txt")
    running_desk.wait_for(lambda: "Harbour cranes return to service" in running_desk.get(base + "/"))


@pytest.mark.embedded
def test_a_chunked_push_is_taken_and_one_over_the_limit_refused(server):
    def chunks(body: bytes, size: int = 1024 * 1024):
        return (body[i : i + size] for i in range(0, len(body), size))

    base, data = server
    # No Content-Length: urllib sends an iterable body chunked.
    assert send(f"{base}/push/hp", chunks(STORY), signed(**{"Content-Type": "text/plain"}))[0] == 202
    big = b"x" * (push.MAX_BYTES + 1)
    status, answer = send(f"{base}/push/hp", chunks(big), signed(big, **{"Content-Type": "application/octet-stream"}))
    assert status == 413 and "more than the limit" in answer["error"]
    assert running_desk.rows(data, "select count(*) from wiredesk_delivery") == [(1,)]
