"""``python -m splitpriv``: the same as the ``splitpriv`` command."""

from splitpriv.cli.main import entry

entry()
