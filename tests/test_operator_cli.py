"""The operator's commands as a user types them: story kill/hold/release, reprocess, audit."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import desk_env, migrated, story_copy

pytestmark = pytest.mark.embedded

WIREDESK = str(Path(sys.executable).parent / "wiredesk")


def wiredesk(data_dir, *args):
    migrated(data_dir)
    env = desk_env()
    return subprocess.run([WIREDESK, *args, "--data", str(data_dir)], env=env, capture_output=True, text=True)


def lines(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def published(tmp_path):
    """A data folder holding one published story; returns (folder, its ingest line)."""
    copy = tmp_path / "copy.txt"
    copy.write_bytes(story_copy())
    [line] = lines(wiredesk(tmp_path, "ingest", "--source", "hp", str(copy)))
    assert line["outcome"] == "published"
    return tmp_path, line


def db(data_dir):
    return sqlite3.connect(data_dir / "wiredesk.sqlite3")


def state(data_dir, uri):
    with db(data_dir) as conn:
        return conn.execute("SELECT state, reason FROM wiredesk_story WHERE uri = ?", (uri,)).fetchone()


def test_story_kill_takes_it_off_for_good_with_the_reason(published):
    data, line = published
    result = wiredesk(data, "story", "kill", line["uri"], "--reason", "legal advice")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "killed"
    assert state(data, line["uri"]) == ("killed", "killed by an operator: legal advice")


def test_story_kill_needs_a_reason(published):
    data, line = published
    result = wiredesk(data, "story", "kill", line["uri"])
    assert result.returncode == 2 and "--reason" in result.stderr
    assert state(data, line["uri"])[0] == "live"


def test_story_hold_then_release_by_number(published):
    data, line = published
    number = line["url"].split("/story/")[1].split("/")[0]
    assert wiredesk(data, "story", "hold", number).returncode == 0
    assert state(data, line["uri"]) == ("held", "held by an operator")
    released = wiredesk(data, "story", "release", number)
    assert released.returncode == 0, released.stderr
    assert json.loads(released.stdout)["url"] == line["url"]
    assert state(data, line["uri"])[0] == "live"


def test_a_kill_by_the_agency_is_final_unless_the_operator_overrides_it_with_a_reason(published, tmp_path):
    data, line = published
    kill = tmp_path / "kill.txt"
    headline = story_copy().decode().split("\n\n")[0].splitlines()[-1]
    kill.write_text(f"KILL - {headline}\n\nEditors are asked not to use this story. It contained an error.\n")
    [killed] = lines(wiredesk(data, "ingest", "--source", "hp", str(kill)))
    assert (killed["uri"], killed["outcome"]) == (line["uri"], "killed")

    refused = wiredesk(data, "story", "release", line["uri"])
    assert refused.returncode == 1 and "--override-agency-kill" in refused.stderr
    assert state(data, line["uri"])[0] == "killed"
    blank = wiredesk(data, "story", "release", line["uri"], "--override-agency-kill", "  ")
    assert blank.returncode == 1 and state(data, line["uri"])[0] == "killed"

    released = wiredesk(data, "story", "release", line["uri"], "--override-agency-kill", "agency confirmed in error")
    assert released.returncode == 0, released.stderr
    assert state(data, line["uri"]) == (
        "live",
        "released by an operator over the agency's kill: agency confirmed in error",
    )


def test_a_story_an_operator_killed_is_released_without_an_override(published):
    data, line = published
    wiredesk(data, "story", "kill", line["uri"], "--reason", "checking a name")
    released = wiredesk(data, "story", "release", line["uri"])
    assert released.returncode == 0, released.stderr
    assert state(data, line["uri"]) == ("live", "released by an operator")


@pytest.mark.parametrize(
    "args, says",
    [
        (["story", "release", "9999"], "wiredesk: no story '9999'"),
        (
            ["story", "kill", "99999999999999999999999", "--reason", "legal"],
            "wiredesk: no story '99999999999999999999999'",
        ),
        (["story", "hold", "\u00b2"], "wiredesk: no story '\u00b2'"),
        (["reprocess", "12345"], "wiredesk: no delivery 12345"),
        (["reprocess", "99999999999999999999999"], "wiredesk: no delivery 99999999999999999999999"),
        (["reprocess", "abc"], "wiredesk: 'abc' is not a delivery number"),
        (["reprocess", "-3"], "wiredesk: '-3' is not a delivery number"),
    ],
)
def test_a_bad_or_unknown_id_is_answered_in_one_line_and_exit_1(published, args, says):
    data, _ = published
    result = wiredesk(data, *args)
    assert (result.returncode, result.stderr, result.stdout) == (1, says + "\n", "")


def test_reprocess_runs_nothing_when_one_of_the_deliveries_named_is_unknown(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    [line] = lines(wiredesk(tmp_path, "ingest", str(tmp_path / "empty.txt")))
    with db(tmp_path) as conn:
        conn.execute("UPDATE wiredesk_delivery SET error = 'not yet run again'")
    result = wiredesk(tmp_path, "reprocess", str(line["delivery"]), "12345")
    assert (result.returncode, result.stderr) == (1, "wiredesk: no delivery 12345\n")
    with db(tmp_path) as conn:
        assert conn.execute("SELECT error FROM wiredesk_delivery").fetchone() == ("not yet run again",)


def test_the_emergency_commands_act_on_a_broken_sources_file_and_warn_in_one_line(published):
    data, line = published
    (data / "sources.toml").write_text("[sources.hp]\nhold_urgncy = 1\n", encoding="utf-8")
    for action, *more in (["hold"], ["release"], ["kill", "--reason", "legal advice"]):
        result = wiredesk(data, "story", action, line["uri"], *more)
        assert result.returncode == 0, result.stderr
        [warning] = result.stderr.splitlines()
        assert warning.startswith("wiredesk: warning: ") and "unknown setting 'hold_urgncy'" in warning
    assert state(data, line["uri"]) == ("killed", "killed by an operator: legal advice")

    # Every other command still refuses to run on it.
    for command in (["reprocess"], ["audit"], ["quarantine", "list"]):
        refused = wiredesk(data, *command)
        assert refused.returncode == 2 and "unknown setting 'hold_urgncy'" in refused.stderr
        assert "warning" not in refused.stderr


def test_the_emergency_commands_act_on_a_broken_sections_file_too(published):
    data, line = published
    (data / "sections.toml").write_text("default = 1\n", encoding="utf-8")
    result = wiredesk(data, "story", "kill", line["uri"], "--reason", "legal advice")
    assert result.returncode == 0, result.stderr
    [warning] = result.stderr.splitlines()
    assert warning.startswith("wiredesk: warning: ") and "default must be a section slug" in warning
    assert state(data, line["uri"])[0] == "killed"


def test_reprocess_publishes_what_was_quarantined_once_the_cause_is_fixed(tmp_path):
    copy = tmp_path / "copy.txt"
    copy.write_bytes(story_copy())
    wiredesk(tmp_path, "migrate")
    with db(tmp_path) as conn:
        # A wrong setting, not the copy, is at fault here: the delivery must wait, not be lost.
        conn.execute(
            "INSERT INTO wiredesk_source (slug, name, time_zone, auto_publish, hold_subjects, created_at)"
            " VALUES ('hp', 'HP', 'Europe/Nowhere', 1, '[]', '2026-11-25 00:00:00')"
        )
    [line] = lines(wiredesk(tmp_path, "ingest", "--source", "hp", str(copy)))
    assert line["outcome"] == "quarantined" and "unknown time zone" in line["error"]
    with db(tmp_path) as conn:
        conn.execute("UPDATE wiredesk_source SET time_zone = 'Europe/Oslo'")
    result = wiredesk(tmp_path, "reprocess")
    assert result.returncode == 0, result.stderr
    [again] = lines(result)
    assert (again["delivery"], again["outcome"]) == (line["delivery"], "published")
    assert lines(wiredesk(tmp_path, "reprocess")) == []


def test_audit_passes_when_the_site_shows_the_agency_text(published):
    data, _ = published
    result = wiredesk(data, "audit")
    assert (result.returncode, result.stdout.strip()) == (0, "audited 1 published story: no differences")


def test_audit_finds_published_text_that_is_not_the_agency_text_and_exits_1(published):
    data, line = published
    with db(data) as conn:
        conn.execute("UPDATE wiredesk_storyversion SET content = json_set(content, '$.paragraphs[1]', 'Altered.')")
    result = wiredesk(data, "audit")
    assert result.returncode == 1
    assert f"({line['uri']}): paragraphs as published differs from the agency's" in result.stdout
    assert "'Altered.'" in result.stdout
    assert result.stdout.strip().endswith("audited 1 published story: 1 difference")
