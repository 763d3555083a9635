"""One way to write: `with writing():`, a transaction that queues fairly behind the others. And
`with thread_connections():` around the whole run of a thread the desk starts.

SQLite lets one writer in at a time, and a writer kept waiting sleeps in steps of up to 100 ms
(its busy handler), however soon the lock is free: under a stream of deliveries that, not the
writing, was most of the time a file took to be stored. Writers of one process queue here
instead, each let in the moment the one before it commits. Writers in other processes (the web
server's pushes, a command) still meet SQLite's own wait. PostgreSQL locks rows, not the
database, and needs no queue.
"""

import contextlib
import threading

from django.db import connection, connections, transaction

# Re-entrant: a transaction inside another takes it again.
_one_writer = threading.RLock()


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
