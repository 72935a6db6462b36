"""`python -m purecurl`: the `purecurl` command (see purecurl.cli)."""

from __future__ import annotations

import sys

from purecurl.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
