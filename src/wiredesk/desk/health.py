"""Source health: how each agency's deliveries are faring, so a sick source is seen, not silent.

Two things are known of a source. Its pull transports (HTTP polling, FTP, IMAP) report each
attempt here (`attempted`), whatever its outcome; and its deliveries, from any transport, are
in the database. From both, `report` says per source:

- failing: a pull transport failed FAILING_AFTER times in a row, or the last
  FAILING_AFTER deliveries were all quarantined (a source sending garbage);
- quiet: nothing delivered for QUIET_FACTOR times the source's usual gap between deliveries
  (the median of its recent gaps), and at least QUIET_AT_LEAST;
- ok otherwise, or new while it has delivered too little to have a usual gap.

Push and SMTP deliveries are received, not fetched: nothing is attempted on our side, so only
their deliveries tell. A refused push (a bad signature) says nothing of the source, which may
not have sent it: it is logged, not counted here.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import statistics
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db.models import F
from django.http import JsonResponse
from django.utils import timezone

from wiredesk.db import writing
from wiredesk.models import Delivery, Source, SourceHealth

FAILING_AFTER = 3
QUIET_FACTOR = 4
QUIET_AT_LEAST = dt.timedelta(minutes=15)
# Gaps between this many latest deliveries give a source's usual gap.
GAPS_READ = 20
# Deliveries that come together (the pages of one poll, a burst of files) are one arrival.
SAME_ARRIVAL = dt.timedelta(seconds=1)
# An error is kept for people to read, not whole: a server can answer with a page of HTML.
ERROR_LENGTH = 500
# Headers a proxy adds to what it passes on (RFC 7239's and the customary ones).
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP", "Via")


def attempted(source: str, transport: str, error: str | None = None, *, now: dt.datetime | None = None) -> None:
    """Record one attempt of a pull transport on a source: a success, or the error in words."""
    now = now or timezone.now()
    with writing():
        # The source may not be listed yet: a pull transport only runs for configured ones, but
        # sources.apply may not have run in this process.
        source_row, _ = Source.objects.get_or_create(slug=source, defaults={"name": source})
        row, _ = SourceHealth.objects.get_or_create(source=source_row, transport=transport)
        if error is None:
            SourceHealth.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + 1, last_attempt=now, last_success=now, consecutive_errors=0
            )
        else:
            SourceHealth.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + 1,
                last_attempt=now,
                last_error=error[:ERROR_LENGTH],
                last_error_at=now,
                consecutive_errors=F("consecutive_errors") + 1,
                total_errors=F("total_errors") + 1,
            )


@dataclass
class TransportHealth:
    transport: str
    last_attempt: dt.datetime | None
    last_success: dt.datetime | None
    consecutive_errors: int
    total_errors: int
    last_error: str
    last_error_at: dt.datetime | None
    attempts: int


@dataclass
class SourceReport:
    slug: str
    name: str
    status: str  # ok, new, quiet or failing
    problems: list[str]  # why it is failing or quiet, in words
    last_delivery: dt.datetime | None
    deliveries_last_hour: int
    quarantined_last_hour: int
    usual_gap_seconds: float | None
    transports: list[TransportHealth] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return self.status == "failing"

    @property
    def last_attempt(self) -> dt.datetime | None:
        return max((t.last_attempt for t in self.transports if t.last_attempt), default=None)

    @property
    def errors(self) -> int:
        return sum(t.total_errors for t in self.transports)

    @property
    def last_error(self) -> str:
        latest = max((t for t in self.transports if t.last_error_at), key=lambda t: t.last_error_at, default=None)
        return f"{latest.transport}: {latest.last_error}" if latest else ""

    def as_dict(self) -> dict:
        def stamp(value):
            return value.isoformat() if isinstance(value, dt.datetime) else value

        data = {key: stamp(value) for key, value in asdict(self).items() if key != "transports"}
        data["last_attempt"] = stamp(self.last_attempt)
        data["errors"] = self.errors
        data["last_error"] = self.last_error
        data["transports"] = [{key: stamp(value) for key, value in asdict(t).items()} for t in self.transports]
        return data


def usual_gap(times: list[dt.datetime]) -> dt.timedelta | None:
    """The median gap between arrivals, given delivery times newest first; None with fewer
    than three arrivals, too few to know what is usual."""
    arrivals = []
    for time in times:
        if not arrivals or arrivals[-1] - time > SAME_ARRIVAL:
            arrivals.append(time)
    if len(arrivals) < 3:
        return None
    return statistics.median(newer - older for newer, older in zip(arrivals, arrivals[1:]))


def report(now: dt.datetime | None = None) -> list[SourceReport]:
    """Every source's health, by slug."""
    now = now or timezone.now()
    hour_ago = now - dt.timedelta(hours=1)
    transports: dict[int, list[TransportHealth]] = {}
    for row in SourceHealth.objects.order_by("transport"):
        transports.setdefault(row.source_id, []).append(
            TransportHealth(
                row.transport,
                row.last_attempt,
                row.last_success,
                row.consecutive_errors,
                row.total_errors,
                row.last_error,
                row.last_error_at,
                row.attempts,
            )
        )
    reports = []
    for source in Source.objects.order_by("slug"):
        latest = list(
            Delivery.objects.filter(source=source)
            .order_by("-received_at")
            .values_list("received_at", "status")[: GAPS_READ + 1]
        )
        recent = Delivery.objects.filter(source=source, received_at__gte=hour_ago)
        gap = usual_gap([received for received, _ in latest])
        problems = []
        for t in transports.get(source.pk, []):
            if t.consecutive_errors >= FAILING_AFTER:
                problems.append(f"{t.transport}: {t.consecutive_errors} failures in a row; last: {t.last_error}")
        if len(latest) >= FAILING_AFTER and all(
            status == Delivery.Status.QUARANTINED for _, status in latest[:FAILING_AFTER]
        ):
            problems.append(f"its last {FAILING_AFTER} deliveries could not be read (quarantined)")
        if problems:
            status = "failing"
        elif gap is not None and now - latest[0][0] > max(QUIET_FACTOR * gap, QUIET_AT_LEAST):
            status = "quiet"
            problems.append(
                f"nothing since {latest[0][0].isoformat(timespec='seconds')}; it usually delivers every {_words(gap)}"
            )
        else:
            status = "ok" if gap is not None else "new"
        reports.append(
            SourceReport(
                slug=source.slug,
                name=source.name,
                status=status,
                problems=problems,
                last_delivery=latest[0][0] if latest else None,
                deliveries_last_hour=recent.count(),
                quarantined_last_hour=recent.filter(status=Delivery.Status.QUARANTINED).count(),
                usual_gap_seconds=gap.total_seconds() if gap is not None else None,
                transports=transports.get(source.pk, []),
            )
        )
    return reports


def _words(gap: dt.timedelta) -> str:
    seconds = round(gap.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def summary(reports: list[SourceReport]) -> dict:
    """Every source's health in one JSON-ready object: failing while any source is."""
    failing = [r.slug for r in reports if r.failing]
    return {
        "status": "failing" if failing else "ok",
        "failing": failing,
        "quiet": [r.slug for r in reports if r.status == "quiet"],
        "sources": [r.as_dict() for r in reports],
    }


def healthz(request):
    """The desk's health for a monitor: 200, or 503 while a source is failing. Anyone is told
    that much; which sources there are and how each fares (their errors name agencies' hosts and
    logins) only a local request or the holder of the health token."""
    body = summary(report())
    status = 503 if body["failing"] else 200
    if not (_local(request) or _holds_token(request)):
        body = {"status": body["status"]}
    response = JsonResponse(body, status=status, json_dumps_params={"indent": 1})
    response["Cache-Control"] = "no-store"
    return response


def _local(request) -> bool:
    """Asked from this machine, and not passed on by a proxy on it: nginx as shipped connects
    from 127.0.0.1 for every reader, but always says for whom (X-Forwarded-For)."""
    if any(name in request.headers for name in _PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _holds_token(request) -> bool:
    token = settings.WIREDESK["HEALTH_TOKEN"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    # In constant time, so that the time taken tells nothing of how much of a guess was right.
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass"))
