"""`wiredesk quarantine` as an operator types it: list what waits, look at one, dismiss it."""

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import desk_env, migrated, story_copy

pytestmark = pytest.mark.embedded

WIREDESK = str(Path(sys.executable).parent / "wiredesk")
# What a terminal would act on: C0 and C1 controls but the newline, DEL, and the invisible
# characters that reorder or hide text (bidi overrides, zero-width).
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Binary (so quarantined), with an escape that clears the screen, one that sets the window's
# title, a C1 control sequence and a bidi override.
HOSTILE = b"\x00\x1b[2J\x1b]0;owned\x07 not \xc2\x9b31m a story \xe2\x80\xae\r\nsecond line\n"


def wiredesk(data_dir, *args):
    migrated(data_dir)
    return subprocess.run([WIREDESK, *args, "--data", str(data_dir)], env=desk_env(), capture_output=True, text=True)


def db(data_dir):
    return sqlite3.connect(data_dir / "wiredesk.sqlite3")


@pytest.fixture
def quarantine(tmp_path):
    """A data folder holding two quarantined deliveries (hostile bytes under a hostile name, and
    an empty file) and a published one; returns (folder, {name: delivery id})."""
    files = {"hostile": tmp_path / "wire\x1b[31m.bin", "empty": tmp_path / "empty.txt", "story": tmp_path / "story.txt"}
    files["hostile"].write_bytes(HOSTILE)
    files["empty"].write_bytes(b"")
    files["story"].write_bytes(story_copy())
    result = wiredesk(tmp_path, "ingest", "--source", "hp", *map(str, files.values()))
    ids = {name: json.loads(line)["delivery"] for name, line in zip(files, result.stdout.splitlines())}
    return tmp_path, ids


def test_list_shows_each_waiting_delivery_in_a_line_with_its_reason(quarantine):
    data, ids = quarantine
    result = wiredesk(data, "quarantine", "list")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["delivery", "received", "source", "transport", "filename", "size", "reason"]
    assert [row.split()[0] for row in rows] == [str(ids["hostile"]), str(ids["empty"])]
    hostile, empty = rows
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +hp +cli ", hostile)
    assert "wire\\x1b[31m.bin" in hostile and f"{len(HOSTILE)}  binary data, not text" in hostile
    assert empty.endswith("0  the file is empty: there is no story text")


def test_list_shows_a_reason_s_first_line_and_json_gives_every_field(quarantine):
    data, ids = quarantine
    with db(data) as conn:
        conn.execute(
            "UPDATE wiredesk_delivery SET error = 'the mail had no copy\nparts: a.pdf, b.png' WHERE id = ?",
            (ids["empty"],),
        )
    assert wiredesk(data, "quarantine", "list").stdout.splitlines()[-1].endswith("0  the mail had no copy")

    result = wiredesk(data, "quarantine", "list", "--json")
    assert result.returncode == 0, result.stderr
    hostile, empty = json.loads(result.stdout)
    assert set(hostile) == {"delivery", "received", "source", "transport", "filename", "size", "reason"}
    assert (hostile["delivery"], hostile["source"], hostile["transport"], hostile["size"]) == (
        ids["hostile"],
        "hp",
        "cli",
        len(HOSTILE),
    )
    assert hostile["filename"].endswith("wire\x1b[31m.bin") and "\x1b" not in result.stdout  # escaped by JSON
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", hostile["received"])
    assert empty["reason"] == "the mail had no copy\nparts: a.pdf, b.png"


def test_nothing_in_quarantine_is_said_so(tmp_path):
    result = wiredesk(tmp_path, "quarantine", "list")
    assert (result.returncode, result.stdout) == (0, "nothing in quarantine\n")
    assert json.loads(wiredesk(tmp_path, "quarantine", "list", "--json").stdout) == []


def test_show_gives_everything_with_the_first_bytes_and_nothing_a_terminal_would_act_on(quarantine):
    data, ids = quarantine
    result = wiredesk(data, "quarantine", "show", str(ids["hostile"]))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert not UNSAFE.search(text)
    for shown in (
        f"delivery {ids['hostile']}: quarantined",
        "source:    hp",
        "transport: cli",
        "wire\\x1b[31m.bin",
        f"size:      {len(HOSTILE)} bytes",
        "binary data, not text: control bytes where a story has letters",
        f"data (all {len(HOSTILE)} bytes):",
    ):
        assert shown in text
    # The bytes, lines kept, each control written out as its escape.
    assert "  \\x00\\x1b[2J\\x1b]0;owned\\x07 not \\x9b31m a story \\u202e\\r\n  second line\n" in text


def test_show_gives_only_the_first_bytes_of_a_long_delivery(tmp_path):
    (tmp_path / "long.bin").write_bytes(b"\x00x" * 2500)
    [line] = wiredesk(tmp_path, "ingest", str(tmp_path / "long.bin")).stdout.splitlines()
    result = wiredesk(tmp_path, "quarantine", "show", str(json.loads(line)["delivery"]))
    assert "data (the first 1,024 of 5,000 bytes):" in result.stdout
    assert result.stdout.count("\\x00x") == 512


def test_show_says_when_the_bytes_were_never_read(quarantine):
    data, ids = quarantine
    with db(data) as conn:  # as a transport records a delivery too large to read
        conn.execute(
            "UPDATE wiredesk_delivery SET unread = 1, data = x'', size = 20000000 WHERE id = ?", (ids["hostile"],)
        )
    result = wiredesk(data, "quarantine", "show", str(ids["hostile"]))
    assert "size:      20,000,000 bytes" in result.stdout
    assert result.stdout.endswith("data:      not read (see the reason)\n")


def test_dismiss_sets_deliveries_aside_for_good_with_the_reason_recorded_and_logged(quarantine):
    data, ids = quarantine
    result = wiredesk(data, "quarantine", "dismiss", str(ids["hostile"]), str(ids["empty"]), "--reason", "test sends")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"delivery": ids["hostile"], "status": "dismissed", "reason": "test sends"},
        {"delivery": ids["empty"], "status": "dismissed", "reason": "test sends"},
    ]
    assert f"delivery {ids['hostile']} dismissed by an operator: test sends" in result.stderr
    with db(data) as conn:
        status, error = conn.execute(
            "SELECT status, error FROM wiredesk_delivery WHERE id = ?", (ids["empty"],)
        ).fetchone()
    assert status == "dismissed"
    assert re.fullmatch(
        r"the file is empty: there is no story text\n"
        r"dismissed by an operator at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: test sends",
        error,
    )

    # No longer waiting: not listed, and not run again by a bare reprocess.
    assert wiredesk(data, "quarantine", "list").stdout == "nothing in quarantine\n"
    again = wiredesk(data, "reprocess")
    assert (again.returncode, again.stdout) == (0, "")
    shown = wiredesk(data, "quarantine", "show", str(ids["empty"])).stdout
    assert f"delivery {ids['empty']}: dismissed" in shown and "dismissed by an operator at " in shown


@pytest.mark.parametrize(
    "which, says",
    [
        ("story", "wiredesk: delivery {story} is processed, not in quarantine: nothing was dismissed"),
        ("unknown", "wiredesk: no delivery 12345"),
        ("bad", "wiredesk: 'x1' is not a delivery number"),
    ],
)
def test_dismiss_refuses_what_is_not_in_quarantine_and_dismisses_none(quarantine, which, says):
    data, ids = quarantine
    ref = {"story": str(ids["story"]), "unknown": "12345", "bad": "x1"}[which]
    result = wiredesk(data, "quarantine", "dismiss", str(ids["empty"]), ref, "--reason", "test sends")
    assert (result.returncode, result.stderr, result.stdout) == (1, says.format(**ids) + "\n", "")
    with db(data) as conn:
        assert conn.execute("SELECT count(*) FROM wiredesk_delivery WHERE status = 'dismissed'").fetchone() == (0,)


def test_dismiss_refuses_a_delivery_already_dismissed(quarantine):
    data, ids = quarantine
    wiredesk(data, "quarantine", "dismiss", str(ids["empty"]), "--reason", "test sends")
    result = wiredesk(data, "quarantine", "dismiss", str(ids["empty"]), "--reason", "again")
    assert (result.returncode, result.stderr) == (
        1,
        f"wiredesk: delivery {ids['empty']} is dismissed, not in quarantine: nothing was dismissed\n",
    )


def test_dismiss_needs_a_reason(quarantine):
    data, ids = quarantine
    missing = wiredesk(data, "quarantine", "dismiss", str(ids["empty"]))
    assert missing.returncode == 2 and "--reason" in missing.stderr
    blank = wiredesk(data, "quarantine", "dismiss", str(ids["empty"]), "--reason", " ")
    assert (blank.returncode, blank.stderr) == (1, "wiredesk: a dismissal needs a reason (--reason), for the record\n")


def test_show_answers_an_unknown_delivery_in_one_line(quarantine):
    data, _ = quarantine
    result = wiredesk(data, "quarantine", "show", "12345")
    assert (result.returncode, result.stderr, result.stdout) == (1, "wiredesk: no delivery 12345\n", "")


def test_a_dismissed_delivery_named_to_reprocess_is_run_again(quarantine):
    data, ids = quarantine
    wiredesk(data, "quarantine", "dismiss", str(ids["empty"]), "--reason", "test sends")
    result = wiredesk(data, "reprocess", str(ids["empty"]))
    [line] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (line["delivery"], line["outcome"]) == (ids["empty"], "quarantined")
