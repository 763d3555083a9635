"""The SMTP listener, against real SMTP conversations: each test starts the listener on
localhost and sends with the standard library's smtplib."""

import datetime as dt
import smtplib
import socket
import ssl
import threading
from email import policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest
from conftest import story_copy
from django.db import DatabaseError
from django.tasks.signals import task_enqueued
from django.test import override_settings

from wiredesk.desk import pipeline, tasks
from wiredesk.models import Delivery, Story
from wiredesk.transports import email as email_transport
from wiredesk.transports.email import Listener, read_mail

pytestmark = [
    # The listener stores from threads of its own, with connections that see only committed rows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("immediate_tasks"),
]

SOURCES = """
[sources.hp]
name = "Harbour Press"
email = "wire@hp.example"

[sources.nb]
name = "Northern Bulletin"
email = "Desk@NB.example"

[sources.feed]
url = "https://hp.example/wire.atom"
"""

NITF = """<?xml version="1.0" encoding="ISO-8859-1"?>
<nitf>
  <head><docdata><doc-id id-string="HP-2026-1124-017"/></docdata></head>
  <body>
    <body.head><hedline><hl1>Tromsø ferry sails again after the storm</hl1></hedline></body.head>
    <body.content><p>PORT SALVIN (HP) - The ferry to Tromsø left on time on Tuesday.</p></body.content>
  </body>
</nitf>
""".encode("iso-8859-1")


def atom(title: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:hp:wire</id><title>HP</title><updated>2026-11-24T09:00:00Z</updated>"
        f"<entry><id>urn:hp:{title.lower().replace(' ', '-')}</id><title>{title}</title>"
        f"<updated>2026-11-24T09:00:00Z</updated>"
        f"<content>PORT SALVIN (HP) - {title}, the harbour master said.</content></entry></feed>"
    ).encode()


@pytest.fixture
def queued():
    """Tasks are queued, not run: the ids of the deliveries queued for processing, in order."""
    ids = []

    def record(sender, task_result, **kwargs):
        ids.extend(task_result.args)

    with override_settings(TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}):
        task_enqueued.connect(record, dispatch_uid="test_email")
        yield ids
        task_enqueued.disconnect(dispatch_uid="test_email")


@pytest.fixture
def sources_file(tmp_path):
    file = tmp_path / "sources.toml"
    file.write_text(SOURCES, encoding="utf-8")
    return file


@pytest.fixture
def listener(sources_file):
    listener = Listener("127.0.0.1", 0, sources_file=sources_file)
    listener.start()
    yield listener
    listener.stop()


def mail(body: str | None, *attachments: tuple[str, bytes, str]) -> EmailMessage:
    """A mail from Harbour Press: its body, and attachments as (file name, bytes, type)."""
    message = EmailMessage()
    message["From"] = "Harbour Press wire <out@hp.example>"
    message["To"] = "wire@hp.example"
    message["Subject"] = "HP wire"
    message["Message-ID"] = "<0017@hp.example>"
    if body is not None:
        message.set_content(body)
    for filename, data, kind in attachments:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send(listener, message, to=("wire@hp.example",)) -> bytes:
    """Send as a mail server does; returns the bytes sent."""
    raw = message if isinstance(message, bytes) else message.as_bytes(policy=policy.SMTP)
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
        client.sendmail("out@hp.example", list(to), raw)
    return raw


def data_reply(listener, raw: bytes, to="wire@hp.example") -> tuple[int, bytes]:
    """One message sent step by step, without announcing its size: the answer to DATA."""
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
        client.ehlo()
        client.mail("out@hp.example")
        client.rcpt(to)
        return client.data(raw)


def test_a_plain_text_mail_is_published_as_a_story(listener):
    send(listener, mail(story_copy().decode()))
    delivery = Delivery.objects.get()
    assert (delivery.transport, delivery.source.slug, delivery.filename) == ("smtp", "hp", "<0017@hp.example> body")
    assert delivery.status == Delivery.Status.PROCESSED
    assert bytes(delivery.data) == story_copy().replace(b"\n", b"\r\n")
    assert Story.objects.get().current.canonical.headline == "Harbour cranes return to service"


def test_an_xml_attachment_is_the_delivery_byte_for_byte_not_the_covering_note(listener):
    send(listener, mail("Dear desk, the NITF is attached.", ("nitf.xml", NITF, "application/xml")))
    delivery = Delivery.objects.get()
    assert bytes(delivery.data) == NITF and delivery.filename == "nitf.xml"
    story = Story.objects.get().current.canonical
    assert story.headline == "Tromsø ferry sails again after the storm"


def test_a_base64_utf8_text_attachment_is_stored_exactly_as_its_payload(listener):
    copy = story_copy("Tromsø harbour dredging starts", dateline="TROMSØ (HP) - ")
    raw = send(listener, mail(None, ("story.txt", copy, "text/plain")))
    assert b"Content-Transfer-Encoding: base64" in raw and "Tromsø".encode() not in raw
    delivery = Delivery.objects.get()
    assert bytes(delivery.data) == copy and delivery.filename == "story.txt"
    assert Story.objects.get().current.canonical.headline == "Tromsø harbour dredging starts"


def test_two_attachments_are_two_deliveries(listener):
    send(
        listener,
        mail(
            "Two stories today.",
            ("first.atom", atom("Ferry strike ends"), "application/atom+xml"),
            ("second.txt", story_copy(), "text/plain"),
        ),
    )
    assert [d.filename for d in Delivery.objects.order_by("pk")] == ["first.atom", "second.txt"]
    assert sorted(s.current.canonical.headline for s in Story.objects.all()) == [
        "Ferry strike ends",
        "Harbour cranes return to service",
    ]


@pytest.mark.parametrize(
    "charset, headline, on_the_wire",
    [
        ("iso-8859-1", "Tromsø welcomes the first cruise ship", b"Troms=F8"),
        # Declared but never guessed: the formats guess among Western European encodings only.
        ("iso-8859-2", "Łódź film school opens a harbour campus", b"=A3=F3d=BC"),
    ],
    ids=["latin-1", "latin-2"],
)
def test_a_quoted_printable_body_keeps_its_letters_in_the_charset_it_declares(listener, charset, headline, on_the_wire):
    message = mail(None)
    message.set_content(story_copy(headline).decode(), charset=charset, cte="quoted-printable")
    raw = send(listener, message)
    assert on_the_wire in raw
    assert headline.encode() in bytes(Delivery.objects.get().data)  # stored as UTF-8
    assert Story.objects.get().current.canonical.headline == headline


def test_a_body_declared_latin1_but_written_in_windows_1252_keeps_its_quotes(listener):
    send(
        listener,
        b"From: out@hp.example\r\nTo: wire@hp.example\r\nMessage-ID: <0018@hp.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Skipper hails calm crossing\r\n\r\n"
        b"TROMS=D8 (HP) - =93We sailed at dawn,=94 the skipper said on Tuesday.\r\n",
    )
    paragraph = Story.objects.get().current.canonical.paragraphs[0]
    assert "“We sailed at dawn,”" in paragraph


def test_a_mail_to_two_sources_is_a_delivery_for_each_stored_and_queued_before_the_answer(listener, queued):
    send(listener, mail(story_copy().decode()), to=("wire@hp.example", "desk@nb.example", "WIRE@HP.EXAMPLE"))
    deliveries = Delivery.objects.order_by("pk")
    assert [d.source.slug for d in deliveries] == ["hp", "nb"]
    assert queued == [d.pk for d in deliveries]
    assert {d.status for d in deliveries} == {Delivery.Status.RECEIVED}  # queued, not run


def test_a_sender_stalled_in_the_middle_of_a_message_delays_no_other(listener, queued):
    stalled = smtplib.SMTP("127.0.0.1", listener.port, timeout=10)
    try:
        stalled.ehlo()
        stalled.mail("out@nb.example")
        stalled.rcpt("desk@nb.example")
        stalled.putcmd("data")
        assert stalled.getreply()[0] == 354
        stalled.send(b"Subject: half a message\r\n\r\nPORT SALVIN (NB) - The")
        send(listener, mail(story_copy().decode()))
        assert [d.source.slug for d in Delivery.objects.all()] == ["hp"]
    finally:
        stalled.close()  # hung up, as a sender that gave up: no QUIT, which would be read as data


def test_an_unknown_recipient_is_refused_with_550(listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, mail(story_copy().decode()), to=("news@hp.example",))
    code, text = refused.value.recipients["news@hp.example"]
    assert code == 550 and b"no source of this desk receives mail at this address" in text
    assert not Delivery.objects.exists()


def test_a_known_recipient_beside_an_unknown_one_still_gets_the_mail(listener, queued):
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
        refused = client.sendmail(
            "out@hp.example",
            ["news@hp.example", "wire@hp.example"],
            mail(story_copy().decode()).as_bytes(policy=policy.SMTP),
        )
    assert refused["news@hp.example"][0] == 550
    assert Delivery.objects.get().source.slug == "hp"


def test_a_broken_sources_file_answers_451_until_it_is_mended(listener, sources_file, queued):
    sources_file.write_text("[sources.hp\nemail = ", encoding="utf-8")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, mail(story_copy().decode()))
    assert refused.value.recipients["wire@hp.example"][0] == 451
    sources_file.write_text(SOURCES, encoding="utf-8")
    send(listener, mail(story_copy().decode()))
    assert Delivery.objects.count() == 1


def test_an_address_taken_out_of_the_sources_while_the_mail_comes_is_refused(listener, sources_file):
    with smtplib.SMTP("127.0.0.1", listener.port, timeout=10) as client:
        client.ehlo()
        client.mail("out@hp.example")
        assert client.rcpt("wire@hp.example")[0] == 250
        sources_file.write_text(SOURCES.replace('email = "wire@hp.example"', ""), encoding="utf-8")
        code, text = client.data(mail(story_copy().decode()).as_bytes(policy=policy.SMTP))
    assert code == 550 and b"None of the recipients is a source's address any more" in text
    assert not Delivery.objects.exists()


def test_a_message_over_the_size_limit_gets_552(sources_file):
    small = Listener("127.0.0.1", 0, size_limit=4096, sources_file=sources_file)
    small.start()
    try:
        big = mail(story_copy().decode(), ("big.txt", b"PORT SALVIN (HP) - " + b"x" * 8000, "text/plain"))
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # smtplib announces the size
            send(small, big)
        assert refused.value.smtp_code == 552
        code, _ = data_reply(small, big.as_bytes(policy=policy.SMTP))  # a sender that does not
        assert code == 552
        assert not Delivery.objects.exists()
    finally:
        small.stop()


def html_only() -> EmailMessage:
    message = mail(None)
    message.set_content("<html><body><p>PORT SALVIN (HP) - The cranes worked again.</p></body></html>", subtype="html")
    return message


def a_pdf_and_no_text() -> EmailMessage:
    return mail(None, ("release.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"))


@pytest.mark.parametrize(
    "message, found", [(html_only, "text/html"), (a_pdf_and_no_text, "application/pdf (release.pdf)")]
)
def test_a_mail_with_no_copy_is_kept_whole_and_quarantined_with_the_reason(listener, queued, message, found):
    raw = message().as_bytes(policy=policy.SMTP)
    code, text = data_reply(listener, raw)
    assert code == 250 and b"no agency copy" in text
    delivery = Delivery.objects.get()
    assert bytes(delivery.data) == raw and delivery.filename == "<0017@hp.example> message"
    assert delivery.status == Delivery.Status.QUARANTINED
    assert "no agency copy" in delivery.error and found in delivery.error
    assert not Story.objects.exists() and queued == []
    # Nothing is left for the sweep to publish.
    assert pipeline.sweep(grace=dt.timedelta(0)) == 0


def test_a_message_the_parser_fails_on_is_kept_whole_and_quarantined(listener, queued, monkeypatch):
    def read_mail(raw):
        raise IndexError("a header the parser cannot handle")

    monkeypatch.setattr(email_transport, "read_mail", read_mail)
    raw = send(listener, mail(story_copy().decode()))
    delivery = Delivery.objects.get()
    assert bytes(delivery.data) == raw and delivery.status == Delivery.Status.QUARANTINED
    assert delivery.error == "the e-mail could not be read: IndexError: a header the parser cannot handle"
    assert queued == []


def test_a_failing_store_answers_451_and_stores_none_of_the_message(listener, queued, monkeypatch):
    real, calls = pipeline.receive_arrival, []

    def receive(arrival, **kwargs):
        calls.append(arrival.filename)
        if len(calls) == 2:
            raise DatabaseError("disk full")
        return real(arrival, **kwargs)

    monkeypatch.setattr(pipeline, "receive_arrival", receive)
    message = mail(
        "Two stories.",
        ("first.atom", atom("Ferry strike ends"), "application/atom+xml"),
        ("second.txt", story_copy(), "text/plain"),
    )
    code, text = data_reply(listener, message.as_bytes(policy=policy.SMTP))
    assert code == 451 and b"try again later" in text
    assert calls == ["first.atom", "second.txt"]
    assert not Delivery.objects.exists() and queued == []
    # The sending server retries, and then both are stored.
    send(listener, message)
    assert queued == list(Delivery.objects.order_by("pk").values_list("pk", flat=True)) and len(queued) == 2


def test_a_queue_that_fails_does_not_lose_the_mail(listener, monkeypatch):
    def enqueue(delivery_id):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(tasks, "process_delivery", SimpleNamespace(enqueue=enqueue))
    code, _ = data_reply(listener, mail(story_copy().decode()).as_bytes(policy=policy.SMTP))
    assert code == 250
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.RECEIVED
    assert pipeline.sweep(grace=dt.timedelta(0)) == 1
    assert Story.objects.get().current.delivery_id == delivery.pk


def test_stopping_lets_a_message_being_stored_be_answered(listener, queued, monkeypatch):
    real, storing, go_on = pipeline.receive_arrival, threading.Event(), threading.Event()

    def receive(arrival, **kwargs):
        storing.set()
        go_on.wait(10)
        return real(arrival, **kwargs)

    monkeypatch.setattr(pipeline, "receive_arrival", receive)
    replies = []
    sender = threading.Thread(
        target=lambda: replies.append(data_reply(listener, mail(story_copy().decode()).as_bytes(policy=policy.SMTP)))
    )
    sender.start()
    assert storing.wait(10)
    stopper = threading.Thread(target=listener.stop)
    stopper.start()
    try:
        while _accepts(listener.port):  # the listener first stops taking connections
            pass
    finally:
        go_on.set()
    sender.join(10)
    stopper.join(10)
    assert replies[0][0] == 250 and Delivery.objects.count() == 1


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except ConnectionError:  # refused, or reset when it came as the listening socket closed
        return False
    except TimeoutError:  # the socket, not yet closed, no longer accepts: its backlog filled up
        return False


def test_a_file_the_formats_recognise_is_copy_whatever_its_declared_type():
    message = mail(
        "Files attached.",
        ("nitf.xml", NITF, "application/octet-stream"),
        (
            "signature.asc",
            b"-----BEGIN PGP SIGNATURE-----\nwsBzBAEBCAAdFiEE\n-----END PGP SIGNATURE-----\n",
            "application/pgp-signature",
        ),
        ("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    )
    assert [part.filename for part in read_mail(message.as_bytes()).parts] == ["nitf.xml"]


def test_a_signed_mail_delivers_its_body_not_its_signature():
    signature = b"-----BEGIN PGP SIGNATURE-----\nwsBzBAEBCAAdFiEE\n-----END PGP SIGNATURE-----\n"
    message = mail(story_copy().decode(), ("signature.asc", signature, "application/pgp-signature"))
    found = read_mail(message.as_bytes())
    assert not found.problem and [part.filename for part in found.parts] == ["<0017@hp.example> body"]


def test_an_unnamed_inline_xml_part_is_copy_named_after_the_message():
    message = mail("See below.")
    message.add_related(atom("Ferry strike ends"), maintype="application", subtype="atom+xml")
    message.make_mixed()
    parts = read_mail(message.as_bytes()).parts
    assert len(parts) == 1 and parts[0].filename.startswith("<0017@hp.example> part ")


@pytest.fixture
def tls_listener(sources_file, certificate):
    listener = Listener("127.0.0.1", 0, sources_file=sources_file, tls_certificate=certificate, require_tls=True)
    listener.start()
    yield listener
    listener.stop()


def test_with_a_certificate_mail_comes_encrypted_over_starttls(tls_listener, certificate):
    with smtplib.SMTP("127.0.0.1", tls_listener.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        client.starttls(context=ssl.create_default_context(cafile=str(certificate)))
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")
        client.sendmail("out@hp.example", ["wire@hp.example"], mail(story_copy().decode()).as_bytes(policy=policy.SMTP))
    assert Story.objects.get().current.canonical.headline == "Harbour cranes return to service"


def test_a_listener_that_requires_tls_refuses_plain_mail_with_530(tls_listener):
    with smtplib.SMTP("127.0.0.1", tls_listener.port, timeout=10) as client:
        client.ehlo()
        code, _ = client.mail("out@hp.example")
    assert code == 530 and not Delivery.objects.exists()


def test_requiring_tls_without_a_certificate_is_refused(sources_file):
    with pytest.raises(ValueError, match="WIREDESK_SMTP_TLS"):
        Listener("127.0.0.1", 0, sources_file=sources_file, require_tls=True)


def test_a_certificate_that_cannot_be_read_is_an_error_at_start(sources_file, tmp_path):
    (tmp_path / "broken.pem").write_text("not a certificate")
    listener = Listener("127.0.0.1", 0, sources_file=sources_file, tls_certificate=tmp_path / "broken.pem")
    with pytest.raises(ssl.SSLError):
        listener.start()


def test_a_port_in_use_is_an_error_at_start(listener, sources_file, queued):
    with pytest.raises(OSError):
        Listener("127.0.0.1", listener.port, sources_file=sources_file).start()
    send(listener, mail(story_copy().decode()))  # the listener already there is unharmed
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    "address, host, port", [("127.0.0.1:2525", "127.0.0.1", 2525), ("[::1]:25", "::1", 25), (":2525", "", 2525)]
)
def test_the_listening_address_is_host_and_port(address, host, port):
    listener = Listener.at(address)
    assert (listener.host, listener.port) == (host, port)


@pytest.mark.parametrize("address", ["localhost", "localhost:smtp", "127.0.0.1:70000"])
def test_a_listening_address_without_a_port_is_refused(address):
    with pytest.raises(ValueError, match="is not host:port"):
        Listener.at(address)
