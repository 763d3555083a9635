"""The conformance suite: agency conventions, one fictional case per folder of tests/conformance.

Each case is `tests/conformance/<agency>/<case>/`: the deliveries in the order they arrive
(`01-….txt`, `02-….xml`, … holding the bytes as the agency would send them, wire control codes
and all) and `expect.yaml`, what must hold, written for a wire editor to read (see
tests/conformance/README.md).

Three kinds of test:

- `test_case[agency/case]` replays the deliveries through the pipeline (`receive` as the inbox
  would, then `process`), each at its time, and after EVERY step reads every output a reader
  can reach: the home page, /latest/, the source's front, every story's address, the home feeds
  (RSS, Atom, JSON Feed), the sitemaps, a search for each story's headline, and the static tree
  (written as in service: the suite points it at a folder of the test's own and runs the
  commit hooks that render it). In none of them may appear: a `never_shown` string, an
  editors'-note marker (NOTE_MARKERS), the text of a killed, held or withheld story (what of it
  no live story also says), or a link to such a story. Then the step's and the case's `final`
  checks (outcomes, 410 / 404 / 200, same URL, text shown, times).
- `test_fields[agency/case]` checks the field expectations of each delivery against
  `wiredesk.formats.parse` alone (no database).
- `test_field_expectations_hold_across_the_suite` counts every field expectation of every case
  and asserts that at least 97% hold, printing the misses.

Many cases fail until the desk follows the conventions: that is what they are for.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml

from wiredesk import formats
from wiredesk.desk import pipeline
from wiredesk.models import Source, Story

ROOT = Path(__file__).parent / "conformance"
THRESHOLD = 0.97

# Editors' notes, advisories and kill notices: none may ever reach a reader, in any case. Matched
# without regard to case, except the regular expressions (short markers that ordinary words or
# the site's own chrome could contain otherwise).
NOTE_MARKERS = [
    "EDITOR'S NOTE",
    "EDITORS' NOTE",
    "EDITORS NOTE",
    "EDITOR’S NOTE",
    "EDITORS’ NOTE",
    "ATTENTION EDITORS",
    "EDITORS PLEASE NOTE",
    "ATTENTION EDITOR",
    "Notizblock",
    "Redaktionelle Hinweise",
    "Achtung Redaktion",
    "nicht zur Veröffentlichung",
    "Bitte nicht verwenden",
    "wird zurückgezogen",
    "not for publication",
    "advisory",
    "pls kill",
    "please kill",
    "must be killed",
    "mandatory kill",
    "legal kill",
    "KILL KILL",
    "KILL - KILL",
    "KILL/WITHDRAWN",
    "do not use",
    "not to use",
    "AFP would like to advise",
    "Atención redacciones",
    "ATENCION REDACCIONES",
    "ANULACIÓN",
    "queda anulada",
    "ATTENZIONE REDAZIONI",
    "ANNULLARE",
    "À L'ATTENTION DES RÉDACTIONS",
    "ANNULATION",
]
NOTE_PATTERNS = [re.compile(p) for p in (r"\bEds:", r"\bEDS:", r"\bATTN\b", r"\(Eil\b", r"\x07")]

_INLINE_TAG = re.compile(r"</?(?:mark|b|strong|em|i|span|a|time|abbr)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


# Loading ------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    folder: Path
    spec: dict

    @property
    def source(self) -> str:
        return self.spec.get("source", "wire")

    @property
    def zone(self) -> str:
        return self.spec.get("zone", "UTC")

    def data(self, file: str) -> bytes:
        return (self.folder / file).read_bytes()


def load() -> list[Case]:
    cases = []
    for path in sorted(ROOT.glob("*/*/expect.yaml")):
        name = f"{path.parent.parent.name}/{path.parent.name}"
        cases.append(Case(name, path.parent, yaml.safe_load(path.read_text(encoding="utf-8"))))
    return cases


CASES = load()


def _time(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# Field expectations (parse alone) -----------------------------------------------------------


@dataclass
class Check:
    where: str
    field: str
    expected: object
    actual: object
    ok: bool

    def __str__(self):
        return f"{self.where}: {self.field}: expected {self.expected!r}, got {self.actual!r}"


def _byline(value):
    if value is None:
        return None
    return re.sub(r"^(by|von|por|di|par)\s+", "", value.strip(), flags=re.I).casefold()


def _field(story, field: str, expected) -> tuple[object, bool]:
    paragraphs = story.paragraphs
    if field == "headline":
        return story.headline, story.headline == expected
    if field == "subheadline":
        return story.subheadline, story.subheadline == expected
    if field == "place":
        place = story.dateline.place if story.dateline else None
        if expected is None or place is None:
            return place, place is None and expected is None
        return place, place.casefold() == str(expected).casefold()
    if field == "by":
        # The name as the agency wrote it; a title line after it ("AP Sports Writer") may follow.
        actual = _byline(story.by)
        return story.by, actual is not None and actual.startswith(_byline(expected))
    if field == "language":
        actual = (story.language or "").lower()
        wanted = str(expected).lower()
        return story.language, actual == wanted or ("-" not in wanted and actual.split("-")[0] == wanted)
    if field in ("urgency", "version"):
        return getattr(story, field), getattr(story, field) == expected
    if field == "pubstatus":
        return story.pubstatus, story.pubstatus == expected
    if field == "signals":
        return story.signals, set(expected) <= set(story.signals)
    if field in ("correction", "ednote"):
        actual = getattr(story, field)
        return actual, actual is not None and expected in actual
    if field == "paragraphs_count":
        return len(paragraphs), len(paragraphs) == expected
    if field == "first_paragraph_startswith":
        first = paragraphs[0] if paragraphs else None
        return first and first[:120], first is not None and first.startswith(expected)
    if field == "no_paragraph_contains":
        found = [text for text in expected if any(text in p for p in paragraphs)]
        return found or "none", not found
    if field == "paragraphs_contain":
        missing = [text for text in expected if not any(text in p for p in paragraphs)]
        return (f"missing {missing}" if missing else "all"), not missing
    if field in ("firstcreated", "versioncreated", "embargoed"):
        actual = getattr(story, field)
        if expected is None:
            return actual, actual is None
        return actual and actual.isoformat(), actual is not None and actual == _time(expected)
    raise ValueError(f"unknown field expectation {field!r}")


def field_checks(case: Case) -> list[Check]:
    checks = []
    for step in case.spec["steps"]:
        wanted = step.get("stories") or []
        if not wanted:
            continue
        where = f"{case.name}/{step['file']}"
        try:
            stories = formats.parse(
                case.data(step["file"]), formats.Context(source=case.source, received=_time(step["at"]), zone=case.zone)
            )
            problem = None
        except formats.FormatError as exc:
            stories, problem = [], f"FormatError: {exc}"
        for index, expectation in enumerate(wanted):
            label = where if len(wanted) == 1 else f"{where}[{index}]"
            for key, expected in expectation.items():
                if index >= len(stories):
                    checks.append(Check(label, key, expected, problem or f"only {len(stories)} stories", False))
                    continue
                actual, ok = _field(stories[index], key, expected)
                checks.append(Check(label, key, expected, actual, bool(ok)))
    return checks


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fields(case):
    misses = [str(c) for c in field_checks(case) if not c.ok]
    assert not misses, "field expectations missed:\n" + "\n".join(misses)


def test_field_expectations_hold_across_the_suite():
    checks = [check for case in CASES for check in field_checks(case)]
    held = sum(check.ok for check in checks)
    misses = [str(check) for check in checks if not check.ok]
    share = held / len(checks) if checks else 1.0
    print(f"\n{held} of {len(checks)} field expectations hold ({share:.1%}); misses:")
    print("\n".join(misses))
    assert share >= THRESHOLD, (
        f"{held} of {len(checks)} field expectations hold ({share:.1%}), under {THRESHOLD:.0%}:\n" + "\n".join(misses)
    )


# The lifecycle, as readers see it ------------------------------------------------------------


def normalise(text: str) -> str:
    """What a reader reads: tags out (inline ones without a gap), entities resolved, spaces folded."""
    text = _TAG.sub(" ", _INLINE_TAG.sub("", text))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def _readable(content: bytes, name: str) -> str:
    text = content.decode("utf-8", errors="replace")
    if name.endswith(".json"):
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return normalise(text)


class Outputs:
    """Everything a reader (or a search engine) can read now, by name."""

    def __init__(self, client, case: Case, tree: Path):
        self.pages: dict[str, str] = {}
        self.own: dict[str, int] = {}  # a story's own address -> its pk
        self.echo: dict[str, str] = {}  # a search page -> its query, which the page repeats
        paths = [
            "/",
            "/latest/",
            f"/source/{case.source}/",
            "/feeds/rss.xml",
            "/feeds/atom.xml",
            "/feeds/feed.json",
            "/sitemap.xml",
            "/sitemaps/articles.xml",
            "/sitemaps/news.xml",
        ]
        for path in paths:
            self.pages[path] = _readable(client.get(path).content, path)
        for story in Story.objects.select_related("current"):
            url = story.get_absolute_url()
            self.pages[url] = _readable(client.get(url).content, url)
            self.own[url] = story.pk
            if story.current is not None:
                headline = story.current.canonical.headline
                name = f"search for {headline!r}"
                self.pages[name] = _readable(client.get("/search/", {"q": headline}).content, name)
                self.echo[name] = normalise(html.escape(headline))
        for file in sorted(p for p in tree.rglob("*") if p.is_file() and p.suffix != ".gz"):
            name = f"static tree {file.relative_to(tree)}"
            self.pages[name] = _readable(file.read_bytes(), file.name)

    def text(self, name: str) -> str:
        page = self.pages[name]
        if name in self.echo and self.echo[name]:
            page = page.replace(self.echo[name], " ")
        return page


def _texts(story_version) -> list[str]:
    canonical = story_version.canonical
    return [canonical.headline, *canonical.paragraphs]


def _needles(texts: list[str]) -> list[str]:
    """Pieces of a text that would show it: the whole line and its first words."""
    needles = []
    for text in texts:
        text = _SPACE.sub(" ", text).strip()
        if len(text) >= 12:
            needles.append(text)
        if len(text) > 48:
            needles.append(text[:48].rsplit(" ", 1)[0])
    return needles


def readers_problems(outputs: Outputs, case: Case, where: str, extra_hidden=()) -> list[str]:
    leaks: dict[str, list[str]] = {}  # what leaked -> the outputs it shows in
    visible = list(Story.objects.visible().select_related("current"))
    visible_text = " ".join(_SPACE.sub(" ", t) for s in visible if s.current for t in _texts(s.current))
    unseen = Story.objects.filter(state__in=("killed", "held", "withheld")).prefetch_related("versions")
    secret: list[tuple[str, str]] = []  # (needle, why)
    for story in unseen:
        texts = [t for version in story.versions.all() for t in _texts(version)]
        for needle in _needles(texts):
            if needle not in visible_text:
                secret.append((needle, f"text of the {story.state} story {story.uri}"))
    hidden_links = {
        f"/story/{s.pk}/": s for s in Story.objects.exclude(pk__in=[v.pk for v in visible]).exclude(state="duplicate")
    }
    never = [(text, "never_shown") for text in case.spec.get("never_shown") or []]
    never += [(text, "hidden from this step on") for text in extra_hidden]
    for name in outputs.pages:
        page = outputs.text(name)
        low = page.casefold()
        found = [f"the note marker {m!r}" for m in NOTE_MARKERS if m.casefold() in low]
        found += [f"the note marker /{p.pattern}/" for p in NOTE_PATTERNS if p.search(page)]
        found += [f"{text!r} ({why})" for text, why in never + secret if _SPACE.sub(" ", text) in page]
        found += [
            f"a link to the {story.state} story {story.uri}"
            for link, story in hidden_links.items()
            if link in outputs.pages[name] and outputs.own.get(name) != story.pk
        ]
        for what in found:
            leaks.setdefault(what, []).append(name)
    problems = []
    for what, names in leaks.items():
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        problems.append(f"{where}: shows {what} in {', '.join(names[:3])}{more}")
    return problems


def _stories(results_by_file: dict, file: str) -> list[Story]:
    uris = [r.uri for r in results_by_file.get(file, []) if r.uri]
    return [s for uri in uris if (s := Story.objects.filter(uri=uri).first()) is not None]


def state_problems(client, block: dict, case: Case, results_by_file: dict, where: str) -> list[str]:
    problems = []

    def stories(file):
        found = _stories(results_by_file, file)
        if not found:
            problems.append(
                f"{where}: {file} gave no story (results: "
                f"{[(str(r.outcome), r.error) for r in results_by_file.get(file, [])]})"
            )
        return found

    for key, status in (("killed", 410), ("live", 200)):
        for file in block.get(key) or []:
            for story in stories(file):
                got = client.get(story.get_absolute_url()).status_code
                if got != status:
                    problems.append(
                        f"{where}: the story of {file} ({story.uri}, {story.state}) answers {got}, not {status}"
                    )
    home = normalise(client.get("/").text)
    for file in block.get("held") or []:
        # Not an article: its address (if the desk made a story of it) answers 404, and it is on no front.
        for story in _stories(results_by_file, file):
            got = client.get(story.get_absolute_url()).status_code
            if got != 404:
                problems.append(f"{where}: the item of {file} ({story.uri}, {story.state}) answers {got}, not 404")
            if (
                story.current
                and len(story.current.canonical.headline) >= 8
                and story.current.canonical.headline in home
            ):
                problems.append(f"{where}: the item of {file} is on the home page")
    for group in block.get("same_story") or []:
        pks = {file: {s.pk for s in stories(file)} for file in group}
        if len({frozenset(v) for v in pks.values()}) != 1:
            problems.append(f"{where}: {group} should be one story at one URL, got stories {pks}")
    for file, texts in (block.get("shows") or {}).items():
        for story in stories(file)[:1]:
            response = client.get(story.get_absolute_url())
            page = normalise(response.text)
            for text in texts:
                if _SPACE.sub(" ", text) not in page:
                    problems.append(f"{where}: the page of {file} ({response.status_code}) does not show {text!r}")
    for file, when in (block.get("published") or {}).items():
        for story in stories(file)[:1]:
            if story.published_at != _time(when):
                problems.append(f"{where}: {file} published at {story.published_at}, not {_time(when)}")
    for file, day in (block.get("published_date") or {}).items():
        for story in stories(file)[:1]:
            local = story.published_at and story.published_at.astimezone(ZoneInfo(case.zone)).date()
            if str(local) != str(day):
                problems.append(f"{where}: {file} published on {local} ({case.zone}), not {day}")
    for file in block.get("updated") or []:
        for story in stories(file)[:1]:
            if not story.was_updated or "Updated" not in client.get(story.get_absolute_url()).text:
                problems.append(f"{where}: the page of {file} does not say it was updated")
    return problems


def _outcomes_match(got: list[str], wanted: list) -> bool:
    if len(got) != len(wanted):
        return False
    return all(g in (w if isinstance(w, list) else [w]) for g, w in zip(got, wanted, strict=True))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case, db, client, settings, tmp_path, django_capture_on_commit_callbacks):
    tree = tmp_path / "site"
    settings.WIREDESK = {**settings.WIREDESK, "STATIC_TREE": tree}
    Source.objects.create(slug=case.source, name=case.source.upper(), time_zone=case.zone)
    problems: list[str] = []
    results_by_file: dict[str, list] = {}
    steps = case.spec["steps"]
    for number, step in enumerate(steps, start=1):
        where = f"step {number} ({step['file']})"
        with time_machine.travel(_time(step["at"]), tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                delivery = pipeline.receive(
                    case.data(step["file"]), source=case.source, transport="inbox", filename=step["file"]
                )
                results = pipeline.process(delivery.pk)
            results_by_file[step["file"]] = results
            got = [str(r.outcome) for r in results]
            if "outcomes" in step and not _outcomes_match(got, step["outcomes"]):
                problems.append(
                    f"{where}: outcomes {got}, expected {step['outcomes']}"
                    + "".join(f"; {r.reason or r.error}" for r in results if r.reason or r.error)
                )
            last = number == len(steps)
            final = (case.spec.get("final") or {}) if last else {}
            outputs = Outputs(client, case, tree)
            problems += readers_problems(
                outputs, case, where, [*(step.get("hidden") or []), *(final.get("hidden") or [])]
            )
            problems += state_problems(client, step, case, results_by_file, where)
            if final:
                problems += state_problems(client, final, case, results_by_file, "final")
    # One line per problem, and each problem once: a note that leaks leaks on many pages.
    unique = list(dict.fromkeys(problems))
    assert not unique, (
        f"{case.spec.get('convention', '').strip()}\n"
        + "\n".join(unique[:60])
        + (f"\n... and {len(unique) - 60} more" if len(unique) > 60 else "")
    )
