"""Where the format tests find copy, once for all of them: the fixtures in tests/fixtures/<folder>/
and the shared corpus (../shared/corpus beside the repository, or $WIREDESK_CORPUS), read where
they lie. A module the tests import, not a conftest: parametrize needs its lists at import time.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

# Only named: the fuzzing process (test_fuzz.py) imports this module before atheris instruments
# wiredesk, which it must import only after.
if TYPE_CHECKING:
    from wiredesk.story import WireStory

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = Path(os.environ.get("WIREDESK_CORPUS") or REPO.parent / "shared" / "corpus")


def fixtures(folder: str) -> tuple[Path, Callable[[str], bytes]]:
    """tests/fixtures/<folder>/, and `fixture(name)`: the bytes of the file called `name` there."""
    path = FIXTURES / folder

    def fixture(name: str) -> bytes:
        return (path / name).read_bytes()

    return path, fixture


def only(stories: list[WireStory]) -> WireStory:
    """The one story of copy that holds one."""
    assert len(stories) == 1
    return stories[0]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)
