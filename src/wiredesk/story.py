"""The canonical story every format maps into, shaped after IPTC ninjs 2.2: a WireStory is one
story as a delivery gives it, before the desk makes it a story of the site (models.Story).

Pure Python on purpose: formats, the CLI's `parse` and the tests use it without a database.
Field names follow ninjs so that `to_ninjs()` is a rename-free projection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import Any

NINJS_VERSION = "2.2"
NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#"


@dataclass(frozen=True)
class Dateline:
    """The dateline as the agency wrote it, and what could be read from it."""

    text: str  # verbatim, e.g. "NEW DELHI, Nov 20 (IANS)"
    place: str | None = None
    date: dt.date | None = None
    agency: str | None = None


@dataclass(frozen=True)
class Subject:
    name: str
    uri: str | None = None
    literal: str | None = None


@dataclass
class WireStory:
    uri: str
    headline: str
    paragraphs: list[str]
    # None when the format carries no version: the desk then numbers versions itself.
    version: int | None = None
    headline_derived: bool = False
    subheadline: str | None = None
    dateline: Dateline | None = None
    language: str | None = None
    firstcreated: dt.datetime | None = None
    versioncreated: dt.datetime | None = None
    pubstatus: str = "usable"
    urgency: int | None = None
    by: str | None = None
    slugline: str | None = None
    subjects: list[Subject] = field(default_factory=list)
    ednote: str | None = None
    copyrightnotice: str | None = None
    usageterms: str | None = None
    embargoed: dt.datetime | None = None
    # What the agency says this version is: "update", "correction", "kill" (IPTC signal names).
    signals: list[str] = field(default_factory=list)
    correction: str | None = None  # the agency's correction note, for readers
    genres: list[Subject] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    format: str = ""
    # The names the desk can find this story by ("headline:…", "keyword:…", "number:…"), and, for a
    # kill, correction or advisory, the names of the stories it speaks of, in the same terms.
    keys: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    take: int | None = None  # a later take continues its story's text

    @property
    def located(self) -> str | None:
        return self.dateline.place if self.dateline else None

    @property
    def body_text(self) -> str:
        return "\n\n".join(self.paragraphs)

    def fingerprint(self) -> str:
        """A hash of what readers would see and of what governs publication.

        Receipt and creation times are left out: the same copy delivered twice, or by two
        transports, must be recognised as unchanged.
        """
        content = {
            "headline": self.headline,
            "subheadline": self.subheadline,
            "paragraphs": self.paragraphs,
            "dateline": self.dateline.text if self.dateline else None,
            "by": self.by,
            "pubstatus": self.pubstatus,
            "embargoed": self.embargoed.isoformat() if self.embargoed else None,
            "correction": self.correction,
        }
        blob = json.dumps(content, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Lossless JSON form, for storage; `from_dict` reads it back."""
        stored: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self), default=_iso))
        return stored

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WireStory:
        data = dict(data)
        if data.get("dateline"):
            d = dict(data["dateline"])
            d["date"] = dt.date.fromisoformat(d["date"]) if d.get("date") else None
            data["dateline"] = Dateline(**d)
        data["subjects"] = [Subject(**s) for s in data.get("subjects", [])]
        data["genres"] = [Subject(**s) for s in data.get("genres", [])]
        for key in ("firstcreated", "versioncreated", "embargoed"):
            if data.get(key):
                data[key] = dt.datetime.fromisoformat(data[key])
        return cls(**data)

    def to_ninjs(self, *, version: int | None = None) -> dict[str, Any]:
        """The story as a ninjs 2.2 object (what `wiredesk parse` prints and the API serves)."""
        version = version if version is not None else self.version
        out: dict[str, Any] = {
            "uri": self.uri,
            "standard": {"name": "ninjs", "version": NINJS_VERSION, "schema": NINJS_SCHEMA},
            "type": "text",
            "representationtype": "full",
            "pubstatus": self.pubstatus,
            # ninjs has no "derived" flag: the role tells consumers the desk wrote this line.
            "headlines": [{"role": "derived" if self.headline_derived else "main", "value": self.headline}],
            "bodies": [
                {
                    "role": "main",
                    "contenttype": "text/plain",
                    "value": self.body_text,
                    "charcount": len(self.body_text),
                    "wordcount": len(self.body_text.split()),
                },
                {
                    "role": "main",
                    "contenttype": "text/html",
                    "value": "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in self.paragraphs),
                },
            ],
        }
        if version is not None:
            out["version"] = str(version)
        if self.subheadline:
            out["headlines"].append({"role": "sub", "value": self.subheadline})
        for key in ("firstcreated", "versioncreated", "embargoed"):
            if getattr(self, key):
                out[key] = getattr(self, key).isoformat()
        for key in ("language", "urgency", "by", "slugline", "ednote", "copyrightnotice", "usageterms"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.dateline:
            out["descriptions"] = [{"role": "dateline", "value": self.dateline.text}]
            if self.dateline.place:
                out["located"] = self.dateline.place
            if self.dateline.agency:
                out["infosources"] = [{"name": self.dateline.agency, "role": "originator"}]
        for key in ("subjects", "genres"):
            if getattr(self, key):
                out[key] = [
                    {k: v for k, v in dataclasses.asdict(s).items() if v is not None} for s in getattr(self, key)
                ]
        if self.correction:
            out.setdefault("descriptions", []).append({"role": "correction", "value": self.correction})
        if self.keywords:
            # ninjs 2.2 has no keywords field; they are subjects without a uri.
            out.setdefault("subjects", []).extend({"name": k, "literal": f"keyword:{k}"} for k in self.keywords)
        # ninjs 2.2 has no signals either: a kill is pubstatus "canceled", an update a higher version.
        return out


def _iso(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
