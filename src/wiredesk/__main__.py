import sys

from wiredesk.app.cli import main

sys.exit(main())
