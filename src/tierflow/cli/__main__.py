"""``python -m tierflow.cli``: the same as the ``tierflow`` command."""

import sys

from tierflow.cli._main import main

sys.exit(main())
