"""``python -m tierflow.cli``: the same as the ``tierflow`` command."""

import sys

from tierflow.cli._main import main

if __name__ == "__main__":  # not when imported (pytest's doctest collection imports it)
    sys.exit(main())
