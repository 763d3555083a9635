"""One way to write: `with writing():`, a transaction that queues fairly behind the others.

SQLite lets one writer in at a time, and a writer kept waiting sleeps in steps of up to 100 ms
(its busy handler), however soon the lock is free: under a stream of deliveries that, not the
writing, was most of the time a file took to be stored. Writers of one process queue here
instead, each let in the moment the one before it commits. Writers in other processes (the web
server's pushes, a command) still meet SQLite's own wait. PostgreSQL locks rows, not the
database, and needs no queue.
"""

import contextlib
import threading

from django.db import connection, transaction

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
