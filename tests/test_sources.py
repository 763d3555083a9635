"""Sources configured in DIR/sources.toml: their time zone and publishing policy."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import desk_env, migrated

from wiredesk.config import sources
from wiredesk.models import Source

WIREDESK = str(Path(sys.executable).parent / "wiredesk")
FLASH = (
    b'{"uri": "urn:hp:flash", "urgency": 1, "headline": "Blast at refinery", "body_text": "A blast hit the refinery."}'
)

SECOND_FLASH = b'{"uri": "urn:hp:flash-2", "urgency": 1, "headline": "Ferry aground", "body_text": "A ferry ran aground off the point."}'


def write(tmp_path, text: str) -> Path:
    file = tmp_path / "sources.toml"
    file.write_text(text, encoding="utf-8")
    return file


def test_the_file_sets_each_source_and_names_default_to_the_slug(db, tmp_path):
    file = write(
        tmp_path,
        '[sources.hp]\nname = "Harbour Press"\ntime_zone = "Europe/Oslo"\nhold_urgency = 1\n'
        '[sources.ians]\nhold_subjects = ["Crime, law and justice"]\nauto_publish = false\n',
    )
    assert sources.apply(file) == 2
    hp, ians = Source.objects.get(slug="hp"), Source.objects.get(slug="ians")
    assert (hp.name, hp.time_zone, hp.hold_urgency, hp.auto_publish) == ("Harbour Press", "Europe/Oslo", 1, True)
    assert (ians.name, ians.auto_publish, ians.hold_subjects) == ("IANS", False, ["Crime, law and justice"])


def test_the_file_is_the_truth_a_setting_taken_out_goes_back_to_its_default(db, tmp_path):
    sources.apply(write(tmp_path, "[sources.hp]\nhold_urgency = 1\n"))
    sources.apply(write(tmp_path, "[sources.hp]\n"))
    assert Source.objects.get(slug="hp").hold_urgency is None


@pytest.mark.parametrize(
    "text, says",
    [
        ("[sources.hp]\nhold_urgncy = 1\n", "unknown setting 'hold_urgncy'"),
        ('[sources.hp]\nhold_urgency = "1"\n', "hold_urgency must be a whole number"),
        ("[sources.hp]\nauto_publish = 1\n", "auto_publish must be true or false"),
        ('[sources.hp]\ntime_zone = "Europe/Nowhere"\n', "'Europe/Nowhere' is not an IANA zone"),
        ("[sources.hp\n", "sources.toml: "),
        ("[sources]\nhp = 1\n", r"\[sources.hp\] must be a table"),
        (
            "acept_unknown_sources = true\n",
            "unknown top-level setting 'acept_unknown_sources'; known: accept_unknown_sources",
        ),
        ("accept_unknown_sources = 1\n", "accept_unknown_sources must be true or false"),
        ("[sources.hp]\naccept_unknown_sources = true\n", "goes at the top of the file, before the first"),
    ],
)
def test_a_mistake_is_named_and_nothing_is_applied(db, tmp_path, text, says):
    with pytest.raises(sources.ConfigError, match=says.replace("(", r"\(")):
        sources.apply(write(tmp_path, text))
    assert not Source.objects.exists()


def _run(data, *args):
    migrated(data)
    env = desk_env()
    return subprocess.run([WIREDESK, *args, "--data", str(data)], env=env, capture_output=True, text=True)


def test_a_source_set_to_hold_flashes_holds_them_from_the_command_line(tmp_path):
    write(tmp_path, "[sources.hp]\nhold_urgency = 1\n")
    (tmp_path / "flash.json").write_bytes(FLASH)
    result = _run(tmp_path, "ingest", "--source", "hp", str(tmp_path / "flash.json"))
    line = json.loads(result.stdout)
    assert (line["outcome"], line["url"], line["reason"]) == ("held", None, "urgency 1 is held for the desk")


def test_a_broken_sources_file_stops_the_command_with_the_reason(tmp_path):
    write(tmp_path, "[sources.hp]\nhold_urgncy = 1\n")
    result = _run(tmp_path, "demo")
    assert result.returncode == 2
    assert "unknown setting 'hold_urgncy'" in result.stderr


@pytest.fixture
def data(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def test_with_no_sources_file_any_source_may_deliver(data):
    # The demo (`make run`) and a desk not yet configured take copy from whoever sends it.
    assert sources.check("anything") == "anything"
    assert sources.check(None) == "wire"


def test_a_listed_source_may_deliver_under_the_slug_it_is_stored_as(data):
    write(data, "[sources.hp]\n[sources.ians]\n")
    assert sources.check("hp") == "hp"
    assert sources.check("HP") == "hp"


def test_copy_that_names_no_source_goes_to_the_default_one_listed_or_not(data, settings):
    write(data, "[sources.hp]\n")
    assert sources.check(None) == sources.check("wire") == "wire"
    settings.WIREDESK = {**settings.WIREDESK, "DEFAULT_SOURCE": "desk"}
    assert sources.check(None) == "desk"
    with pytest.raises(sources.UnknownSource):
        sources.check("wire")


def test_an_unknown_source_is_refused_in_one_line_naming_the_known_ones(data):
    write(data, "[sources.hp]\n[sources.ians]\n")
    with pytest.raises(sources.UnknownSource) as refused:
        sources.check("nosuchsource")
    message = str(refused.value)
    assert message.startswith("unknown source 'nosuchsource'; known: hp, ians, wire (add [sources.nosuchsource] to ")
    assert "accept_unknown_sources = true" in message and "\n" not in message
    assert isinstance(refused.value, sources.ConfigError) and isinstance(refused.value, ValueError)


def test_accept_unknown_sources_lets_any_source_deliver(db, data):
    write(data, "accept_unknown_sources = true\n\n[sources.hp]\n")
    assert sources.check("stray") == "stray"
    assert sources.apply(data / "sources.toml") == 1


def test_the_file_is_asked_as_it_is_now(data):
    write(data, "[sources.hp]\n")
    with pytest.raises(sources.UnknownSource):
        sources.check("nb")
    write(data, "[sources.hp]\n[sources.nb]\n")
    assert sources.check("nb") == "nb"
    write(data, "[sources.hp]\n[sources.nb]\nhold_urgncy = 1\n")
    with pytest.raises(sources.ConfigError, match="unknown setting 'hold_urgncy'"):
        sources.check("nb")


def test_a_running_desk_follows_a_policy_changed_in_the_file(data, ingest):
    # No command runs between the edits: the desk itself reads the file again before a delivery.
    write(data, "[sources.hp]\nhold_urgency = 1\n")
    [held] = ingest(FLASH, source="hp")
    assert held.outcome == "held"
    write(data, "[sources.hp]\nname = 'Harbour Press'\n")
    [published] = ingest(SECOND_FLASH, source="hp")
    assert published.outcome == "published"
    assert Source.objects.get(slug="hp").name == "Harbour Press"


def test_a_file_broken_under_a_running_desk_leaves_the_sources_as_they_were(data, ingest, caplog):
    write(data, "[sources.hp]\nhold_urgency = 1\n")
    ingest(FLASH, source="hp")
    write(data, "[sources.hp]\nhold_urgency = 'one'\n")
    [held] = ingest(SECOND_FLASH, source="hp")
    assert held.outcome == "held" and Source.objects.get(slug="hp").hold_urgency == 1
    assert "hold_urgency must be a whole number" in caplog.text
