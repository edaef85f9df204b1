"""``python -m agents.cli``: the same as the ``lrm-gym`` command."""

import sys

from agents.cli.main import main

sys.exit(main())
