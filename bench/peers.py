"""wiredesk's parsers beside Superdesk's, on the same files, in one run: `make bench-peers`.

The inputs are fictional stories of agency length (600-1,200 words, 8-20 paragraphs) written
here in NITF, NewsML-G2 (inline NITF and XHTML bodies), ANPA-1312 and IPTC 7901, laid out as our
format modules describe, plus dpa's 7901 files from ../shared/corpus (read where they lie).
Each side runs in a process of its own, ours in this virtualenv and Superdesk's in the throwaway
one (bench/peers_superdesk.py). For each set of files the two are timed in turn, round after
round; a round's two timings, taken back to back, give its ratio, and the table shows the
medians. Both sides open and read every file on every pass, as their ingest does.

    python bench/peers.py --peer .venv-peers/bin/python [--rounds 15] [--seconds 0.2]
    python bench/peers.py --serve     # our side of the protocol (see peers_superdesk.py)
"""

import argparse
import functools
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("WIREDESK_CORPUS") or REPO.parent / "shared" / "corpus")
# Only dpa's 7901 files: Superdesk reads no body from dpa's G2 (XHTML in <section>s) and cannot
# read the NTB NITF without its database (tobject.property is looked up in its vocabularies).
CORPUS_GLOBS = {"iptc7901": ["agency-samples/dpa-digitalwires-to-iptc7901/output/*.iptc"]}
STORIES = 12  # per format; one story a file

# Fictional copy, written for this bench. Sentences are drawn from these pools.
PLACES = [
    "Port Salvin",
    "Obertal",
    "Marrow Bay",
    "Kessel",
    "Elmsworth",
    "Vennmark",
    "Caldera Springs",
    "Holloway Reach",
    "Tarnby",
    "Lindhaven",
]
PEOPLE = [
    ("Mara Quill", "the harbour master"),
    ("Tomas Brecht", "the council's treasurer"),
    ("Ines Okafor", "who chairs the water board"),
    ("Zoë Marchetti", "a spokeswoman for the operator"),
    ("Jürgen Falk", "head of the regional transport authority"),
    ("Priya Anand", "the mayor"),
    ("Ode Lindqvist", "a union organiser"),
    ("Hana Sørby", "an economist at Vennmark University"),
]
TOPICS = [
    ("harbour cranes", "Harbour cranes return to service", "repairs"),
    ("the island ferry", "Island ferry adds a dawn sailing", "timetable changes"),
    ("the new tram line", "Tram line opens six months late", "construction"),
    ("the water supply", "Water board lifts boil notice", "testing"),
    ("the grain terminal", "Grain terminal resumes loading", "a dispute over pay"),
    ("the coastal road", "Coastal road reopens after landslip", "clearance work"),
    ("the town library", "Library reopens after flood", "restoration"),
    ("the wind farm", "Offshore wind farm connected to grid", "cable laying"),
]
GROUPS = ["Residents", "Shop owners", "Dock workers", "Commuters", "Farmers", "Parents", "Hauliers"]
SENTENCES = [
    "{person}, {role}, said on {day} that {topic} would be back to normal by the end of {month}.",
    "The work cost about {money} million crowns, more than twice the sum set aside last spring.",
    "{group} had complained for weeks about delays, and a petition drew {count} signatures.",
    "{quote}We have asked a great deal of people this year, and they have been patient with us,{unquote} {person} said.",
    "Figures from the statistics office showed traffic through {place} fell {pct} percent in {month}.",
    "The council will meet again on {day} to decide whether to extend the {cause} into next year.",
    "{person} said the delays were caused by {cause} and by a shortage of spare parts.",
    "Independent engineers are expected to publish a report on {topic} within {count2} weeks.",
    "{quote}Nobody wanted this to take so long,{unquote} said {person}, {role}.",
    "Opposition members called for an inquiry, saying warnings about {topic} had been ignored since {year}.",
    "The regional government has promised {money} million crowns for maintenance over the next five years.",
    "{group} in {place} said they would wait to see whether the promises were kept.",
    "Local businesses reported that takings were down by as much as {pct} percent during the {cause}.",
    "Weather forecasters warned of strong winds later in the week, which could slow the remaining work.",
    "{quote}It is a good day for {place}, but it is not the end of the story,{unquote} {person} added.",
    "The operator said it would publish a full timetable for the winter season on {day}.",
    "Under the agreement, contractors will pay a penalty for every week the work runs late after {month}.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = ["January", "March", "May", "September", "November"]


def story(rng: random.Random, n: int) -> dict:
    topic, headline, cause = TOPICS[n % len(TOPICS)]
    place = PLACES[n % len(PLACES)]
    words, count = rng.randint(600, 1200), rng.randint(8, 20)
    sentences, deck, total = [], [], 0
    while total < words - 10:
        deck = deck or rng.sample(SENTENCES, len(SENTENCES))  # each sentence once before any again
        person, role = rng.choice(PEOPLE)
        sentences.append(
            deck.pop().format(
                person=person,
                role=role,
                topic=topic,
                cause=cause,
                place=place,
                group=rng.choice(GROUPS),
                day=rng.choice(DAYS),
                month=rng.choice(MONTHS),
                money=rng.randint(2, 90),
                pct=rng.randint(3, 40),
                count=rng.randint(200, 9000),
                count2=rng.randint(2, 12),
                year=rng.randint(2015, 2024),
                quote="\u201c",
                unquote="\u201d",
            )
        )
        total += len(sentences[-1].split())
    cuts = [len(sentences) * i // count for i in range(count + 1)]
    paragraphs = [" ".join(sentences[a:b]) for a, b in zip(cuts, cuts[1:])]
    person, _ = rng.choice(PEOPLE)
    return {
        "n": n,
        "headline": f"{headline} in {place}",
        "place": place,
        "by": person,
        "slug": "-".join(topic.split()[-2:]).title(),
        "paragraphs": paragraphs,
        "subheadline": f"{GROUPS[n % len(GROUPS)]} wait to see whether promises are kept",
    }


def with_dateline(s: dict, agency: str, date: str = ", Nov 24") -> list[str]:
    return [f"{s['place'].upper()}{date} {agency} {s['paragraphs'][0]}", *s["paragraphs"][1:]]


def ascii7(text: str) -> str:
    """AP's 7-bit copy: `` and '' for double quotes, no accents."""
    text = text.replace("\u201c", "``").replace("\u201d", "''")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def nitf_xml(s: dict) -> bytes:
    # DTD-era NITF, without a namespace, as Superdesk expects. The dateline has no <location>:
    # Superdesk would look its city up in a gazetteer its full app loads.
    body = "\n".join(f"      <p>{escape(p)}</p>" for p in with_dateline(s, "(XPW) -"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nitf SYSTEM "nitf-3-3.dtd">
<nitf version="-//IPTC//DTD NITF 3.3//EN">
  <head>
    <title>{escape(s["headline"])}</title>
    <tobject tobject.type="news">
      <tobject.subject tobject.subject.refnum="04005000" tobject.subject.matter="transport"/>
    </tobject>
    <docdata management-status="usable">
      <doc-id regsrc="XPW" id-string="xpw-2026-{s["slug"].lower()}-{s["n"]}"/>
      <urgency ed-urg="4"/>
      <date.issue norm="20261124T093000+0000"/>
      <du-key key="{s["slug"].lower()}" version="1"/>
      <key-list><keyword key="{s["slug"].lower()}"/></key-list>
    </docdata>
  </head>
  <body>
    <body.head>
      <hedline><hl1>{escape(s["headline"])}</hl1><hl2>{escape(s["subheadline"])}</hl2></hedline>
      <byline>By <person>{escape(s["by"])}</person></byline>
      <dateline>{s["place"].upper()}, Nov 24</dateline>
    </body.head>
    <body.content>
{body}
    </body.content>
  </body>
</nitf>
""".encode()


def g2_xml(s: dict, body: str) -> bytes:
    ps = "\n".join(f"          <p>{escape(p)}</p>" for p in with_dateline(s, "(XPW) -"))
    if body == "xhtml":
        content = f"""<inlineXML contenttype="application/xhtml+xml">
      <html xmlns="http://www.w3.org/1999/xhtml"><head><title>{escape(s["headline"])}</title></head><body>
{ps}
      </body></html>
    </inlineXML>"""
    else:  # paragraphs in a block: Superdesk reads inline NITF only there
        content = f"""<inlineXML contenttype="application/nitf+xml">
      <nitf xmlns="http://iptc.org/std/NITF/2006-10-18/"><body><body.content><block>
{ps}
      </block></body.content></body></nitf>
    </inlineXML>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:xpw.example:20261124:{s["slug"].lower()}-{s["n"]}"
    version="1" standard="NewsML-G2" standardversion="2.35" conformance="power" xml:lang="en-GB">
  <catalogRef href="http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_38.xml"/>
  <rightsInfo><copyrightNotice>Copyright 2026 Example Press Wire.</copyrightNotice></rightsInfo>
  <itemMeta>
    <itemClass qcode="ninat:text"/>
    <provider qcode="nprov:XPW"/>
    <versionCreated>2026-11-24T10:05:00+01:00</versionCreated>
    <firstCreated>2026-11-24T09:30:00+01:00</firstCreated>
    <pubStatus qcode="stat:usable"/>
  </itemMeta>
  <contentMeta>
    <urgency>4</urgency>
    <located qcode="xpwgeo:{s["n"]}"><name>{s["place"]}</name></located>
    <creator><name>{escape(s["by"])}</name></creator>
    <language tag="en-GB"/>
    <subject type="cpnat:abstract" qcode="medtop:20000599"><name>maritime transport</name></subject>
    <subject qcode="subj:04005000"><name>transport</name></subject>
    <genre qcode="genre:Current"><name xml:lang="en">current</name></genre>
    <keyword>{s["slug"].lower()}</keyword>
    <slugline>{s["slug"].upper()}</slugline>
    <headline>{escape(s["headline"])}</headline>
    <by>By {escape(s["by"])}</by>
    <dateline>{s["place"].upper()}, Nov 24 (XPW) -</dateline>
  </contentMeta>
  <contentSet>
    {content}
  </contentSet>
</newsItem>
""".encode()


def anpa(s: dict) -> bytes:
    slug, words = f"BC-{s['slug']}", sum(len(p.split()) for p in s["paragraphs"])
    lines = [
        f"\x16\x16\x01a{s['n']:04d}\x1fbcdef",
        f"r a\x13\x11 {slug}                 11-24 {words:04d}",
        f"\x02^{slug},{words:04d}<",
        f"^{s['headline']}<",
        f"^By {s['by'].upper()}=",
        "^Example Press Writer=",
        *(f"\t   {p}" for p in with_dateline(s, "(XP) _", date="")),
        "",
        "\t   XP-WF-11-24-26 1630GMT<",
        "\x03\x04",
    ]
    return ascii7("\r\n".join(lines)).encode("ascii")


def iptc7901(s: dict) -> bytes:
    words = sum(len(p.split()) for p in s["paragraphs"])
    text = "\n\n".join(textwrap.fill(p, 69) for p in with_dateline(s, "(XPW) -"))
    return (
        f"\x01xpw{s['n']:04d} 3 pl {words}  XPW {s['n']:04d}\n{s['slug'].replace('-', '/')}/{s['place']}/\n"
        f"\x02{s['headline']}\nBy {s['by']} =\n\n{text}\n\nxpw mq kl\n\x03241030 Nov 26\n\x04"
    ).encode()


WRITERS = {
    "nitf": (nitf_xml, ".xml"),
    "newsml-g2 (NITF body)": (functools.partial(g2_xml, body="nitf"), ".xml"),
    "newsml-g2 (XHTML body)": (functools.partial(g2_xml, body="xhtml"), ".xml"),
    "anpa1312": (anpa, ".txt"),
    "iptc7901": (iptc7901, ".txt"),
}


def write_inputs(folder: Path) -> dict[str, list[str]]:
    """The generated file sets, by label; a label's first word names the format."""
    rng = random.Random(1312)
    stories = [story(rng, n) for n in range(STORIES)]
    inputs = {}
    for k, (label, (write, suffix)) in enumerate(WRITERS.items()):
        inputs[label] = []
        for s in stories:
            path = folder / f"{k}-{s['n']:02d}{suffix}"
            path.write_bytes(write(s))
            inputs[label].append(str(path))
    return inputs


def serve() -> None:
    """Our side: the same JSON-lines protocol as bench/peers_superdesk.py."""
    from wiredesk import formats

    logging.disable(logging.WARNING)
    context = formats.Context(source="bench")
    for line in sys.stdin:
        command = json.loads(line)
        # What ingest runs: the format's reader and the agencies' conventions after it.
        parse = functools.partial(formats.parse, format=command["format"])
        if command["do"] == "check":
            answer = []
            for path in command["paths"]:
                try:
                    stories = parse(Path(path).read_bytes(), context)
                    words = [sum(len(p.split()) for p in story.paragraphs) for story in stories]
                    answer.append({"stories": [[story.headline, n] for story, n in zip(stories, words)]})
                except Exception as e:  # noqa: BLE001 - any refusal is reported, not fatal
                    answer.append({"error": f"{type(e).__name__}: {e}"[:200]})
        else:
            start = time.perf_counter()
            for _ in range(command["passes"]):
                for path in command["paths"]:
                    parse(Path(path).read_bytes(), context)
            answer = {"seconds": time.perf_counter() - start}
        print(json.dumps(answer), flush=True)


class Worker:
    def __init__(self, argv: list[str]):
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"a worker stopped: {self.process.args}")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def compare(ours: dict, theirs: dict) -> tuple[bool, str | None]:
    """Whether a file can be timed on both sides (each reads a headline and body text from it),
    and why the two readings differ, if they do."""
    if "error" in ours or "error" in theirs:
        return False, f"ours {ours.get('error', 'ok')}; theirs {theirs.get('error', 'ok')}"
    if len(ours["stories"]) != len(theirs["stories"]):
        return False, f"{len(ours['stories'])} stories here, {len(theirs['stories'])} there"
    for (our_head, our_words), (their_head, their_words) in zip(ours["stories"], theirs["stories"]):
        if not (our_head and their_head.strip() and our_words and their_words):
            return False, (
                f"headline {our_head[:30]!r} and {our_words} words here, "
                f"{their_head.strip()[:30]!r} and {their_words} there"
            )
        if not 0.8 <= their_words / our_words <= 1.25:
            return True, f"{our_words} body words here, {their_words} there"
    return True, None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--peer",
        default=str(REPO / ".venv-peers" / "bin" / "python"),
        help="the Python of the virtualenv holding superdesk-core",
    )
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per format and side")
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one round")
    args = parser.parse_args()
    if args.serve:
        return serve()

    with tempfile.TemporaryDirectory(prefix="wiredesk-peers-") as folder:
        sets = write_inputs(Path(folder))
        for name, globs in CORPUS_GLOBS.items():
            sets[f"{name} (corpus)"] = sorted(str(p) for g in globs for p in CORPUS.glob(g))
        ours = Worker([sys.executable, __file__, "--serve"])
        theirs = Worker([args.peer, str(REPO / "bench" / "peers_superdesk.py")])
        rows = [measure(label, paths, ours, theirs, args) for label, paths in sets.items() if paths]
        ours.close()
        theirs.close()

    print(f"{'format':<24}{'files':>6}{'words':>7}{'ours/s':>9}{'superdesk/s':>13}  ours/theirs (range over rounds)")
    for label, files, words, mine, peer, _warnings in rows:
        if mine:
            # Each round's two timings were taken back to back: their ratio is the least disturbed
            # by the load others put on the machine.
            ratios = [o / t for o, t in zip(mine, peer)]
            print(
                f"{label:<24}{files:>6}{words:>7,.0f}{statistics.median(mine):>9,.0f}{statistics.median(peer):>13,.0f}"
                f"  {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
            )
        else:
            print(f"{label:<24}{files:>6}  no file both parsers read")
    for label, *_, warnings in rows:
        for warning in warnings:
            print(f"warning: {label}: {warning}")


def measure(label: str, paths: list[str], ours: Worker, theirs: Worker, args) -> tuple:
    """(label, files, median words, our rates, their rates, warnings): stories a second per round."""
    name = label.split()[0]
    checks = zip(ours.ask(do="check", format=name, paths=paths), theirs.ask(do="check", format=name, paths=paths))
    usable, words, stories, warnings = [], [], 0, []
    for path, (mine, peer) in zip(paths, checks):
        timed, difference = compare(mine, peer)
        if difference:
            warnings.append(f"{Path(path).name}{'' if timed else ' left out'}: {difference}")
        if timed:
            usable.append(path)
            words.append(sum(w for _, w in mine["stories"]))
            stories += len(mine["stories"])
    if not usable:
        return label, 0, 0, [], [], warnings
    # Passes per round so that one round lasts about --seconds on each side.
    passes = {
        side: max(1, round(args.seconds / side.ask(do="time", format=name, paths=usable, passes=1)["seconds"]))
        for side in (ours, theirs)
    }
    rates = {ours: [], theirs: []}
    for _ in range(args.rounds):
        for side in (ours, theirs):
            seconds = side.ask(do="time", format=name, paths=usable, passes=passes[side])["seconds"]
            rates[side].append(passes[side] * stories / seconds)
    return label, len(usable), statistics.median(words), rates[ours], rates[theirs], warnings


if __name__ == "__main__":
    main()
