"""Strict, offline validation against IPTC ninjs 2.2, for any test that checks ninjs output.

    from ninjs import assert_clean, ninjs_errors, ninjs_validator

    assert ninjs_errors(obj) == []             # readable failure: one line per error
    ninjs_validator().validate(obj)            # or the jsonschema validator itself
    assert_clean(story)                        # a Story: valid ninjs out, and no mojibake

The schemas come from the shared test corpus (../shared/corpus from the repository root, or
$WIREDESK_CORPUS). Nothing is ever fetched: GeoJSON, which ninjs 2.2 references by URL, is
registered from the corpus, and any other remote reference fails loudly.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

REPO = Path(__file__).resolve().parents[1]
GEOJSON_URI = "https://geojson.org/schema/GeoJSON.json"


def corpus_dir() -> Path:
    return Path(os.environ.get("WIREDESK_CORPUS") or REPO.parent / "shared" / "corpus")


def schema_path() -> Path:
    return corpus_dir() / "ninjs" / "schema" / "ninjs-schema_2.2.json"


def ninjs_validator() -> Draft202012Validator:
    """A Draft 2020-12 validator for ninjs 2.2 that checks formats and never goes online."""
    return _validator(corpus_dir())


def ninjs_errors(obj) -> list[str]:
    """Every way `obj` is not valid ninjs 2.2, one line each (empty when valid)."""
    errors = sorted(ninjs_validator().iter_errors(obj), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]


@cache
def _validator(corpus: Path) -> Draft202012Validator:
    schema_dir = corpus / "ninjs" / "schema"
    schema = json.loads((schema_dir / "ninjs-schema_2.2.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    geojson = json.loads((schema_dir / "external" / "GeoJSON.json").read_text(encoding="utf-8"))
    registry = Registry(retrieve=_refuse).with_resource(GEOJSON_URI, Resource.from_contents(geojson))
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


# "date-time" and "uri", the formats ninjs uses, are checked only with rfc3339-validator and
# rfc3986-validator installed (pyproject's test extra pins both); without them jsonschema passes
# anything, which the suite guards against in test_cli_parse.
def _refuse(uri: str):
    # Registry calls this for any reference it does not hold: offline means failing, not fetching.
    raise NoSuchResource(ref=uri)


def assert_no_mojibake(story) -> None:
    """UTF-8 read as CP1252 leaves these behind; no story of ours may carry them."""
    blob = json.dumps(story.to_dict(), ensure_ascii=False)
    assert "Ã" not in blob and "â€" not in blob


def assert_clean(story) -> None:
    """Valid ninjs 2.2 out, and no mojibake in anything the story holds."""
    assert ninjs_errors(story.to_ninjs()) == []
    assert_no_mojibake(story)


def assert_read_or_refused(parse, variants, context) -> None:
    """Damaged input is read into clean stories or refused with FormatError, never a crash."""
    from wiredesk.formats import FormatError

    for data in variants:
        try:
            stories = parse(data, context)
        except FormatError:
            continue
        for story in stories:
            assert ninjs_errors(story.to_ninjs()) == []
