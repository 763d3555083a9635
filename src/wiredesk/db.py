"""One way to write: `with writing():`, a transaction that queues fairly behind the others. And
`with thread_connections():` around the whole run of a thread the desk starts.

SQLite lets one writer in at a time, and a writer kept waiting sleeps in steps of up to 100 ms
(its busy handler), however soon the lock is free: under a stream of deliveries that, not the
writing, was most of the time a file took to be stored. Writers of one process queue here
instead, in the order they came, each let in the moment the one before it commits. Writers in
other processes (the web server's pushes, a command) still meet SQLite's own wait. PostgreSQL
locks rows, not the database, and needs no queue.
"""

import collections
import contextlib
import threading

from django.db import connection, connections, transaction


class _Queue:
    """A re-entrant lock that lets writers in in the order they came. threading.RLock does not:
    a thread that lets go and asks again at once (a large delivery's next batch) takes it back
    before a waiting thread is woken, and a file taken meanwhile waited for the whole delivery."""

    def __init__(self):
        self._turn = threading.Condition()
        self._waiting: collections.deque[int] = collections.deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self):
        me = threading.get_ident()
        with self._turn:
            if self._owner == me:  # a transaction inside another
                self._depth += 1
                return
            self._waiting.append(me)
            self._turn.wait_for(lambda: self._owner is None and self._waiting[0] == me)
            self._waiting.popleft()
            self._owner, self._depth = me, 1

    def __exit__(self, *exc):
        with self._turn:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._turn.notify_all()


_one_writer = _Queue()


@contextlib.contextmanager
def writing():
    if connection.vendor != "sqlite":
        with transaction.atomic():
            yield
        return
    with _one_writer, transaction.atomic():
        yield


@contextlib.contextmanager
def thread_connections():
    """Close the database connections of this thread when its run ends. Left to the garbage
    collector, they may stay open for a while: PostgreSQL counts them against its limit, and
    will not drop a database (the suite's) while one is."""
    try:
        yield
    finally:
        connections.close_all()


def optimize() -> None:
    """Bring the query planner's statistics up to date. Run it on a schedule (hourly is ample)
    and after loading many stories at once: without statistics, a planner may take an index that
    reads every live story for a page of thirty.

    SQLite gathers statistics only when told, and its `PRAGMA optimize` (3.40 here) leaves a table
    that has none alone, however it grew: so ANALYZE, from a sample of about a thousand entries of
    each index (analysis_limit), which takes under a tenth of a second at any size and is all the
    planner needs to choose among these indexes. PostgreSQL's autovacuum analyses tables as they
    change and must stay on (with it off, ingest fell from 29 to 9 stories a second here); the
    ANALYZE here, which samples each table, only makes sure.
    """
    with writing(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")


# How many entries of each index SQLite's ANALYZE samples: see optimize.
ANALYSIS_LIMIT = 1000
