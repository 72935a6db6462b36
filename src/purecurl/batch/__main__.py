"""`python -m purecurl.batch`: the `purecurl-batch` command (see purecurl.batch.cli)."""

from __future__ import annotations

import sys

from purecurl.batch.cli import main

if __name__ == "__main__":
    sys.exit(main())
