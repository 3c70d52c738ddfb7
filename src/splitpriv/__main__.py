"""``python -m splitpriv``: the same as the ``splitpriv`` command."""

import sys

from splitpriv.cli.main import main

sys.exit(main())
