"""`wiredesk parse FILE`, run as the installed console script, with no Django and no database.

The child gets a DJANGO_SETTINGS_MODULE that does not exist, no DATABASE_URL, and a `django`
package on PYTHONPATH that refuses to import: parse must succeed without touching any of them.
Every object printed must be valid ninjs 2.2 (validated offline, see tests/ninjs.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ninjs import corpus_dir, ninjs_errors

REPO = Path(__file__).resolve().parents[1]
WIREDESK = Path(sys.executable).parent / "wiredesk"
FIXTURES = REPO / "tests" / "fixtures" / "agency-copy"
DEMO = REPO / "src" / "wiredesk" / "demo" / "wire"
SEED = corpus_dir() / "seed" / "ians-2024-11-14-biden-xi-summit.agency-copy.txt"

UNREADABLE_FIXTURES = {
    "empty.txt": "empty",
    "whitespace-only.txt": "no story text",
    "binary-garbage.bin": "binary",
    "whole-email-message.eml": "an e-mail message",
}
READABLE_FIXTURES = sorted(p for p in FIXTURES.iterdir() if p.is_file() and p.name not in UNREADABLE_FIXTURES)
DEMO_FILES = sorted(DEMO.glob("*.txt"))


@pytest.fixture(scope="session")
def env(tmp_path_factory) -> dict:
    poison = tmp_path_factory.mktemp("no-django")
    (poison / "django").mkdir()
    (poison / "django" / "__init__.py").write_text(
        'raise ImportError("wiredesk parse must not import Django")\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "wiredesk_no_such_settings_module",
            "PYTHONPATH": str(poison),
            "WIREDESK_DATA": str(tmp_path_factory.mktemp("data-never-used")),
            "PYTHONIOENCODING": "utf-8",
        }
    )
    return env


def wiredesk_parse(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(WIREDESK), "parse", *map(str, args)], env=env, capture_output=True, text=True, encoding="utf-8", timeout=60
    )


def assert_ninjs_array(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    stories = json.loads(result.stdout)
    assert isinstance(stories, list) and stories
    for number, story in enumerate(stories):
        assert ninjs_errors(story) == [], f"story {number} is not valid ninjs 2.2"
    return stories


def test_the_console_script_is_installed():
    assert WIREDESK.is_file(), f"{WIREDESK} is missing: pip install -e . in the venv"


def test_version_is_told_with_no_django_and_no_database(env):
    from wiredesk import __version__

    result = subprocess.run([str(WIREDESK), "--version"], env=env, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"wiredesk {__version__}\n", "")


def test_the_child_really_cannot_import_django(env):
    result = subprocess.run([sys.executable, "-c", "import django"], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "must not import Django" in result.stderr


def test_parse_seed_prints_valid_ninjs(env):
    [story] = assert_ninjs_array(wiredesk_parse(env, SEED))
    assert story["located"] == "Washington"
    assert story["descriptions"] == [{"role": "dateline", "value": "Washington, Nov 14"}]
    assert story["headlines"][0]["role"] == "derived"
    assert story["uri"].startswith("urn:wiredesk:wire:2024-11-14:")


def test_parse_uses_the_source_option_in_the_uri(env):
    [story] = assert_ninjs_array(wiredesk_parse(env, SEED, "--source", "ians"))
    assert story["uri"].startswith("urn:wiredesk:ians:2024-11-14:")


def test_there_are_demo_files_to_parse():
    assert len(DEMO_FILES) >= 10


@pytest.mark.parametrize("path", DEMO_FILES, ids=[p.name for p in DEMO_FILES])
def test_parse_demo_file_prints_valid_ninjs(env, path):
    [story] = assert_ninjs_array(wiredesk_parse(env, path))
    assert story["headlines"][0]["value"]
    assert story["bodies"][0]["value"]


@pytest.mark.parametrize("path", READABLE_FIXTURES, ids=[p.name for p in READABLE_FIXTURES])
def test_parse_fixture_prints_valid_ninjs(env, path):
    assert_ninjs_array(wiredesk_parse(env, path))


def test_parse_keeps_non_ascii_text_as_characters(env):
    [story] = assert_ninjs_array(wiredesk_parse(env, FIXTURES / "cp1252-curly-quotes.txt"))
    assert story["headlines"][0]["value"] == "Café owner’s “pay what you can” lunch – a quiet success"


def assert_refused(result: subprocess.CompletedProcess, path: Path | str, reason: str):
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert reason.lower() in lines[0].lower()


@pytest.mark.parametrize("name", sorted(UNREADABLE_FIXTURES), ids=sorted(UNREADABLE_FIXTURES))
def test_parse_unreadable_fixture_exits_2_with_one_line_saying_why(env, name):
    path = FIXTURES / name
    assert_refused(wiredesk_parse(env, path), path, UNREADABLE_FIXTURES[name])


def test_parse_missing_file_exits_2_with_one_line_saying_why(env, tmp_path):
    path = tmp_path / "no-such-story.txt"
    assert_refused(wiredesk_parse(env, path), path, "no such file")


def test_parse_directory_exits_2_with_one_line_saying_why(env, tmp_path):
    assert_refused(wiredesk_parse(env, tmp_path), tmp_path, "directory")


def test_parse_xml_exits_2_with_one_line_saying_why(env, tmp_path):
    path = tmp_path / "story.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="UTF-8"?>\n<html><head/><body/></html>\n')
    assert_refused(wiredesk_parse(env, path), path, "XML")


def test_parse_json_exits_2_with_one_line_saying_why(env, tmp_path):
    path = tmp_path / "story.json"
    path.write_text('{"weather": "fine", "wind": 3}\n', encoding="utf-8")
    assert_refused(wiredesk_parse(env, path), path, "JSON")


def test_parse_with_format_agency_copy_reads_the_file(env):
    [story] = assert_ninjs_array(wiredesk_parse(env, "--format", "agency-copy", SEED))
    assert story["located"] == "Washington"


def test_parse_with_an_unknown_format_exits_2_naming_it(env):
    result = wiredesk_parse(env, "--format", "nope", SEED)
    assert_refused(result, SEED, "unknown format")
    assert "'nope'" in result.stderr and "agency-copy" in result.stderr


def test_the_ninjs_validator_really_checks_date_times_and_uris():
    from ninjs import ninjs_errors

    assert ninjs_errors({"uri": "urn:x:1", "versioncreated": "2026-11-25T10:00:00+00:00"}) == []
    assert ninjs_errors({"uri": "not a uri", "versioncreated": "yesterday"}) != []
    assert len(ninjs_errors({"uri": "not a uri", "versioncreated": "yesterday"})) == 2


def test_parse_zone_reads_times_without_an_offset_in_that_zone(env, tmp_path):
    path = tmp_path / "item.json"
    path.write_bytes(
        b'{"uri": "urn:x:1", "headline": "Zone", "body_text": "Text.", "versioncreated": "2024-07-01T12:00:00"}'
    )
    [story] = assert_ninjs_array(wiredesk_parse(env, path, "--zone", "Asia/Kolkata"))
    assert story["versioncreated"] == "2024-07-01T12:00:00+05:30"


def test_parse_with_an_unknown_zone_exits_2_naming_it(env):
    assert_refused(wiredesk_parse(env, SEED, "--zone", "Mars/Olympus"), SEED, "unknown time zone 'Mars/Olympus'")


def test_parse_into_a_reader_that_stops_early_ends_quietly(env, tmp_path):
    # `wiredesk parse FILE | head -1`: the pipe closes after one line, long before the JSON ends
    # (far more of it than a pipe's buffer holds).
    items = [
        {"uri": f"urn:test:{n}", "headline": f"Story {n}", "body_text": "The ferry ran late. " * 40} for n in range(400)
    ]
    (tmp_path / "many.json").write_text(json.dumps(items), encoding="utf-8")
    parse = subprocess.Popen(
        [str(WIREDESK), "parse", str(tmp_path / "many.json")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    parse.stdout.readline()
    parse.stdout.close()
    assert parse.wait(timeout=60) == 0
    assert b"Traceback" not in parse.stderr.read()
