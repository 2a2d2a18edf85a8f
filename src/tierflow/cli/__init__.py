"""The ``tierflow`` command: a thin shell over the library.

Commands: ``check`` (compile rule sets, print every problem), ``test`` (run inline tests),
``evaluate`` (facts in, JSON Lines decisions out), ``explain`` (one student, in words),
``diff`` (what a new version changes), ``schema`` (JSON Schema of the rule set format),
``demo`` (a bundled sample district), ``audit verify``/``audit anchor`` (tamper evidence of a
store's records) and ``export packet``/``export compliance`` (documentation).

One module per command group; each command is argument handling and output around library
functions a host can call itself (see docs/embedding.md).
"""

from tierflow.cli._main import main

__all__ = ["main"]
