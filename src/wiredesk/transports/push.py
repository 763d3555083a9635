"""Push: an agency POSTs each item to `/push/<source>`, signed with a secret it shares with the desk.

    [sources.hp]
    push_secret_env = "HP_PUSH_SECRET"   # the environment variable that holds hp's secret

The secret is at least 16 characters (`openssl rand -hex 32` makes a good one). sources.toml is
read as it is now (config/sources.py): a source added or a variable renamed there applies to the
next push; the variable is the desk's environment, set when it starts. To
change a secret with no push refused, the variable holds two for a while, separated by a space,
either of which may sign: start the desk with "NEW OLD", let the agency switch to the new one,
then start it with "NEW" alone.

The request, exactly:

    POST /push/hp
    Content-Type: application/xml            (or any type listed in ACCEPTED, or none)
    X-Wiredesk-Timestamp: 1795000000         (Unix seconds when the request is sent)
    X-Wiredesk-Signature: sha256=<hex>       (HMAC-SHA256, keyed with the secret's UTF-8 bytes,
                                              of the timestamp, a dot, and the body's bytes)
    X-Wiredesk-Filename: hp-20261124-0930.xml (optional: a label kept with the delivery; other
                                              than ASCII, percent-encoded UTF-8: Troms%C3%B8.xml)

    <the item, byte for byte: NewsML-G2, NITF, ninjs, IPTC 7901, ANPA, RSS/Atom...>

From a shell:

    ts=$(date +%s)
    sig=$( { printf '%s.' "$ts"; cat story.xml; } | openssl dgst -sha256 -hmac "$HP_PUSH_SECRET" -r | cut -d' ' -f1)
    curl --fail-with-body -H 'Content-Type: application/xml' -H "X-Wiredesk-Timestamp: $ts" \\
         -H "X-Wiredesk-Signature: sha256=$sig" --data-binary @story.xml https://news.example/push/hp

From Python:

    secret, body = os.environ["HP_PUSH_SECRET"], Path("story.xml").read_bytes()
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    urllib.request.urlopen(urllib.request.Request("https://news.example/push/hp", data=body, headers={
        "Content-Type": "application/xml", "X-Wiredesk-Timestamp": ts, "X-Wiredesk-Signature": f"sha256={sig}"}))

The timestamp is inside the signed bytes, so a replayer cannot move it, and one more than
TOLERANCE seconds from the desk's clock is refused: a captured request is worthless after five
minutes. The same bytes from the same source, at any time and by any transport, answer with the
delivery they were stored as, storing nothing (`transports.store`), so a replay is inert and a
sender's retry (its answer lost on the way) is idempotent, even when two copies arrive at once.

Answers are JSON and never cached:

    202 {"delivery": 17}   stored and committed; processing is queued (a bad item is quarantined
                           with its reason, as from any transport, never refused here)
    400 {"error": ...}     an empty or unreadable body
    401                    unsigned, a bad signature, or a timestamp too far from now
    404                    no source of that name takes pushes
    405                    anything but POST
    408 {"error": ...}     the body came too slowly: 20 s, and a second more for each 64 KiB
                           sent (wiredesk.app.wsgi.front); send it again
    413                    more than MAX_BYTES, by Content-Length or by the bytes read
    415                    a Content-Type that is not agency copy, or a Content-Encoding
    503                    the desk cannot take it now (database down, no secret set,
                           sources.toml broken): send it again later, per Retry-After

A 202 is sent only after the delivery is committed, so a kill at any moment loses no item the
agency believes delivered; a sender that got no answer sends again, and the second
copy is recognised. The web server reads the whole body before the view runs
(`wiredesk.app.wsgi.front`, and nginx before it where deploy/nginx.conf is used), so a slow sender
holds none of the threads pages need, and one slower than the deadline is answered 408.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from urllib.parse import unquote

from django.db import DatabaseError
from django.http import JsonResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt

from wiredesk.config import sources
from wiredesk.transports.store import FILENAME_LENGTH, MAX_BYTES, store

log = logging.getLogger(__name__)

TOLERANCE = 300  # seconds either way between the sender's clock and the desk's
MIN_SECRET = 16
# Whole types, and suffixes of structured types (application/vnd.iptc.g2.newsitem+xml, ...).
# IPTC 7901 and ANPA come as text/plain or octet-stream; the bytes say which format it is.
ACCEPTED = (
    "application/xml",
    "text/xml",
    "+xml",
    "application/json",
    "+json",
    "text/plain",
    "application/octet-stream",
)
RETRY_AFTER = "30"
_CHUNK = 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")
# A 401 must name a scheme (RFC 9110); this one is the module docstring's.
_AUTHENTICATE = 'Wiredesk-Signature realm="push"'


class SignatureError(ValueError):
    """Why a push's signature is refused, in words the sender can act on."""


def sign(secret: str | bytes, timestamp: str | int, body: bytes) -> str:
    """The X-Wiredesk-Signature value for `body` sent at `timestamp`."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def check_timestamp(timestamp: str | None, *, now: float | None = None) -> None:
    """Refuse a missing or malformed timestamp, or one more than TOLERANCE seconds from `now`.
    Needs no body, so the view asks it before reading one."""
    if not timestamp:
        raise SignatureError("the push is not signed: send X-Wiredesk-Timestamp and X-Wiredesk-Signature")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureError("X-Wiredesk-Timestamp must be whole Unix seconds, such as 1795000000")
    skew = int(timestamp) - (time.time() if now is None else now)
    if abs(skew) > TOLERANCE:
        way = "ahead of" if skew > 0 else "behind"
        raise SignatureError(
            f"X-Wiredesk-Timestamp is {abs(skew):.0f} s {way} the desk's clock; more than "
            f"{TOLERANCE} s is refused: sign each request as it is sent, by a clock kept right"
        )


def verify(
    secrets: str | bytes | list[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `signature` is `sign(secret, timestamp, body)` for the secret,
    or for one of a list of them, and the timestamp is fresh."""
    check_timestamp(timestamp, now=now)
    if not signature:
        raise SignatureError("the push is not signed: X-Wiredesk-Signature is missing")
    signature = signature.strip()
    if not _SIGNATURE.fullmatch(signature):
        raise SignatureError("X-Wiredesk-Signature must be sha256= and 64 hexadecimal digits")
    secrets = [secrets] if isinstance(secrets, (str, bytes)) else secrets
    # Every secret compared, not the first that matches: the time taken tells nothing of which.
    if not any([hmac.compare_digest(sign(secret, timestamp, body), signature.lower()) for secret in secrets]):
        raise SignatureError(
            "the signature does not match: it must be HMAC-SHA256, keyed with the source's "
            "secret, of the timestamp, a dot and the body exactly as sent"
        )


class Refused(Exception):
    """A push answered with an error: its status, its reason, and any headers the status needs."""

    def __init__(self, status: int, message: str, **headers: str):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


@csrf_exempt
def receive(request, source: str):
    """POST /push/<source>: store the body as a delivery of `source`, then queue it."""
    try:
        status, body = _receive(request, source)
        return _answer(status, body)
    except Refused as refused:
        log.log(
            logging.ERROR if refused.status >= 500 else logging.WARNING,
            "push: %s from %s refused (%s): %s",
            source,
            request.META.get("REMOTE_ADDR", "?"),
            refused.status,
            refused.message,
        )
        return _answer(refused.status, {"error": refused.message}, refused.headers)


def _receive(request, slug: str) -> tuple[int, dict]:
    if request.method != "POST":
        raise Refused(405, "only POST is accepted here", Allow="POST")
    secrets = _secrets(slug)
    _check_type(request)
    declared = request.META.get("CONTENT_LENGTH", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise Refused(413, f"the body is {declared} bytes, more than the limit of {MAX_BYTES}")
    timestamp, signature = request.headers.get("X-Wiredesk-Timestamp"), request.headers.get("X-Wiredesk-Signature")
    now = time.time()
    try:
        check_timestamp(timestamp, now=now)
        body = _read(request)
        verify(secrets, timestamp, signature, body, now=now)
    except SignatureError as exc:
        raise Refused(401, str(exc), **{"WWW-Authenticate": _AUTHENTICATE}) from None
    try:
        stored = store(body, source=slug, transport="push", label=_filename(request))
    except DatabaseError as exc:
        log.exception("push: a delivery from %s could not be stored", slug)
        raise Refused(
            503,
            f"the delivery could not be stored ({type(exc).__name__}); send it again later",
            **{"Retry-After": RETRY_AFTER},
        ) from None
    return 202, {"delivery": stored.pk}


def _answer(status: int, body: dict, headers: dict | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, headers=headers)
    response["Cache-Control"] = "no-store"
    return response


def _secrets(slug: str) -> list[str]:
    try:
        config = sources.read().sources.get(slug)
    except (ValueError, OSError) as exc:  # sources.ConfigError, or a file that is not UTF-8 or not readable
        log.error("push: %s", exc)
        raise Refused(
            503,
            "the desk's source settings cannot be read; pushes wait until they are fixed",
            **{"Retry-After": RETRY_AFTER},
        ) from None
    if config is None or config.push_secret_env is None:
        # The same answer for an unknown source and one that does not push: the caller is not
        # yet known to be the agency, and needs no map of the desk's sources.
        log.warning(
            "push: %s is %s",
            slug,
            "a source without push_secret_env" if config else "not a source in sources.toml",
        )
        raise Refused(404, f"no source {slug!r} takes pushes here")
    secrets = os.environ.get(config.push_secret_env, "").split()
    if not secrets or any(len(secret) < MIN_SECRET for secret in secrets):
        # The desk's mistake, not the sender's: 503 so that the agency keeps the item and retries.
        log.error(
            "push: the secret of %s, environment variable %s, is %s",
            slug,
            config.push_secret_env,
            f"shorter than {MIN_SECRET} characters" if secrets else "not set",
        )
        raise Refused(
            503,
            f"pushes for {slug!r} cannot be checked: the desk has no usable secret for it",
            **{"Retry-After": RETRY_AFTER},
        )
    return secrets


def _check_type(request) -> None:
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding != "identity":
        raise Refused(415, f"Content-Encoding {encoding} is not accepted: send the item's bytes as they are")
    kind = request.content_type.lower()
    if kind and not (kind in ACCEPTED or kind.endswith(tuple(a for a in ACCEPTED if a.startswith("+")))):
        accepted = ", ".join(f"any {a} type" if a.startswith("+") else a for a in ACCEPTED)
        raise Refused(
            415, f"Content-Type {kind} is not agency copy; send the item's bytes as they are, as one of: {accepted}"
        )


def _read(request) -> bytes:
    """The body, read from the stream: request.body would refuse anything above Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), a size agency files reach."""
    body = bytearray()
    # A chunked body comes with no Content-Length, and Django reads none of it then; granian's
    # stream gives it whole (nginx, in front, sends a length anyway).
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    stream = request.META["wsgi.input"] if chunked and not request.META.get("CONTENT_LENGTH") else request
    try:
        while chunk := stream.read(_CHUNK):
            body += chunk
            if len(body) > MAX_BYTES:
                raise Refused(413, f"the body is more than the limit of {MAX_BYTES} bytes")
    except UnreadablePostError as exc:
        raise Refused(400, f"the body could not be read: {exc}") from None
    if not body:
        raise Refused(400, "the body is empty: a push carries one item of agency copy, its bytes as they are")
    return bytes(body)


def _filename(request) -> str:
    # Header values are ASCII on the way (granian drops any other byte): the rest is sent
    # percent-encoded, as UTF-8.
    return unquote(request.headers.get("X-Wiredesk-Filename", "").strip())[:FILENAME_LENGTH]
