"""A real `wiredesk run` for the tests that need one: its own process, data folder and port, on
the embedded default (SQLite) whatever database the rest of the suite uses, as `make run` does."""

import inspect
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import desk_env

WIREDESK = str(Path(sys.executable).parent / "wiredesk")


def start(data: Path, env: dict | None = None) -> tuple[str, subprocess.Popen]:
    """Start `wiredesk run` on `data`; returns (base URL, process) once its banner is out."""
    process = subprocess.Popen(
        [WIREDESK, "run", "--data", str(data), "--port", "0"],
        env=env or desk_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = []
    for line in process.stdout:
        banner.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    text = "".join(banner)
    match = re.search(r"site:\s+(http://\S+?)/\n", text)
    assert match, f"no banner: {text}"
    assert f"inbox: {data / 'inbox'}" in text
    return match.group(1), process


def stop(process: subprocess.Popen) -> str:
    """Ctrl-C, as a user stops it; returns what it printed."""
    process.send_signal(2)
    output, _ = process.communicate(timeout=30)
    return output


def get(url: str) -> str:
    with _opener().open(url, timeout=5) as response:
        return response.read().decode()


def _opener():
    # No proxy: the environment's would be asked for 127.0.0.1.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def rows(data: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{data / 'wiredesk.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def processes_of(desk_pid: int) -> list[int]:
    """The processes a desk started (its web server and workers, its renderer) still running."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"WIREDESK_DESK_PID={desk_pid}".encode() in (
                entry / "environ"
            ).read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or another user's
    return found


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {_told(predicate)}")


def _told(predicate) -> str:
    """What a test waited for, in its own words: the line that wrote the predicate."""
    try:
        return " ".join(inspect.getsource(predicate).split())
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))
