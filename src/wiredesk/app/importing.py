"""`wiredesk import PATH...`: an archive of agency files (folders, tar and zip files: see
transports/archive.py) loaded as the inbox would load the same files one after another, by the
same rules, at the pace of a bulk load.

- Each file is stored as a delivery (transport "import") before anything reads it, CHUNK files a
  transaction: stored once by its source and bytes, as every transport's are.
- The chunk is then processed as the desk processes a backlog (pipeline.process_many): read on
  every core (a process pool), applied in the files' order in shared transactions, one fan-out
  for each (changes.batch). A file that cannot be read is quarantined with its reason, and the
  run goes on.
- Killed and run again on the same paths, it stores nothing twice (the files already stored are
  the deliveries they were), leaves what was processed alone, and processes the rest: the result
  is that of one run.
- The static tree is rendered at the end (static.deferred): meanwhile each commit leaves its
  marks and takes the articles readers may no longer see out of the tree at once. When a desk
  runs on the same folder, its renderer follows the import's commits itself.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from wiredesk import db
from wiredesk.config import sources
from wiredesk.desk import pipeline
from wiredesk.lifecycle import Outcome
from wiredesk.publish import static
from wiredesk.transports import archive, store

# Files stored in one transaction and then processed together: large enough that the pool's
# readers stay busy, small enough that a kill loses little work.
CHUNK = 500
# Files between two updates of the planner's statistics (db.optimize): under a tenth of a second each.
STATISTICS_EVERY = 10_000
# Deliveries a reader in the pool takes at a time: fewer round trips, still an even share.
READ_CHUNK = 16


@dataclass
class Summary:
    files: int = 0
    stored: int = 0  # new deliveries; the others were stored by an earlier run (or transport)
    outcomes: Counter = field(default_factory=Counter)
    seconds: float = 0.0  # storing and processing
    render_seconds: float = 0.0  # the static tree's one pass at the end

    @property
    def stories(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome != Outcome.QUARANTINED)


def run(
    paths: list[Path],
    *,
    source: str | None,
    by_folder: bool = False,
    report: Callable[[str, pipeline.Result], None],
    progress: Callable[[int], None],
) -> Summary:
    """Import every file under `paths`, from `source`, or `by_folder` from the source the first
    folder on the way names (inside an archive too), as in the inbox; `report` is told each
    story's result (with the file's name), `progress` how many more files are done."""
    summary, started = Summary(), time.monotonic()
    # Forked before this process starts any thread; the readers need nothing but the bytes.
    readers = ProcessPoolExecutor(
        os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_die_with,
        initargs=(os.getpid(),),
    )
    read = functools.partial(readers.map, chunksize=READ_CHUNK)
    with readers:
        with static.deferred():
            for chunk in _chunks(archive.entries(paths)):
                stored = _store(chunk, functools.partial(_source_of, source, by_folder, {}), summary)
                results = pipeline.process_many(list(dict.fromkeys(pk for _, pk, _ in stored)), read=read)
                for name, pk, refused in stored:
                    # Bytes met twice (the same file twice in an archive) are one delivery, reported once.
                    for result in refused or results.pop(pk, []):
                        summary.outcomes[result.outcome] += 1
                        report(name, result)
                summary.files += len(chunk)
                progress(len(chunk))
                if summary.files % STATISTICS_EVERY < len(chunk):
                    # A database that grows from nothing in one run has no statistics to plan by.
                    db.optimize()
            summary.seconds = time.monotonic() - started
        summary.render_seconds = time.monotonic() - started - summary.seconds
    return summary


# prctl's request that the kernel send a signal to this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with(importer: int) -> None:
    """A reader's first step: end when the import does. A reader of an import killed outright
    (SIGKILL, the OOM killer) would otherwise wait for work for ever, since it holds the other
    end of its own queue's pipe and so never sees it close. Elsewhere than on Linux the readers
    of a killed import have to be stopped by hand."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != importer:  # killed before the request was made
        os._exit(1)


def _chunks(entries: Iterator[archive.Entry]) -> Iterator[list[archive.Entry]]:
    while chunk := list(itertools.islice(entries, CHUNK)):
        yield chunk


def _source_of(
    default: str | None, by_folder: bool, known: dict[str, tuple[str | None, str | None]], entry: archive.Entry
) -> tuple[str | None, str | None]:
    """The source of a file, and why it is refused when its folder names no source the desk knows
    (it is then kept under the default source, unread)."""
    if not by_folder or not entry.folders:
        return default, None
    folder = entry.folders[0]
    if folder not in known:
        try:
            known[folder] = sources.check(folder), None
        except sources.UnknownSource as exc:
            known[folder] = default, f"its folder {folder}: {exc}"
    return known[folder]


def _store(
    chunk: list[archive.Entry],
    source_of: Callable[[archive.Entry], tuple[str | None, str | None]],
    summary: Summary,
) -> list[tuple[str, int, list[pipeline.Result]]]:
    """Store the chunk's files, committed together before any is read. Returns each file's name,
    delivery and, for a file refused unread, its result."""
    arrivals, refusals = [], []
    for entry in chunk:
        source, refusal = source_of(entry)
        problem = entry.problem or refusal
        arrivals.append(
            pipeline.Arrival(
                b"" if problem else entry.data,
                source=source,
                filename=entry.name[-store.FILENAME_LENGTH :],
                problem=problem,
                size=entry.size if problem else None,
                unread=problem is not None,
            )
        )
        refusals.append(problem)
    stored = []
    for entry, problem, kept in zip(chunk, refusals, store.store_many(arrivals, transport="import", queue=False)):
        summary.stored += not kept.again
        refused = (
            [pipeline.Result(delivery=kept.pk, outcome=Outcome.QUARANTINED, error=kept.delivery.error)]
            if problem and not kept.again
            else []
        )
        stored.append((entry.name, kept.pk, refused))
    return stored
