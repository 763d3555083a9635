"""Which commands make and migrate the database, which refuse until it is, and what settings
and commands leave alone (issue 14)."""

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, desk_env, story_copy

pytestmark = pytest.mark.embedded

WIREDESK = str(Path(sys.executable).parent / "wiredesk")


def wiredesk(data, *args, **env):
    return subprocess.run(
        [WIREDESK, *args, "--data", str(data)], env={**desk_env(), **env}, capture_output=True, text=True
    )


def rows(data, sql):
    with sqlite3.connect(data / "wiredesk.sqlite3") as db:
        return db.execute(sql).fetchall()


def test_a_command_on_a_fresh_data_folder_says_it_needs_migrating_and_touches_nothing(tmp_path):
    missing = tmp_path / "nothing-here"
    result = wiredesk(missing, "story", "kill", "x", "--reason", "legal")
    assert result.returncode == 1
    assert result.stderr == (
        f"wiredesk: there is no data folder at {missing}: run `wiredesk migrate --data {missing}` to make one\n"
    )
    assert not missing.exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    for command in (["story", "kill", "x", "--reason", "legal"], ["ingest", "copy.txt"], ["quarantine", "list"]):
        result = wiredesk(empty, *command)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == (
            f"wiredesk: the database at {empty / 'wiredesk.sqlite3'} needs migrating: "
            f"run `wiredesk migrate --data {empty}`\n"
        )
    assert list(empty.iterdir()) == []

    assert wiredesk(empty, "migrate").returncode == 0
    result = wiredesk(empty, "story", "kill", "x", "--reason", "legal")
    assert (result.returncode, result.stderr) == (1, "wiredesk: no story 'x'\n")


def test_a_database_behind_the_code_is_refused_as_it_is(tmp_path):
    assert wiredesk(tmp_path, "migrate").returncode == 0
    (tmp_path / "copy.txt").write_bytes(story_copy())
    # Back to the migration before the last, undone as Django undoes it: the last may make tables.
    *_, previous, _ = sorted(p.stem for p in (REPO / "src" / "wiredesk" / "migrations").glob("0*.py"))
    env = {**desk_env(), "DJANGO_SETTINGS_MODULE": "wiredesk.config.settings", "WIREDESK_DATA": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "wiredesk", previous], env=env, check=True, capture_output=True
    )
    before = rows(tmp_path, "SELECT * FROM django_migrations ORDER BY id")
    result = wiredesk(tmp_path, "ingest", str(tmp_path / "copy.txt"))
    assert result.returncode == 1 and "needs migrating: run `wiredesk migrate --data" in result.stderr
    assert rows(tmp_path, "SELECT * FROM django_migrations ORDER BY id") == before
    assert rows(tmp_path, "SELECT count(*) FROM wiredesk_delivery") == [(0,)]

    assert wiredesk(tmp_path, "migrate").returncode == 0
    [line] = wiredesk(tmp_path, "ingest", str(tmp_path / "copy.txt")).stdout.splitlines()
    assert json.loads(line)["outcome"] == "published"


def test_demo_migrates_as_migrate_does(tmp_path):
    result = wiredesk(tmp_path / "demo", "demo")
    assert result.returncode == 0, result.stderr
    assert wiredesk(tmp_path / "demo", "quarantine", "list").stdout == "nothing in quarantine\n"


def test_the_commands_that_create_the_database_keep_a_secret_key_beside_it(tmp_path):
    assert wiredesk(tmp_path / "a", "migrate").returncode == 0
    key = (tmp_path / "a" / "secret_key").read_text()
    assert len(key) > 50 and stat.S_IMODE((tmp_path / "a" / "secret_key").stat().st_mode) == 0o600
    assert wiredesk(tmp_path / "a", "migrate").returncode == 0
    assert (tmp_path / "a" / "secret_key").read_text() == key
    # One given in the environment is not written anywhere.
    assert wiredesk(tmp_path / "b", "migrate", WIREDESK_SECRET_KEY="given").returncode == 0
    assert not (tmp_path / "b" / "secret_key").exists()


def settings_as_imported(env: dict) -> dict:
    code = (
        "import json; from wiredesk.config import settings as s; "
        "print(json.dumps({'key': s.SECRET_KEY, 'hosts': s.ALLOWED_HOSTS, 'url': s.WIREDESK['BASE_URL']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**desk_env(), **env}, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_importing_the_settings_writes_nothing_and_needs_no_key(tmp_path):
    data = tmp_path / "not-made"
    assert settings_as_imported({"WIREDESK_DATA": str(data)})["key"] == ""
    assert not data.exists()
    (tmp_path / "secret_key").write_text("kept\n")
    assert settings_as_imported({"WIREDESK_DATA": str(tmp_path)})["key"] == "kept"
    assert settings_as_imported({"WIREDESK_DATA": str(tmp_path), "WIREDESK_SECRET_KEY": "given"})["key"] == "given"


def test_the_host_run_serves_on_reaches_the_settings_through_the_environment(tmp_path):
    env = {"WIREDESK_DATA": str(tmp_path)}
    assert settings_as_imported(env)["hosts"] == ["localhost", "127.0.0.1", "[::1]", "127.0.0.1"]
    assert settings_as_imported({**env, "WIREDESK_HOST": "10.1.2.3"})["hosts"][-1] == "10.1.2.3"
    assert settings_as_imported({**env, "WIREDESK_HOST": "localhost"})["hosts"].count("localhost") == 1
    for everywhere in ("0.0.0.0", "::"):
        assert settings_as_imported({**env, "WIREDESK_HOST": everywhere})["hosts"][-1] == "*"


def test_only_the_commands_that_publish_or_change_stories_apply_sources_toml(tmp_path):
    assert wiredesk(tmp_path, "migrate").returncode == 0
    (tmp_path / "sources.toml").write_text('[sources.hp]\nname = "Harbour Press"\n', encoding="utf-8")
    for command in (["quarantine", "list"], ["audit"], ["sources"]):
        result = wiredesk(tmp_path, *command)
        assert result.returncode == 0, result.stderr
        assert rows(tmp_path, "SELECT slug FROM wiredesk_source") == []
    assert wiredesk(tmp_path, "story", "hold", "1").returncode == 1  # no such story, yet it applies
    assert rows(tmp_path, "SELECT slug, name FROM wiredesk_source") == [("hp", "Harbour Press")]
