"""E-mail: an SMTP listener that takes agency mail addressed to a source.

    [sources.hp]
    email = "wire@hp.example"      # mail to this address (any case) is Harbour Press copy

    listener = Listener.at("127.0.0.1:2525")   # WIREDESK_SMTP; port 0 lets the system choose
    listener.start()  ...  listener.stop()

The listener is aiosmtpd on an event loop of its own, in a thread of its own: a sender that is
slow, or stalls halfway through a message, holds up no other. It answers RCPT TO only for an
address some source in sources.toml has as `email`, the file as it is now (config/sources.py) so
a new source needs no restart; any other address gets 550, and a message over the size limit
552. Stopping, it first stops taking connections and lets the messages being stored be answered.

What in a message is a delivery (`read_mail`, a pure function of the message's bytes):

- each attachment or inline part that is agency copy: XML, JSON or plain text by its declared
  type, or any part whose bytes the formats recognise as one of their structured formats (an
  .xml file sent as application/octet-stream). Then the covering note in the body is not copy.
- with no such part, the plain-text body.
- with neither (an HTML-only mail, a PDF), the whole message as received, stored and at once
  quarantined with the reason in words, which names the parts it has. It is kept, never dropped,
  and the desk sees exactly what came; `wiredesk reprocess` leaves it quarantined (the formats
  refuse a whole mail). The sender still gets 250: a bounce tells a mailing system to stop
  sending to the address, which would cut the wire.

A delivery's bytes are the part's payload with the transfer encoding (base64, quoted-printable)
undone. A file keeps its bytes exactly: XML names its own encoding inside. Plain text is the
exception: its encoding is declared only in the mail's header, which the formats never see, and
they guess among the Western European ones (copy in ISO-8859-2 or KOI8-R, tried, is refused:
"the text encoding cannot be determined"). So text declared in anything but UTF-8 or ASCII is
stored re-encoded as UTF-8, which every format reads first; text whose bytes do not fit the
declared charset is kept as it came, for the formats to guess.

DATA is answered 250 only once every delivery of the message, for every source it was sent to,
is stored in one transaction (committed): a crash before that loses nothing, as the sending
server, without its 250, sends the message again; a crash just after it costs a second copy of
the same bytes, which the pipeline answers `unchanged`. A store that fails is answered 451, a
temporary failure, so the sender retries. Queueing comes after the commit, and a queue that
fails does not undo the 250: the sweep finds what was stored.

SMTP is received, not fetched: there is no attempt to record in health.py; the source's
deliveries tell its health. The listener does not authenticate senders; in production it sits
behind the organisation's mail server, which filters, or on an address only agencies reach.
Given a certificate (WIREDESK_SMTP_TLS: one PEM file with the chain and its key) it offers
STARTTLS, as mail servers expect, so copy crosses the internet encrypted; with
WIREDESK_SMTP_REQUIRE_TLS it refuses (530) a sender that will not encrypt.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import socket
import ssl
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller
from django.db import connections

from wiredesk import __version__, formats
from wiredesk.config import sources
from wiredesk.db import writing
from wiredesk.transports import store

log = logging.getLogger(__name__)

TRANSPORT = "smtp"
# Mail servers commonly take 25 MB or more; agency copy is a small part of that, but a mail with
# a photo attached must not bounce.
SIZE_LIMIT = 32 * 1024 * 1024
# Copy by its declared type; application/*+xml and application/*+json (Atom, NewsML-G2...) too.
COPY_TYPES = ("text/plain", "text/xml", "application/xml", "application/json")
# Mail clients label text declared ISO-8859-1 that is in fact Windows-1252 (curly quotes, dashes
# in 0x80-0x9F), as browsers know: the WHATWG Encoding Standard reads one as the other.
_LATIN_1_READS = ("cp1252", "latin-1")


@dataclass(frozen=True)
class Part:
    data: bytes
    filename: str


@dataclass(frozen=True)
class Mail:
    """What a message delivers: its parts that are agency copy, or, with none, the whole message
    and the reason it holds no copy."""

    parts: tuple[Part, ...]
    problem: str = ""


def read_mail(raw: bytes) -> Mail:
    """The deliveries in a message, given its bytes as received."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    ident = str(message.get("Message-ID") or "").strip() or "(no Message-ID)"
    copies = []
    for number, part in enumerate(message.walk()):
        if part.is_multipart() or not _is_attached(part):
            continue
        data = _payload(part)
        if data.strip() and _is_copy(part, data):
            copies.append(Part(data, _filename(part.get_filename() or f"{ident} part {number}")))
    if copies:
        return Mail(tuple(copies))
    body = message.get_body(preferencelist=("plain",))
    if body is not None and (data := _payload(body)).strip():
        return Mail((Part(data, _filename(f"{ident} body")),))
    return Mail((Part(raw, _filename(f"{ident} message")),), problem=_why_no_copy(message))


def _is_attached(part: EmailMessage) -> bool:
    """A part other than the text a person reads as the mail: named, marked as an attachment, or
    of a type a mail's text never has (text/plain and text/html are the body, or its parts)."""
    return (
        part.is_attachment()
        or part.get_filename() is not None
        or part.get_content_type() not in ("text/plain", "text/html")
    )


def _is_copy(part: EmailMessage, data: bytes) -> bool:
    kind = part.get_content_type()
    if kind in COPY_TYPES or (part.get_content_maintype() == "application" and kind.endswith(("+xml", "+json"))):
        return True
    # Only a structured format counts here: read as plain copy, any text at all (a signature, a
    # calendar invitation, a vCard) would pass for a story.
    try:
        return formats.detect(data) != "agency-copy"
    except formats.FormatError:
        return False


def _payload(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset()
    if part.get_content_maintype() != "text" or not charset or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return data
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return data
    if name in ("utf-8", "ascii"):
        return data
    for codec in _LATIN_1_READS if name == "iso8859-1" else (name,):
        try:
            return data.decode(codec).encode("utf-8")
        except UnicodeDecodeError:
            continue
    return data


def _filename(name: str) -> str:
    return " ".join(name.split())[: store.FILENAME_LENGTH]


def _why_no_copy(message: EmailMessage) -> str:
    found = [
        part.get_content_type() + (f" ({part.get_filename()})" if part.get_filename() else "")
        for part in message.walk()
        if not part.is_multipart()
    ]
    return (
        f"an e-mail with no agency copy in it (its parts: {', '.join(found)}): "
        f"copy comes as a plain-text body, or attached as XML, JSON or text"
    )


def recipients(file: Path | None = None) -> dict[str, list[str]]:
    """Each configured address, in lower case, and the sources it is for. Raises ConfigError."""
    found: dict[str, list[str]] = {}
    for config in sources.read(file).sources.values():
        if config.email:
            found.setdefault(config.email.strip().lower(), []).append(config.slug)
    return found


def store_mail(mail: Mail, slugs: list[str]) -> list[int]:
    """Store the mail's parts for each source, all committed together or none (each queued once
    committed). Returns the deliveries' ids."""
    with writing():
        return [
            store.store(
                part.data, source=slug, transport=TRANSPORT, label=part.filename, problem=mail.problem or None
            ).pk
            for slug in slugs
            for part in mail.parts
        ]


class Handler:
    """aiosmtpd's hooks. Database work runs in a worker thread: the ORM is not for an event loop,
    and one slow store must not hold up the other connections."""

    def __init__(self, sources_file: Path | None = None):
        self.sources_file = sources_file
        self._busy = 0
        self._idle = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            known = address.lower() in self._recipients()
        except sources.ConfigError as exc:
            log.error("smtp: %s", exc)
            return "451 4.3.0 The desk's list of sources cannot be read; try again later"
        if not known:
            log.warning("smtp: refused mail from %s to %s: not a source's address", envelope.mail_from, address)
            return f"550 5.1.1 <{address}>: no source of this desk receives mail at this address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._idle:
            self._busy += 1
        try:
            return await asyncio.to_thread(self._deliver, envelope.original_content, envelope.rcpt_tos)
        except Exception:
            log.exception("smtp: a message from %s could not be stored; the sender will retry", envelope.mail_from)
            return "451 4.3.0 The desk could not store this message; try again later"
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _deliver(self, raw: bytes, addresses: list[str]) -> str:
        try:
            table = self._recipients()
            slugs = list(dict.fromkeys(slug for address in addresses for slug in table.get(address.lower(), [])))
            if not slugs:
                return "550 5.1.1 None of the recipients is a source's address any more"
            try:
                mail = read_mail(raw)
            except Exception as exc:
                # The standard library's parser met something it cannot handle: keep the mail.
                log.exception("smtp: a message could not be read")
                mail = Mail(
                    (Part(raw, "message"),), problem=f"the e-mail could not be read: {type(exc).__name__}: {exc}"
                )
            ids = store_mail(mail, slugs)
            if mail.problem:
                return "250 2.0.0 Kept for the desk, but no agency copy was found in it"
            return f"250 2.0.0 Stored as deliver{'y' if len(ids) == 1 else 'ies'} {', '.join(map(str, ids))}"
        finally:
            # Mail is rare, and the thread asyncio lends may outlive the listener: no connection kept.
            connections.close_all()

    def _recipients(self) -> dict[str, list[str]]:
        return recipients(self.sources_file)

    def wait_idle(self, timeout: float | None) -> bool:
        """Wait until no message is being stored; False if one still is after `timeout`."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


class _Controller(Controller):
    """aiosmtpd's controller, serving a socket bound beforehand: a port in use is an error at once
    rather than after aiosmtpd's start-up timeout, and port 0 gives the port the system chose."""

    def __init__(self, handler: Handler, sock: socket.socket, **kwargs):
        self._socket = sock
        super().__init__(handler, **kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._socket, ssl=self.ssl_context)


class Listener:
    """The SMTP listener, with start() and stop(). Once started, `port` is the port it listens on."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 2525,
        *,
        size_limit: int = SIZE_LIMIT,
        sources_file: Path | None = None,
        tls_certificate: Path | None = None,
        require_tls: bool = False,
    ):
        if require_tls and tls_certificate is None:
            raise ValueError("requiring TLS needs a certificate (WIREDESK_SMTP_TLS)")
        self.host, self.port, self.size_limit = host, port, size_limit
        self.tls_certificate, self.require_tls = tls_certificate, require_tls
        self.handler = Handler(sources_file)
        self._controller: _Controller | None = None

    @classmethod
    def at(cls, address: str, **kwargs) -> Listener:
        """A listener on "host:port" ("[::1]:2525" for IPv6; ":2525" for every IPv4 interface)."""
        host, colon, port = address.strip().rpartition(":")
        if not colon or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"{address!r} is not host:port, such as 127.0.0.1:2525")
        return cls(host.removeprefix("[").removesuffix("]"), int(port), **kwargs)

    def start(self) -> None:
        """Listen; OSError if the address cannot be bound (a port in use) or the certificate
        cannot be read."""
        tls = None
        if self.tls_certificate is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.tls_certificate)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)
        self.port = sock.getsockname()[1]
        self._controller = _Controller(
            self.handler,
            sock,
            hostname=self.host,
            port=self.port,
            data_size_limit=self.size_limit,
            # Given, so that aiosmtpd does not look the machine's name up in the DNS.
            server_hostname=socket.gethostname(),
            ident=f"wiredesk {__version__}",
            ready_timeout=10.0,
            tls_context=tls,
            require_starttls=self.require_tls,
        )
        self._controller.start()
        log.info("smtp: listening on %s port %s", self.host or "every interface", self.port)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking connections, let the messages being stored be answered, then close."""
        controller, self._controller = self._controller, None
        if controller is None:
            return  # not started, or stopped already
        controller.loop.call_soon_threadsafe(controller.server.close)
        if not self.handler.wait_idle(timeout):
            log.warning("smtp: stopping with a message still being stored; its sender will send it again")
        controller.stop()
