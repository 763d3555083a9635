"""Coverage-guided fuzzing of every format with atheris (libFuzzer), bounded to run with the suite.

Each format is fuzzed in a process of its own, seeded with its fixtures (tests/fixtures/<format>/)
and the hostile inputs found so far (tests/fixtures/hostile/<format>/). Every input is read as that
format and through detection: only FormatError may come out, its reason on one printable line, and
every Story must pass `invariants.story_problems`. An input that breaks this is shown in the failure:
keep it as tests/fixtures/hostile/<format>/<the-case>.<ext>, where test_hostile.py reads it.

To look further than the suite does, run the fuzzer by hand for as long as you like:

    .venv/bin/python tests/formats/test_fuzz.py nitf -max_total_time=600 /tmp/corpus tests/fixtures/nitf
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import pytest
from corpus import FIXTURES

# Not read from wiredesk.formats here: this file is also the fuzzing process, which must import
# wiredesk only once atheris instruments it (test_every_format_is_fuzzed keeps the two the same).
FORMATS = ["nitf", "newsml-g2", "newsml1", "feed", "dpa-digitalwires", "ninjs", "iptc7901", "anpa1312", "agency-copy"]
# Per format: the runs, and a cap in seconds for a slow machine, that keep the whole test within a
# minute on two cores. A fixed seed makes the suite's run the same every time.
RUNS, SECONDS, SEED = 6000, 4, 1
# An input read for longer than this is a finding too: copy that stalls a worker.
INPUT_SECONDS = 10
RECEIVED = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def test_every_format_is_fuzzed():
    from wiredesk import formats

    assert sorted(FORMATS) == sorted(formats.FORMATS)


@pytest.mark.nodb
@pytest.mark.parametrize("name", FORMATS)
def test_nothing_but_a_format_error_comes_out(name, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for folder in (FIXTURES / name, FIXTURES / "hostile" / name):
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            shutil.copy(path, corpus / f"{folder.parent.name}-{path.name}")
    found = tmp_path / "found"
    found.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            __file__,
            name,
            f"-runs={RUNS}",
            f"-max_total_time={SECONDS}",
            f"-seed={SEED}",
            f"-timeout={INPUT_SECONDS}",
            f"-artifact_prefix={found}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 4 * INPUT_SECONDS + 60,
        cwd=tmp_path,
    )
    inputs = sorted(found.iterdir())
    assert result.returncode == 0 and not inputs, "\n".join(
        [
            f"the fuzzer found input that breaks {name} (exit {result.returncode}):",
            *(f"{path.name}: {path.read_bytes()[:2000]!r}" for path in inputs),
            result.stderr[-6000:],
        ]
    )


def _fuzz() -> None:
    import atheris

    with atheris.instrument_imports(include=["wiredesk", "feedparser"]):
        from wiredesk import formats
    from invariants import error_problems, story_problems

    name = sys.argv.pop(1)
    context = formats.Context(source="fuzz", received=RECEIVED, zone="Europe/Berlin")

    def one_input(data: bytes) -> None:
        for format in (name, None):
            try:
                stories = formats.parse(data, context, format=format)
            except formats.FormatError as exc:
                problems = error_problems(exc)
            else:
                problems = [problem for story in stories for problem in story_problems(story)]
            if problems:
                raise AssertionError(f"read as {format or 'detected'}: {'; '.join(problems)}")

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    _fuzz()
