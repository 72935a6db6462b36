"""The `purecurl` command: curl's command line on purecurl's multi_socket engine.

`main(argv)` returns the exit code (a CURLcode, or 2 for a bad command line); the console
script and `python -m purecurl` exit with it.
"""

from __future__ import annotations

from purecurl.cli.main import main

__all__ = ["main"]
