"""``python -m nrmt`` runs the command line."""

import sys

from nrmt.cli import main

sys.exit(main())
