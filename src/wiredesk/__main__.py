import sys

from wiredesk.cli import main

sys.exit(main())
