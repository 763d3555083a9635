"""Superdesk's feed parsers, driven by bench/peers.py. Runs in the throwaway virtualenv that
`make bench-peers` makes (superdesk-core and what its parsers import); never in wiredesk's.

One JSON command a line on stdin, one JSON answer a line on stdout (the same as peers.py --serve):
    {"do": "check", "format": F, "paths": [...]}  ->  [{"stories": [[headline, words], ...]} or {"error": ...}, ...]
    {"do": "time", "format": F, "paths": [...], "passes": N}  ->  {"seconds": S}

Each file is read as Superdesk's file feeding service reads it (superdesk/io/feeding_services/
file_service.py): XML with etree.parse on the open file and the root handed to the parser, wire
text by its path.
"""

import asyncio
import json
import logging
import re
import sys
import time

# Superdesk logs every refusal with its traceback (and a settings warning on import): the
# coordinator reports refusals itself.
logging.disable(logging.CRITICAL)
# superdesk-core 2.5 decorates some websocket code with asyncio.coroutine, removed in Python 3.11;
# importing the parsers imports that module, though parsing never runs it.
asyncio.coroutine = lambda f: f

import flask  # noqa: E402
import superdesk.io.feed_parsers  # noqa: E402, F401 - registers the parsers
from lxml import etree  # noqa: E402
from superdesk.io import iptc  # noqa: E402
from superdesk.io.registry import registered_feed_parsers  # noqa: E402
from superdesk.io.subjectcodes import SubjectIndex  # noqa: E402

PARSERS = {"nitf": "nitf", "newsml-g2": "newsml2", "anpa1312": "anpa1312", "iptc7901": "iptc7901"}
TAG = re.compile(r"<[^>]*>")


def app() -> flask.Flask:
    """The little of a Superdesk app the parsers use: its default settings (guid domain, HTML
    whitelist, mappings) and its IPTC subject index. No database: inputs avoid the fields whose
    parsing queries one (NITF tobject.property, aap- metas)."""
    app = flask.Flask("superdesk")
    app.config.from_object("superdesk.default_settings")
    app.subjects = SubjectIndex()
    iptc.init_app(app)
    return app


def reader(name: str):
    parser = registered_feed_parsers[PARSERS[name]]
    if name in ("nitf", "newsml-g2"):

        def read(path):
            with open(path, "rb") as f:
                return parser.parse(etree.parse(f).getroot())

        return read
    return parser.parse


def describe(items) -> list:
    items = items if isinstance(items, list) else [items]
    return [[item.get("headline") or "", len(TAG.sub(" ", item.get("body_html") or "").split())] for item in items]


def main() -> None:
    with app().app_context():
        for line in sys.stdin:
            command = json.loads(line)
            read = reader(command["format"])
            if command["do"] == "check":
                answer = []
                for path in command["paths"]:
                    try:
                        answer.append({"stories": describe(read(path))})
                    except Exception as e:  # noqa: BLE001 - any refusal is reported, not fatal
                        answer.append({"error": f"{type(e).__name__}: {e}"[:200]})
            else:
                start = time.perf_counter()
                for _ in range(command["passes"]):
                    for path in command["paths"]:
                        read(path)
                answer = {"seconds": time.perf_counter() - start}
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
