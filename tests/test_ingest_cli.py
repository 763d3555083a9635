"""`wiredesk ingest` as a user types it."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED, Hub, desk_env, migrated

pytestmark = pytest.mark.embedded

WIREDESK = str(Path(sys.executable).parent / "wiredesk")


def ingest(data_dir, *args):
    migrated(data_dir)
    env = desk_env()
    result = subprocess.run(
        [WIREDESK, "ingest", "--data", str(data_dir), *args], env=env, capture_output=True, text=True
    )
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_ingest_prints_one_json_line_per_story_and_is_unchanged_the_second_time(tmp_path):
    status, [first], _ = ingest(tmp_path, "--source", "ians", str(SEED))
    assert status == 0
    assert first["file"] == str(SEED)
    assert first["outcome"] == "published"
    assert first["version"] == 1
    assert first["uri"].startswith("urn:wiredesk:ians:2024-11-14:")
    assert first["url"].startswith("http://127.0.0.1:8000/story/")

    status, [second], _ = ingest(tmp_path, "--source", "ians", str(SEED))
    assert status == 0
    assert (second["outcome"], second["url"], second["uri"]) == ("unchanged", first["url"], first["uri"])


def test_ingest_reports_quarantined_input_and_exits_1(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    good = tmp_path / "good.txt"
    good.write_bytes(b"Storm warning\n\nOSLO (HP) - Forecasters warned of a storm.\n")
    status, lines, _ = ingest(tmp_path / "data", str(bad), str(good))
    assert status == 1
    assert [(line["file"], line["outcome"]) for line in lines] == [(str(bad), "quarantined"), (str(good), "published")]
    assert "empty" in lines[0]["error"]


def test_two_data_folders_never_meet(tmp_path):
    ingest(tmp_path / "a", str(SEED))
    _, [line], _ = ingest(tmp_path / "b", str(SEED))
    assert line["outcome"] == "published"
    assert (tmp_path / "a" / "wiredesk.sqlite3").exists() and (tmp_path / "b" / "wiredesk.sqlite3").exists()


def test_the_embedded_database_is_sqlite_in_wal_mode(tmp_path):
    ingest(tmp_path, str(SEED))
    with sqlite3.connect(tmp_path / "wiredesk.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_command_that_publishes_tells_the_websub_hub_before_it_ends(tmp_path):
    hub = Hub()
    migrated(tmp_path)
    try:
        result = subprocess.run(
            [WIREDESK, "ingest", "--data", str(tmp_path), "--source", "ians", str(SEED)],
            env={**desk_env(), "WIREDESK_WEBSUB_HUB": hub.url},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        notice = hub.notices.get_nowait()  # already there: the command waited for it
    finally:
        hub.close()
    assert notice["hub.mode"] == ["publish"] and "http://127.0.0.1:8000/feeds/atom.xml" in notice["hub.url"]


def test_ingest_refuses_a_source_sources_toml_does_not_list_and_stores_nothing(tmp_path):
    (tmp_path / "sources.toml").write_text("[sources.hp]\n[sources.ians]\n", encoding="utf-8")
    status, lines, stderr = ingest(tmp_path, "--source", "nosuchsource", str(SEED))
    assert (status, lines) == (2, [])
    [message] = stderr.splitlines()
    assert message.startswith(
        "wiredesk: unknown source 'nosuchsource'; known: hp, ians, wire (add [sources.nosuchsource] to "
    )
    with sqlite3.connect(tmp_path / "wiredesk.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM wiredesk_delivery").fetchone() == (0,)
        assert [slug for (slug,) in db.execute("SELECT slug FROM wiredesk_source ORDER BY slug")] == ["hp", "ians"]

    status, [line], _ = ingest(tmp_path, "--source", "ians", str(SEED))
    assert (status, line["outcome"]) == (0, "published")


def test_ingest_takes_any_source_when_sources_toml_accepts_unknown_ones(tmp_path):
    (tmp_path / "sources.toml").write_text("accept_unknown_sources = true\n\n[sources.hp]\n", encoding="utf-8")
    status, [line], _ = ingest(tmp_path, "--source", "ians", str(SEED))
    assert (status, line["outcome"]) == (0, "published")


def test_ingest_writes_the_static_tree_once_at_the_end_of_its_files(tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_bytes(b"Storm warning\n\nOSLO (HP) - Forecasters warned of a storm.\n")
    second.write_bytes(b"Ferries cancelled\n\nBERGEN (HP) - The morning ferries stayed in port.\n")
    status, lines, _ = ingest(tmp_path / "data", str(first), str(second))
    assert status == 0 and [line["outcome"] for line in lines] == ["published", "published"]
    site = tmp_path / "data" / "site"
    for line in lines:
        assert (site / line["url"].split("/", 3)[3] / "index.html").exists()
    assert b"Ferries cancelled" in (site / "index.html").read_bytes()
    with sqlite3.connect(tmp_path / "data" / "wiredesk.sqlite3") as db:
        [(newest,)] = db.execute("SELECT max(id) FROM wiredesk_changemark")
    assert json.loads((tmp_path / "data" / "site.state" / "state.json").read_text())["mark"] == newest
