"""The demo wire: fictional stories so a new site is alive from the first minute."""

import datetime as dt
import re
from collections import Counter
from pathlib import Path

from django.utils import timezone

from wiredesk.desk import pipeline
from wiredesk.models import Source

WIRE = Path(__file__).parent / "wire"
# The demo's agencies are as fictional as its stories.
AGENCIES = {"mns": "Meridian News Service", "hp": "Harbour Press", "nw": "Northwire"}

_DATE = re.compile(rb"^\s*date\s+(\d{4}-\d{2}-\d{2})")
_AGENCY = re.compile(rb"\(([A-Z]{2,5})\)")


def load(folder: Path = WIRE) -> Counter:
    """Ingest every demo story, as if the agency had filed it on its date. Loading twice
    changes nothing: the second time every story is `unchanged`."""
    for slug, name in AGENCIES.items():
        Source.objects.get_or_create(slug=slug, defaults={"name": name})
    counts: Counter = Counter()
    now = timezone.now()
    for n, path in enumerate(sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".json"))):
        data = _embargo_after_first_load(path.read_bytes())
        filed = now
        if m := _DATE.match(data):
            day = dt.datetime.fromisoformat(m.group(1).decode()).replace(tzinfo=dt.UTC)
            filed = min(now - dt.timedelta(minutes=5 * (12 - n)), day + dt.timedelta(hours=6, minutes=47 * n))
        agency = _AGENCY.search(data[:600])
        delivery = pipeline.receive(
            data,
            source=agency.group(1).decode().lower() if agency else "mns",
            transport="demo",
            filename=path.name,
            received_at=filed,
        )
        counts.update(str(r.outcome) for r in pipeline.process(delivery.pk, again=delivery.again))
    return counts


def _embargo_after_first_load(data: bytes) -> bytes:
    """The demo's embargoed story lifts a minute after the demo was first loaded (`"embargoed":
    "+PT1M"`), so a new site shows a story appearing by itself, and loading again changes nothing."""
    if b'"+PT1M"' not in data:
        return data
    first_load = Source.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return data.replace(b'"+PT1M"', f'"{(first_load + dt.timedelta(minutes=1)).isoformat()}"'.encode())
