"""Settings for the test suite: wiredesk's own, with a data folder of the suite's own, so a test
run never touches ./var."""

import os
import tempfile

os.environ["WIREDESK_DATA"] = tempfile.mkdtemp(prefix="wiredesk-test-")

from wiredesk.config.settings import *  # noqa: E402,F403

# A file, as in service, not Django's shared in-memory test database: there, a thread writing (the
# inbox watcher, a poller) makes another's read fail at once with "database table is locked",
# where a file in WAL mode lets readers read on.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(os.environ["WIREDESK_DATA"], "test.sqlite3")}  # noqa: F405
