"""Settings for the test suite: wiredesk's own, with a data folder of the suite's own, so a test
run never touches ./var."""

import os
import tempfile

os.environ["WIREDESK_DATA"] = tempfile.mkdtemp(prefix="wiredesk-test-")

from wiredesk.settings import *  # noqa: E402,F403
