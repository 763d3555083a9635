"""Sources configured in DIR/sources.toml: their time zone and publishing policy."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import desk_env

from wiredesk import sources
from wiredesk.models import Source

WIREDESK = str(Path(sys.executable).parent / "wiredesk")
FLASH = b'{"uri": "urn:hp:flash", "urgency": 1, "headline": "Blast at refinery", "body_text": "A blast hit the refinery."}'


def write(tmp_path, text: str) -> Path:
    file = tmp_path / "sources.toml"
    file.write_text(text, encoding="utf-8")
    return file


def test_the_file_sets_each_source_and_names_default_to_the_slug(db, tmp_path):
    file = write(tmp_path, '[sources.hp]\nname = "Harbour Press"\ntime_zone = "Europe/Oslo"\nhold_urgency = 1\n'
                           '[sources.ians]\nhold_subjects = ["Crime, law and justice"]\nauto_publish = false\n')
    assert sources.apply(file) == 2
    hp, ians = Source.objects.get(slug="hp"), Source.objects.get(slug="ians")
    assert (hp.name, hp.time_zone, hp.hold_urgency, hp.auto_publish) == ("Harbour Press", "Europe/Oslo", 1, True)
    assert (ians.name, ians.auto_publish, ians.hold_subjects) == ("IANS", False, ["Crime, law and justice"])


def test_the_file_is_the_truth_a_setting_taken_out_goes_back_to_its_default(db, tmp_path):
    sources.apply(write(tmp_path, "[sources.hp]\nhold_urgency = 1\n"))
    sources.apply(write(tmp_path, "[sources.hp]\n"))
    assert Source.objects.get(slug="hp").hold_urgency is None


@pytest.mark.parametrize("text, says", [
    ("[sources.hp]\nhold_urgncy = 1\n", "unknown setting 'hold_urgncy'"),
    ("[sources.hp]\nhold_urgency = \"1\"\n", "hold_urgency must be a whole number"),
    ("[sources.hp]\nauto_publish = 1\n", "auto_publish must be true or false"),
    ("[sources.hp]\ntime_zone = \"Europe/Nowhere\"\n", "'Europe/Nowhere' is not an IANA zone"),
    ("[sources.hp\n", "sources.toml: "),
])
def test_a_mistake_is_named_and_nothing_is_applied(db, tmp_path, text, says):
    with pytest.raises(sources.ConfigError, match=says.replace("(", r"\(")):
        sources.apply(write(tmp_path, text))
    assert not Source.objects.exists()


def _run(data, *args):
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
